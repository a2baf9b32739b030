"""nn.Transformer, TransformerEncoder(Layer) and TransformerDecoder(Layer):
forward against a NumPy oracle written from PyTorch's equations (post-norm and
pre-norm, relu and gelu, masks), what masks hide (padded keys, later
positions), batch_first, unbatched inputs, dropout, gradients against central
differences, PyTorch's state-dict keys and initialisation, subclassing, the
causal-mask detection and the argument errors."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.neuron as F
import actnet.tensor as at
from actnet import nn

_erf = np.vectorize(math.erf)
Arrays = dict[str, np.ndarray]


# ------------------------------------------------------------ NumPy oracle
def _layer_norm(x: np.ndarray, s: Arrays, prefix: str) -> np.ndarray:
    y = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    return y * s[prefix + "weight"] + s.get(prefix + "bias", 0.0)


def _linear(x: np.ndarray, s: Arrays, prefix: str) -> np.ndarray:
    return x @ s[prefix + "weight"].T + s.get(prefix + "bias", 0.0)


def _activation(x: np.ndarray, name: str) -> np.ndarray:
    if name == "gelu":
        return 0.5 * x * (1 + _erf(x / math.sqrt(2)))
    return np.maximum(x, 0.0)


def _attention(
    s: Arrays, prefix: str, q_in: np.ndarray, kv_in: np.ndarray, heads: int, add: Any
) -> np.ndarray:
    """Multi-head attention on batch-first (N, L, E) arrays; `add` broadcasts to
    the (N, heads, L, S) scores."""
    n, length, e = q_in.shape
    hd = e // heads
    w = s[prefix + "in_proj_weight"]
    b = s.get(prefix + "in_proj_bias", np.zeros(3 * e))

    def project(x: np.ndarray, i: int) -> np.ndarray:
        y = x @ w[i * e : (i + 1) * e].T + b[i * e : (i + 1) * e]
        return y.reshape(n, -1, heads, hd).transpose(0, 2, 1, 3)

    q, k, v = project(q_in, 0), project(kv_in, 1), project(kv_in, 2)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + add
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights = weights / weights.sum(-1, keepdims=True)
    out = (weights @ v).transpose(0, 2, 1, 3).reshape(n, length, e)
    return _linear(out, s, prefix + "out_proj.")


def _additive(mask: np.ndarray | None, kpm: np.ndarray | None) -> Any:
    """attn_mask (L, S) and key_padding_mask (N, S), bool (True: hidden) or
    float, as one additive term for (N, heads, L, S) scores."""
    add: Any = 0.0
    if mask is not None:
        add = add + (np.where(mask, -np.inf, 0.0) if mask.dtype == bool else mask)
    if kpm is not None:
        pad = np.where(kpm, -np.inf, 0.0) if kpm.dtype == bool else kpm
        add = add + pad[:, None, None, :]
    return add


def _state(module: nn.Module) -> Arrays:
    return {k: to_numpy(v) for k, v in module.state_dict().items()}


def encoder_layer_oracle(
    layer: nn.TransformerEncoderLayer,
    x: np.ndarray,
    mask: np.ndarray | None = None,
    kpm: np.ndarray | None = None,
    act: str = "relu",
) -> np.ndarray:
    """TransformerEncoderLayer on batch-first x."""
    s, heads, add = _state(layer), layer.self_attn.num_heads, _additive(mask, kpm)

    def sa(y: np.ndarray) -> np.ndarray:
        return _attention(s, "self_attn.", y, y, heads, add)

    def ff(y: np.ndarray) -> np.ndarray:
        return _linear(_activation(_linear(y, s, "linear1."), act), s, "linear2.")

    if layer.norm_first:
        x = x + sa(_layer_norm(x, s, "norm1."))
        return x + ff(_layer_norm(x, s, "norm2."))
    x = _layer_norm(x + sa(x), s, "norm1.")
    return _layer_norm(x + ff(x), s, "norm2.")


def decoder_layer_oracle(
    layer: nn.TransformerDecoderLayer,
    x: np.ndarray,
    memory: np.ndarray,
    masks: dict[str, np.ndarray] | None = None,
    act: str = "relu",
) -> np.ndarray:
    """TransformerDecoderLayer on batch-first x and memory; masks holds
    tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask."""
    m = masks or {}
    s, heads = _state(layer), layer.self_attn.num_heads
    self_add = _additive(m.get("tgt_mask"), m.get("tgt_key_padding_mask"))
    cross_add = _additive(m.get("memory_mask"), m.get("memory_key_padding_mask"))

    def sa(y: np.ndarray) -> np.ndarray:
        return _attention(s, "self_attn.", y, y, heads, self_add)

    def ca(y: np.ndarray) -> np.ndarray:
        return _attention(s, "multihead_attn.", y, memory, heads, cross_add)

    def ff(y: np.ndarray) -> np.ndarray:
        return _linear(_activation(_linear(y, s, "linear1."), act), s, "linear2.")

    if layer.norm_first:
        x = x + sa(_layer_norm(x, s, "norm1."))
        x = x + ca(_layer_norm(x, s, "norm2."))
        return x + ff(_layer_norm(x, s, "norm3."))
    x = _layer_norm(x + sa(x), s, "norm1.")
    x = _layer_norm(x + ca(x), s, "norm2.")
    return _layer_norm(x + ff(x), s, "norm3.")


def _randomise_vectors(module: nn.Module, seed: int = 3) -> None:
    """Biases and norm parameters away from zeros and ones, so the oracle
    checks where they enter."""
    rng = np.random.default_rng(seed)
    with at.no_grad():
        for p in module.parameters():
            if p.ndim == 1:
                p.copy_(at.tensor(rng.standard_normal(p.shape) * 0.3 + 0.5))


def _encoder_layer(**kwargs: Any) -> nn.TransformerEncoderLayer:
    kwargs = {"dim_feedforward": 12, "dropout": 0.0, "dtype": at.float64, **kwargs}
    layer = nn.TransformerEncoderLayer(8, 2, **kwargs)
    _randomise_vectors(layer)
    return layer


def _decoder_layer(**kwargs: Any) -> nn.TransformerDecoderLayer:
    kwargs = {"dim_feedforward": 12, "dropout": 0.0, "dtype": at.float64, **kwargs}
    layer = nn.TransformerDecoderLayer(8, 2, **kwargs)
    _randomise_vectors(layer)
    return layer


def _x(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


_KPM = np.array([[False] * 5, [False, False, False, True, True]])
_CAUSAL = np.triu(np.ones((5, 5), dtype=bool), 1)


# ------------------------------------------------------------ forward values
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("act", ["relu", "gelu"])
def test_encoder_layer_matches_numpy(norm_first: bool, act: str) -> None:
    layer = _encoder_layer(norm_first=norm_first, activation=act, batch_first=True)
    x = _x(2, 5, 8)
    out = to_numpy(layer(at.tensor(x)))
    expected = encoder_layer_oracle(layer, x, act=act)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    float_mask = _x(5, 5, seed=1)
    float_kpm = np.where(_KPM, -np.inf, 0.0)
    out = layer(
        at.tensor(x),
        src_mask=at.tensor(float_mask),
        src_key_padding_mask=at.tensor(float_kpm),
    )
    expected = encoder_layer_oracle(layer, x, float_mask, _KPM, act)
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-10, atol=1e-12)
    # a bool key padding mask beside a float mask: torch's deprecation warning
    with pytest.warns(
        UserWarning, match="mismatched src_key_padding_mask and src_mask"
    ):
        out = layer(at.tensor(x), at.tensor(float_mask), at.tensor(_KPM))
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("act", ["relu", "gelu"])
def test_decoder_layer_matches_numpy(norm_first: bool, act: str) -> None:
    layer = _decoder_layer(norm_first=norm_first, activation=act, batch_first=True)
    x, memory = _x(2, 4, 8), _x(2, 5, 8, seed=1)
    out = to_numpy(layer(at.tensor(x), at.tensor(memory)))
    expected = decoder_layer_oracle(layer, x, memory, act=act)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    masks = {
        "tgt_mask": np.triu(np.ones((4, 4), dtype=bool), 1),
        "memory_mask": _x(4, 5, seed=2),
        "tgt_key_padding_mask": np.array([[False] * 4, [False, False, False, True]]),
        "memory_key_padding_mask": np.where(_KPM, -np.inf, 0.0),
    }
    out = layer(
        at.tensor(x), at.tensor(memory), **{k: at.tensor(v) for k, v in masks.items()}
    )
    expected = decoder_layer_oracle(layer, x, memory, masks, act)
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-10, atol=1e-12)


def test_callable_activations() -> None:
    """A function or a Module; a Module is a registered child (in the repr,
    no parameters), as in PyTorch."""
    x = _x(2, 5, 8)
    for activation in (F.gelu, nn.GELU(), lambda t: F.gelu(t)):
        layer = _encoder_layer(activation=activation, batch_first=True)
        np.testing.assert_allclose(
            to_numpy(layer(at.tensor(x))),
            encoder_layer_oracle(layer, x, act="gelu"),
            rtol=1e-10,
            atol=1e-12,
        )
    assert _encoder_layer(activation=nn.GELU()).activation_relu_or_gelu == 2
    assert _encoder_layer(activation="relu").activation_relu_or_gelu == 1
    assert _encoder_layer(activation=F.silu).activation_relu_or_gelu == 0
    layer = _encoder_layer(activation=nn.GELU())
    assert "(activation): GELU(approximate='none')" in repr(layer)
    assert "activation" not in repr(_encoder_layer())
    decoder = _decoder_layer(activation=nn.ReLU())
    assert dict(decoder.named_children())["activation"] is decoder.activation


def _stack_oracle(
    model: nn.Transformer, src: np.ndarray, tgt: np.ndarray
) -> np.ndarray:
    s = _state(model)
    memory = src
    for layer in model.encoder.layers:
        memory = encoder_layer_oracle(layer, memory)
    memory = _layer_norm(memory, s, "encoder.norm.")
    out = tgt
    causal = np.triu(np.ones((tgt.shape[1],) * 2, dtype=bool), 1)
    for layer in model.decoder.layers:
        out = decoder_layer_oracle(layer, out, memory, {"tgt_mask": causal})
    return _layer_norm(out, s, "decoder.norm.")


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_numpy(batch_first: bool) -> None:
    model = nn.Transformer(
        8, 2, 2, 2, 12, dropout=0.0, batch_first=batch_first, dtype=at.float64
    )
    _randomise_vectors(model)
    src, tgt = _x(2, 6, 8), _x(2, 4, 8, seed=1)
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=at.float64)

    def layout(a: np.ndarray) -> at.Tensor:
        return at.tensor(a if batch_first else a.transpose(1, 0, 2).copy())

    out = to_numpy(model(layout(src), layout(tgt), tgt_mask=mask))
    if not batch_first:
        out = out.transpose(1, 0, 2)
    np.testing.assert_allclose(
        out, _stack_oracle(model, src, tgt), rtol=1e-10, atol=1e-12
    )


# ------------------------------------------------------------ what masks hide
def test_a_padded_key_changes_nothing() -> None:
    layer = _encoder_layer(batch_first=True)
    x = _x(2, 5, 8)
    kpm = at.tensor(_KPM)
    out = to_numpy(layer(at.tensor(x), src_key_padding_mask=kpm))
    changed = x.copy()
    changed[1, 3:] += _x(2, 8, seed=9)
    after = to_numpy(layer(at.tensor(changed), src_key_padding_mask=kpm))
    np.testing.assert_allclose(after[0], out[0], atol=1e-12)
    np.testing.assert_allclose(after[1, :3], out[1, :3], atol=1e-12)
    unmasked = to_numpy(layer(at.tensor(changed)))  # the test can fail
    assert not np.allclose(unmasked[1, :3], out[1, :3])
    decoder = _decoder_layer(batch_first=True)
    tgt, memory = _x(2, 4, 8, seed=1), _x(2, 5, 8, seed=2)
    mem_changed = memory.copy()
    mem_changed[1, 3:] += _x(2, 8, seed=9)
    a, b = (
        to_numpy(decoder(at.tensor(tgt), at.tensor(m), memory_key_padding_mask=kpm))
        for m in (memory, mem_changed)
    )
    np.testing.assert_allclose(a, b, atol=1e-12)
    c = to_numpy(decoder(at.tensor(tgt), at.tensor(mem_changed)))
    assert not np.allclose(a[1], c[1])


@pytest.mark.parametrize("norm_first", [False, True])
def test_causal_mask_hides_later_positions(norm_first: bool) -> None:
    model = nn.Transformer(
        8, 2, 2, 2, 12, dropout=0.0, norm_first=norm_first, dtype=at.float64
    )
    src, tgt = _x(6, 2, 8), _x(5, 2, 8, seed=1)
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=at.float64)
    encoder_mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=at.float64)
    for t in range(4):
        changed_tgt, changed_src = tgt.copy(), src.copy()
        changed_tgt[t + 1 :] += _x(4 - t, 2, 8, seed=t + 10)
        changed_src[t + 1 :] += _x(5 - t, 2, 8, seed=t + 20)
        a = to_numpy(model(at.tensor(src), at.tensor(tgt), tgt_mask=mask))
        b = to_numpy(model(at.tensor(src), at.tensor(changed_tgt), tgt_mask=mask))
        np.testing.assert_allclose(b[: t + 1], a[: t + 1], atol=1e-12)
        assert not np.allclose(b[t + 1 :], a[t + 1 :])
        unmasked = to_numpy(model(at.tensor(src), at.tensor(changed_tgt)))
        assert not np.allclose(unmasked[: t + 1], a[: t + 1])
        enc = model.encoder
        c = to_numpy(enc(at.tensor(src), mask=encoder_mask))
        d = to_numpy(enc(at.tensor(changed_src), mask=encoder_mask))
        np.testing.assert_allclose(d[: t + 1], c[: t + 1], atol=1e-12)
        assert not np.allclose(to_numpy(enc(at.tensor(changed_src)))[0], c[0])


def test_bool_and_float_masks_agree() -> None:
    encoder = nn.TransformerEncoder(_encoder_layer(), 2)
    x = at.tensor(_x(5, 2, 8))
    bool_mask = at.tensor(_CAUSAL)
    float_mask = at.tensor(np.where(_CAUSAL, -np.inf, 0.0))
    kpm, float_kpm = at.tensor(_KPM), at.tensor(np.where(_KPM, -np.inf, 0.0))
    a = to_numpy(encoder(x, mask=bool_mask, src_key_padding_mask=kpm))
    b = to_numpy(encoder(x, mask=float_mask, src_key_padding_mask=float_kpm))
    np.testing.assert_allclose(a, b, atol=1e-12)
    with pytest.warns(UserWarning, match="mismatched src_key_padding_mask and mask"):
        c = to_numpy(encoder(x, mask=float_mask, src_key_padding_mask=kpm))
    np.testing.assert_allclose(a, c, atol=1e-12)


class _RecordingLayer(nn.TransformerEncoderLayer):
    """Records the is_causal hint TransformerEncoder passes."""

    seen: list[bool]

    def forward(
        self,
        src: at.Tensor,
        src_mask: at.Tensor | None = None,
        src_key_padding_mask: at.Tensor | None = None,
        is_causal: bool = False,
    ) -> at.Tensor:
        self.seen.append(is_causal)
        return super().forward(src, src_mask, src_key_padding_mask, is_causal)


def test_encoder_detects_the_causal_mask() -> None:
    layer = _RecordingLayer(8, 2, 12, dropout=0.0, dtype=at.float64)
    encoder = nn.TransformerEncoder(layer, 2)
    x = at.tensor(_x(5, 2, 8))
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=at.float64)
    cases = [
        ({"mask": causal}, True),
        ({"mask": at.tensor(_CAUSAL)}, True),
        ({"mask": causal, "is_causal": False}, False),
        ({"mask": at.tensor(_x(5, 5))}, False),
        ({"mask": at.tensor(np.broadcast_to(_CAUSAL, (4, 5, 5)).copy())}, False),
        ({}, False),
    ]
    for kwargs, expected in cases:
        for m in encoder.layers:
            m.seen = []
        encoder(x, **kwargs)
        assert [m.seen for m in encoder.layers] == [[expected], [expected]], kwargs
    # the hint gives the same result as the mask
    hinted = to_numpy(encoder(x, mask=causal))
    plain = to_numpy(encoder(x, mask=at.tensor(np.where(_CAUSAL, -1e30, 0.0))))
    np.testing.assert_allclose(hinted, plain, atol=1e-12)


# ------------------------------------------------------------ layouts, dropout
def test_batch_first_sequence_first_and_unbatched_agree() -> None:
    model = nn.Transformer(
        8, 2, 1, 2, 12, dropout=0.0, batch_first=True, dtype=at.float64
    )
    seq_first = nn.Transformer(8, 2, 1, 2, 12, dropout=0.0, dtype=at.float64)
    seq_first.load_state_dict(model.state_dict())
    src, tgt = _x(2, 5, 8), _x(2, 4, 8, seed=1)
    kpm = at.tensor(_KPM)
    expected = to_numpy(model(at.tensor(src), at.tensor(tgt), src_key_padding_mask=kpm))
    out = seq_first(
        at.tensor(src.transpose(1, 0, 2).copy()),
        at.tensor(tgt.transpose(1, 0, 2).copy()),
        src_key_padding_mask=kpm,
    )
    np.testing.assert_allclose(to_numpy(out).transpose(1, 0, 2), expected, atol=1e-12)
    for i in range(2):
        one = model(at.tensor(src[i]), at.tensor(tgt[i]), src_key_padding_mask=kpm[i])
        assert one.shape == (4, 8)
        np.testing.assert_allclose(to_numpy(one), expected[i], atol=1e-12)


def test_shapes() -> None:
    model = nn.Transformer(16, 4, 2, 3, 32)
    assert model(at.randn(10, 3, 16), at.randn(7, 3, 16)).shape == (7, 3, 16)
    assert len(model.encoder.layers) == 2 and len(model.decoder.layers) == 3
    assert isinstance(model.encoder.norm, nn.LayerNorm)
    assert isinstance(model.decoder.norm, nn.LayerNorm)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4), 2)
    assert encoder.norm is None
    assert encoder(at.randn(10, 3, 16)).shape == (10, 3, 16)
    decoder = nn.TransformerDecoder(
        nn.TransformerDecoderLayer(16, 4, batch_first=True), 1
    )
    assert decoder(at.randn(3, 7, 16), at.randn(3, 10, 16)).shape == (3, 7, 16)
    assert (model.d_model, model.nhead, model.batch_first) == (16, 4, False)
    assert encoder.enable_nested_tensor and not encoder.use_nested_tensor


def test_dropout_only_in_training() -> None:
    model = nn.Transformer(8, 2, 1, 1, 12, dtype=at.float64)  # dropout=0.1
    src, tgt = at.tensor(_x(5, 2, 8)), at.tensor(_x(4, 2, 8, seed=1))
    model.eval()
    no_dropout = nn.Transformer(8, 2, 1, 1, 12, dropout=0.0, dtype=at.float64)
    no_dropout.load_state_dict(model.state_dict())
    a = to_numpy(model(src, tgt))
    np.testing.assert_array_equal(a, to_numpy(model(src, tgt)))
    np.testing.assert_allclose(a, to_numpy(no_dropout(src, tgt)), atol=1e-12)
    model.train()
    assert not np.allclose(to_numpy(model(src, tgt)), to_numpy(model(src, tgt)))
    assert all(m.training for m in model.modules())


# ------------------------------------------------------------ gradients
class _WithMasks(nn.Module):
    """A layer called with fixed masks, for the gradient harness."""

    def __init__(self, layer: nn.Module, **masks: at.Tensor) -> None:
        super().__init__()
        self.layer = layer
        self.masks = masks

    def forward(self, *inputs: at.Tensor) -> at.Tensor:
        out: at.Tensor = self.layer(*inputs, **self.masks)
        return out


@pytest.mark.parametrize("norm_first", [False, True])
def test_layer_gradients(norm_first: bool) -> None:
    kw = {"dim_feedforward": 6, "dropout": 0.0, "dtype": at.float64}
    enc = nn.TransformerEncoderLayer(
        4, 2, norm_first=norm_first, activation="gelu", **kw
    )
    _randomise_vectors(enc)
    kpm = at.tensor(np.array([[False, False, True], [False] * 3]))
    check_module_grads(_WithMasks(enc, src_key_padding_mask=kpm), [_x(3, 2, 4)])
    dec = nn.TransformerDecoderLayer(4, 2, norm_first=norm_first, **kw)
    _randomise_vectors(dec)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=at.float64)
    wrapped = _WithMasks(dec, tgt_mask=mask, memory_key_padding_mask=kpm)
    check_module_grads(wrapped, [_x(3, 2, 4, seed=1), _x(3, 2, 4, seed=2)], wrt=(0, 1))


def test_gradients_reach_every_parameter() -> None:
    model = nn.Transformer(8, 2, 2, 2, 12, dropout=0.0, dtype=at.float64)
    src = at.tensor(_x(5, 2, 8), requires_grad=True)
    tgt = at.tensor(_x(4, 2, 8, seed=1), requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=at.float64)
    out = model(src, tgt, tgt_mask=mask, src_key_padding_mask=at.tensor(_KPM))
    (out * at.tensor(_x(*out.shape, seed=5))).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert np.any(to_numpy(p.grad) != 0), name
    assert src.grad is not None and np.any(to_numpy(src.grad) != 0)


# ------------------------------------------------------------ parameters
TORCH_TRANSFORMER_KEYS = [
    "encoder.layers.0.self_attn.in_proj_weight",
    "encoder.layers.0.self_attn.in_proj_bias",
    "encoder.layers.0.self_attn.out_proj.weight",
    "encoder.layers.0.self_attn.out_proj.bias",
    "encoder.layers.0.linear1.weight",
    "encoder.layers.0.linear1.bias",
    "encoder.layers.0.linear2.weight",
    "encoder.layers.0.linear2.bias",
    "encoder.layers.0.norm1.weight",
    "encoder.layers.0.norm1.bias",
    "encoder.layers.0.norm2.weight",
    "encoder.layers.0.norm2.bias",
    "encoder.norm.weight",
    "encoder.norm.bias",
    "decoder.layers.0.self_attn.in_proj_weight",
    "decoder.layers.0.self_attn.in_proj_bias",
    "decoder.layers.0.self_attn.out_proj.weight",
    "decoder.layers.0.self_attn.out_proj.bias",
    "decoder.layers.0.multihead_attn.in_proj_weight",
    "decoder.layers.0.multihead_attn.in_proj_bias",
    "decoder.layers.0.multihead_attn.out_proj.weight",
    "decoder.layers.0.multihead_attn.out_proj.bias",
    "decoder.layers.0.linear1.weight",
    "decoder.layers.0.linear1.bias",
    "decoder.layers.0.linear2.weight",
    "decoder.layers.0.linear2.bias",
    "decoder.layers.0.norm1.weight",
    "decoder.layers.0.norm1.bias",
    "decoder.layers.0.norm2.weight",
    "decoder.layers.0.norm2.bias",
    "decoder.layers.0.norm3.weight",
    "decoder.layers.0.norm3.bias",
    "decoder.norm.weight",
    "decoder.norm.bias",
]


def test_state_dict_keys_are_torch_keys() -> None:
    model = nn.Transformer(8, 2, 1, 1, 16)
    assert list(model.state_dict()) == TORCH_TRANSFORMER_KEYS
    no_bias = nn.TransformerEncoderLayer(8, 2, 16, bias=False)
    assert list(no_bias.state_dict()) == [
        "self_attn.in_proj_weight",
        "self_attn.out_proj.weight",
        "linear1.weight",
        "linear2.weight",
        "norm1.weight",
        "norm2.weight",
    ]
    deep = nn.Transformer(8, 2, 3, 2, 16)
    assert "encoder.layers.2.norm2.bias" in deep.state_dict()
    assert "decoder.layers.1.multihead_attn.in_proj_weight" in deep.state_dict()
    assert "encoder.layers.3.norm2.bias" not in deep.state_dict()


def test_defaults() -> None:
    layer = nn.TransformerEncoderLayer(16, 4)
    assert layer.linear1.out_features == 2048
    assert layer.dropout.p == 0.1 and layer.dropout1.p == 0.1
    assert layer.norm1.eps == 1e-5 and not layer.norm_first
    assert not layer.self_attn.batch_first and layer.activation is F.relu
    model = nn.Transformer()
    assert (model.d_model, model.nhead) == (512, 8)
    assert len(model.encoder.layers) == 6 and len(model.decoder.layers) == 6


def _xavier_bound(p: at.Tensor) -> float:
    fan_out, fan_in = p.shape[0], p.shape[1]
    return math.sqrt(6.0 / (fan_in + fan_out))


def test_transformer_initialisation() -> None:
    model = nn.Transformer(16, 2, 1, 1, 256)
    # Linear's own init would bound linear2.weight by 1 / sqrt(256) = 0.0625
    for name, p in model.named_parameters():
        values = to_numpy(p)
        if p.ndim > 1:
            bound = _xavier_bound(p)
            assert np.abs(values).max() <= bound, name
            assert np.abs(values).max() > 0.9 * bound, name
        elif "norm" in name:
            np.testing.assert_array_equal(
                values, 1.0 if name.endswith("weight") else 0.0
            )
        elif "in_proj_bias" in name or "out_proj.bias" in name:
            np.testing.assert_array_equal(values, 0.0)  # MultiheadAttention's
        else:  # Linear's bias in +-1 / sqrt(fan_in), not reset by Transformer
            fan_in = 256 if "linear2" in name else 16
            assert 0 < np.abs(values).max() <= 1 / math.sqrt(fan_in), name
    enc = model.encoder.layers[0].linear2.weight
    assert np.abs(to_numpy(enc)).max() > 0.1


def test_encoder_clones_are_equal_and_independent() -> None:
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, 3)
    states = [_state(m) for m in encoder.layers]
    for state in states[1:]:
        for k, v in state.items():
            np.testing.assert_array_equal(v, states[0][k])
    assert all(m is not layer for m in encoder.layers)
    with at.no_grad():
        encoder.layers[0].linear1.weight.mul_(0.0)
    assert np.any(to_numpy(encoder.layers[1].linear1.weight) != 0)
    assert np.any(to_numpy(layer.linear1.weight) != 0)
    model = nn.Transformer(8, 2, 2, 2, 16)
    a, b = (to_numpy(m.linear1.weight) for m in model.encoder.layers)
    assert not np.array_equal(a, b)  # Transformer re-initialises every copy


def test_custom_encoder_and_decoder_and_subclasses() -> None:
    class ScaledFF(nn.TransformerEncoderLayer):
        def _ff_block(self, x: at.Tensor) -> at.Tensor:
            out: at.Tensor = super()._ff_block(x) * 0.0
            return out

    encoder = nn.TransformerEncoder(ScaledFF(8, 2, 12, dropout=0.0), 1)
    linear = nn.Linear(8, 8)
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 12), 1, linear)
    model = nn.Transformer(8, 2, custom_encoder=encoder, custom_decoder=decoder)
    assert model.encoder is encoder and model.decoder is decoder
    assert isinstance(model.encoder.layers[0], ScaledFF)
    assert "encoder.norm.weight" not in model.state_dict()
    assert "decoder.norm.weight" in model.state_dict()
    bound = _xavier_bound(linear.weight)
    assert np.abs(to_numpy(linear.weight)).max() <= bound  # xavier reaches it too
    x = _x(2, 5, 8)
    layer = encoder.layers[0]
    s = _state(layer)
    y = at.tensor(x, dtype=at.float32)
    expected = _layer_norm(
        _layer_norm(
            x.transpose(1, 0, 2)
            + _attention(
                s, "self_attn.", x.transpose(1, 0, 2), x.transpose(1, 0, 2), 2, 0.0
            ),
            s,
            "norm1.",
        ),
        s,
        "norm2.",
    ).transpose(1, 0, 2)
    np.testing.assert_allclose(to_numpy(encoder(y)), expected, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------ the causal mask
def test_generate_square_subsequent_mask() -> None:
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == at.float32 and mask.shape == (4, 4)
    expected = np.triu(np.full((4, 4), -np.inf), 1)
    np.testing.assert_array_equal(to_numpy(mask), expected)
    double = nn.Transformer.generate_square_subsequent_mask(
        3, device="cpu", dtype=at.float64
    )
    assert double.dtype == at.float64 and not double.requires_grad
    as_bool = nn.Transformer.generate_square_subsequent_mask(3, dtype=at.bool)
    np.testing.assert_array_equal(to_numpy(as_bool), np.triu(np.ones((3, 3), bool), 1))
    assert nn.Transformer.generate_square_subsequent_mask(0).shape == (0, 0)
    with pytest.raises(ValueError, match="sz"):
        nn.Transformer.generate_square_subsequent_mask(-1)


def test_the_is_causal_hint_names_a_method_that_exists() -> None:
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(RuntimeError, match="generate_square_subsequent_mask") as info:
        layer(at.randn(5, 2, 8), is_causal=True)
    assert "Transformer module method" in str(info.value)
    assert callable(nn.Transformer.generate_square_subsequent_mask)
    out = layer(
        at.randn(5, 2, 8),
        src_mask=nn.Transformer.generate_square_subsequent_mask(5),
        is_causal=True,
    )
    assert out.shape == (5, 2, 8)


# ------------------------------------------------------------ bad arguments
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: nn.TransformerEncoderLayer(8, 2, activation="tanh"),
            RuntimeError,
            "relu/gelu, not tanh",
        ),
        (
            lambda: nn.TransformerDecoderLayer(8, 2, activation=3),
            TypeError,
            "activation",
        ),
        (lambda: nn.TransformerEncoderLayer(10, 3), ValueError, "divisible"),
        (
            lambda: nn.TransformerEncoderLayer(8, 2, norm_first=1),
            TypeError,
            "norm_first",
        ),
        (lambda: nn.TransformerEncoder(nn.Linear(2, 2), 1.5), TypeError, "num_layers"),
        (lambda: nn.TransformerDecoder("layer", 2), TypeError, "decoder_layer"),
        (lambda: nn.TransformerEncoder(nn.Linear(2, 2), -1), ValueError, "num_layers"),
    ],
)
def test_bad_arguments(make: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_a_float32_mask_applies_to_a_float64_model_as_its_values() -> None:
    # as in PyTorch (pytorch/examples' word_language_model makes its mask with
    # torch.ones, float32, and may train in double): converted, not refused
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=at.float64)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    x = at.randn(5, 2, 8, dtype=at.float64)
    causal = np.where(np.tril(np.ones((5, 5))) > 0, 0.0, -np.inf)
    single = encoder(x, mask=at.tensor(causal, dtype=at.float32))
    double = encoder(x, mask=at.tensor(causal, dtype=at.float64))
    assert single.dtype == np.float64
    np.testing.assert_array_equal(single.detach().numpy(), double.detach().numpy())


def test_bad_inputs() -> None:
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(
        RuntimeError, match="the batch number of src and tgt must be equal"
    ):
        model(at.randn(5, 2, 8), at.randn(4, 3, 8))
    with pytest.raises(
        RuntimeError, match="the feature number of src and tgt must be equal to d_model"
    ):
        model(at.randn(5, 2, 6), at.randn(4, 2, 6))
    with pytest.raises(TypeError, match="Transformer: src must be a Tensor"):
        model(np.zeros((5, 2, 8)), at.randn(4, 2, 8))
    layer = nn.TransformerEncoderLayer(8, 2, 16, dtype=at.float64)
    with pytest.raises(TypeError, match="TransformerEncoderLayer: a float src_mask"):
        layer(at.randn(5, 2, 8, dtype=at.float64), src_mask=at.zeros(5, 5).half())
    with pytest.raises(TypeError, match="only bool and floating types of mask"):
        nn.TransformerEncoder(layer, 1)(
            at.randn(5, 2, 8, dtype=at.float64), mask=at.zeros(5, 5, dtype=at.int64)
        )
    with pytest.raises(RuntimeError, match="attn_mask is"):
        layer(
            at.randn(5, 2, 8, dtype=at.float64), src_mask=at.zeros(4, 4, dtype=at.bool)
        )


def test_deepcopy_of_a_model() -> None:
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
    twin = copy.deepcopy(model)
    src, tgt = at.randn(5, 2, 8), at.randn(3, 2, 8)
    np.testing.assert_array_equal(to_numpy(model(src, tgt)), to_numpy(twin(src, tgt)))
