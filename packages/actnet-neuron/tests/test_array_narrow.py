from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "dim 0",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.narrow(x, 0, 1, 2),
        lambda x: x[1:3],
        double_backward=True,
    ),
    Case(
        "dim -1, a negative start",
        lambda rng: [rng.standard_normal((2, 5))],
        lambda F, x: F.narrow(x, -1, -3, 2),
        lambda x: x[:, 2:4],
    ),
    Case(
        "of a transposed view, to the end",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.narrow(x.T, 1, 2, 2),
        lambda x: x.T[:, 2:4],
    ),
    Case(
        "length 0",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.narrow(x, 1, 3, 0),
        lambda x: x[:, 3:3],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_narrow(case: Case) -> None:
    check(case, F)


def test_narrow_takes_a_0d_start() -> None:
    y = F.narrow(at.tensor([1.0, 2.0, 3.0, 4.0]), 0, at.tensor(1), 2)
    assert y.tolist() == [2.0, 3.0]


def test_narrow_refuses_bad_input() -> None:
    x = at.ones(2, 4)
    with pytest.raises(TypeError, match="narrow: input must be a Tensor"):
        F.narrow(np.ones(3), 0, 0, 1)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="narrow: start must be an int"):
        F.narrow(x, 1, 1.0, 1)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="narrow: length must be an int"):
        F.narrow(x, 1, 1, None)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(IndexError, match="narrow: start 5 is out of range"):
        F.narrow(x, 1, 5, 0)
    with pytest.raises(RuntimeError, match=r"narrow: start \(3\) \+ length \(2\)"):
        F.narrow(x, 1, 3, 2)
    with pytest.raises(IndexError, match="narrow: dim 2 is out of range"):
        F.narrow(x, 2, 0, 1)
