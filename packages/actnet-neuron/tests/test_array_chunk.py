from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "two equal chunks, multiplied",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.chunk(x, 2)[0] * F.chunk(x, 2)[1],
        lambda x: x[:2] * x[2:],
        double_backward=True,
    ),
    Case(
        "three of 7 along dim 1: 3, 3, 1",
        lambda rng: [rng.standard_normal((2, 7))],
        lambda F, x: F.chunk(x, 3, dim=1)[2] * 2.0,
        lambda x: x[:, 6:] * 2.0,
    ),
    Case(
        "q, k, v of a transposed view",
        lambda rng: [rng.standard_normal((6, 2))],
        lambda F, x: F.chunk(x.T, 3, -1)[0] * F.chunk(x.T, 3, -1)[2],
        lambda x: x.T[:, :2] * x.T[:, 4:],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_chunk(case: Case) -> None:
    check(case, F)


def test_chunk_may_give_fewer_pieces() -> None:
    assert [p.shape for p in F.chunk(at.ones(5), 4)] == [(2,), (2,), (1,)]
    assert [p.shape for p in F.chunk(at.ones(0, 2), 3)] == [(0, 2)] * 3


def test_chunk_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match="chunk: input must be a Tensor"):
        F.chunk(np.ones(4), 2)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="chunk: chunks must be an int"):
        F.chunk(at.ones(4), 2.0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(RuntimeError, match="chunk: chunks must be positive, got 0"):
        F.chunk(at.ones(4), 0)
    with pytest.raises(IndexError, match="chunk: dim 1 is out of range"):
        F.chunk(at.ones(4), 2, 1)
