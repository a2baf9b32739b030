from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "two equal pieces, multiplied",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.split(x, 2)[0] * F.split(x, 2)[1],
        lambda x: x[:2] * x[2:],
        double_backward=True,
    ),
    Case(
        "a shorter last piece, dim 1",
        lambda rng: [rng.standard_normal((2, 5))],
        lambda F, x: F.split(x, 2, dim=1)[2],
        lambda x: x[:, 4:],
    ),
    Case(
        "sections, one piece unused",
        lambda rng: [rng.standard_normal((2, 6))],
        lambda F, x: F.split(x, [1, 3, 2], 1)[1] * 2.0,
        lambda x: x[:, 1:4] * 2.0,
    ),
    Case(
        "sections of a transposed view, dim -1",
        lambda rng: [rng.standard_normal((4, 3))],
        lambda F, x: F.split(x.T, [3, 1], dim=-1)[0] + 1.0,
        lambda x: x.T[:, :3] + 1.0,
    ),
    Case(
        "every piece, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 2))],
        lambda F, x: F.split(x, 1, 1)[0] * F.split(x, 1, 1)[1] - F.split(x, 1, 1)[2],
        lambda x: x[:, :1] * x[:, 1:2] - x[:, 2:],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_split(case: Case) -> None:
    check(case, F)


def test_split_gives_views_and_joins_gradients() -> None:
    x = at.tensor(np.arange(10.0).reshape(5, 2), requires_grad=True)
    pieces = F.split(x, 2)
    assert isinstance(pieces, tuple)
    assert [p.shape for p in pieces] == [(2, 2), (2, 2), (1, 2)]
    (pieces[0] * 3.0).sum().backward()  # the others' gradients are zeros
    assert x.grad is not None
    expected = np.zeros((5, 2))
    expected[:2] = 3.0
    np.testing.assert_allclose(np.asarray(x.grad), expected)
    assert [p.shape for p in F.split(at.zeros(0), 2)] == [(0,)]


def test_split_refuses_bad_input() -> None:
    x = at.ones(4, 3)
    with pytest.raises(TypeError, match="split: tensor must be a Tensor"):
        F.split(np.ones(4), 2)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="split: split_size_or_sections must be an int"):
        F.split(x, 2.0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(RuntimeError, match="split: split_size_or_sections must be pos"):
        F.split(x, 0)
    with pytest.raises(RuntimeError, match=r"the sizes \[1, 2\] must .* sum to 4"):
        F.split(x, [1, 2])
    with pytest.raises(IndexError, match="split: dim 2 is out of range"):
        F.split(x, 2, 2)
