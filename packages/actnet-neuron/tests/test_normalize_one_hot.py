"""normalize against NumPy (with gradients by the harness) and one_hot against
NumPy's eye rows, with torch's refusals."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at


def _normalize(x: np.ndarray, p: float, dim: int, eps: float) -> np.ndarray:
    norm = np.sum(np.abs(x) ** p, axis=dim, keepdims=True) ** (1.0 / p)
    return x / np.maximum(norm, eps)


CASES = [
    Case(
        "p 2 over dim 1",
        lambda rng: [rng.standard_normal((3, 4))],
        lambda F, x: F.normalize(x),
        lambda x: _normalize(x, 2.0, 1, 1e-12),
        double_backward=True,
    ),
    Case(
        "p 1 over the last dim of 3-d",
        lambda rng: [rng.standard_normal((2, 3, 4))],
        lambda F, x: F.normalize(x, p=1.0, dim=-1),
        lambda x: _normalize(x, 1.0, -1, 1e-12),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_normalize(case: Case) -> None:
    check(case, F)


def test_normalize_clamps_a_zero_vector_to_eps() -> None:
    got = F.normalize(at.zeros(2, 3), eps=0.5).numpy()
    np.testing.assert_array_equal(got, np.zeros((2, 3)))


def test_one_hot() -> None:
    idx = np.array([[0, 2], [1, 1]])
    got = F.one_hot(at.tensor(idx), 4)
    assert got.dtype == at.int64
    np.testing.assert_array_equal(got.numpy(), np.eye(4, dtype=np.int64)[idx])
    np.testing.assert_array_equal(
        F.one_hot(at.tensor(idx)).numpy(), np.eye(3, dtype=np.int64)[idx]
    )
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(at.tensor(idx), 2)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(at.tensor([-1]))
    with pytest.raises(RuntimeError, match="only applicable to index tensor"):
        F.one_hot(at.tensor([0.0]))
    with pytest.raises(RuntimeError, match="empty tensor"):
        F.one_hot(at.tensor(np.zeros(0, np.int64)))
