from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(x, t, beta=1.0, reduction="mean"):
    d = np.abs(x - t)
    loss = np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta) if beta else d
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


CASES = [
    Case(
        "mean",
        lambda rng: [2 * rng.standard_normal((3, 4)), rng.standard_normal((3, 4))],
        lambda F, x, t: F.smooth_l1_loss(x, t),
        lambda x, t: expected(x, t),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "beta=0.5, sum",
        lambda rng: [rng.standard_normal(8), rng.standard_normal(8)],
        lambda F, x, t: F.smooth_l1_loss(x, t, reduction="sum", beta=0.5),
        lambda x, t: expected(x, t, 0.5, "sum"),
        differentiable=(0, 1),
    ),
    Case(
        "beta=2, none, a transposed view",
        lambda rng: [3 * rng.standard_normal((4, 3)), rng.standard_normal((3, 4))],
        lambda F, x, t: F.smooth_l1_loss(x.T, t, reduction="none", beta=2.0),
        lambda x, t: expected(x.T, t, 2.0, "none"),
        double_backward=True,
    ),
    Case(
        "beta=0 is l1",
        lambda rng: [rng.standard_normal(6), rng.standard_normal(6)],
        lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.0),
        lambda x, t: expected(x, t, 0.0),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_smooth_l1_loss(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_smooth_l1_loss_float32(case: Case) -> None:
    check_float32(case, F)


def test_smooth_l1_loss_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be"):
        F.smooth_l1_loss(at.ones(2), at.ones(2), beta=-1.0)
    with pytest.raises(TypeError, match="smooth_l1_loss: target must be a Tensor"):
        F.smooth_l1_loss(at.ones(2), np.ones(2))  # type: ignore[arg-type]
