from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(x, t, w=None, pos_weight=None, reduction="mean"):
    log_sig = -np.logaddexp(0, -x)
    log_1msig = -np.logaddexp(0, x)
    p = 1.0 if pos_weight is None else pos_weight
    loss = -(p * t * log_sig + (1 - t) * log_1msig)
    if w is not None:
        loss = loss * w
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


CASES = [
    Case(
        "mean",
        lambda rng: [3 * rng.standard_normal((3, 4)), rng.integers(0, 2, (3, 4)) * 1.0],
        lambda F, x, t: F.binary_cross_entropy_with_logits(x, t),
        lambda x, t: expected(x, t),
        double_backward=True,
    ),
    Case(
        "soft targets, differentiable, sum",
        lambda rng: [2 * rng.standard_normal(6), rng.random(6)],
        lambda F, x, t: F.binary_cross_entropy_with_logits(x, t, reduction="sum"),
        lambda x, t: expected(x, t, reduction="sum"),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "pos_weight and weight, none",
        lambda rng: [
            2 * rng.standard_normal((3, 4)),
            rng.random((3, 4)),
            rng.random((3, 1)),
            rng.random(4) + 0.5,
        ],
        lambda F, x, t, w, p: F.binary_cross_entropy_with_logits(
            x, t, weight=w, reduction="none", pos_weight=p
        ),
        lambda x, t, w, p: expected(x, t, w, p, "none"),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "pos_weight, transposed views, mean",
        lambda rng: [
            2 * rng.standard_normal((4, 3)),
            rng.random((4, 3)),
            rng.random(4) * 3,
        ],
        lambda F, x, t, p: F.binary_cross_entropy_with_logits(x.T, t.T, pos_weight=p),
        lambda x, t, p: expected(x.T, t.T, pos_weight=p),
        differentiable=(0, 1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_binary_cross_entropy_with_logits(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_binary_cross_entropy_with_logits_float32(case: Case) -> None:
    check_float32(case, F)


def test_binary_cross_entropy_with_logits_is_stable() -> None:
    x = at.tensor([800.0, -800.0, 0.0], dtype=at.float64, requires_grad=True)
    t = at.tensor([0.0, 1.0, 1.0], dtype=at.float64)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [800.0, 800.0, np.log(2)])
    loss.sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, -0.5])


def test_binary_cross_entropy_with_logits_refuses_bad_arguments() -> None:
    op = "binary_cross_entropy_with_logits"
    with pytest.raises(ValueError, match=f"{op}: target size"):
        F.binary_cross_entropy_with_logits(at.randn(2, 3), at.rand(3))
    with pytest.raises(ValueError, match=f"{op}: pos_weight of shape"):
        F.binary_cross_entropy_with_logits(
            at.randn(2, 3), at.rand(2, 3), pos_weight=at.ones(2)
        )
    with pytest.raises(ValueError, match=f"{op}: reduction"):
        F.binary_cross_entropy_with_logits(at.randn(2), at.rand(2), reduction="mea")
