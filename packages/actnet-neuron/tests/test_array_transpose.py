from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "2-d",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.transpose(x, 0, 1),
        lambda x: x.T,
        double_backward=True,
    ),
    Case(
        "3-d, negative dims",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.transpose(x, -1, 0),
        lambda x: np.swapaxes(x, -1, 0),
    ),
    Case(
        "of a transposed view",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.transpose(x.transpose(0, 2), 1, 2),
        lambda x: np.swapaxes(np.swapaxes(x, 0, 2), 1, 2),
    ),
    Case(
        "a dim with itself",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.transpose(x, 1, 1),
        lambda x: x,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_transpose(case: Case) -> None:
    check(case, F)


def test_transpose_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="transpose: input must be a Tensor"):
        F.transpose(np.ones((2, 2)), 0, 1)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(IndexError, match="transpose: dim1 2 is out of range"):
        F.transpose(at.ones(2, 3), 0, 2)
    with pytest.raises(TypeError, match="transpose: dim0 must be an int"):
        F.transpose(at.ones(2, 3), None, 1)  # type: ignore[arg-type]  # on purpose
