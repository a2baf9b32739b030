"""bilinear against NumPy's einsum, gradients in all four arguments by the
harness, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "batched, with bias",
        lambda rng: [
            rng.standard_normal((4, 3)),
            rng.standard_normal((4, 2)),
            rng.standard_normal((5, 3, 2)),
            rng.standard_normal(5),
        ],
        lambda F, a, b, w, c: F.bilinear(a, b, w, c),
        lambda a, b, w, c: np.einsum("ni,oij,nj->no", a, w, b) + c,
        double_backward=True,
    ),
    Case(
        "two batch dims, no bias",
        lambda rng: [
            rng.standard_normal((2, 3, 3)),
            rng.standard_normal((2, 3, 4)),
            rng.standard_normal((2, 3, 4)),
        ],
        lambda F, a, b, w: F.bilinear(a, b, w),
        lambda a, b, w: np.einsum("xyi,oij,xyj->xyo", a, w, b),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bilinear(case: Case) -> None:
    check(case, F)


def test_refusals() -> None:
    w = at.ones(5, 3, 2)
    with pytest.raises(RuntimeError, match="batch dimensions do not match"):
        F.bilinear(at.ones(4, 3), at.ones(3, 2), w)
    with pytest.raises(RuntimeError, match="do not match weight's 3 and 2"):
        F.bilinear(at.ones(4, 4), at.ones(4, 2), w)
    with pytest.raises(RuntimeError, match="three-dimensional"):
        F.bilinear(at.ones(4, 3), at.ones(4, 2), at.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"bias must be \(5,\)"):
        F.bilinear(at.ones(4, 3), at.ones(4, 2), w, at.ones(4))
