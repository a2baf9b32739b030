from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at


def with_ties(rng):
    """A 3 x 4 input whose rows 0 and 2 hold a two-way tie for their minimum."""
    x = rng.standard_normal((3, 4))
    x[0, 1] = x[0, 3] = -5.0
    x[2, 0] = x[2, 2] = -4.0
    return [x]


CASES = [
    Case(
        "everything",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.amin(x),
        np.min,
        double_backward=True,
    ),
    Case(
        "dim 1, keepdim",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.amin(x, 1, keepdim=True),
        lambda x: x.min(axis=1, keepdims=True),
    ),
    Case(
        "dim -1, transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.amin(x.T, dim=-1),
        lambda x: x.T.min(axis=-1),
    ),
    Case(
        "a tuple of dims, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.amin(x, (1, 2), True),
        lambda x: x.min(axis=(1, 2), keepdims=True),
        double_backward=True,
    ),
    Case(
        "ties share the gradient",
        with_ties,
        lambda F, x: F.amin(x, dim=1),
        lambda x: x.min(axis=1),
    ),
    Case(
        "integers",
        lambda rng: [rng.integers(-5, 5, (3, 4))],
        lambda F, x: F.amin(x),
        np.min,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_amin(case: Case) -> None:
    check(case, F)


def test_amin_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="amin: input must be a Tensor"):
        F.amin([1.0])  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(RuntimeError, match=r"amin: dim .* names a dim twice"):
        F.amin(at.ones(2, 3), (0, 0))
    with pytest.raises(RuntimeError, match="amin: cannot reduce over dim 0, of size 0"):
        F.amin(at.ones(0, 3))
