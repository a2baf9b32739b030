from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "same shape",
        lambda rng: [
            rng.random((3, 4)) > 0.5,
            rng.standard_normal((3, 4)),
            rng.standard_normal((3, 4)),
        ],
        lambda F, c, x, y: F.where(c, x, y),
        np.where,
        differentiable=(1, 2),
        double_backward=True,
    ),
    Case(
        "broadcast all three",
        lambda rng: [
            rng.random((3, 1)) > 0.5,
            rng.standard_normal((1, 4)),
            rng.standard_normal((2, 1, 1)),
        ],
        lambda F, c, x, y: F.where(c, x, y),
        np.where,
        differentiable=(1, 2),
    ),
    Case(
        "a Python number, transposed view",
        lambda rng: [rng.random((3, 4)) > 0.5, rng.standard_normal((4, 3))],
        lambda F, c, x: F.where(c, x.T, 0.0),
        lambda c, x: np.where(c, x.T, 0.0),
        differentiable=(1,),
    ),
    Case(
        "a Python number first",
        lambda rng: [rng.random((2, 3)) > 0.5, rng.standard_normal((2, 3))],
        lambda F, c, y: F.where(c, -1.0, y),
        lambda c, y: np.where(c, -1.0, y),
        differentiable=(1,),
    ),
    Case(
        "float32 and float64 promote",
        lambda rng: [
            rng.random(4) > 0.5,
            rng.standard_normal(4),
            rng.standard_normal(4),
        ],
        lambda F, c, x, y: F.where(c, x.float(), y),
        lambda c, x, y: np.where(c, x.astype(np.float32), y),
        differentiable=(2,),
    ),
    Case(
        "two Python numbers",
        lambda rng: [rng.random((2, 3)) > 0.5],
        lambda F, c: F.where(c, 1.0, 0),
        lambda c: np.where(c, 1.0, 0.0),
        differentiable=(),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_where(case: Case) -> None:
    check(case, F)


def test_where_of_the_condition_alone_gives_indices() -> None:
    rows, cols = F.where(at.tensor([[True, False], [False, True]]))
    assert rows.dtype == at.int64
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    (only,) = F.where(at.tensor(True))
    assert only.tolist() == [0]


def test_where_refuses_bad_input() -> None:
    x = at.ones(2)
    with pytest.raises(TypeError, match="where: condition must be a bool Tensor"):
        F.where(at.ones(2), x, x)
    with pytest.raises(TypeError, match="where: condition must be a bool Tensor"):
        F.where(np.ones(2, dtype=bool), x, x)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="where: input and other must both be given"):
        F.where(x > 0, x)
    with pytest.raises(TypeError, match="where: other must be a Tensor or a number"):
        F.where(x > 0, x, "0")  # type: ignore[arg-type]  # on purpose
