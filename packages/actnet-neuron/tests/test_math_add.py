from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "same shape",
        lambda rng: [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))],
        lambda F, x, y: F.add(x, y),
        lambda x, y: x + y,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "broadcast, alpha 2",
        lambda rng: [rng.standard_normal((3, 4)), rng.standard_normal((3, 1))],
        lambda F, x, y: F.add(x, y, alpha=2),
        lambda x, y: x + 2 * y,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "broadcast both ways, transposed view",
        lambda rng: [rng.standard_normal((4, 1)), rng.standard_normal((3, 2, 1))],
        lambda F, x, y: F.add(x.T, y),
        lambda x, y: x.T + y,
        differentiable=(0, 1),
    ),
    Case(
        "a Python number, alpha 0.5",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.add(x, 3.0, alpha=0.5),
        lambda x: x + 1.5,
    ),
    Case(
        "float32 + float64 promotes to float64",
        lambda rng: [rng.standard_normal(4), rng.standard_normal(4)],
        lambda F, x, y: F.add(x.float(), y),
        lambda x, y: x.astype(np.float32).astype(np.float64) + y,
        differentiable=(1,),
    ),
    Case(
        "integers",
        lambda rng: [rng.integers(-5, 5, (2, 3)), rng.integers(-5, 5, 3)],
        lambda F, x, y: F.add(x, y),
        lambda x, y: x + y,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_add(case: Case) -> None:
    check(case, F)


def test_add_promotes_as_torch() -> None:
    assert F.add(at.tensor([1, 2]), 2.5).dtype == at.float32
    assert (
        F.add(at.tensor([1.0], dtype="float64"), at.tensor([1.0])).dtype == at.float64
    )


def test_add_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="add: input must be a Tensor"):
        F.add(np.ones(3), at.ones(3))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="add: other must be a Tensor or a number"):
        F.add(at.ones(3), np.ones(3))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="add: alpha must be a number"):
        F.add(at.ones(3), at.ones(3), alpha="2")  # type: ignore[arg-type]  # on purpose
