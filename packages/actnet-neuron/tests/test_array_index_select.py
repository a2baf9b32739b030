from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "dim 0",
        lambda rng: [rng.standard_normal((4, 3)), np.array([3, 0, 1])],
        lambda F, x, i: F.index_select(x, 0, i),
        lambda x, i: x[i],
        double_backward=True,
    ),
    Case(
        "dim 1, repeated indices accumulate",
        lambda rng: [rng.standard_normal((2, 4)), np.array([1, 1, 3, 1])],
        lambda F, x, i: F.index_select(x, 1, i),
        lambda x, i: x[:, i],
    ),
    Case(
        "dim -1 of a transposed view, 3-d",
        lambda rng: [rng.standard_normal((2, 4, 3)), np.array([2, 0])],
        lambda F, x, i: F.index_select(x.transpose(1, 2), -1, i),
        lambda x, i: np.swapaxes(x, 1, 2)[..., i],
    ),
    Case(
        "a 0-d index",
        lambda rng: [rng.standard_normal((3, 4)), np.array(2)],
        lambda F, x, i: F.index_select(x, 1, i),
        lambda x, i: x[:, [int(i)]],
    ),
    Case(
        "no indices",
        lambda rng: [rng.standard_normal((3, 4)), np.array([], dtype=np.int64)],
        lambda F, x, i: F.index_select(x, 0, i),
        lambda x, i: x[i],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_index_select(case: Case) -> None:
    check(case, F)


def test_index_select_of_a_0d_input() -> None:  # one element, as PyTorch allows
    y = F.index_select(at.tensor(2.5), 0, at.tensor([0]))
    assert y.shape == () and float(y) == 2.5


def test_index_select_refuses_bad_input() -> None:
    x = at.ones(2, 3)
    with pytest.raises(TypeError, match="index_select: input must be a Tensor"):
        F.index_select(np.ones(3), 0, at.tensor([0]))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="index_select: index must have a signed int"):
        F.index_select(x, 0, at.tensor([0.0]))
    with pytest.raises(RuntimeError, match="index_select: index must be 1-d"):
        F.index_select(x, 0, at.tensor([[0]]))
    with pytest.raises(IndexError, match="index_select: index 3 is out of range"):
        F.index_select(x, 1, at.tensor([0, 3]))
    with pytest.raises(IndexError, match="index_select: index -1 is out of range"):
        F.index_select(x, 1, at.tensor([-1]))
    with pytest.raises(IndexError, match="index_select: dim 2 is out of range"):
        F.index_select(x, 2, at.tensor([0]))
