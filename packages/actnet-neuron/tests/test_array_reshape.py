from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "2-d to 2-d",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.reshape(x, (2, 6)),
        lambda x: x.reshape(2, 6),
        double_backward=True,
    ),
    Case(
        "an inferred dim, a list",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.reshape(x, [-1, 4]),
        lambda x: x.reshape(-1, 4),
    ),
    Case(
        "a transposed view (a copy)",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.reshape(x.T, (12,)),
        lambda x: x.T.reshape(12),
    ),
    Case(
        "to 0-d",
        lambda rng: [rng.standard_normal((1, 1))],
        lambda F, x: F.reshape(x, ()),
        lambda x: x.reshape(()),
    ),
    Case(
        "integers",
        lambda rng: [rng.integers(0, 9, (2, 3))],
        lambda F, x: F.reshape(x, (3, 2)),
        lambda x: x.reshape(3, 2),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_reshape(case: Case) -> None:
    check(case, F)


def test_reshape_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="reshape: input must be a Tensor"):
        F.reshape(np.ones(4), (2, 2))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="reshape: shape must be a tuple of ints"):
        F.reshape(at.ones(4), 4)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="reshape: shape must be an int"):
        F.reshape(at.ones(4), (2.0, 2))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(RuntimeError, match="invalid for input of size 4"):
        F.reshape(at.ones(4), (3, -1))
