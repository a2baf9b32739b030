from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at


def away_from_zero(rng, shape):
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


CASES = [
    Case(
        "same shape",
        lambda rng: [rng.standard_normal((3, 4)), away_from_zero(rng, (3, 4))],
        lambda F, x, y: F.div(x, y),
        lambda x, y: x / y,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "broadcast, transposed view",
        lambda rng: [rng.standard_normal((4, 3)), away_from_zero(rng, (4, 1))],
        lambda F, x, y: F.div(x.T, y.T),
        lambda x, y: x.T / y.T,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "by a Python number",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.div(x, 4.0),
        lambda x: x / 4.0,
    ),
    Case(
        "integers: true division",
        lambda rng: [rng.integers(-9, 9, (2, 3)), rng.integers(1, 4, (2, 3))],
        lambda F, x, y: F.div(x, y),
        lambda x, y: x / y,
        rtol=1e-6,  # the quotient is float32, as PyTorch's
    ),
    Case(
        "floor of floats (zero gradient)",
        lambda rng: [rng.standard_normal((3, 4)) * 5, away_from_zero(rng, (3, 4))],
        lambda F, x, y: F.div(x, y, rounding_mode="floor"),
        np.floor_divide,
        differentiable=(0, 1),
    ),
    Case(
        "trunc of floats by a number",
        lambda rng: [rng.standard_normal((3, 4)) * 5],
        lambda F, x: F.div(x, -0.7, rounding_mode="trunc"),
        lambda x: np.trunc(x / -0.7),
    ),
    Case(
        "floor of integers",
        lambda rng: [rng.integers(-9, 9, (2, 5)), np.array([2, -2, 3, -3, 4])],
        lambda F, x, y: F.div(x, y, rounding_mode="floor"),
        np.floor_divide,
    ),
    Case(
        "trunc of integers",
        lambda rng: [rng.integers(-9, 9, (2, 5)), np.array([2, -2, 3, -3, 4])],
        lambda F, x, y: F.div(x, y, rounding_mode="trunc"),
        lambda x, y: np.fix(x / y).astype(np.int64),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_div(case: Case) -> None:
    check(case, F)


def test_div_dtypes_as_torch() -> None:
    ints = at.tensor([7, -7])
    assert F.div(ints, 2).dtype == at.float32
    assert F.div(ints, 2, rounding_mode="floor").dtype == at.int64
    assert F.div(ints, 2.0, rounding_mode="floor").dtype == at.float32


def test_div_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="div: input must be a Tensor"):
        F.div(np.ones(3), 2.0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="div: other must be a Tensor or a number"):
        F.div(at.ones(3), "2")  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="div: rounding_mode must be None, 'trunc'"):
        F.div(at.ones(3), 2.0, rounding_mode="round")
