from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "every size-1 dim",
        lambda rng: [rng.standard_normal((1, 3, 1, 4))],
        lambda F, x: F.squeeze(x),
        np.squeeze,
        double_backward=True,
    ),
    Case(
        "one dim",
        lambda rng: [rng.standard_normal((1, 3, 1))],
        lambda F, x: F.squeeze(x, -1),
        lambda x: x.squeeze(-1),
    ),
    Case(
        "a dim that is not size 1 stays",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.squeeze(x, 0),
        lambda x: x,
    ),
    Case(
        "a tuple of dims, transposed view",
        lambda rng: [rng.standard_normal((1, 3, 1))],
        lambda F, x: F.squeeze(x.transpose(0, 1), (0, 1, 2)),
        lambda x: np.swapaxes(x, 0, 1).squeeze((1, 2)),
    ),
    Case(
        "to 0-d",
        lambda rng: [rng.standard_normal((1, 1))],
        lambda F, x: F.squeeze(x),
        np.squeeze,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_squeeze(case: Case) -> None:
    check(case, F)


def test_squeeze_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="squeeze: input must be a Tensor"):
        F.squeeze(np.ones((1, 2)))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(IndexError, match="squeeze: dim 2 is out of range"):
        F.squeeze(at.ones(1, 2), 2)
    with pytest.raises(TypeError, match="squeeze: dim must be an int, a tuple"):
        F.squeeze(at.ones(1, 2), "0")  # type: ignore[arg-type]  # on purpose
