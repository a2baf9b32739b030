"""pixel_shuffle / pixel_unshuffle against their definition written element by
element (torch's docs: out[..., c, h r + i, w r + j] = x[..., c r² + i r + j, h, w]),
with gradients by the harness."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at


def _shuffle(x: np.ndarray, r: int) -> np.ndarray:
    *batch, channels, h, w = x.shape
    c = channels // (r * r)
    out = np.empty((*batch, c, h * r, w * r), x.dtype)
    for ch, hh, ww, i, j in itertools.product(
        range(c), range(h), range(w), range(r), range(r)
    ):
        out[..., ch, hh * r + i, ww * r + j] = x[..., ch * r * r + i * r + j, hh, ww]
    return out


def _unshuffle(y: np.ndarray, r: int) -> np.ndarray:
    *batch, c, height, width = y.shape
    h, w = height // r, width // r
    out = np.empty((*batch, c * r * r, h, w), y.dtype)
    for ch, hh, ww, i, j in itertools.product(
        range(c), range(h), range(w), range(r), range(r)
    ):
        out[..., ch * r * r + i * r + j, hh, ww] = y[..., ch, hh * r + i, ww * r + j]
    return out


CASES = [
    Case(
        "batch of 2, r 2",
        lambda rng: [rng.standard_normal((2, 8, 3, 2))],
        lambda F, x: F.pixel_shuffle(x, 2),
        lambda x: _shuffle(x, 2),
        double_backward=True,
    ),
    Case(
        "3-d, r 3",
        lambda rng: [rng.standard_normal((9, 2, 2))],
        lambda F, x: F.pixel_shuffle(x, 3),
        lambda x: _shuffle(x, 3),
    ),
    Case(
        "two batch dims, unshuffle r 2",
        lambda rng: [rng.standard_normal((2, 1, 3, 4, 6))],
        lambda F, x: F.pixel_unshuffle(x, 2),
        lambda x: _unshuffle(x, 2),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_pixel_shuffle(case: Case) -> None:
    check(case, F)


def test_round_trip_and_refusals() -> None:
    x = at.randn(2, 12, 3, 5)
    np.testing.assert_array_equal(
        F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).numpy(), x.numpy()
    )
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(at.ones(4, 4), 2)
    with pytest.raises(RuntimeError, match=r"input.size\(-3\)=7 is not divisible by 4"):
        F.pixel_shuffle(at.ones(7, 2, 2), 2)
    with pytest.raises(RuntimeError, match="expects a positive upscale_factor"):
        F.pixel_shuffle(at.ones(4, 2, 2), 0)
    with pytest.raises(RuntimeError, match=r"height to be divisible.*size\(-2\)=3"):
        F.pixel_unshuffle(at.ones(1, 3, 4), 2)
