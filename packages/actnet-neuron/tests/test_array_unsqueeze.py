from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "front",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.unsqueeze(x, 0),
        lambda x: x[None],
        double_backward=True,
    ),
    Case(
        "back, negative",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.unsqueeze(x, -1),
        lambda x: x[..., None],
    ),
    Case(
        "middle of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.unsqueeze(x.T, 1),
        lambda x: x.T[:, None],
    ),
    Case(
        "of a 0-d",
        lambda rng: [np.array(1.5)],
        lambda F, x: F.unsqueeze(x, 0),
        lambda x: x.reshape(1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_unsqueeze(case: Case) -> None:
    check(case, F)


def test_unsqueeze_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="unsqueeze: input must be a Tensor"):
        F.unsqueeze(np.ones(2), 0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(IndexError, match="unsqueeze: dim 3 is out of range"):
        F.unsqueeze(at.ones(2, 3), 3)
    with pytest.raises(TypeError, match="unsqueeze: dim must be an int"):
        F.unsqueeze(at.ones(2, 3), True)  # type: ignore[arg-type]  # on purpose
