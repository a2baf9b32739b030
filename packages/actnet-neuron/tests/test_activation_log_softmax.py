from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(dim):
    def log_softmax(x):
        shifted = x - x.max(axis=dim, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))

    return log_softmax


CASES = [
    Case(
        "dim 1",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.log_softmax(x, dim=1),
        expected(1),
        double_backward=True,
    ),
    Case(
        "dim 0",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.log_softmax(x, 0),
        expected(0),
    ),
    Case(
        "dim -1 of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.log_softmax(x.T, dim=-1),
        lambda x: expected(-1)(x.T),
        double_backward=True,
    ),
    Case(
        "3-d, last dim",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.log_softmax(x, dim=2),
        expected(2),
    ),
    Case(
        "large values (the max is subtracted)",
        lambda rng: [np.array([[1000.0, 999.0, -1000.0], [-800.0, -801.0, -800.5]])],
        lambda F, x: F.log_softmax(x, dim=1),
        expected(1),
    ),
    Case(
        "dtype float64 (a conversion from float32)",
        lambda rng: [rng.standard_normal((2, 5))],
        lambda F, x: F.log_softmax(x, dim=1, dtype="float64"),
        expected(1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_log_softmax(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES[:-1], ids=str)
def test_log_softmax_float32(case: Case) -> None:
    check_float32(case, F)


def test_log_softmax_of_0d_and_empty() -> None:
    assert float(F.log_softmax(at.tensor(3.0), 0)) == 0.0
    assert F.log_softmax(at.zeros(0, 2), dim=0).shape == (0, 2)


def test_log_softmax_without_dim_warns() -> None:
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        y = F.log_softmax(at.ones(4))
    np.testing.assert_allclose(np.asarray(y), np.full(4, -np.log(4.0)), rtol=1e-6)


def test_log_softmax_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="log_softmax: input must be a Tensor"):
        F.log_softmax([1.0], 0)  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(IndexError, match="log_softmax: dim -3 is out of range"):
        F.log_softmax(at.ones(2, 3), -3)
    with pytest.raises(TypeError, match="log_softmax: dtype"):
        F.log_softmax(at.ones(2, 3), 1, dtype=at.ones(1))
