"""The functions under `autocast("cpu")`, by PyTorch's CPU op lists: the
matmul-like ones (linear, the convolutions, scaled dot product attention, the
Elman and LSTM recurrences) compute in bfloat16, the losses in float32, the rest
in their inputs' dtypes; float64 is never cast; enabled=False and nesting; the
gradients reach float32 parameters in float32; and a bfloat16 result equals the
float32 computation rounded to bfloat16 (within bfloat16's rounding)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actnet.neuron as F
import actnet.tensor as at
from actnet.tensor import Tensor

BF16, F32, F64 = at.bfloat16, at.float32, at.float64


def _t(*shape: int, seed: int = 0, dtype: Any = F32, grad: bool = False) -> Tensor:
    values = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return at.tensor(values, requires_grad=grad).to(dtype)


def _targets() -> Tensor:
    return at.tensor([0, 2, 5, 1])


X, W, B = _t(4, 8), _t(6, 8, seed=1), _t(6, seed=2)
IMG, K = _t(2, 3, 8, 8, seed=3), _t(4, 3, 3, 3, seed=4)
Q = _t(1, 2, 5, 8, seed=5)
H = _t(4, 8, seed=6, dtype=BF16)

LOWER: dict[str, Callable[[], Tensor]] = {
    "linear": lambda: F.linear(X, W, B),
    "matmul": lambda: F.matmul(X, W.T),
    "conv1d": lambda: F.conv1d(_t(2, 3, 9), _t(4, 3, 3, seed=1)),
    "conv2d": lambda: F.conv2d(IMG, K, B[:4]),
    "conv_transpose1d": lambda: F.conv_transpose1d(_t(2, 3, 9), _t(3, 4, 3)),
    "conv_transpose2d": lambda: F.conv_transpose2d(IMG, _t(3, 4, 3, 3)),
    "scaled_dot_product_attention": lambda: F.scaled_dot_product_attention(
        Q, Q, Q, is_causal=True
    ),
    "einsum": lambda: F.einsum("ij,kj->ik", X, W),
}
FLOAT32: dict[str, Callable[[], Tensor]] = {
    "cross_entropy": lambda: F.cross_entropy(H, _targets()),
    "cross_entropy, probabilities": lambda: F.cross_entropy(H, F.softmax(H, -1)),
    "nll_loss": lambda: F.nll_loss(H, _targets()),
    "mse_loss": lambda: F.mse_loss(H, H),
    "mse_loss, mixed": lambda: F.mse_loss(H, X),
    "l1_loss": lambda: F.l1_loss(H, H),
    "smooth_l1_loss": lambda: F.smooth_l1_loss(H, H),
    "huber_loss": lambda: F.huber_loss(H, H),
    "kl_div": lambda: F.kl_div(H, H, reduction="batchmean"),
    "binary_cross_entropy": lambda: F.binary_cross_entropy(F.sigmoid(H), F.sigmoid(H)),
    "binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(
        H, F.sigmoid(X)
    ),
    "pad reflect": lambda: F.pad(IMG.to(BF16), (1, 1, 1, 1), mode="reflect"),
    "pad replicate": lambda: F.pad(_t(2, 3, 9, dtype=BF16), (1, 1), mode="replicate"),
    "cat, mixed": lambda: F.cat([H, X]),
    "bilinear": lambda: F.bilinear(X, X, _t(3, 8, 8)),  # one unlisted kernel
}
# not on the lists: their inputs' dtype (bfloat16 in, bfloat16 out)
AS_GIVEN: dict[str, Callable[[], Tensor]] = {
    "relu": lambda: F.relu(H),
    "gelu": lambda: F.gelu(H),
    "silu": lambda: F.silu(H),
    "softmax": lambda: F.softmax(H, -1),
    "log_softmax": lambda: F.log_softmax(H, -1),
    "dropout": lambda: F.dropout(H, 0.5),
    "layer_norm": lambda: F.layer_norm(H, (8,)),
    "layer_norm, float32 weight": lambda: F.layer_norm(H, (8,), _t(8), _t(8)),
    "rms_norm, float32 weight": lambda: F.rms_norm(H, (8,), _t(8)),
    "group_norm, float32 weight": lambda: F.group_norm(IMG.to(BF16), 3, _t(3), _t(3)),
    "batch_norm, float32 statistics": lambda: F.batch_norm(
        IMG.to(BF16), at.zeros(3), at.ones(3), _t(3), _t(3), training=True
    ),
    "pad constant": lambda: F.pad(IMG.to(BF16), (1, 1)),
    "pad circular": lambda: F.pad(IMG.to(BF16), (1, 1, 1, 1), mode="circular"),
    "max_pool2d": lambda: F.max_pool2d(IMG.to(BF16), 2),
    "avg_pool2d": lambda: F.avg_pool2d(IMG.to(BF16), 2),
    "interpolate": lambda: F.interpolate(IMG.to(BF16), scale_factor=2),
    "sum": lambda: F.sum(H),
    "mean": lambda: F.mean(H),
}


@pytest.mark.parametrize("name", list(LOWER))
def test_lower_precision_functions_compute_in_bfloat16(name: str) -> None:
    with at.autocast("cpu", dtype=BF16):
        assert LOWER[name]().dtype == BF16
    assert LOWER[name]().dtype == F32  # outside: as before


@pytest.mark.parametrize("name", list(FLOAT32))
def test_fp32_functions_compute_in_float32(name: str) -> None:
    with at.autocast("cpu", dtype=BF16):
        assert FLOAT32[name]().dtype == F32


@pytest.mark.parametrize("name", list(AS_GIVEN))
def test_other_functions_keep_their_inputs_dtype(name: str) -> None:
    with at.autocast("cpu", dtype=BF16):
        assert AS_GIVEN[name]().dtype == BF16


def test_float16_autocast() -> None:
    with at.autocast("cpu", dtype=at.float16):
        assert F.linear(X, W, B).dtype == at.float16
        assert F.cross_entropy(F.linear(X, W, B), _targets()).dtype == F32


def test_float64_is_not_cast() -> None:
    x, w = X.double(), W.double()
    with at.autocast("cpu"):
        assert F.linear(x, w).dtype == F64
        assert F.conv2d(IMG.double(), K.double()).dtype == F64
        assert F.mse_loss(x, x).dtype == F64
        assert F.cross_entropy(x, _targets()).dtype == F64


def test_enabled_false_and_nesting() -> None:
    with at.autocast("cpu"):
        with at.autocast("cpu", enabled=False):
            assert F.linear(X, W).dtype == F32
            with at.autocast("cpu"):
                assert F.linear(X, W).dtype == BF16
        assert F.linear(X, W).dtype == BF16


def test_recurrences_as_torch_composes_them() -> None:
    x = _t(3, 2, 8)
    h0 = at.zeros(1, 2, 5)
    w = [_t(5, 8, seed=7), _t(5, 5, seed=8), _t(5, seed=9), _t(5, seed=10)]
    gates = [_t(4 * 5, 8), _t(4 * 5, 5), _t(20, seed=1), _t(20, seed=2)]
    with at.autocast("cpu"):
        out, h_n = F.rnn_tanh(x, h0, w, True, 1, 0.0, False, False, False)
        assert (out.dtype, h_n.dtype) == (BF16, BF16)
        out, h_n, c_n = F.lstm(x, (h0, h0), gates, True, 1, 0.0, False, False, False)
        assert (out.dtype, h_n.dtype, c_n.dtype) == (BF16, BF16, BF16)
        gru = [_t(15, 8), _t(15, 5), _t(15, seed=1), _t(15, seed=2)]
        out, h_n = F.gru(x, h0, gru, True, 1, 0.0, False, False, False)
        assert (out.dtype, h_n.dtype) == (F32, F32)
        # the cells are compositions in PyTorch too: linear in bfloat16, then
        # the float32 state promotes
        h = at.zeros(4, 5)
        assert F.rnn_tanh_cell(X, h, w[0], w[1]).dtype == BF16
        hy, cy = F.lstm_cell(X, (h, h), gates[0], gates[1])
        assert (hy.dtype, cy.dtype) == (F32, F32)


def test_gradients_flow_to_float32_parameters_in_float32() -> None:
    x = _t(4, 8, grad=True)
    w, b = _t(6, 8, seed=1, grad=True), _t(6, seed=2, grad=True)
    ln_w = _t(6, seed=3, grad=True)
    with at.autocast("cpu"):
        h = F.gelu(F.linear(x, w, b))
        y = F.layer_norm(h, (6,), ln_w)  # bfloat16 input, float32 weight
        loss = F.cross_entropy(y, _targets())
    assert (h.dtype, y.dtype, loss.dtype) == (BF16, BF16, F32)
    loss.backward()
    for p in (x, w, b, ln_w):
        assert p.grad is not None and p.grad.dtype == F32


def test_a_bfloat16_result_is_the_float32_one_rounded() -> None:
    # the product accumulates in float32 and rounds once; the bias is added in
    # bfloat16 after (one more rounding): within two bfloat16 roundings
    with at.autocast("cpu"):
        y = F.linear(X, W, B)
    x16, w16, b16 = (t.to(BF16).float().numpy() for t in (X, W, B))
    exact = x16 @ w16.T + b16
    np.testing.assert_allclose(y.float().numpy(), exact, rtol=2 * 2.0**-8, atol=1e-2)
