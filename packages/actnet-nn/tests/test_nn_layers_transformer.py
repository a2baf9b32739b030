"""TransformerBlock against a NumPy pre-norm causal block; masks, dropout,
state-dict keys, gradients and bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn

_erf = np.vectorize(math.erf)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(
        x.var(-1, keepdims=True) + 1e-5
    ) * w + b


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _block_oracle(
    block: nn.TransformerBlock, x: np.ndarray, extra: np.ndarray | None = None
) -> np.ndarray:
    s = {k: to_numpy(v) for k, v in block.state_dict().items()}
    n, length, d = x.shape
    h = block.n_heads
    hd = d // h
    y = _layer_norm(x, s["ln1.weight"], s["ln1.bias"])
    qkv = y @ s["attn.in_proj_weight"].T + s["attn.in_proj_bias"]
    q, k, v = (
        t.reshape(n, length, h, hd).transpose(0, 2, 1, 3)
        for t in np.split(qkv, 3, axis=-1)
    )
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd)
    scores = scores + np.where(
        np.triu(np.ones((length, length), dtype=bool), 1), -np.inf, 0.0
    )
    if extra is not None:
        scores = scores + extra
    a = (_softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(n, length, d)
    x = x + a @ s["attn.out_proj.weight"].T + s["attn.out_proj.bias"]
    y = _layer_norm(x, s["ln2.weight"], s["ln2.bias"])
    hidden = y @ s["mlp.0.weight"].T + s["mlp.0.bias"]
    hidden = 0.5 * hidden * (1 + _erf(hidden / math.sqrt(2)))
    return x + hidden @ s["mlp.3.weight"].T + s["mlp.3.bias"]


def _block(**kwargs: object) -> nn.TransformerBlock:
    block = nn.TransformerBlock(8, 2, dtype=at.float64, **kwargs)  # type: ignore[arg-type]  # test kwargs
    rng = np.random.default_rng(3)
    with at.no_grad():  # biases and norms away from zeros and ones
        for p in block.parameters():
            if p.ndim == 1:
                p.copy_(at.tensor(rng.standard_normal(p.shape) * 0.3))
    return block


def test_block_matches_numpy_and_is_causal() -> None:
    block = _block()
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    out = to_numpy(block(at.tensor(x)))
    np.testing.assert_allclose(out, _block_oracle(block, x), rtol=1e-10, atol=1e-12)
    # causal: changing the last position leaves the earlier outputs unchanged
    changed = x.copy()
    changed[:, -1] += np.linspace(-1.0, 2.0, 8)  # not a constant: LN removes those
    np.testing.assert_allclose(
        to_numpy(block(at.tensor(changed)))[:, :-1], out[:, :-1], atol=1e-12
    )


def test_extra_mask_is_applied_with_the_causal_one() -> None:
    block = _block()
    x = np.random.default_rng(1).standard_normal((2, 4, 8))
    extra = np.random.default_rng(2).standard_normal((4, 4))
    out = block(at.tensor(x), attn_mask=at.tensor(extra))
    np.testing.assert_allclose(
        to_numpy(out), _block_oracle(block, x, extra), rtol=1e-10, atol=1e-12
    )
    hide_first = np.zeros((4, 4), dtype=bool)
    hide_first[1:, 0] = True  # rows 1.. may not see key 0 (bool True: masked)
    out = block(at.tensor(x), attn_mask=at.tensor(hide_first))
    additive = np.where(hide_first, -np.inf, 0.0)
    np.testing.assert_allclose(
        to_numpy(out), _block_oracle(block, x, additive), rtol=1e-10, atol=1e-12
    )


def test_non_causal_block_sees_the_future() -> None:
    block = _block()
    x = np.random.default_rng(0).standard_normal((1, 3, 8))
    changed = x.copy()
    changed[:, -1] += np.linspace(-1.0, 2.0, 8)  # not a constant: LN removes those
    a = to_numpy(block(at.tensor(x), is_causal=False))
    b = to_numpy(block(at.tensor(changed), is_causal=False))
    assert not np.allclose(a[:, 0], b[:, 0])


def test_sequence_first_and_unbatched_inputs() -> None:
    block = _block()
    seq_first = _block(batch_first=False)
    seq_first.load_state_dict(block.state_dict())
    x = np.random.default_rng(4).standard_normal((2, 5, 8))
    expected = to_numpy(block(at.tensor(x)))
    out = to_numpy(seq_first(at.tensor(x.transpose(1, 0, 2).copy())))
    np.testing.assert_allclose(out.transpose(1, 0, 2), expected, atol=1e-12)
    np.testing.assert_allclose(
        to_numpy(block(at.tensor(x[0]))), expected[0], atol=1e-12
    )


def test_gradients() -> None:
    block = nn.TransformerBlock(4, 2, d_ff=6, dtype=at.float64)
    check_module_grads(block, [np.random.default_rng(5).standard_normal((2, 3, 4))])


def test_state_dict_keys_and_structure() -> None:
    block = nn.TransformerBlock(16, 4)
    assert list(block.state_dict()) == [
        "ln1.weight",
        "ln1.bias",
        "attn.in_proj_weight",
        "attn.in_proj_bias",
        "attn.out_proj.weight",
        "attn.out_proj.bias",
        "ln2.weight",
        "ln2.bias",
        "mlp.0.weight",
        "mlp.0.bias",
        "mlp.3.weight",
        "mlp.3.bias",
    ]
    assert block.d_ff == 64 and block.mlp[0].out_features == 64
    assert block.attn.batch_first
    assert isinstance(nn.TransformerBlock(8, 2, activation="relu").mlp[1], nn.ReLU)
    no_bias = nn.TransformerBlock(8, 2, bias=False)
    assert [k for k in no_bias.state_dict() if k.endswith("bias")] == [
        "ln1.bias",
        "ln2.bias",
    ]


def test_dropout_in_training_only() -> None:
    block = nn.TransformerBlock(8, 2, dropout=0.5)
    x = at.randn(2, 4, 8)
    block.eval()
    np.testing.assert_array_equal(to_numpy(block(x)), to_numpy(block(x)))
    block.train()
    assert not np.array_equal(to_numpy(block(x)), to_numpy(block(x)))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"d_model": 10, "n_heads": 3}, ValueError),
        ({"d_model": 8, "n_heads": 2, "activation": "tanh"}, ValueError),
        ({"d_model": 8, "n_heads": 2, "d_ff": 0}, ValueError),
        ({"d_model": 8, "n_heads": 2, "dropout": 2.0}, ValueError),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        nn.TransformerBlock(**kwargs)  # type: ignore[arg-type]  # wrong on purpose


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="TransformerBlock"):
        nn.TransformerBlock(8, 2)(at.ones(1, 2, 3, 8))
