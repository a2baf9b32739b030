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
        lambda F, x: F.sum(x),
        np.sum,
        double_backward=True,
    ),
    Case(
        "dim 1",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.sum(x, 1),
        lambda x: x.sum(axis=1),
    ),
    Case(
        "dim -1, keepdim, transposed view",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.sum(x.T, dim=-1, keepdim=True),
        lambda x: x.T.sum(axis=-1, keepdims=True),
    ),
    Case(
        "a tuple of dims, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.sum(x, (0, 2)),
        lambda x: x.sum(axis=(0, 2)),
        double_backward=True,
    ),
    Case(
        "a list of dims, keepdim",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.sum(x, [2, -3], keepdim=True),
        lambda x: x.sum(axis=(0, 2), keepdims=True),
    ),
    Case(
        "dim (): everything",
        lambda rng: [rng.standard_normal((2, 3))],
        lambda F, x: F.sum(x, ()),
        np.sum,
    ),
    Case(
        "0-d, dim 0",
        lambda rng: [np.array(1.5)],
        lambda F, x: F.sum(x, 0),
        np.sum,
    ),
    Case(
        "integers sum to int64",
        lambda rng: [rng.integers(-5, 5, (3, 4)).astype(np.int32)],
        lambda F, x: F.sum(x, 0),
        lambda x: x.sum(axis=0, dtype=np.int64),
    ),
    Case(
        "bools count",
        lambda rng: [rng.random((3, 4)) > 0.5],
        lambda F, x: F.sum(x, 1),
        lambda x: x.sum(axis=1),
    ),
    Case(
        "dtype float64 (a conversion from float32)",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.sum(x, 1, dtype="float64"),
        lambda x: x.sum(axis=1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_sum(case: Case) -> None:
    check(case, F)


def test_sum_dtypes() -> None:
    assert F.sum(at.tensor([1, 2], dtype="int32")).dtype == at.int64
    x = at.tensor([1.0, 2.0], requires_grad=True)
    y = F.sum(x, dtype=at.float64)
    assert y.dtype == at.float64
    y.backward()
    assert x.grad is not None and x.grad.dtype == at.float32


def test_sum_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="sum: input must be a Tensor"):
        F.sum(np.ones(3))  # type: ignore[arg-type]  # wrong type on purpose
    with pytest.raises(IndexError, match="sum: dim 2 is out of range"):
        F.sum(at.ones(2, 3), 2)
    with pytest.raises(TypeError, match="sum: dim must be an int"):
        F.sum(at.ones(2, 3), 1.0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(RuntimeError, match=r"sum: dim .* names a dim twice"):
        F.sum(at.ones(2, 3), (1, -1))
    with pytest.raises(TypeError, match="sum: dtype"):
        F.sum(at.ones(2, 3), dtype="float99")
