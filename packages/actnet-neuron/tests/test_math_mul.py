from __future__ import annotations

import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "same shape",
        lambda rng: [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))],
        lambda F, x, y: F.mul(x, y),
        lambda x, y: x * y,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "broadcast",
        lambda rng: [rng.standard_normal((2, 1, 4)), rng.standard_normal((3, 1))],
        lambda F, x, y: F.mul(x, y),
        lambda x, y: x * y,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "transposed view by a row",
        lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal(4)],
        lambda F, x, y: F.mul(x.T, y),
        lambda x, y: x.T * y,
        differentiable=(0, 1),
    ),
    Case(
        "a Python number",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.mul(x, -1.5),
        lambda x: x * -1.5,
    ),
    Case(
        "integers by bools",
        lambda rng: [rng.integers(-5, 5, (2, 3)), rng.random((2, 3)) > 0.5],
        lambda F, x, y: F.mul(x, y),
        lambda x, y: x * y,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_mul(case: Case) -> None:
    check(case, F)


def test_mul_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="mul: input must be a Tensor"):
        F.mul([1.0], at.ones(1))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="mul: other must be a Tensor or a number"):
        F.mul(at.ones(3), None)  # type: ignore[arg-type]  # on purpose
