"""Indexing functions of the standard: take and take_along_axis.

    x = xp.asarray([[10, 20, 30], [40, 50, 60]])
    xp.take(x, xp.asarray([2, 0]), axis=1)             # [[30, 10], [60, 40]]
    xp.take_along_axis(x, xp.argsort(-x, axis=1), axis=1)   # each row descending

Indices may be negative (counting from the end); out-of-range ones are an
IndexError, never wrapped.
"""

from __future__ import annotations

from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import array_arg, broadcast_shapes, normalize_axis
from actnet.ndarray._array import NDArray, _wrap

__all__ = ["take", "take_along_axis"]


def _indices_arg(indices: NDArray, x: NDArray, op: str) -> NDArray:
    """`indices`, checked: an integer NDArray on x's device."""
    array_arg(indices, op, "indices")
    if indices.dtype not in dt.INTEGER:
        raise TypeError(
            f"{op}: indices must have an integer dtype, got {indices.dtype}"
        )
    if indices.device is not x.device:
        raise ValueError(
            f"{op}: indices is on {indices.device.name}, x on {x.device.name}"
        )
    return indices


def take(x: NDArray, indices: NDArray, /, *, axis: int | None = None) -> NDArray:
    """The elements of x at the 1-d `indices` along `axis` (which may be left out
    for a 1-d x)."""
    array_arg(x, "take")
    _indices_arg(indices, x, "take")
    if indices.ndim != 1:
        raise ValueError(f"take: indices must be 1-d, got shape {indices.shape}")
    if x.ndim == 0:
        raise ValueError("take: x must have at least one axis")
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"take: axis is required for an array with {x.ndim} axes")
        axis = 0
    a = normalize_axis(axis, x.ndim, "take")
    return _wrap(x.device.take(x.buffer, indices.buffer, a))


def take_along_axis(x: NDArray, indices: NDArray, /, *, axis: int = -1) -> NDArray:
    """out[..., i, ...] = x[..., indices[..., i, ...], ...] along `axis`; the other
    axes of x and indices broadcast together."""
    array_arg(x, "take_along_axis")
    _indices_arg(indices, x, "take_along_axis")
    if x.ndim == 0:
        raise ValueError("take_along_axis: x must have at least one axis")
    if indices.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices has {indices.ndim} axes, x has {x.ndim}"
        )
    a = normalize_axis(axis, x.ndim, "take_along_axis")
    others = broadcast_shapes(
        [x.shape[:a] + x.shape[a + 1 :], indices.shape[:a] + indices.shape[a + 1 :]],
        "take_along_axis",
    )
    source = x.buffer.broadcast_to((*others[:a], x.shape[a], *others[a:]))
    index = indices.buffer.broadcast_to((*others[:a], indices.shape[a], *others[a:]))
    return _wrap(x.device.gather(source, index, a))
