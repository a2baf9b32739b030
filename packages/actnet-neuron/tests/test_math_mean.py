from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "everything",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.mean(x),
        np.mean,
        double_backward=True,
    ),
    Case(
        "dim 0",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.mean(x, 0),
        lambda x: x.mean(axis=0),
    ),
    Case(
        "dim -1, keepdim, transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.mean(x.T, dim=-1, keepdim=True),
        lambda x: x.T.mean(axis=-1, keepdims=True),
    ),
    Case(
        "a tuple of dims, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.mean(x, (1, 2)),
        lambda x: x.mean(axis=(1, 2)),
        double_backward=True,
    ),
    Case(
        "dim (): everything",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.mean(x, ()),
        np.mean,
    ),
    Case(
        "0-d",
        lambda rng: [np.array(-0.5)],
        lambda F, x: F.mean(x, -1),
        np.mean,
    ),
    Case(
        "integers with dtype float64",
        lambda rng: [rng.integers(-5, 5, (3, 4))],
        lambda F, x: F.mean(x, 1, dtype="float64"),
        lambda x: x.mean(axis=1),
    ),
    Case(
        "dtype float64 (a conversion from float32)",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.mean(x, dtype="float64"),
        np.mean,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_mean(case: Case) -> None:
    check(case, F)


def test_mean_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="mean: input must be a Tensor"):
        F.mean([1.0, 2.0])  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(TypeError, match="mean: input must have a floating"):
        F.mean(at.tensor([1, 2]))
    with pytest.raises(IndexError, match="mean: dim -3 is out of range"):
        F.mean(at.ones(2, 3), -3)
    with pytest.raises(TypeError, match="mean: dim must be an int, a tuple"):
        F.mean(at.ones(2, 3), "0")  # type: ignore[arg-type]  # on purpose
