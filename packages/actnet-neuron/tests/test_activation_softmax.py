from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(dim):
    def softmax(x):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    return softmax


CASES = [
    Case(
        "dim 1",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.softmax(x, dim=1),
        expected(1),
        double_backward=True,
    ),
    Case(
        "dim 0",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.softmax(x, 0),
        expected(0),
    ),
    Case(
        "dim -1 of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.softmax(x.T, dim=-1),
        lambda x: expected(-1)(x.T),
        double_backward=True,
    ),
    Case(
        "3-d, middle dim",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.softmax(x, dim=1),
        expected(1),
    ),
    Case(
        "large values (the max is subtracted)",
        lambda rng: [np.array([[1000.0, 999.0, -1000.0], [-800.0, -801.0, -800.5]])],
        lambda F, x: F.softmax(x, dim=1),
        expected(1),
    ),
    Case(
        "masked with -inf",
        lambda rng: [np.array([[0.5, -np.inf, 1.0], [-np.inf, 2.0, -1.0]])],
        lambda F, x: F.softmax(x, dim=-1),
        expected(-1),
    ),
    Case(
        "dtype float64 (a conversion from float32)",
        lambda rng: [rng.standard_normal((2, 5))],
        lambda F, x: F.softmax(x, dim=1, dtype="float64"),
        expected(1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_softmax(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES[:-1], ids=str)
def test_softmax_float32(case: Case) -> None:
    check_float32(case, F)


def test_softmax_dtype_converts_first_and_back() -> None:
    x = at.tensor([[1.0, 2.0, 3.0]], requires_grad=True)  # float32
    y = F.softmax(x, 1, dtype=at.float64)
    assert y.dtype == at.float64
    (y * at.tensor([[1.0, 0.0, 0.0]], dtype="float64")).sum().backward()
    assert x.grad is not None and x.grad.dtype == at.float32


def test_softmax_of_0d_and_empty() -> None:
    assert float(F.softmax(at.tensor(3.0), 0)) == 1.0
    assert F.softmax(at.zeros(3, 0), dim=1).shape == (3, 0)


def test_softmax_without_dim_warns_and_picks_torchs_dim() -> None:
    x = at.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(np.asarray(y), expected(1)(np.asarray(x)))


def test_softmax_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="softmax: input must be a Tensor"):
        F.softmax(np.ones(3), 0)  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match="softmax: input must have a floating"):
        F.softmax(at.tensor([1, 2]), 0)
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range"):
        F.softmax(at.ones(2, 3), 2)
    with pytest.raises(TypeError, match="softmax: dim must be an int"):
        F.softmax(at.ones(2, 3), 1.0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="softmax: dtype"):
        F.softmax(at.ones(2, 3), 1, dtype="float99")
