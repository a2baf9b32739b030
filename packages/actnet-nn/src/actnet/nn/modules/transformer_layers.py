"""The layers of torch.nn's encoder-decoder transformer:
TransformerEncoderLayer and TransformerDecoderLayer
(torch.nn.modules.transformer), with PyTorch's arguments, defaults, submodule
names (so state-dict keys) and mask handling, built on MultiheadAttention.
nn.TransformerEncoder, nn.TransformerDecoder and nn.Transformer stack them
(transformer_encoder_decoder.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import actnet.neuron as F
from actnet.nn._module import Module
from actnet.nn.modules._utils import check_bool
from actnet.nn.modules.activation import (
    GELU,
    MultiheadAttention,
    ReLU,
    canonical_mask,
    warn_mismatched_masks,
)
from actnet.nn.modules.dropout import Dropout
from actnet.nn.modules.linear import Linear
from actnet.nn.modules.normalization import LayerNorm
from actnet.tensor import Tensor

Activation = Callable[[Tensor], Tensor]


def _get_activation_fn(activation: Any, layer: str) -> Activation:
    """'relu' and 'gelu' as F.relu and F.gelu; a callable (a function or a
    Module such as nn.GELU()) as it is."""
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str):
        # torch's exception and message for an unknown name
        raise RuntimeError(  # noqa: TRY004
            f"activation should be relu/gelu, not {activation}"
        )
    if not callable(activation):
        raise TypeError(
            f"{layer}: activation must be 'relu', 'gelu' or a callable, "
            f"got {activation!r}"
        )
    fn: Activation = activation
    return fn


def check_tensor(value: Any, layer: str, name: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{layer}: {name} must be a Tensor, got {type(value).__name__}")
    return value


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward network, each in a residual branch
    (torch.nn.TransformerEncoderLayer): with norm_first=False (post-norm, the
    default) x = norm1(x + sa(x)); x = norm2(x + ff(x)); with norm_first=True
    x = x + sa(norm1(x)); x = x + ff(norm2(x)). ff(x) is
    linear2(dropout(activation(linear1(x)))); dropout1 and dropout2 follow
    the two branches. activation is 'relu' (the default), 'gelu' or a callable.

    State-dict keys: self_attn.in_proj_weight, self_attn.in_proj_bias,
    self_attn.out_proj.weight, self_attn.out_proj.bias, linear1.weight,
    linear1.bias, linear2.weight, linear2.bias, norm1.weight, norm1.bias,
    norm2.weight, norm2.bias (no .bias keys with bias=False).

    forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False):
    src is (S, N, E), (N, S, E) with batch_first, or (S, E); src_mask is
    (S, S) or (N * nhead, S, S), src_key_padding_mask (N, S) or (S,); a bool
    True may not be attended to, a float mask is added to the scores.
    is_causal is a hint that src_mask is the causal mask.

    >>> layer = TransformerEncoderLayer(d_model=16, nhead=4, batch_first=True)
    >>> layer(at.randn(2, 10, 16)).shape
    (2, 10, 16)
    """

    norm_first: bool
    activation_relu_or_gelu: int
    activation: Activation

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Activation = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model,
            nhead,
            dropout=dropout,
            bias=bias,
            batch_first=batch_first,
            **factory,
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = check_bool(norm_first, name, "norm_first")
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        fn = _get_activation_fn(activation, name)
        # PyTorch's record of the activation, read by code that inspects layers
        if fn is F.relu or isinstance(fn, ReLU):
            self.activation_relu_or_gelu = 1
        elif fn is F.gelu or isinstance(fn, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = fn

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        name = type(self).__name__
        src = check_tensor(src, name, "src")
        # stacklevel 3: forward, Module.__call__, the caller's line
        warn_mismatched_masks(
            src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask", 3
        )
        src_key_padding_mask = canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", src.dtype, name
        )
        src_mask = canonical_mask(src_mask, "src_mask", src.dtype, name)
        x = src
        if self.norm_first:
            x = x + self._sa_block(
                self.norm1(x), src_mask, src_key_padding_mask, is_causal=is_causal
            )
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(
                x
                + self._sa_block(x, src_mask, src_key_padding_mask, is_causal=is_causal)
            )
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(
        self,
        x: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool = False,
    ) -> Tensor:
        out = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        result: Tensor = self.dropout1(out)
        return result

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        result: Tensor = self.dropout2(x)
        return result


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (memory), then a
    feed-forward network, each in a residual branch
    (torch.nn.TransformerDecoderLayer): post-norm (norm1, norm2, norm3 after
    each branch) by default, pre-norm with norm_first=True; dropout1..3 follow
    the branches, dropout sits inside the feed-forward network.

    State-dict keys: self_attn.*, multihead_attn.* (in_proj_weight,
    in_proj_bias, out_proj.weight, out_proj.bias), linear1.*, linear2.*,
    norm1.*, norm2.*, norm3.* (weight and bias).

    forward(tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None,
    tgt_is_causal=False, memory_is_causal=False): tgt_mask is (T, T) or
    (N * nhead, T, T), memory_mask (T, S), the key padding masks (N, T) and
    (N, S); masks as in TransformerEncoderLayer.

    >>> layer = TransformerDecoderLayer(d_model=16, nhead=4)
    >>> layer(at.randn(7, 2, 16), at.randn(5, 2, 16)).shape
    (7, 2, 16)
    """

    norm_first: bool
    activation: Activation

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Activation = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model,
            nhead,
            dropout=dropout,
            batch_first=batch_first,
            bias=bias,
            **factory,
        )
        self.multihead_attn = MultiheadAttention(
            d_model,
            nhead,
            dropout=dropout,
            batch_first=batch_first,
            bias=bias,
            **factory,
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = check_bool(norm_first, name, "norm_first")
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation_fn(activation, name)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        name = type(self).__name__
        x = check_tensor(tgt, name, "tgt")
        memory = check_tensor(memory, name, "memory")
        if self.norm_first:
            x = x + self._sa_block(
                self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal
            )
            x = x + self._mha_block(
                self.norm2(x),
                memory,
                memory_mask,
                memory_key_padding_mask,
                memory_is_causal,
            )
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(
                x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            )
            x = self.norm2(
                x
                + self._mha_block(
                    x, memory, memory_mask, memory_key_padding_mask, memory_is_causal
                )
            )
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(
        self,
        x: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool = False,
    ) -> Tensor:
        out = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        result: Tensor = self.dropout1(out)
        return result

    def _mha_block(
        self,
        x: Tensor,
        mem: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool = False,
    ) -> Tensor:
        out = self.multihead_attn(
            x,
            mem,
            mem,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        result: Tensor = self.dropout2(out)
        return result

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        result: Tensor = self.dropout3(x)
        return result
