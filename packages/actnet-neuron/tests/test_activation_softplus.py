from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(beta=1.0, threshold=20.0):
    def softplus(x):
        return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)

    return softplus


CASES = [
    Case(
        "softplus",
        lambda rng: [rng.standard_normal((3, 4)) * 3],
        lambda F, x: F.softplus(x),
        expected(),
        double_backward=True,
    ),
    Case(
        "softplus of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.softplus(x.T),
        lambda x: expected()(x.T),
    ),
    Case(
        "beta 2, threshold 5",
        lambda rng: [np.array([-3.0, -0.5, 0.5, 2.0, 2.4, 2.6, 4.0])],
        lambda F, x: F.softplus(x, beta=2.0, threshold=5.0),
        expected(2.0, 5.0),
        double_backward=True,
    ),
    Case(
        "large |x|, either side of the threshold",
        lambda rng: [np.array([-800.0, -30.0, 0.0, 19.0, 21.0, 800.0])],
        lambda F, x: F.softplus(x),
        expected(),
    ),
    Case(
        "a large threshold (no overflow)",
        lambda rng: [np.array([-800.0, -3.0, 0.5, 800.0])],
        lambda F, x: F.softplus(x, 1.0, 1e6),
        expected(1.0, 1e6),
        tags={"beyond torch"},  # PyTorch's log1p(exp(800)) is inf
    ),
    Case(
        "beta 0.5, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 2)) * 4],
        lambda F, x: F.softplus(x, 0.5),
        expected(0.5),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_softplus(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_softplus_float32(case: Case) -> None:
    check_float32(case, F)


def test_softplus_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="softplus: input must be a Tensor"):
        F.softplus(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match="softplus: beta must be a number"):
        F.softplus(at.ones(2), beta="2")  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="softplus: threshold must be a number"):
        F.softplus(at.ones(2), threshold=None)  # type: ignore[arg-type]  # on purpose
