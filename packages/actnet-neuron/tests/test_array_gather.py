from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at


def expected(dim):
    def gather(x, index):  # index may be smaller than x outside dim
        window = tuple(
            slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape)
        )
        return np.take_along_axis(x[window], index, axis=dim)

    return gather


CASES = [
    Case(
        "dim 1",
        lambda rng: [rng.standard_normal((3, 4)), rng.integers(0, 4, (3, 2))],
        lambda F, x, i: F.gather(x, 1, i),
        expected(1),
        double_backward=True,
    ),
    Case(
        "dim 0, repeated indices accumulate",
        lambda rng: [
            rng.standard_normal((3, 4)),
            np.array([[0, 0, 2, 1], [0, 0, 0, 2]]),
        ],
        lambda F, x, i: F.gather(x, 0, i),
        expected(0),
    ),
    Case(
        "an index smaller than the input, transposed view",
        lambda rng: [rng.standard_normal((4, 3)), rng.integers(0, 4, (2, 5))],
        lambda F, x, i: F.gather(x.T, -1, i),
        lambda x, i: expected(1)(x.T, i),
    ),
    Case(
        "3-d, middle dim",
        lambda rng: [rng.standard_normal((2, 3, 2)), rng.integers(0, 3, (2, 4, 2))],
        lambda F, x, i: F.gather(x, 1, i),
        expected(1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gather(case: Case) -> None:
    check(case, F)


def test_gather_of_a_0d_input() -> None:  # one element, as PyTorch allows
    x = at.tensor(2.5, requires_grad=True)
    y = F.gather(x, 0, at.tensor(0))
    assert y.shape == () and float(y) == 2.5
    y.backward()
    assert x.grad is not None and float(x.grad) == 1.0


def test_gather_refuses_bad_input() -> None:
    x = at.ones(2, 3)
    with pytest.raises(TypeError, match="gather: input must be a Tensor"):
        F.gather(np.ones((2, 3)), 1, at.tensor([[0]]))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="gather: index must have a signed integer"):
        F.gather(x, 1, at.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="gather: index has 1 dims, input has 2"):
        F.gather(x, 1, at.tensor([0]))
    with pytest.raises(IndexError, match="gather: dim 2 is out of range"):
        F.gather(x, 2, at.tensor([[0]]))
    with pytest.raises(IndexError, match="out of bounds"):
        F.gather(x, 1, at.tensor([[3]]))
