"""grid_sample and affine_grid against a point-by-point NumPy oracle written from
PyTorch's documented formulas (GridSampler.h: unnormalize, clip, reflect by
fmod and flips, nearbyint, the cubic convolution with A = -0.75 and each tap
padded on its own); gradients of input, grid and theta by the harness (finite
differences), refusals and warnings by their texts."""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")
A = -0.75


# ----------------------------------------------------------- the oracle
def _unnormalize(coord: float, size: int, align: bool) -> float:
    if align:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(x: float, twice_low: int, twice_high: int) -> float:
    if twice_low == twice_high:
        return 0.0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    x = abs(x - low)
    extra = math.fmod(x, span)
    flips = math.floor(x / span)
    return extra + low if flips % 2 == 0 else span - extra + low


def _pad(x: float, size: int, padding: str, align: bool) -> float:
    if padding == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align else _reflect(x, -1, 2 * size - 1)
    if padding in ("border", "reflection"):
        x = min(max(x, 0.0), size - 1.0)
    return x


def _cubic(t: float) -> list[float]:
    def near(x: float) -> float:
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x: float) -> float:
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _taps(
    coord: float, size: int, mode: str, padding: str, align: bool
) -> list[tuple[int, float]]:
    """(pixel index, weight) pairs of one point along one axis."""
    if mode == "bicubic":
        u = _unnormalize(coord, size, align)
        low = math.floor(u)
        weights = _cubic(u - low)
        return [
            (int(_pad(low - 1 + i, size, padding, align)), weights[i]) for i in range(4)
        ]
    u = _pad(_unnormalize(coord, size, align), size, padding, align)
    if mode == "nearest":
        return [(int(np.rint(u)), 1.0)]  # rint: halves to even, as nearbyint
    low = math.floor(u)
    return [(low, low + 1 - u), (low + 1, u - low)]


def oracle_grid_sample(
    x: np.ndarray, grid: np.ndarray, mode: str, padding: str, align: bool
) -> np.ndarray:
    sizes = x.shape[2:]
    k = len(sizes)
    out = np.zeros((*x.shape[:2], *grid.shape[1:-1]))
    for n in range(x.shape[0]):
        for pos in itertools.product(*(range(s) for s in grid.shape[1:-1])):
            point = grid[(n, *pos)]
            per_axis = [
                _taps(point[k - 1 - axis], size, mode, padding, align)
                for axis, size in enumerate(sizes)
            ]
            for combo in itertools.product(*per_axis):
                idx = tuple(i for i, _ in combo)
                if all(0 <= i < s for i, s in zip(idx, sizes, strict=True)):
                    weight = math.prod(w for _, w in combo)
                    out[(n, slice(None), *pos)] += weight * x[(n, slice(None), *idx)]
    return out


def oracle_affine_grid(
    theta: np.ndarray, size: tuple[int, ...], align: bool
) -> np.ndarray:
    spatial = size[2:]
    out = np.zeros((size[0], *spatial, len(spatial)))

    def place(i: int, steps: int) -> float:
        if steps == 1:
            return 0.0
        step = -1 + 2 * i / (steps - 1)
        return step if align else step * (steps - 1) / steps

    for n in range(size[0]):
        for pos in itertools.product(*(range(s) for s in spatial)):
            # (x, y[, z]): x along the last axis
            point = [place(i, s) for i, s in zip(pos, spatial, strict=True)][::-1]
            out[(n, *pos)] = theta[n] @ np.array([*point, 1.0])
    return out


# ----------------------------------------------------------- the cases
def _sample_case(
    shape: tuple[int, ...], out: tuple[int, ...], mode: str, padding: str, align: bool
) -> Case:
    k = len(shape) - 2
    return Case(
        f"grid_sample {k}d {mode} {padding} align={align}",
        lambda rng: [
            rng.standard_normal(shape),
            rng.uniform(-1.3, 1.3, (shape[0], *out, k)),  # some points outside
        ],
        lambda F, x, g: F.grid_sample(x, g, mode, padding, align),
        lambda x, g: oracle_grid_sample(x, g, mode, padding, align),
        differentiable=(0, 1),
    )


CASES = [
    _sample_case((2, 2, 4, 5), (3, 4), mode, padding, align)
    for mode, padding, align in itertools.product(MODES, PADDINGS, (False, True))
] + [
    _sample_case((1, 2, 3, 4, 5), (2, 3, 2), mode, padding, align)
    for mode, padding, align in itertools.product(MODES[:2], PADDINGS, (False, True))
]


# Halves, quarters and the bounds land exactly on pixel centres, edges and
# nearest's ties (they round to even): values and the input's gradient only (the
# grid's has kinks there).
_EXACT = np.array([-1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.25, 3.0])


def _exact_grid(rng: np.random.Generator) -> list[np.ndarray]:
    gx, gy = np.meshgrid(_EXACT, _EXACT)
    return [rng.standard_normal((1, 2, 4, 4)), np.stack([gx, gy], -1)[None]]


EXACT_CASES = [
    Case(
        f"grid_sample exact points {mode} {padding} align={align}",
        _exact_grid,
        lambda F, x, g, m=mode, p=padding, a=align: F.grid_sample(x, g, m, p, a),
        lambda x, g, m=mode, p=padding, a=align: oracle_grid_sample(x, g, m, p, a),
        differentiable=(0,),
    )
    for mode, padding, align in itertools.product(MODES, PADDINGS, (False, True))
]


def _affine_case(size: tuple[int, ...], align: bool) -> Case:
    rows = len(size) - 2
    return Case(
        f"affine_grid {size} align={align}",
        lambda rng: [rng.standard_normal((size[0], rows, rows + 1))],
        lambda F, theta: F.affine_grid(theta, size, align_corners=align),
        lambda theta: oracle_affine_grid(theta, size, align),
    )


AFFINE_CASES = [
    _affine_case(size, align)
    for size in ((2, 3, 4, 5), (2, 1, 3, 1), (2, 1, 2, 3, 4))
    for align in (False, True)
    if not (align and 1 in size[2:])  # warns: tested below
]


def _through_affine(shape: tuple[int, ...], padding: str, align: bool) -> Case:
    rows = len(shape) - 2
    out = (shape[0], shape[1], *(s + 1 for s in shape[2:]))

    def call(F: Any, x: Any, theta: Any) -> Any:
        grid = F.affine_grid(theta, out, align_corners=align)
        return F.grid_sample(x, grid, "bilinear", padding, align)

    return Case(
        f"grid_sample of affine_grid {rows}d {padding} align={align}",
        lambda rng: [
            rng.standard_normal(shape),
            np.eye(rows, rows + 1)
            + 0.3 * rng.standard_normal((shape[0], rows, rows + 1)),
        ],
        call,
        lambda x, theta: oracle_grid_sample(
            x, oracle_affine_grid(theta, out, align), "bilinear", padding, align
        ),
        differentiable=(0, 1),
    )


THROUGH_AFFINE = [
    _through_affine((2, 2, 3, 4), "reflection", False),
    _through_affine((2, 2, 3, 4), "zeros", True),
    _through_affine((1, 1, 2, 3, 3), "border", False),
]
ALL_CASES = CASES + EXACT_CASES + AFFINE_CASES + THROUGH_AFFINE


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_against_the_oracle(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES[::5] + AFFINE_CASES[:2], ids=str)
def test_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


def test_double_backward() -> None:
    case = _sample_case((1, 2, 3, 4), (2, 3), "bicubic", "border", False)
    case.double_backward = True
    check(case, F)


def test_nearest_gives_the_grid_a_zero_gradient() -> None:
    x = at.randn(1, 2, 3, 4, requires_grad=True)
    grid = at.tensor(np.full((1, 2, 2, 2), 0.3), dtype=at.float32, requires_grad=True)
    F.grid_sample(x, grid, "nearest", align_corners=False).sum().backward()
    assert grid.grad is not None
    assert not np.asarray(grid.grad).any()


def test_empty_batch_and_outputs() -> None:
    y = F.grid_sample(at.randn(0, 3, 4, 5), at.zeros(0, 6, 7, 2), align_corners=False)
    assert y.shape == (0, 3, 6, 7)
    y = F.grid_sample(at.randn(2, 3, 4, 5), at.zeros(2, 0, 7, 2), align_corners=True)
    assert y.shape == (2, 3, 0, 7)
    y = F.grid_sample(at.randn(2, 0, 4, 5), at.zeros(2, 6, 7, 2), align_corners=True)
    assert y.shape == (2, 0, 6, 7)


# ----------------------------------------------------------- warnings and refusals
DEFAULT_WARNING = "Default grid_sample and affine_grid behavior has changed"


def test_align_corners_none_warns_and_means_false() -> None:
    x, grid = at.randn(1, 1, 3, 3), at.rand(1, 2, 2, 2)
    with pytest.warns(UserWarning, match=DEFAULT_WARNING):
        y = F.grid_sample(x, grid)
    expected = F.grid_sample(x, grid, align_corners=False)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(expected))
    theta = at.randn(1, 2, 3)
    with pytest.warns(UserWarning, match=DEFAULT_WARNING):
        g = F.affine_grid(theta, (1, 1, 3, 3))
    expected = F.affine_grid(theta, (1, 1, 3, 3), align_corners=False)
    np.testing.assert_array_equal(np.asarray(g), np.asarray(expected))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.grid_sample(x, grid, align_corners=True)
        F.affine_grid(theta, (1, 1, 3, 3), align_corners=True)


def test_affine_grid_unit_size_with_align_corners_warns() -> None:
    with pytest.warns(UserWarning, match="unit-size grids when align_corners=True"):
        g = F.affine_grid(at.randn(1, 2, 3), (1, 1, 1, 3), align_corners=True)
    assert g.shape == (1, 1, 3, 2)


GRID_REFUSALS = [
    ((2, 3, 4, 5), (2, 3, 3, 2), {"mode": "area"}, ValueError, "expected mode to be"),
    ((2, 3, 4, 5), (2, 3, 3, 2), {"padding_mode": "wrap"}, ValueError,
     "expected padding_mode to be"),
    ((2, 3, 4, 5), (1, 3, 3, 2), {}, RuntimeError, "same batch size"),
    ((2, 3, 4, 5), (2, 3, 3, 3), {}, RuntimeError, "size 2 in last dimension"),
    ((2, 3, 4, 5), (2, 3, 3, 1, 2), {}, RuntimeError,
     "expected 4D input and grid with same number of dimensions"),
    ((2, 3, 4), (2, 3, 1), {}, RuntimeError,
     "expected 5D input and grid with same number of dimensions"),
    ((2, 3, 0, 5), (2, 3, 3, 2), {}, RuntimeError, "dimension 2 being empty"),
    ((1, 1, 2, 3, 4), (1, 2, 2, 2, 3), {"mode": "bicubic"}, RuntimeError,
     "bicubic interpolation only supports 4D input"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "grid_shape", "kwargs", "error", "text"), GRID_REFUSALS
)
def test_grid_sample_refusals(
    shape: tuple[int, ...],
    grid_shape: tuple[int, ...],
    kwargs: dict[str, str],
    error: type[Exception],
    text: str,
) -> None:
    with pytest.raises(error, match=text):
        F.grid_sample(
            at.randn(*shape), at.rand(*grid_shape), align_corners=False, **kwargs
        )


def test_grid_sample_argument_types() -> None:
    x, grid = at.randn(1, 1, 3, 3), at.rand(1, 2, 2, 2)
    with pytest.raises(TypeError, match="input must be a Tensor"):
        F.grid_sample(np.zeros((1, 1, 3, 3)), grid, align_corners=False)  # type: ignore[arg-type]  # the refusal under test
    with pytest.raises(TypeError, match="grid must have a floating dtype"):
        F.grid_sample(x, grid.long(), align_corners=False)
    with pytest.raises(TypeError, match="input and grid to have the same dtype"):
        F.grid_sample(x, grid.double(), align_corners=False)


AFFINE_REFUSALS = [
    ((2, 2, 3), (2, 1, 4, 0), ValueError, "non-zero, positive output size"),
    ((2, 2, 3), (2, 4, 5), NotImplementedError, "only supports 4D and 5D sizes"),
    ((2, 2, 3), (2, 1, 3, 4, 5), ValueError, "3D affine matrices of shape Nx3x4"),
    ((2, 3, 4), (2, 1, 4, 5), ValueError, "2D affine matrices of shape Nx2x3"),
    ((3, 2, 3), (2, 1, 4, 5), RuntimeError, "theta holds 3 matrices"),
]


@pytest.mark.parametrize(("theta_shape", "size", "error", "text"), AFFINE_REFUSALS)
def test_affine_grid_refusals(
    theta_shape: tuple[int, ...],
    size: tuple[int, ...],
    error: type[Exception],
    text: str,
) -> None:
    with pytest.raises(error, match=text):
        F.affine_grid(at.randn(*theta_shape), size, align_corners=False)


def test_affine_grid_argument_types() -> None:
    with pytest.raises(ValueError, match="theta to have floating point type"):
        F.affine_grid(
            at.zeros(1, 2, 3, dtype=at.int64), (1, 1, 2, 2), align_corners=False
        )
    with pytest.raises(TypeError, match="size must hold ints"):
        F.affine_grid(at.randn(1, 2, 3), (1, 1, 2.0, 2), align_corners=False)  # type: ignore[arg-type]  # the refusal under test
    with pytest.raises(TypeError, match="size must be a sequence of ints"):
        F.affine_grid(at.randn(1, 2, 3), 4, align_corners=False)  # type: ignore[arg-type]  # the refusal under test
