"""TransformerBlock: a pre-norm decoder-only transformer layer (GPT style)."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.nn._container import Sequential
from actnet.nn._module import Module
from actnet.nn.modules._utils import check_bool, check_int, check_number
from actnet.nn.modules.activation import (
    GELU,
    MultiheadAttention,
    ReLU,
    SiLU,
    canonical_mask,
)
from actnet.nn.modules.dropout import Dropout
from actnet.nn.modules.linear import Linear
from actnet.nn.modules.normalization import LayerNorm
from actnet.tensor import Tensor, as_tensor

_ACTIVATIONS: dict[str, type[Module]] = {"relu": ReLU, "gelu": GELU, "silu": SiLU}


def _activation(value: Any) -> Module:
    if isinstance(value, Module):
        return value
    if isinstance(value, str) and value in _ACTIVATIONS:
        return _ACTIVATIONS[value]()
    raise ValueError(
        "TransformerBlock: activation must be 'relu', 'gelu', 'silu' or a Module, "
        f"got {value!r}"
    )


class TransformerBlock(Module):
    """x = x + dropout1(attn(ln1(x))); x = x + dropout2(mlp(ln2(x))): the pre-norm
    layer of torch.nn.TransformerEncoderLayer(norm_first=True) with causal
    self-attention by default, dropout where PyTorch puts it (in the attention
    weights, after the attention block, after the activation, after the MLP).

    Submodules and state-dict keys:
        ln1.weight, ln1.bias                        LayerNorm(d_model, eps=norm_eps)
        attn.in_proj_weight, attn.in_proj_bias,     MultiheadAttention(d_model,
        attn.out_proj.weight, attn.out_proj.bias    n_heads, dropout, bias, batch_first)
        ln2.weight, ln2.bias                        LayerNorm(d_model, eps=norm_eps)
        mlp.0.weight, mlp.0.bias                    Linear(d_model, d_ff, bias)
        (mlp.1 the activation, mlp.2 a Dropout)
        mlp.3.weight, mlp.3.bias                    Linear(d_ff, d_model, bias)
    (no .bias keys with bias=False, except the LayerNorms'.)

    activation is 'gelu' (exact), 'relu', 'silu' or a Module. Inputs are
    (N, L, d_model) with batch_first (the default), (L, N, d_model) without, or
    (L, d_model) unbatched. forward(x, attn_mask=None, is_causal=True): with
    is_causal a position attends only to itself and earlier positions; attn_mask
    ((L, L) or (N * n_heads, L, L); bool True = may not attend, or float added to
    the scores, as in MultiheadAttention) is applied as well.

    >>> block = TransformerBlock(16, 4)
    >>> block(at.randn(2, 10, 16)).shape
    (2, 10, 16)
    """

    d_model: int
    n_heads: int
    d_ff: int
    batch_first: bool

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int | None = None,
        dropout: float = 0.0,
        bias: bool = True,
        activation: str | Module = "gelu",
        norm_eps: float = 1e-5,
        batch_first: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.d_model = check_int(d_model, name, "d_model", minimum=1)
        self.n_heads = check_int(n_heads, name, "n_heads", minimum=1)
        self.d_ff = 4 * d_model if d_ff is None else check_int(d_ff, name, "d_ff", 1)
        check_number(dropout, name, "dropout")
        check_number(norm_eps, name, "norm_eps")
        self.batch_first = check_bool(batch_first, name, "batch_first")
        factory = {"device": device, "dtype": dtype}
        self.ln1 = LayerNorm(d_model, eps=norm_eps, **factory)
        self.attn = MultiheadAttention(
            d_model,
            n_heads,
            dropout=dropout,
            bias=bias,
            batch_first=batch_first,
            **factory,
        )
        self.dropout1 = Dropout(dropout)
        self.ln2 = LayerNorm(d_model, eps=norm_eps, **factory)
        self.mlp = Sequential(
            Linear(d_model, self.d_ff, bias=bias, **factory),
            _activation(activation),
            Dropout(dropout),
            Linear(self.d_ff, d_model, bias=bias, **factory),
        )
        self.dropout2 = Dropout(dropout)

    def forward(
        self, x: Tensor, attn_mask: Tensor | None = None, is_causal: bool = True
    ) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"TransformerBlock: x must be a Tensor, got {x!r}")
        if x.ndim not in (2, 3):
            raise ValueError(
                "TransformerBlock: x must be (N, L, d_model), (L, N, d_model) or "
                f"(L, d_model), got shape {x.shape}"
            )
        check_bool(is_causal, type(self).__name__, "is_causal")
        length = x.shape[1] if x.ndim == 3 and self.batch_first else x.shape[0]
        mask = attn_mask
        if is_causal:
            future = xp.triu(
                xp.ones((length, length), dtype=xp.bool, device=x.device), k=1
            )
            mask = as_tensor(future)
            if attn_mask is not None:
                # both masks apply: add them as float masks (-inf where masked)
                causal = canonical_mask(mask, "attn_mask", x.dtype)
                extra = canonical_mask(attn_mask, "attn_mask", x.dtype)
                assert causal is not None and extra is not None  # neither is None
                mask = causal + extra
        h = self.ln1(x)
        # is_causal is only a hint that mask is exactly the causal mask
        hint = is_causal and attn_mask is None
        a, _ = self.attn(h, h, h, need_weights=False, attn_mask=mask, is_causal=hint)
        x = x + self.dropout1(a)
        return x + self.dropout2(self.mlp(self.ln2(x)))
