from __future__ import annotations

import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "same shape",
        lambda rng: [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))],
        lambda F, x, y: F.sub(x, y),
        lambda x, y: x - y,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "broadcast, alpha 3",
        lambda rng: [rng.standard_normal((2, 3, 4)), rng.standard_normal(4)],
        lambda F, x, y: F.sub(x, y, alpha=3),
        lambda x, y: x - 3 * y,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "transposed views",
        lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))],
        lambda F, x, y: F.sub(x.T, y.T),
        lambda x, y: x.T - y.T,
        differentiable=(0, 1),
    ),
    Case(
        "a Python number",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.sub(x, 2.0),
        lambda x: x - 2.0,
    ),
    Case(
        "integers",
        lambda rng: [rng.integers(-5, 5, (2, 3)), rng.integers(-5, 5, (2, 3))],
        lambda F, x, y: F.sub(x, y, alpha=2),
        lambda x, y: x - 2 * y,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_sub(case: Case) -> None:
    check(case, F)


def test_sub_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="sub: input must be a Tensor"):
        F.sub(1.0, at.ones(3))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="sub: other must be a Tensor or a number"):
        F.sub(at.ones(3), "1")  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="sub: bool tensors cannot be subtracted"):
        F.sub(at.tensor([True]), at.tensor([False]))
