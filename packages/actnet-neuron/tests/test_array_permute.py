from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "3-d",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.permute(x, (2, 0, 1)),
        lambda x: x.transpose(2, 0, 1),
        double_backward=True,
    ),
    Case(
        "negative dims, a list",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.permute(x, [-1, -2, -3]),
        lambda x: x.transpose(2, 1, 0),
    ),
    Case(
        "of a transposed view, 4-d",
        lambda rng: [rng.standard_normal((2, 3, 4, 2))],
        lambda F, x: F.permute(x.transpose(1, 3), (0, 2, 1, 3)),
        lambda x: np.swapaxes(x, 1, 3).transpose(0, 2, 1, 3),
    ),
    Case(
        "identity",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.permute(x, (0, 1)),
        lambda x: x,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_permute(case: Case) -> None:
    check(case, F)


def test_permute_refuses_bad_input() -> None:
    x = at.ones(2, 3, 4)
    with pytest.raises(TypeError, match="permute: input must be a Tensor"):
        F.permute(np.ones((2, 2)), (1, 0))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="permute: dims must be a tuple of ints"):
        F.permute(x, 0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(RuntimeError, match=r"permute: dims .* has 2 entries"):
        F.permute(x, (1, 0))
    with pytest.raises(RuntimeError, match=r"permute: dims .* repeats a dim"):
        F.permute(x, (0, 1, -3))
    with pytest.raises(IndexError, match="permute: dims 3 is out of range"):
        F.permute(x, (0, 1, 3))
