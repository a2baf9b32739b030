from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(x):
    with np.errstate(over="ignore"):  # exp(800) is inf, and 1 / inf is 0
        return 1.0 / (1.0 + np.exp(-x))


CASES = [
    Case(
        "sigmoid",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.sigmoid(x),
        expected,
        double_backward=True,
    ),
    Case(
        "sigmoid of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.sigmoid(x.T),
        lambda x: expected(x.T),
    ),
    Case(
        "sigmoid of large |x| (no overflow)",
        lambda rng: [np.array([-800.0, -40.0, -5.0, 0.0, 5.0, 40.0, 800.0])],
        lambda F, x: F.sigmoid(x),
        expected,
        double_backward=True,
    ),
    Case(
        "sigmoid, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 2)) * 4],
        lambda F, x: F.sigmoid(x),
        expected,
    ),
    Case(
        "sigmoid, 0-d",
        lambda rng: [np.array(0.3)],
        lambda F, x: F.sigmoid(x),
        expected,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_sigmoid(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_sigmoid_float32(case: Case) -> None:
    check_float32(case, F)


def test_sigmoid_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="sigmoid: input must be a Tensor"):
        F.sigmoid(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match="sigmoid: input must have a floating"):
        F.sigmoid(at.tensor([1, 2]))
