"""torch.nn's encoder-decoder transformer: Transformer, TransformerEncoder and
TransformerDecoder (torch.nn.modules.transformer), stacks of the layers in
transformer_layers.py.

Same arguments and defaults, submodule names (so a PyTorch state dict loads),
initialisation and mask handling as PyTorch. actnet has no nested tensors, so
there is no "fast path": every call computes what PyTorch computes with its
fast path off (the dense result, padded positions included).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import actnet.ndarray as xp
import actnet.neuron as F
from actnet.nn import init
from actnet.nn._container import ModuleList
from actnet.nn._module import Module
from actnet.nn.modules._utils import check_bool, check_int
from actnet.nn.modules.activation import canonical_mask, warn_mismatched_masks
from actnet.nn.modules.normalization import LayerNorm
from actnet.nn.modules.transformer_layers import (
    Activation,
    TransformerDecoderLayer,
    TransformerEncoderLayer,
    check_tensor,
)
from actnet.tensor import Tensor, as_dtype, equal, full, triu


def _generate_square_subsequent_mask(
    sz: int, device: Any = None, dtype: Any = None
) -> Tensor:
    """The (sz, sz) causal mask: -inf above the diagonal, 0 elsewhere (True
    above the diagonal for dtype bool, as PyTorch's -inf cast to bool)."""
    check_int(sz, "generate_square_subsequent_mask", "sz")
    if dtype is not None and as_dtype(dtype) == xp.bool:
        return triu(full((sz, sz), True, dtype=dtype, device=device), diagonal=1)
    return triu(full((sz, sz), -math.inf, dtype=dtype, device=device), diagonal=1)


def _get_seq_len(src: Tensor, batch_first: bool) -> int:
    if src.ndim == 2:  # unbatched: (S, E)
        return src.shape[0]
    return src.shape[1] if batch_first else src.shape[0]


def _detect_is_causal_mask(
    mask: Tensor | None, is_causal: bool | None, size: int | None
) -> bool:
    """is_causal when given; with None, whether mask is exactly the (size, size)
    causal mask (PyTorch's detection, for the is_causal hint of the layers)."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    causal = _generate_square_subsequent_mask(sz, mask.device, mask.dtype)
    return mask.shape == causal.shape and equal(mask, causal)


def _first_batch_first(layers: ModuleList) -> bool:
    """The first layer's self_attn.batch_first, where PyTorch reads it (False for
    a custom layer without one, or for no layers)."""
    attn = getattr(layers[0], "self_attn", None) if len(layers) else None
    return bool(getattr(attn, "batch_first", False))


def _get_clones(module: Module, n: int) -> ModuleList:
    """n deep copies of module: equal initial weights, as in PyTorch."""
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """num_layers deep copies of encoder_layer applied in turn, then `norm` if
    given (torch.nn.TransformerEncoder; state-dict keys layers.0.*, ...,
    norm.*). The copies start equal, as in PyTorch: initialise them yourself,
    or let nn.Transformer do it. enable_nested_tensor and mask_check are
    accepted and kept; actnet has no nested tensors, so use_nested_tensor is
    False and padded positions are computed like the others.

    forward(src, mask=None, src_key_padding_mask=None, is_causal=None): with
    is_causal None the layers get the hint when mask is exactly the causal
    mask (PyTorch's detection).

    >>> layer = TransformerEncoderLayer(d_model=16, nhead=4)
    >>> encoder = TransformerEncoder(layer, num_layers=2)
    >>> encoder(at.randn(10, 3, 16)).shape
    (10, 3, 16)
    """

    num_layers: int
    norm: Module | None
    enable_nested_tensor: bool
    use_nested_tensor: bool
    mask_check: bool

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(encoder_layer, Module):
            raise TypeError(
                f"{name}: encoder_layer must be a Module, got {encoder_layer!r}"
            )
        self.layers = _get_clones(
            encoder_layer, check_int(num_layers, name, "num_layers")
        )
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = check_bool(
            enable_nested_tensor, name, "enable_nested_tensor"
        )
        self.use_nested_tensor = False  # no nested tensors in actnet
        self.mask_check = check_bool(mask_check, name, "mask_check")

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        name = type(self).__name__
        output = check_tensor(src, name, "src")
        # stacklevel 3: forward, Module.__call__, the caller's line
        warn_mismatched_masks(
            src_key_padding_mask, "src_key_padding_mask", mask, "mask", 3
        )
        src_key_padding_mask = canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", src.dtype, name
        )
        mask = canonical_mask(mask, "mask", src.dtype, name)
        seq_len = _get_seq_len(src, _first_batch_first(self.layers))
        causal = _detect_is_causal_mask(mask, is_causal, seq_len)
        for mod in self.layers:
            output = mod(
                output,
                src_mask=mask,
                is_causal=causal,
                src_key_padding_mask=src_key_padding_mask,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """num_layers deep copies of decoder_layer applied in turn, then `norm` if
    given (torch.nn.TransformerDecoder; state-dict keys layers.0.*, ...,
    norm.*).

    forward(tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None,
    tgt_is_causal=None, memory_is_causal=False): with tgt_is_causal None the
    layers get the hint when tgt_mask is exactly the causal mask.

    >>> layer = TransformerDecoderLayer(d_model=16, nhead=4)
    >>> decoder = TransformerDecoder(layer, num_layers=2)
    >>> decoder(at.randn(7, 3, 16), at.randn(10, 3, 16)).shape
    (7, 3, 16)
    """

    num_layers: int
    norm: Module | None

    def __init__(
        self, decoder_layer: Module, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(decoder_layer, Module):
            raise TypeError(
                f"{name}: decoder_layer must be a Module, got {decoder_layer!r}"
            )
        self.layers = _get_clones(
            decoder_layer, check_int(num_layers, name, "num_layers")
        )
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        output = check_tensor(tgt, type(self).__name__, "tgt")
        seq_len = _get_seq_len(tgt, _first_batch_first(self.layers))
        causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        for mod in self.layers:
            output = mod(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=causal,
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder transformer of "Attention Is All You Need"
    (torch.nn.Transformer): `encoder`, a TransformerEncoder of
    num_encoder_layers TransformerEncoderLayers with a final LayerNorm, and
    `decoder`, a TransformerDecoder of num_decoder_layers
    TransformerDecoderLayers with a final LayerNorm (or custom_encoder and
    custom_decoder). Every parameter with more than one dimension is
    initialised by xavier_uniform_, as in PyTorch. State-dict keys:
    encoder.layers.{i}.*, encoder.norm.*, decoder.layers.{i}.*, decoder.norm.*.

    forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False) returns the decoder's output, shaped like tgt.
    generate_square_subsequent_mask(sz) gives the causal tgt_mask.

    >>> model = Transformer(d_model=16, nhead=4, num_encoder_layers=2,
    ...                     num_decoder_layers=2, dim_feedforward=32)
    >>> src, tgt = at.randn(10, 3, 16), at.randn(7, 3, 16)
    >>> mask = Transformer.generate_square_subsequent_mask(7)
    >>> model(src, tgt, tgt_mask=mask).shape
    (7, 3, 16)
    """

    encoder: Module
    decoder: Module
    d_model: int
    nhead: int
    batch_first: bool

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Activation = F.relu,
        custom_encoder: Any | None = None,
        custom_decoder: Any | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation)
        layer_kwargs = {
            "layer_norm_eps": layer_norm_eps,
            "batch_first": batch_first,
            "norm_first": norm_first,
            "bias": bias,
            **factory,
        }
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(*layer_args, **layer_kwargs)
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.encoder = TransformerEncoder(
                encoder_layer, num_encoder_layers, encoder_norm
            )
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(*layer_args, **layer_kwargs)
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.decoder = TransformerDecoder(
                decoder_layer, num_decoder_layers, decoder_norm
            )
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        name = type(self).__name__
        src = check_tensor(src, name, "src")
        tgt = check_tensor(tgt, name, "tgt")
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and (
            tgt.ndim != 3 or src.shape[batch_dim] != tgt.shape[batch_dim]
        ):
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(
                "the feature number of src and tgt must be equal to d_model"
            )
        memory = self.encoder(
            src,
            mask=src_mask,
            src_key_padding_mask=src_key_padding_mask,
            is_causal=src_is_causal,
        )
        output: Tensor = self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )
        return output

    @staticmethod
    def generate_square_subsequent_mask(
        sz: int, device: Any = None, dtype: Any = None
    ) -> Tensor:
        """The (sz, sz) causal mask: float -inf above the diagonal (a position
        may not attend to later ones), 0.0 elsewhere; float32 unless dtype.

        >>> Transformer.generate_square_subsequent_mask(3)
        tensor([[  0., -inf, -inf],
                [  0.,   0., -inf],
                [  0.,   0.,   0.]])
        """
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: xavier_uniform_ on every parameter with more
        than one dimension (custom encoder and decoder included)."""
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
