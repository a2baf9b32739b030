from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(x, t, w=None, reduction="mean"):
    log_x = np.maximum(np.log(x), -100)
    log_1mx = np.maximum(np.log1p(-x), -100)
    loss = -(t * log_x + (1 - t) * log_1mx)
    if w is not None:
        loss = loss * w
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


CASES = [
    Case(
        "hard targets, mean",
        lambda rng: [probabilities(rng, (3, 4)), rng.integers(0, 2, (3, 4)) * 1.0],
        lambda F, x, t: F.binary_cross_entropy(x, t),
        lambda x, t: expected(x, t),
        double_backward=True,
    ),
    Case(
        "soft targets, differentiable, sum",
        lambda rng: [probabilities(rng, 6), rng.random(6)],
        lambda F, x, t: F.binary_cross_entropy(x, t, reduction="sum"),
        lambda x, t: expected(x, t, reduction="sum"),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "weight broadcast over rows, none",
        lambda rng: [probabilities(rng, (3, 4)), rng.random((3, 4)), rng.random(4)],
        lambda F, x, t, w: F.binary_cross_entropy(x, t, weight=w, reduction="none"),
        lambda x, t, w: expected(x, t, w, "none"),
        differentiable=(0, 1),
    ),
    Case(
        "transposed views, weight, mean",
        lambda rng: [
            probabilities(rng, (4, 3)),
            rng.random((4, 3)),
            rng.random((3, 1)),
        ],
        lambda F, x, t, w: F.binary_cross_entropy(x.T, t.T, weight=w),
        lambda x, t, w: expected(x.T, t.T, w),
        differentiable=(0, 1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_binary_cross_entropy(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_binary_cross_entropy_float32(case: Case) -> None:
    check_float32(case, F)


def test_binary_cross_entropy_clamps_the_log_at_minus_100() -> None:
    x = at.tensor([0.0, 1.0, 0.5], dtype=at.float64, requires_grad=True)
    loss = F.binary_cross_entropy(x, at.tensor([1.0, 0.0, 1.0], dtype=at.float64))
    np.testing.assert_allclose(float(loss), (100 + 100 + np.log(2)) / 3)
    loss.backward()
    assert x.grad is not None
    assert np.isfinite(x.grad.numpy()).all()  # (x - t) / max(x (1 - x), 1e-12)


def test_binary_cross_entropy_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(at.tensor([0.5, 1.5]), at.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy(at.tensor([0.5, 0.5]), at.tensor([1.0]))
    with pytest.raises(ValueError, match="weight of shape"):
        F.binary_cross_entropy(at.rand(2, 3), at.rand(2, 3), weight=at.ones(2))
    with pytest.raises(TypeError, match="weight must be a Tensor"):
        F.binary_cross_entropy(at.rand(2), at.rand(2), weight=[1.0, 2.0])  # type: ignore[arg-type]
    w = at.ones(2, requires_grad=True)
    loss = F.binary_cross_entropy(at.rand(2, requires_grad=True), at.rand(2), weight=w)
    with pytest.raises(RuntimeError, match="derivative for 'weight'"):
        loss.backward()
