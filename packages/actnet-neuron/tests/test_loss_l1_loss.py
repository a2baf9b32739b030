from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "mean",
        lambda rng: [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))],
        lambda F, x, t: F.l1_loss(x, t),
        lambda x, t: np.abs(x - t).mean(),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "sum",
        lambda rng: [rng.standard_normal(5), rng.standard_normal(5)],
        lambda F, x, t: F.l1_loss(x, t, reduction="sum"),
        lambda x, t: np.abs(x - t).sum(),
    ),
    Case(
        "none, a transposed view",
        lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal((3, 4))],
        lambda F, x, t: F.l1_loss(x.T, t, reduction="none"),
        lambda x, t: np.abs(x.T - t),
        differentiable=(0, 1),
    ),
    Case(
        "weight, mean over the summed weight",
        lambda rng: [
            rng.standard_normal((2, 5)),
            rng.standard_normal((2, 5)),
            rng.random((2, 5)),
        ],
        lambda F, x, t, w: F.l1_loss(x, t, weight=w),
        lambda x, t, w: (np.abs(x - t) * w).sum() / w.sum(),
        differentiable=(0, 1, 2),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_l1_loss(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_l1_loss_float32(case: Case) -> None:
    check_float32(case, F)


def test_l1_loss_gradient_is_zero_where_equal() -> None:
    x = at.tensor([1.0, 2.0, 3.0], requires_grad=True)
    F.l1_loss(x, at.tensor([1.0, 0.0, 5.0]), reduction="sum").backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, -1.0])


def test_l1_loss_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError, match="l1_loss: input must be a Tensor"):
        F.l1_loss(1.0, at.ones(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="l1_loss: weight of shape"):
        F.l1_loss(at.ones(2), at.ones(2), weight=at.ones(1))
    with pytest.raises(ValueError, match="l1_loss: reduction"):
        F.l1_loss(at.ones(2), at.ones(2), reduction="max")
