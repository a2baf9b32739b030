from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at


def shapes(a, b):
    return lambda rng: [rng.standard_normal(a), rng.standard_normal(b)]


CASES = [
    Case(
        "matrix by matrix",
        shapes((3, 4), (4, 2)),
        lambda F, x, y: F.matmul(x, y),
        np.matmul,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "transposed views",
        shapes((4, 3), (2, 4)),
        lambda F, x, y: F.matmul(x.T, y.T),
        lambda x, y: x.T @ y.T,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "vector by matrix",
        shapes(3, (3, 2)),
        lambda F, x, y: F.matmul(x, y),
        np.matmul,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "matrix by vector",
        shapes((2, 3), 3),
        lambda F, x, y: F.matmul(x, y),
        np.matmul,
        differentiable=(0, 1),
    ),
    Case(
        "vector by vector",
        shapes(4, 4),
        lambda F, x, y: F.matmul(x, y),
        np.matmul,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "batch by matrix",
        shapes((2, 3, 4), (4, 2)),
        lambda F, x, y: F.matmul(x, y),
        np.matmul,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "batches broadcast",
        shapes((2, 1, 2, 3), (3, 3, 2)),
        lambda F, x, y: F.matmul(x, y),
        np.matmul,
        differentiable=(0, 1),
    ),
    Case(
        "batch by vector, transposed batch",
        shapes((2, 3, 4), 3),
        lambda F, x, y: F.matmul(x.mT, y),
        lambda x, y: np.swapaxes(x, -1, -2) @ y,
        differentiable=(0, 1),
    ),
    Case(
        "integers",
        lambda rng: [rng.integers(-3, 3, (2, 3)), rng.integers(-3, 3, (3, 2))],
        lambda F, x, y: F.matmul(x, y),
        np.matmul,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matmul(case: Case) -> None:
    check(case, F)


def test_matmul_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="matmul: input must be a Tensor"):
        F.matmul(np.ones((2, 2)), at.ones(2, 2))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="matmul: other must be a Tensor"):
        F.matmul(at.ones(2, 2), 2.0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(\(2, 3\) and"):
        F.matmul(at.ones(2, 3), at.ones(4, 2))
    with pytest.raises(RuntimeError, match="at least 1 dimension"):
        F.matmul(at.tensor(2.0), at.ones(2))
    with pytest.raises(RuntimeError, match=r"batch dims .* do not broadcast"):
        F.matmul(at.ones(2, 2, 3), at.ones(3, 3, 2))
