from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at


def with_ties(rng):
    """A 3 x 4 input whose rows 0 and 2 hold a tie for their maximum, and
    whose column 1 holds one for its maximum: two-way ties only, where the
    shared gradient equals central differences."""
    x = rng.standard_normal((3, 4))
    x[0, 1] = x[0, 3] = 5.0
    x[2, 0] = x[2, 2] = 4.0
    return [x]


CASES = [
    Case(
        "everything",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.amax(x),
        np.max,
        double_backward=True,
    ),
    Case(
        "dim 1",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.amax(x, 1),
        lambda x: x.max(axis=1),
    ),
    Case(
        "dim 0, keepdim, transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.amax(x.T, dim=0, keepdim=True),
        lambda x: x.T.max(axis=0, keepdims=True),
    ),
    Case(
        "a tuple of dims, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.amax(x, (0, -1)),
        lambda x: x.max(axis=(0, 2)),
        double_backward=True,
    ),
    Case(
        "ties share the gradient",
        with_ties,
        lambda F, x: F.amax(x, dim=1),
        lambda x: x.max(axis=1),
    ),
    Case(
        "0-d",
        lambda rng: [np.array(2.5)],
        lambda F, x: F.amax(x, 0),
        np.max,
    ),
    Case(
        "integers",
        lambda rng: [rng.integers(-5, 5, (3, 4))],
        lambda F, x: F.amax(x, 0),
        lambda x: x.max(axis=0),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_amax(case: Case) -> None:
    check(case, F)


def test_amax_shares_among_ties() -> None:
    x = at.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    F.amax(x, 1).sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(np.asarray(x.grad), [[0, 0.5, 0.5], [0.5, 0, 0.5]])


def test_amax_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="amax: input must be a Tensor"):
        F.amax(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(IndexError, match="amax: dim 2 is out of range"):
        F.amax(at.ones(2, 3), 2)
    with pytest.raises(RuntimeError, match="amax: cannot reduce over dim 1, of size 0"):
        F.amax(at.ones(2, 0), 1)
