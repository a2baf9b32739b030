from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "tanh",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.tanh(x),
        np.tanh,
        double_backward=True,
    ),
    Case(
        "tanh of a transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.tanh(x.T),
        lambda x: np.tanh(x.T),
    ),
    Case(
        "tanh of large |x|",
        lambda rng: [np.array([-400.0, -20.0, -1e-9, 0.0, 1e-9, 20.0, 400.0])],
        lambda F, x: F.tanh(x),
        np.tanh,
        double_backward=True,
    ),
    Case(
        "tanh, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 2)) * 2],
        lambda F, x: F.tanh(x),
        np.tanh,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_tanh(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_tanh_float32(case: Case) -> None:
    check_float32(case, F)


def test_tanh_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="tanh: input must be a Tensor"):
        F.tanh([1.0, 2.0])  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match="tanh: input must have a floating"):
        F.tanh(at.tensor([True, False]))
