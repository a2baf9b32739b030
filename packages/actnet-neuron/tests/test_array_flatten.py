from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "everything",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.flatten(x),
        lambda x: x.reshape(-1),
        double_backward=True,
    ),
    Case(
        "from dim 1",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.flatten(x, 1),
        lambda x: x.reshape(2, 12),
    ),
    Case(
        "dims 1 to 2 of 4, transposed view (a copy)",
        lambda rng: [rng.standard_normal((2, 3, 4, 2))],
        lambda F, x: F.flatten(x.transpose(1, 2), start_dim=1, end_dim=-2),
        lambda x: np.swapaxes(x, 1, 2).reshape(2, 12, 2),
    ),
    Case(
        "0-d becomes 1-d",
        lambda rng: [np.array(2.0)],
        lambda F, x: F.flatten(x),
        lambda x: x.reshape(1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_flatten(case: Case) -> None:
    check(case, F)


def test_flatten_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="flatten: input must be a Tensor"):
        F.flatten(np.ones((2, 2)))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(RuntimeError, match=r"flatten: start_dim .2. cannot come after"):
        F.flatten(at.ones(2, 3, 4), 2, 1)
    with pytest.raises(IndexError, match="flatten: end_dim 3 is out of range"):
        F.flatten(at.ones(2, 3, 4), 0, 3)
