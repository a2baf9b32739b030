from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(alpha):
    return lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


CASES = [
    Case(
        "default alpha",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.elu(x),
        expected(1.0),
        double_backward=True,
    ),
    Case(
        "alpha 0.5 of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.elu(x.T, 0.5),
        lambda x: expected(0.5)(x.T),
        double_backward=True,
    ),
    Case(
        "alpha 2, large |x|",
        lambda rng: [np.array([-800.0, -30.0, -1.0, 1.0, 30.0, 800.0])],
        lambda F, x: F.elu(x, alpha=2.0),
        expected(2.0),
        double_backward=True,
    ),
    Case(
        "negative alpha, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 2))],
        lambda F, x: F.elu(x, alpha=-0.3),
        expected(-0.3),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_elu(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_elu_float32(case: Case) -> None:
    check_float32(case, F)


def test_elu_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="elu: input must be a Tensor"):
        F.elu(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match="elu: alpha must be a number"):
        F.elu(at.ones(2), alpha=None)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.elu(at.ones(2, requires_grad=True), inplace=True)
