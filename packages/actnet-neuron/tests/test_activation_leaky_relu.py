from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(slope):
    return lambda x: np.where(x > 0, x, slope * x)


CASES = [
    Case(
        "default slope",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.leaky_relu(x),
        expected(0.01),
        double_backward=True,
    ),
    Case(
        "slope 0.2 of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.leaky_relu(x.T, 0.2),
        lambda x: expected(0.2)(x.T),
    ),
    Case(
        "slope above 1",
        lambda rng: [rng.standard_normal((2, 5))],
        lambda F, x: F.leaky_relu(x, negative_slope=3.0),
        expected(3.0),
        double_backward=True,
    ),
    Case(
        "negative slope",
        lambda rng: [rng.standard_normal((2, 5))],
        lambda F, x: F.leaky_relu(x, negative_slope=-0.5),
        expected(-0.5),
    ),
    Case(
        "slope 0 (relu), 3-d",
        lambda rng: [rng.standard_normal((2, 3, 2))],
        lambda F, x: F.leaky_relu(x, 0.0),
        expected(0.0),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_leaky_relu(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_leaky_relu_float32(case: Case) -> None:
    check_float32(case, F)


def test_leaky_relu_gradient_at_zero_is_the_slope() -> None:  # as PyTorch: x > 0
    x = at.tensor([0.0, 1.0], requires_grad=True)
    F.leaky_relu(x, 0.25).sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(np.asarray(x.grad), [0.25, 1.0])


def test_leaky_relu_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="leaky_relu: input must be a Tensor"):
        F.leaky_relu(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match="leaky_relu: negative_slope must be a num"):
        F.leaky_relu(at.ones(2), "0.1")  # type: ignore[arg-type]  # on purpose
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.leaky_relu(at.ones(2, requires_grad=True), inplace=True)
