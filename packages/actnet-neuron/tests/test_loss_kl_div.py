from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def log_softmax(x):
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def expected(x, t, reduction="mean", log_target=False):
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        loss = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


CASES = [
    Case(
        "batchmean",
        lambda rng: [
            log_softmax(rng.standard_normal((3, 4))),
            rng.dirichlet(np.ones(4), 3),
        ],
        lambda F, x, t: F.kl_div(x, t, reduction="batchmean"),
        lambda x, t: expected(x, t, "batchmean"),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "sum",
        lambda rng: [
            log_softmax(rng.standard_normal((2, 5))),
            rng.dirichlet(np.ones(5), 2),
        ],
        lambda F, x, t: F.kl_div(x, t, reduction="sum"),
        lambda x, t: expected(x, t, "sum"),
        differentiable=(0, 1),
    ),
    Case(
        "mean over every element",
        lambda rng: [
            log_softmax(rng.standard_normal((2, 3))),
            rng.dirichlet(np.ones(3), 2),
        ],
        lambda F, x, t: F.kl_div(x, t, reduction="mean"),
        lambda x, t: expected(x, t, "mean"),
    ),
    Case(
        "log_target, none, a transposed view",
        lambda rng: [
            log_softmax(rng.standard_normal((4, 3))),
            log_softmax(rng.standard_normal((3, 4))),
        ],
        lambda F, x, t: F.kl_div(x.T, t, reduction="none", log_target=True),
        lambda x, t: expected(x.T, t, "none", log_target=True),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "zeros in the target, batchmean",
        lambda rng: [
            log_softmax(rng.standard_normal((2, 4))),
            np.array([[0.5, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.0]]),
        ],
        lambda F, x, t: F.kl_div(x, t, reduction="batchmean"),
        lambda x, t: expected(x, t, "batchmean"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_kl_div(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_kl_div_float32(case: Case) -> None:
    check_float32(case, F)


def test_kl_div_refuses_bad_arguments() -> None:
    with pytest.raises(
        ValueError, match="kl_div: reduction must be 'none', 'batchmean'"
    ):
        F.kl_div(at.randn(2), at.rand(2), reduction="avg")
    with pytest.raises(TypeError, match="kl_div: log_target must be a bool"):
        F.kl_div(at.randn(2), at.rand(2), log_target=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="kl_div: input must have a floating"):
        F.kl_div(at.tensor([1, 2]), at.rand(2))
