"""affine_grid: the sampling grid of a batch of affine transforms, for
grid_sample (a constant base grid times theta: theta's gradient is matmul's)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

import actnet.tensor as at
from actnet.neuron.array.grid_sample import ALIGN_CORNERS_DEFAULT
from actnet.tensor import Tensor

_UNIT_SIZE = (
    "Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
    "when align_corners=True. This is not an intended use case of affine_grid. "
    "See the documentation of affine_grid for details."
)


def affine_grid(
    theta: Tensor, size: Sequence[int], align_corners: bool | None = None
) -> Tensor:
    """The grid (N, H, W, 2) that grid_sample reads an image of `size`
    (N, C, H, W) through theta (N, 2, 3), or (N, D, H, W, 3) for size
    (N, C, D, H, W) and theta (N, 3, 4) (torch.nn.functional.affine_grid): each
    output pixel's normalized (x, y[, z], 1) times theta's transpose. The pixel
    coordinates span [-1, 1] between the corner pixels' centres with
    align_corners, between their outer edges without (the default; None warns,
    as PyTorch does); a unit-size axis sits at 0.

    >>> affine_grid(tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), (1, 1, 1, 2),
    ...             align_corners=False)
    tensor([[[[-0.5,  0. ],
               [ 0.5,  0. ]]]])
    """
    if align_corners is None:
        warnings.warn(ALIGN_CORNERS_DEFAULT, UserWarning, stacklevel=2)
        align_corners = False
    if not isinstance(theta, Tensor):
        raise TypeError(
            f"affine_grid: theta must be a Tensor, got {type(theta).__name__}"
        )
    if not at.is_floating_point(theta):
        raise ValueError(
            f"Expected theta to have floating point type, but got {theta.dtype}"
        )
    sizes = _sizes(size)
    spatial_sizes = _spatial_sizes(theta, size, sizes)
    if align_corners and min(spatial_sizes) == 1:
        warnings.warn(_UNIT_SIZE, UserWarning, stacklevel=2)
    elif min(sizes) <= 0:  # as PyTorch: not checked after the warning above
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != sizes[0]:
        raise RuntimeError(
            f"affine_grid: theta holds {theta.shape[0]} matrices, but size asks "
            f"for a batch of {sizes[0]}"
        )
    spatial = len(spatial_sizes)
    base = _base_grid(spatial_sizes, bool(align_corners))
    points = base.shape[0]
    base_tensor = at.tensor(
        base.reshape(1, points, spatial + 1), dtype=theta.dtype, device=theta.device
    )
    grid = at.matmul(base_tensor, theta.transpose(1, 2))
    return grid.reshape(sizes[0], *spatial_sizes, spatial)


def _sizes(size: Sequence[int]) -> list[int]:
    if isinstance(size, str | bytes) or not isinstance(size, Sequence):
        raise TypeError(
            f"affine_grid: size must be a sequence of ints, got {type(size).__name__}"
        )
    sizes = list(size)
    if any(isinstance(s, bool) or not isinstance(s, int) for s in sizes):
        raise TypeError(f"affine_grid: size must hold ints, got {size!r}")
    return sizes


def _spatial_sizes(theta: Tensor, size: Sequence[int], sizes: list[int]) -> list[int]:
    """The output's spatial sizes, after checking theta's shape fits them."""
    if len(sizes) == 4:
        if theta.ndim != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(
                "Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                f"{size}. Got {theta.shape}."
            )
        return sizes[-2:]
    if len(sizes) == 5:
        if theta.ndim != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(
                "Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                f"{size}. Got {theta.shape}."
            )
        return sizes[-3:]
    raise NotImplementedError(
        "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
        f"transforms, respectively. Got size {size}."
    )


def _base_grid(spatial_sizes: list[int], align_corners: bool) -> np.ndarray:
    """(prod(sizes), spatial + 1): each pixel's (x, y[, z], 1), x along the last
    axis, pixels in row-major order."""
    axes = [_linspace(n, align_corners) for n in spatial_sizes]
    mesh = np.meshgrid(*axes, indexing="ij")  # one array per axis, D/H/W order
    columns = [m.reshape(-1) for m in reversed(mesh)]  # x first
    columns.append(np.ones_like(columns[0]))
    return np.stack(columns, axis=-1)


def _linspace(steps: int, align_corners: bool) -> np.ndarray:
    """PyTorch's linspace_from_neg_one: -1 to 1, shrunk by (steps - 1) / steps
    without align_corners; a single step at 0."""
    if steps <= 1:
        return np.zeros(max(steps, 0))
    values = np.linspace(-1.0, 1.0, steps)
    if not align_corners:
        values = values * (steps - 1) / steps
    return values
