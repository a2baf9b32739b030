from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "2-d indices with repeats",
        lambda rng: [np.array([[0, 2, 4], [2, 2, 1]]), rng.standard_normal((5, 3))],
        lambda F, i, w: F.embedding(i, w),
        lambda i, w: w[i],
        differentiable=(1,),
    ),
    Case(
        "1-d int32 indices",
        lambda rng: [
            np.array([3, 0, 3, 1], dtype=np.int32),
            rng.standard_normal((4, 2)),
        ],
        lambda F, i, w: F.embedding(i, w),
        lambda i, w: w[i],
        differentiable=(1,),
    ),
    Case(
        "0-d index",
        lambda rng: [np.array(2), rng.standard_normal((3, 4))],
        lambda F, i, w: F.embedding(i, w),
        lambda i, w: w[i],
        differentiable=(1,),
    ),
    Case(
        "transposed indices, transposed weight",
        lambda rng: [rng.integers(0, 6, (3, 2)), rng.standard_normal((4, 6))],
        lambda F, i, w: F.embedding(i.T, w.T),
        lambda i, w: w.T[i.T],
        differentiable=(1,),
    ),
    Case(
        "padding_idx (forward: its row as it is)",
        lambda rng: [np.array([[0, 1], [1, 3]]), rng.standard_normal((4, 3))],
        lambda F, i, w: F.embedding(i, w, padding_idx=1),
        lambda i, w: w[i],
        differentiable=(),  # its row gets no gradient: not the true derivative
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_embedding(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_embedding_float32(case: Case) -> None:
    check_float32(case, F)


def _weight_grad(indices, **options) -> np.ndarray:  # type: ignore[no-untyped-def]
    w = at.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = F.embedding(at.tensor(indices), w, **options)
    grad = np.arange(1.0, out.numel() + 1).reshape(out.shape)
    (out * at.tensor(grad)).sum().backward()
    assert w.grad is not None
    return w.grad.numpy()


def test_embedding_accumulates_repeated_indices() -> None:
    np.testing.assert_array_equal(
        _weight_grad([2, 0, 2]),
        [[4, 5, 6], [0, 0, 0], [1 + 7, 2 + 8, 3 + 9], [0, 0, 0]],
    )


def test_embedding_no_gradient_at_padding_idx() -> None:
    expected = [[4, 5, 6], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    np.testing.assert_array_equal(_weight_grad([2, 0, 2], padding_idx=2), expected)
    np.testing.assert_array_equal(_weight_grad([2, 0, 2], padding_idx=-2), expected)


def test_embedding_scale_grad_by_freq() -> None:
    grad = _weight_grad([2, 0, 2], scale_grad_by_freq=True)
    np.testing.assert_allclose(grad, [[4, 5, 6], [0, 0, 0], [4, 5, 6], [0, 0, 0]])


def test_embedding_refuses_bad_arguments() -> None:
    w = at.randn(4, 3)
    with pytest.raises(TypeError, match="embedding: input must have a"):
        F.embedding(at.tensor([0.0, 1.0]), w)
    with pytest.raises(IndexError, match="embedding: index 4 in input is out of range"):
        F.embedding(at.tensor([0, 4]), w)
    with pytest.raises(IndexError, match="embedding: index -1 in input"):
        F.embedding(at.tensor([0, -1]), w)
    with pytest.raises(TypeError, match="embedding: max_norm must be a number"):
        F.embedding(at.tensor([0]), w, max_norm="1")
    with pytest.raises(NotImplementedError, match="embedding: sparse=True"):
        F.embedding(at.tensor([0]), w, sparse=True)
    with pytest.raises(ValueError, match="embedding: padding_idx must be"):
        F.embedding(at.tensor([0]), w, padding_idx=4)
    with pytest.raises(ValueError, match="embedding: weight must be 2-d"):
        F.embedding(at.tensor([0]), at.randn(4))
