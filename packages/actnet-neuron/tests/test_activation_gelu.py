from __future__ import annotations

import math

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at

erf = np.vectorize(math.erf)  # NumPy has no erf; math's is double-precise


def exact(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def tanh_form(x):
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1.0 + np.tanh(inner))


CASES = [
    Case(
        "exact",
        lambda rng: [rng.standard_normal((3, 4)) * 2],
        lambda F, x: F.gelu(x),
        exact,
        double_backward=True,
    ),
    Case(
        "exact, transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.gelu(x.T, approximate="none"),
        lambda x: exact(x.T),
    ),
    Case(
        "exact, large |x| and tails",
        lambda rng: [np.array([-40.0, -8.0, -3.0, -0.5, 0.0, 0.5, 3.0, 8.0, 40.0])],
        lambda F, x: F.gelu(x),
        exact,
        double_backward=True,
    ),
    Case(
        "tanh",
        lambda rng: [rng.standard_normal((3, 4)) * 2],
        lambda F, x: F.gelu(x, approximate="tanh"),
        tanh_form,
        double_backward=True,
    ),
    Case(
        "tanh, 3-d transposed view",
        lambda rng: [rng.standard_normal((2, 4, 3))],
        lambda F, x: F.gelu(x.transpose(1, 2), approximate="tanh"),
        lambda x: tanh_form(x.transpose(0, 2, 1)),
    ),
    Case(
        "tanh, large |x|",
        lambda rng: [np.array([-40.0, -6.0, -1.0, 0.0, 1.0, 6.0, 40.0])],
        lambda F, x: F.gelu(x, approximate="tanh"),
        tanh_form,
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gelu(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gelu_float32(case: Case) -> None:
    check_float32(case, F)


def second_derivative(values: np.ndarray, approximate: str) -> np.ndarray:
    x = at.tensor(values, requires_grad=True)
    (g,) = at.grad(F.gelu(x, approximate).sum(), [x], create_graph=True)
    (g2,) = at.grad(g.sum(), [x])
    return np.asarray(g2)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_third_derivative(approximate: str) -> None:
    # the derivative's own backward is a graph of Tensor operations: any order
    values = np.array([-1.5, 0.3, 2.0])
    x = at.tensor(values, requires_grad=True)
    (g,) = at.grad(F.gelu(x, approximate).sum(), [x], create_graph=True)
    (g2,) = at.grad(g.sum(), [x], create_graph=True)
    (g3,) = at.grad(g2.sum(), [x])
    h = 1e-5  # elementwise: one shift of every element gives each derivative
    up = second_derivative(values + h, approximate)
    down = second_derivative(values - h, approximate)
    numeric = (up - down) / (2 * h)
    np.testing.assert_allclose(np.asarray(g3), numeric, rtol=1e-5, atol=1e-9)


def test_gelu_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="gelu: input must be a Tensor"):
        F.gelu(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        F.gelu(at.ones(2), approximate="erf")
