"""interpolate against an element-by-element NumPy oracle written from
PyTorch's documented coordinate rules (nearest: floor(dst * in / out); linear
modes: the two neighbours of (dst + 0.5) * in / out - 0.5 clamped at 0, or
dst * (in - 1) / (out - 1) with align_corners), gradients by the harness."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from harness import Case, check

import actnet.neuron as F
import actnet.tensor as at


def _source(
    dst: int, n_in: int, n_out: int, mode: str, align: bool | None
) -> list[tuple[int, float]]:
    """(source index, weight) pairs of one output coordinate along one axis."""
    if mode == "nearest":
        return [(min(int(np.floor(dst * n_in / n_out)), n_in - 1), 1.0)]
    if align:
        coord = dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        coord = max((dst + 0.5) * n_in / n_out - 0.5, 0.0)
    low = min(int(np.floor(coord)), n_in - 1)
    high = min(low + 1, n_in - 1)
    w = coord - low
    return [(low, 1.0 - w), (high, w)]


def _oracle(
    x: np.ndarray, size: tuple[int, ...], mode: str, align: bool | None
) -> np.ndarray:
    spatial = x.shape[2:]
    out = np.zeros((*x.shape[:2], *size))
    for pos in itertools.product(*(range(s) for s in size)):
        per_axis = [
            _source(d, n, m, mode, align)
            for d, n, m in zip(pos, spatial, size, strict=True)
        ]
        for combo in itertools.product(*per_axis):
            idx = tuple(i for i, _ in combo)
            weight = float(np.prod([w for _, w in combo]))
            out[(..., *pos)] += weight * x[(..., *idx)]
    return out


CASES = [
    Case(
        f"{mode} align={align} {shape} -> {size}",
        lambda rng, shape=shape: [rng.standard_normal(shape)],
        lambda F, x, size=size, mode=mode, align=align: F.interpolate(
            x, size=size, mode=mode, align_corners=align
        ),
        lambda x, size=size, mode=mode, align=align: _oracle(x, size, mode, align),
    )
    for shape, size, mode, align in (
        ((2, 3, 5), (8,), "nearest", None),
        ((1, 2, 4, 3), (3, 7), "nearest", None),
        ((2, 1, 5), (9,), "linear", False),
        ((1, 2, 3, 4), (5, 6), "bilinear", False),
        ((1, 2, 3, 4), (5, 6), "bilinear", True),
        ((1, 1, 2, 3, 2), (3, 4, 3), "trilinear", False),
        ((1, 2, 6, 6), (4, 3), "bilinear", False),  # downsampling
    )
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_interpolate(case: Case) -> None:
    check(case, F)


def test_scale_factor_and_refusals() -> None:
    x = at.randn(1, 1, 4, 6)
    assert F.interpolate(x, scale_factor=1.5).shape == (1, 1, 6, 9)
    assert F.interpolate(x, scale_factor=(2, 0.5), mode="bilinear").shape == (
        1,
        1,
        8,
        3,
    )
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4D input"):
        F.interpolate(at.randn(1, 1, 4), size=8, mode="bilinear")
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=8, align_corners=True)
