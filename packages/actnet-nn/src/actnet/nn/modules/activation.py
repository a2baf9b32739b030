"""Activation layers and MultiheadAttention (torch.nn.modules.activation)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import actnet.ndarray as xp
import actnet.neuron as F
from actnet.nn import init
from actnet.nn._module import Module
from actnet.nn._parameter import Parameter
from actnet.nn.modules._utils import (
    check_bool,
    check_int,
    check_number,
    new_parameter,
)
from actnet.nn.modules.linear import NonDynamicallyQuantizableLinear
from actnet.tensor import Tensor, where, zeros


def _inplace_repr(inplace: bool, sep: str = "") -> str:
    """torch's extra_repr of an activation's inplace: shown only when True."""
    return f"{sep}inplace=True" if inplace else ""


class ReLU(Module):
    """max(x, 0), elementwise; with inplace=True the input itself is
    overwritten and returned, as in PyTorch (F.relu(x, inplace=True)).

    >>> ReLU()(at.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    inplace: bool

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool(inplace, type(self).__name__, "inplace")

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x; with inplace=True the input itself
    is overwritten and returned, as in PyTorch.

    >>> LeakyReLU(0.1)(at.tensor([-1.0, 2.0]))
    tensor([-0.1000,  2.0000])
    """

    negative_slope: float
    inplace: bool

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        self.negative_slope = check_number(negative_slope, name, "negative_slope")
        self.inplace = check_bool(inplace, name, "inplace")

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace_repr(
            self.inplace, ", "
        )


class ELU(Module):
    """x if x > 0 else alpha * (exp(x) - 1); with inplace=True the input
    itself is overwritten and returned, as in PyTorch.

    >>> ELU()(at.tensor([0.0, 1.0]))
    tensor([0., 1.])
    """

    alpha: float
    inplace: bool

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        self.alpha = check_number(alpha, name, "alpha")
        self.inplace = check_bool(inplace, name, "inplace")

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace, ", ")


class GELU(Module):
    """x * Phi(x), exactly (approximate='none') or with the tanh approximation
    (approximate='tanh').

    >>> GELU(approximate="tanh")(at.zeros(2))
    tensor([0., 0.])
    """

    approximate: str

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(
                f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}"
            )
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (swish); with inplace=True the input itself is
    overwritten and returned, as in PyTorch.

    >>> SiLU()(at.zeros(2))
    tensor([0., 0.])
    """

    inplace: bool

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool(inplace, type(self).__name__, "inplace")

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Sigmoid(Module):
    """1 / (1 + exp(-x)).

    >>> Sigmoid()(at.zeros(1))
    tensor([0.5000])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x).

    >>> Tanh()(at.zeros(1))
    tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold.

    >>> Softplus()(at.zeros(1))
    tensor([0.6931])
    """

    beta: float
    threshold: float

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        name = type(self).__name__
        self.beta = check_number(beta, name, "beta")
        self.threshold = check_number(threshold, name, "threshold")

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def _optional_dim(dim: Any, layer: str) -> int | None:
    if dim is None:
        return None
    return check_int(dim, layer, "dim", minimum=None)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim` (dim=None picks PyTorch's legacy implicit
    dim, with its warning).

    >>> Softmax(dim=0)(at.zeros(2))
    tensor([0.5000, 0.5000])
    """

    dim: int | None

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = _optional_dim(dim, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """softmax over the channels at each position: dim -3 of (N, C, H, W) or
    (C, H, W) (torch.nn.Softmax2d)."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead"
            )
        return F.softmax(input, -3)


class LogSoftmax(Module):
    """log(softmax(x)) along `dim`, computed stably.

    >>> LogSoftmax(dim=0)(at.zeros(2))
    tensor([-0.6931, -0.6931])
    """

    dim: int | None

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = _optional_dim(dim, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def canonical_mask(
    mask: Tensor | None, name: str, dtype: Any, layer: str = "MultiheadAttention"
) -> Tensor | None:
    """mask as an additive float mask of `dtype`: a bool mask's True (not allowed
    to attend) becomes -inf, as torch's _canonical_mask does, and a float32 one
    is converted; errors name `layer`."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{layer}: {name} must be a Tensor, got {mask!r}")
    if mask.dtype == xp.bool:
        return where(mask, zeros((), dtype=dtype, device=mask.device) - math.inf, 0.0)
    if not xp.isdtype(mask.dtype, "real floating"):
        raise TypeError(
            f"{layer}: only bool and floating types of {name} are "
            f"supported, got {mask.dtype}"
        )
    if mask.dtype == dtype:
        return mask
    if mask.dtype == xp.float32:
        # PyTorch's attention takes a float32 mask with any input (its
        # word_language_model builds one with torch.ones and trains in double)
        return mask.to(dtype)
    raise TypeError(
        f"{layer}: a float {name} must be float32 or have the input's dtype "
        f"{dtype}, got {mask.dtype}"
    )


def warn_mismatched_masks(
    mask: Tensor | None,
    name: str,
    other: Tensor | None,
    other_name: str,
    stacklevel: int,
) -> None:
    """torch's deprecation warning for a key padding mask whose dtype differs
    from the attention mask's (a bool one beside a float one): both still apply.
    stacklevel counts from the caller of this function."""
    if (
        isinstance(mask, Tensor)
        and isinstance(other, Tensor)
        and mask.dtype != other.dtype
    ):
        warnings.warn(
            f"Support for mismatched {name} and {other_name} is deprecated. "
            "Use same type for both instead.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


def _zero_column(mask: Tensor | None) -> Tensor | None:
    """mask with a column of zeros (attend) appended on its last dim: for the
    key added by add_bias_kv or add_zero_attn."""
    if mask is None:
        return None
    column = zeros((*mask.shape[:-1], 1), dtype=mask.dtype, device=mask.device)
    return F.cat([mask, column], dim=-1)


class MultiheadAttention(Module):
    """Attention with num_heads heads: out_proj(concat_h softmax(q_h k_h^T /
    sqrt(d) + mask) v_h) with q, k, v the projected query, key and value
    (torch.nn.MultiheadAttention, same arguments, parameters and state-dict keys:
    in_proj_weight and in_proj_bias, or q_proj_weight/k_proj_weight/v_proj_weight
    when kdim or vdim differs from embed_dim; bias_k and bias_v with add_bias_kv;
    out_proj.weight and out_proj.bias).

    Inputs are (L, N, E), or (N, L, E) with batch_first, or (L, E) unbatched.
    Masks follow PyTorch: a bool True means "may not attend", a float mask is
    added to the scores; attn_mask is (L, S) or (N * num_heads, L, S),
    key_padding_mask (N, S). is_causal is a hint that attn_mask is the causal
    mask and needs attn_mask, as in PyTorch. forward returns (output, weights)
    with weights (N, L, S) averaged over heads, (N, num_heads, L, S) with
    average_attn_weights=False, or None with need_weights=False (which uses
    F.scaled_dot_product_attention).

    >>> mha = MultiheadAttention(8, 2, batch_first=True)
    >>> x = at.randn(3, 5, 8)
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    ((3, 5, 8), (3, 5, 5))
    """

    embed_dim: int
    kdim: int
    vdim: int
    num_heads: int
    dropout: float
    batch_first: bool
    head_dim: int
    add_zero_attn: bool
    in_proj_weight: Parameter | None
    q_proj_weight: Parameter | None
    k_proj_weight: Parameter | None
    v_proj_weight: Parameter | None
    in_proj_bias: Parameter | None
    bias_k: Parameter | None
    bias_v: Parameter | None
    out_proj: NonDynamicallyQuantizableLinear

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.embed_dim = check_int(embed_dim, name, "embed_dim", minimum=1)
        self.num_heads = check_int(num_heads, name, "num_heads", minimum=1)
        self.kdim = embed_dim if kdim is None else check_int(kdim, name, "kdim", 1)
        self.vdim = embed_dim if vdim is None else check_int(vdim, name, "vdim", 1)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        check_number(dropout, name, "dropout")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        self.dropout = dropout
        check_bool(bias, name, "bias")
        check_bool(add_bias_kv, name, "add_bias_kv")
        self.add_zero_attn = check_bool(add_zero_attn, name, "add_zero_attn")
        self.batch_first = check_bool(batch_first, name, "batch_first")
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError(
                f"{name}: embed_dim ({embed_dim}) must be divisible by num_heads "
                f"({num_heads})"
            )
        if self._qkv_same_embed_dim:
            self.in_proj_weight = new_parameter(
                (3 * embed_dim, embed_dim), device, dtype
            )
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = new_parameter((embed_dim, embed_dim), device, dtype)
            self.k_proj_weight = new_parameter((embed_dim, self.kdim), device, dtype)
            self.v_proj_weight = new_parameter((embed_dim, self.vdim), device, dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = new_parameter((3 * embed_dim,), device, dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(
            embed_dim, embed_dim, bias=bias, device=device, dtype=dtype
        )
        if add_bias_kv:
            self.bias_k = new_parameter((1, 1, embed_dim), device, dtype)
            self.bias_v = new_parameter((1, 1, embed_dim), device, dtype)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: xavier_uniform_ on the input projections,
        zero biases, xavier_normal_ on bias_k and bias_v."""
        if self.in_proj_weight is not None:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                assert weight is not None  # set together in __init__
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
        if self.out_proj.bias is not None:
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None and self.bias_v is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        for arg, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"MultiheadAttention: {arg} must be a Tensor, got {t!r}"
                )
        batched = query.ndim == 3
        if (
            query.ndim not in (2, 3)
            or key.ndim != query.ndim
            or value.ndim != query.ndim
        ):
            raise ValueError(
                "MultiheadAttention: query, key and value must all be 3-d (batched) "
                f"or all 2-d (unbatched), got shapes {query.shape}, {key.shape}, "
                f"{value.shape}"
            )
        packed = query is key and key is value  # self-attention
        if batched and self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        elif not batched:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        if packed:
            key = value = query
        output, weights = self._attend(
            query,
            key,
            value,
            key_padding_mask,
            need_weights,
            attn_mask,
            average_attn_weights,
            is_causal,
        )
        if batched and self.batch_first:
            output = output.transpose(0, 1)
        elif not batched:
            output = output.squeeze(1)
            if weights is not None:
                weights = weights.squeeze(0)
        return output, weights

    def _in_projection(
        self, query: Tensor, key: Tensor, value: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        e = self.embed_dim
        b = self.in_proj_bias
        if self.in_proj_weight is not None and query is key and key is value:
            # self-attention: one product with the packed weight, as PyTorch's
            # _in_projection_packed (its backward: one product pair, and no
            # scatter of three gradients into the packed one)
            q, k, v = F.linear(query, self.in_proj_weight, b).split(e, dim=-1)
            return q, k, v
        biases = (None, None, None) if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        if self.in_proj_weight is not None:
            w = self.in_proj_weight
            weights = (w[:e], w[e : 2 * e], w[2 * e :])
        else:
            assert self.q_proj_weight is not None  # set together in __init__
            assert self.k_proj_weight is not None
            assert self.v_proj_weight is not None
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        q = F.linear(query, weights[0], biases[0])
        k = F.linear(key, weights[1], biases[1])
        v = F.linear(value, weights[2], biases[2])
        return q, k, v

    def _attend(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None,
        need_weights: bool,
        attn_mask: Tensor | None,
        average_attn_weights: bool,
        is_causal: bool,
    ) -> tuple[Tensor, Tensor | None]:
        """PyTorch's multi_head_attention_forward on (L, N, E) inputs."""
        length, batch, embed = query.shape
        source = key.shape[0]
        heads, head_dim = self.num_heads, self.head_dim
        if embed != self.embed_dim:
            raise ValueError(
                f"MultiheadAttention: was expecting embedding dimension of "
                f"{self.embed_dim}, but got {embed}"
            )
        if key.shape[:2] != value.shape[:2] or key.shape[1] != batch:
            raise ValueError(
                f"MultiheadAttention: key {key.shape} and value {value.shape} must "
                f"match each other and the query {query.shape} in sequence and batch"
            )
        if key.shape[2] != self.kdim or value.shape[2] != self.vdim:
            raise ValueError(
                f"MultiheadAttention: key and value must have last dims kdim="
                f"{self.kdim} and vdim={self.vdim}, got {key.shape} and {value.shape}"
            )
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "Need attn_mask if specifying the is_causal hint. You may use the "
                "Transformer module method `generate_square_subsequent_mask` to "
                "create this mask."
            )
        # stacklevel 4: _attend, forward, Module.__call__, the caller's line
        warn_mismatched_masks(
            key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", 4
        )
        kpm = canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
        if kpm is not None and kpm.shape != (batch, source):
            raise ValueError(
                f"MultiheadAttention: expecting key_padding_mask shape of "
                f"{(batch, source)}, but got {kpm.shape}"
            )
        if is_causal and kpm is None and not need_weights:
            # The hint goes to scaled_dot_product_attention as is_causal.
            mask = None
        else:
            mask = canonical_mask(attn_mask, "attn_mask", query.dtype)
            is_causal = False
        if mask is not None:
            if mask.ndim == 2:
                if mask.shape != (length, source):
                    raise RuntimeError(
                        f"The shape of the 2D attn_mask is {mask.shape}, but should "
                        f"be {(length, source)}."
                    )
                mask = mask.unsqueeze(0)
            elif mask.ndim == 3:
                if mask.shape != (batch * heads, length, source):
                    raise RuntimeError(
                        f"The shape of the 3D attn_mask is {mask.shape}, but should "
                        f"be {(batch * heads, length, source)}."
                    )
            else:
                raise RuntimeError(
                    f"attn_mask's dimension {mask.ndim} is not supported"
                )
        q, k, v = self._in_projection(query, key, value)
        if self.bias_k is not None and self.bias_v is not None:
            k = F.cat([k, self.bias_k.expand(1, batch, embed)])
            v = F.cat([v, self.bias_v.expand(1, batch, embed)])
            mask = _zero_column(mask)
            kpm = _zero_column(kpm)
        # (L, N, E) -> (N * heads, L, head_dim), heads of one batch item adjacent
        q = q.reshape(length, batch * heads, head_dim).transpose(0, 1)
        k = k.reshape(k.shape[0], batch * heads, head_dim).transpose(0, 1)
        v = v.reshape(v.shape[0], batch * heads, head_dim).transpose(0, 1)
        if self.add_zero_attn:
            zero = zeros((batch * heads, 1, head_dim), dtype=q.dtype, device=q.device)
            k = F.cat([k, zero], dim=1)
            v = F.cat([v, zero], dim=1)
            mask = _zero_column(mask)
            kpm = _zero_column(kpm)
        keys = k.shape[1]
        if kpm is not None:
            expanded = kpm.reshape(batch, 1, 1, keys).expand(batch, heads, 1, keys)
            expanded = expanded.reshape(batch * heads, 1, keys)
            mask = expanded if mask is None else mask + expanded
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q * (1.0 / math.sqrt(head_dim))) @ k.transpose(-2, -1)
            if mask is not None:
                scores = scores + mask
            weights = F.softmax(scores, dim=-1)
            if p > 0.0:
                weights = F.dropout(weights, p=p)
            out = weights @ v
            out = out.transpose(0, 1).reshape(length * batch, embed)
            out = F.linear(out, self.out_proj.weight, self.out_proj.bias)
            out = out.reshape(length, batch, embed)
            weights = weights.reshape(batch, heads, length, keys)
            if average_attn_weights:
                weights = weights.mean(dim=1)
            return out, weights
        if mask is not None:
            if mask.shape[0] == 1:
                mask = mask.unsqueeze(0)
            else:
                mask = mask.reshape(batch, heads, -1, keys)
        q = q.reshape(batch, heads, length, head_dim)
        k = k.reshape(batch, heads, keys, head_dim)
        v = v.reshape(batch, heads, keys, head_dim)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=p, is_causal=is_causal
        )
        out = out.permute(2, 0, 1, 3).reshape(batch * length, embed)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias)
        return out.reshape(length, batch, embed), None
