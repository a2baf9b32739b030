"""interpolate: resampling over the spatial dims (nearest, linear, bilinear,
trilinear), separably, from differentiable index selections."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

import actnet.tensor as at
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor

_OP = "interpolate"
# The mode each count of spatial dims takes for linear interpolation.
_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
MODES = ("nearest", "linear", "bilinear", "trilinear")


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """input (N, C, *spatial) resampled to `size`, or to the spatial sizes times
    `scale_factor` (floored) (torch.nn.functional.interpolate): 'nearest' takes
    the source element at floor(dst * in / out); the linear modes ('linear' 1-D,
    'bilinear' 2-D, 'trilinear' 3-D) weigh the two neighbours of the source
    coordinate, (dst + 0.5) * in / out - 0.5 (clamped at 0), or dst * (in - 1) /
    (out - 1) with `align_corners`. A given scale_factor maps coordinates by
    1 / scale_factor, as PyTorch does."""
    check_tensor(input, _OP, kinds="f")
    spatial = input.ndim - 2
    if spatial < 1 or spatial > 3:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
            f"{input.ndim}D) for the modes: nearest | linear | bilinear | trilinear"
        )
    if mode not in MODES:
        raise NotImplementedError(f"{_OP}: mode {mode!r} is not built; {MODES} are")
    if mode != "nearest" and mode != _LINEAR[spatial]:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs "
            f"{ {'linear': 3, 'bilinear': 4, 'trilinear': 5}[mode] }D input"
        )
    if mode == "nearest" and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear"
        )
    sizes_in = input.shape[2:]
    out_sizes, scales = _sizes(sizes_in, size, scale_factor)
    x = input
    for axis in range(spatial):
        dim = 2 + axis
        n_in, n_out = sizes_in[axis], out_sizes[axis]
        scale = scales[axis]
        dst = np.arange(n_out, dtype=np.float64)
        if mode == "nearest":
            ratio = n_in / n_out if scale is None else 1.0 / scale
            src = np.minimum(np.floor(dst * ratio).astype(np.int64), n_in - 1)
            x = at.index_select(x, dim, _index(src, x))
            continue
        if align_corners:
            ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            coord = dst * ratio
        else:
            ratio = n_in / n_out if scale is None else 1.0 / scale
            coord = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
        low = np.minimum(np.floor(coord).astype(np.int64), n_in - 1)
        high = np.minimum(low + 1, n_in - 1)
        shape = [1] * x.ndim
        shape[dim] = n_out
        weight = at.tensor((coord - low).reshape(shape), dtype=x.dtype, device=x.device)
        a = at.index_select(x, dim, _index(low, x))
        b = at.index_select(x, dim, _index(high, x))
        x = a + (b - a) * weight
    return x


def _index(values: np.ndarray, like: Tensor) -> Tensor:
    return at.tensor(values.astype(np.int64), device=like.device)


def _sizes(
    sizes_in: tuple[int, ...],
    size: int | Sequence[int] | None,
    scale_factor: float | Sequence[float] | None,
) -> tuple[list[int], list[float | None]]:
    n = len(sizes_in)
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = [size] * n if isinstance(size, int) else list(size)
        if len(sizes) != n or any(
            isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in sizes
        ):
            raise ValueError(
                f"{_OP}: size must be a positive int or {n} of them, got {size!r}"
            )
        return sizes, [None] * n
    assert scale_factor is not None
    factors = (
        [scale_factor] * n
        if isinstance(scale_factor, int | float)
        else list(scale_factor)
    )
    if len(factors) != n or any(
        isinstance(f, bool) or not isinstance(f, int | float) or not f > 0
        for f in factors
    ):
        raise ValueError(
            f"{_OP}: scale_factor must be a positive number or {n} of them, got "
            f"{scale_factor!r}"
        )
    sizes = [math.floor(s * f) for s, f in zip(sizes_in, factors, strict=True)]
    return sizes, [float(f) for f in factors]
