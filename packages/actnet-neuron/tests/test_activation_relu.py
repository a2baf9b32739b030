from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "relu",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.relu(x),
        lambda x: np.maximum(x, 0),
        double_backward=True,
    ),
    Case(
        "relu of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.relu(x.T),
        lambda x: np.maximum(x.T, 0),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_relu(case: Case) -> None:
    check(case, F)


def test_relu_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="relu: input must be a Tensor"):
        F.relu(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(ValueError, match="inplace"):
        F.relu(at.ones(2), inplace=True)
