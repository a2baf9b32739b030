from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(x):
    with np.errstate(over="ignore"):  # exp(800) is inf: x / inf is -0
        return x / (1.0 + np.exp(-x))


CASES = [
    Case(
        "silu",
        lambda rng: [rng.standard_normal((3, 4)) * 2],
        lambda F, x: F.silu(x),
        expected,
        double_backward=True,
    ),
    Case(
        "silu of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.silu(x.T),
        lambda x: expected(x.T),
    ),
    Case(
        "silu of large |x|",
        lambda rng: [np.array([-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0])],
        lambda F, x: F.silu(x),
        expected,
        double_backward=True,
    ),
    Case(
        "silu, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 2))],
        lambda F, x: F.silu(x),
        expected,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_silu(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_silu_float32(case: Case) -> None:
    check_float32(case, F)


def test_silu_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="silu: input must be a Tensor"):
        F.silu(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match="silu: input must have a floating"):
        F.silu(at.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.silu(at.ones(2, requires_grad=True), inplace=True)
