from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def huber(x, t, delta=1.0):
    d = np.abs(x - t)
    return np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta))


CASES = [
    Case(
        "mean",
        lambda rng: [2 * rng.standard_normal((3, 4)), rng.standard_normal((3, 4))],
        lambda F, x, t: F.huber_loss(x, t),
        lambda x, t: huber(x, t).mean(),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "delta=0.5, sum",
        lambda rng: [rng.standard_normal(8), rng.standard_normal(8)],
        lambda F, x, t: F.huber_loss(x, t, reduction="sum", delta=0.5),
        lambda x, t: huber(x, t, 0.5).sum(),
        differentiable=(0, 1),
    ),
    Case(
        "delta=2, none, a transposed view",
        lambda rng: [3 * rng.standard_normal((4, 3)), rng.standard_normal((3, 4))],
        lambda F, x, t: F.huber_loss(x.T, t, reduction="none", delta=2.0),
        lambda x, t: huber(x.T, t, 2.0),
        double_backward=True,
    ),
    Case(
        "weight, mean of the weighted losses",
        lambda rng: [
            2 * rng.standard_normal((2, 5)),
            rng.standard_normal((2, 5)),
            rng.random((2, 5)),
        ],
        lambda F, x, t, w: F.huber_loss(x, t, weight=w),
        lambda x, t, w: (huber(x, t) * w).mean(),
        differentiable=(0, 1, 2),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_huber_loss(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_huber_loss_float32(case: Case) -> None:
    check_float32(case, F)


def test_huber_loss_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="huber_loss: delta must be a positive"):
        F.huber_loss(at.ones(2), at.ones(2), delta=0.0)
    with pytest.raises(ValueError, match="huber_loss: reduction"):
        F.huber_loss(at.ones(2), at.ones(2), reduction="batchmean")
    with pytest.raises(ValueError, match="huber_loss: weight of shape"):
        F.huber_loss(at.ones(2), at.ones(2), weight=at.ones(2, 1))
