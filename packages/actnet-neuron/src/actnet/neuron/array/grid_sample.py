"""grid_sample: input read at the points of a grid of normalized coordinates,
by bilinear (trilinear), nearest or bicubic interpolation, composed of index
selections (the gradients are index_select's and the weights')."""

from __future__ import annotations

import itertools
import math
import warnings

import actnet.tensor as at
from actnet.neuron._checks import check_tensor
from actnet.neuron.array import _grid_coordinates as coords
from actnet.tensor import Tensor
from actnet.tensor.amp import autocast_op

_OP = "grid_sampler()"
MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")
# PyTorch's text, shared with affine_grid
ALIGN_CORNERS_DEFAULT = (
    "Default grid_sample and affine_grid behavior has changed to "
    "align_corners=False since 1.3.0. Please specify align_corners=True if the "
    "old behavior is desired. See the documentation of grid_sample for details."
)


@autocast_op("grid_sampler")
def grid_sample(
    input: Tensor,
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """input (N, C, H, W) read at grid (N, H_out, W_out, 2), or (N, C, D, H, W)
    at grid (N, D_out, H_out, W_out, 3) (torch.nn.functional.grid_sample): the
    grid's last dim holds (x, y[, z]) in [-1, 1], x along W. -1 and 1 are the
    centres of the corner pixels with align_corners, their outer edges without
    (the default; None warns, as PyTorch does). Points outside read zeros, the
    border pixels ('border') or the input reflected at the border
    ('reflection'). 'bilinear' is trilinear for 5-D input; 'nearest' rounds
    halves to even; 'bicubic' (4-D only) is the cubic convolution with
    A = -0.75, each of its 16 taps padded on its own. Differentiable in input
    and grid (the grid's gradient is zero for 'nearest').

    >>> x = arange(4.0).reshape(1, 1, 2, 2)
    >>> grid_sample(x, zeros(1, 1, 1, 2), align_corners=True)
    tensor([[[[1.5]]]])
    """
    if mode not in MODES:
        raise ValueError(
            "nn.functional.grid_sample(): expected mode to be 'bilinear', "
            f"'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in PADDING_MODES:
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
            f"'border', or 'reflection', but got: '{padding_mode}'"
        )
    if align_corners is None:
        warnings.warn(ALIGN_CORNERS_DEFAULT, UserWarning, stacklevel=2)
        align_corners = False
    _check(input, grid, mode)
    return _sample(input, grid, mode, padding_mode, bool(align_corners))


def _check(input: Tensor, grid: Tensor, mode: str) -> None:
    check_tensor(input, _OP, kinds="f")
    check_tensor(grid, _OP, argument="grid", kinds="f")
    if input.dtype != grid.dtype:
        raise TypeError(
            f"{_OP}: expected input and grid to have the same dtype, but input "
            f"has {input.dtype} and grid has {grid.dtype}"
        )
    if input.device != grid.device:
        raise RuntimeError(
            f"{_OP}: expected input and grid to be on same device, but input is "
            f"on {input.device} and grid is on {grid.device}"
        )
    sizes, grid_sizes = list(input.shape), list(grid.shape)
    if input.ndim >= 1 and grid.ndim >= 1 and input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            f"{_OP}: expected grid and input to have same batch size, but got "
            f"input with sizes {sizes} and grid with sizes {grid_sizes}"
        )
    if grid.ndim >= 1 and grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(
            f"{_OP}: expected grid to have size {input.ndim - 2} in last "
            f"dimension, but got grid with sizes {grid_sizes}"
        )
    for dim in range(2, input.ndim):
        if input.shape[dim] == 0:
            raise RuntimeError(
                f"{_OP}: expected input to have non-empty spatial dimensions, but "
                f"input has sizes {sizes} with dimension {dim} being empty"
            )
    rank = 4 if input.ndim == 4 else 5  # what PyTorch's message names
    if input.ndim != rank or grid.ndim != rank:
        raise RuntimeError(
            f"{_OP}: expected {rank}D input and grid with same number of "
            f"dimensions, but got input with sizes {sizes} and grid with sizes "
            f"{grid_sizes}"
        )
    if rank == 5 and mode == "bicubic":
        raise RuntimeError(f"{_OP}: bicubic interpolation only supports 4D input")


def _sample(
    input: Tensor, grid: Tensor, mode: str, padding_mode: str, align_corners: bool
) -> Tensor:
    n, channels = input.shape[0], input.shape[1]
    sizes = input.shape[2:]  # (H, W) or (D, H, W)
    spatial = len(sizes)
    out_sizes = grid.shape[1:-1]
    per_grid = math.prod(out_sizes)
    points = n * per_grid
    per_sample = math.prod(sizes)
    # one row of channels per input pixel, sample b's from row b * per_sample
    rows = input.permute(0, *range(2, 2 + spatial), 1)
    rows = rows.reshape(n * per_sample, channels)
    flat_grid = grid.reshape(points, spatial)
    first = at.arange(n, device=input.device) * per_sample
    first = first.reshape(n, 1).expand(n, per_grid).reshape(points, 1)
    taps_per_axis = []
    for axis, size in enumerate(sizes):
        component = spatial - 1 - axis  # the grid's x (component 0) is along W
        g = flat_grid[:, component : component + 1]
        c = coords.unnormalize(g, size, align_corners)
        if mode == "bicubic":  # pads each tap, not the coordinate
            taps_per_axis.append(
                coords.cubic_taps(c, size, padding_mode, align_corners)
            )
            continue
        c = coords.pad(c, size, padding_mode, align_corners)
        if mode == "nearest":
            taps_per_axis.append([coords.nearest_tap(c, size)])
        else:
            taps_per_axis.append(coords.linear_taps(c, size))
    strides = [math.prod(sizes[axis + 1 :]) for axis in range(spatial)]
    out: Tensor | None = None
    for corner in itertools.product(*taps_per_axis):
        index = first
        weight = corner[0].weight
        valid = corner[0].valid
        for axis, tap in enumerate(corner):
            index = index + tap.pixel * strides[axis]
            if axis:
                weight = weight * tap.weight
                valid = valid & tap.valid
        values = at.index_select(rows, 0, index.reshape(points))
        # a tap outside reads a zero (not 0 times the clamped pixel: that may be
        # inf, and its gradient too)
        term = at.where(valid, values, 0.0) * weight
        out = term if out is None else out + term
    assert out is not None
    # (points, C) -> (N, *out_sizes, C) -> (N, C, *out_sizes)
    out = out.reshape(n, *out_sizes, channels)
    return out.permute(0, spatial + 1, *range(1, spatial + 1))
