from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "dim 0",
        lambda rng: [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))],
        lambda F, x, y: F.stack([x, y]),
        lambda x, y: np.stack([x, y]),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "dim -1, a transposed view",
        lambda rng: [rng.standard_normal((2, 3)), rng.standard_normal((3, 2))],
        lambda F, x, y: F.stack((x, y.T), dim=-1),
        lambda x, y: np.stack([x, y.T], axis=-1),
        differentiable=(0, 1),
    ),
    Case(
        "three, middle dim",
        lambda rng: [rng.standard_normal((2, 3)) for _ in range(3)],
        lambda F, x, y, z: F.stack([x, y, z], 1),
        lambda x, y, z: np.stack([x, y, z], axis=1),
        differentiable=(0, 2),
    ),
    Case(
        "0-d",
        lambda rng: [np.array(1.0), np.array(2.0)],
        lambda F, x, y: F.stack([x, y]),
        lambda x, y: np.stack([x, y]),
        differentiable=(0, 1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_stack(case: Case) -> None:
    check(case, F)


def test_stack_refuses_bad_input() -> None:
    x = at.ones(2, 3)
    with pytest.raises(TypeError, match="stack: tensors must be a sequence"):
        F.stack(x)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="stack: tensors must not be empty"):
        F.stack(())
    with pytest.raises(RuntimeError, match=r"one shape.*tensors\[1\] has \(3, 2\)"):
        F.stack([x, at.ones(3, 2)])
    with pytest.raises(IndexError, match="stack: dim 3 is out of range"):
        F.stack([x, x], 3)
