"""Searching functions of the standard: argmax, argmin, count_nonzero, nonzero,
searchsorted and where.

    x = xp.asarray([[3, 1], [2, 5]])
    xp.argmax(x, axis=1)                 # [0, 1]
    xp.where(x > 2, x, 0)                # Python scalars are weak: int64 result
    xp.searchsorted(xp.asarray([1, 3, 5]), xp.asarray([3]), side="right")  # [2]

Indices are int64, the default index dtype.
"""

from __future__ import annotations

import builtins
from typing import Any, Literal

from actnet.device import Buffer
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import (
    array_arg,
    common_device,
    normalize_axes,
    normalize_axis,
)
from actnet.ndarray._array import NDArray, Scalar, _promote_pair, _wrap
from actnet.ndarray._data_types import weak_scalar_dtype

__all__ = [
    "argmax",
    "argmin",
    "count_nonzero",
    "nonzero",
    "searchsorted",
    "where",
]

_REAL_NUMERIC = {*dt.INTEGER, *dt.REAL_FLOATING}  # and bfloat16, once it loads:
dt.on_bfloat16(_REAL_NUMERIC.add)


def _real_arg(x: NDArray, op: str, argument: str = "x") -> NDArray:
    """`x`, checked: an NDArray of a real numeric dtype (not bool, not complex)."""
    array_arg(x, op, argument)
    if x.dtype not in _REAL_NUMERIC:
        raise TypeError(
            f"{op}: {argument} must have a real numeric dtype, got {x.dtype}"
        )
    return x


def _arg_reduce(
    op: Literal["argmax", "argmin"],
    x: NDArray,
    axis: int | None,
    keepdims: builtins.bool,
) -> NDArray:
    _real_arg(x, op)
    a = None if axis is None else normalize_axis(axis, x.ndim, op)
    if x.size == 0 and (a is None or x.shape[a] == 0):
        raise ValueError(f"{op}: the array has no elements to compare along the axis")
    dev = x.device
    method = dev.argmax if op == "argmax" else dev.argmin
    return _wrap(method(x.buffer, a, keepdims))


def argmax(
    x: NDArray, /, *, axis: int | None = None, keepdims: builtins.bool = False
) -> NDArray:
    """The index of the first maximum along `axis` (of the flattened x when
    None)."""
    return _arg_reduce("argmax", x, axis, keepdims)


def argmin(
    x: NDArray, /, *, axis: int | None = None, keepdims: builtins.bool = False
) -> NDArray:
    """The index of the first minimum along `axis` (of the flattened x when
    None)."""
    return _arg_reduce("argmin", x, axis, keepdims)


def _nonzero_mask(x: NDArray) -> Buffer:
    """A bool buffer: where x is not zero (NaN counts as nonzero)."""
    buf = x.buffer
    if x.dtype == dt.bool_:
        return buf
    if x.dtype.kind == "c":
        return x.device.not_equal(buf, 0)
    return x.device.astype(buf, dt.bool_)


def count_nonzero(
    x: NDArray,
    /,
    *,
    axis: int | tuple[int, ...] | None = None,
    keepdims: builtins.bool = False,
) -> NDArray:
    """How many elements of x are not zero, over `axis` (all axes when None), as
    an int64 array."""
    array_arg(x, "count_nonzero")
    axes = None if axis is None else normalize_axes(axis, x.ndim, "count_nonzero")
    dev = x.device
    ones = dev.astype(_nonzero_mask(x), dt.int64)
    return _wrap(dev.sum(ones, axes, keepdims))


def nonzero(x: NDArray, /) -> tuple[NDArray, ...]:
    """One int64 array per axis of x with the indices of its nonzero elements, in
    row-major order."""
    array_arg(x, "nonzero")
    if x.ndim == 0:
        raise ValueError("nonzero: a 0-d array has no indices; reshape it to 1-d")
    return tuple(_wrap(b) for b in x.device.nonzero(x.buffer))


def searchsorted(
    x1: NDArray,
    x2: NDArray,
    /,
    *,
    side: Literal["left", "right"] = "left",
    sorter: NDArray | None = None,
) -> NDArray:
    """For each element v of x2, the index i at which inserting v keeps the 1-d x1
    ascending: x1[i-1] < v <= x1[i] for side="left", x1[i-1] <= v < x1[i] for
    "right". `sorter` (indices that sort x1) stands in for a sorted x1."""
    _real_arg(x1, "searchsorted", "x1")
    _real_arg(x2, "searchsorted", "x2")
    common_device([x1, x2], "searchsorted", ("x1", "x2"))
    if x1.ndim != 1:
        raise ValueError(f"searchsorted: x1 must be 1-d, got shape {x1.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    dev = x1.device
    haystack, needles = _promote_pair(x1, x2)
    if sorter is not None:
        _sorter_arg(sorter, x1)
        haystack = dev.take(haystack, sorter.buffer, 0)
    return _wrap(dev.searchsorted(haystack, needles, side=side))


def _sorter_arg(sorter: NDArray, x1: NDArray) -> None:
    array_arg(sorter, "searchsorted", "sorter")
    if sorter.dtype not in dt.INTEGER:
        raise TypeError(
            f"searchsorted: sorter must have an integer dtype, got {sorter.dtype}"
        )
    if sorter.shape != x1.shape:
        raise ValueError(
            f"searchsorted: sorter has shape {sorter.shape}, x1 has {x1.shape}"
        )
    if sorter.device is not x1.device:
        raise ValueError(
            f"searchsorted: sorter is on {sorter.device.name}, x1 on {x1.device.name}"
        )


def where(condition: NDArray, x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """x1 where `condition` is true, else x2 (all broadcast together). Two arrays
    promote by the table; a Python scalar takes the other operand's dtype (a
    complex one makes a real floating array complex, as the standard says)."""
    array_arg(condition, "where", "condition")
    if condition.dtype != dt.bool_:
        raise TypeError(f"where: condition must be bool, got {condition.dtype}")
    arrays = {"condition": condition}
    for name, v in (("x1", x1), ("x2", x2)):
        if type(v) is NDArray:
            arrays[name] = v
        elif not isinstance(v, Scalar):
            raise TypeError(
                f"where: {name} must be an NDArray or a Python scalar, "
                f"got {type(v).__name__}"
            )
    if len(arrays) == 1:
        raise TypeError("where: at least one of x1 and x2 must be an NDArray")
    common_device(list(arrays.values()), "where", list(arrays))
    a, b = _where_operands(x1, x2)
    return _wrap(condition.device.where(condition.buffer, a, b))


def _where_operands(
    x1: NDArray | Scalar, x2: NDArray | Scalar
) -> tuple[Buffer | Scalar, Buffer | Scalar]:
    """Two arrays promoted by the table, or an array cast to the dtype it
    combines with the Python scalar to (and the scalar)."""
    if isinstance(x1, NDArray):
        if isinstance(x2, NDArray):
            return _promote_pair(x1, x2)
        return _with_scalar(x1, x2), x2
    assert isinstance(x2, NDArray)  # where() checked that one is an array
    return x1, _with_scalar(x2, x1)


def _with_scalar(x: NDArray, value: Any) -> Buffer:
    """x's buffer, cast to the dtype it combines with the Python scalar to."""
    target = weak_scalar_dtype(x.dtype, value, "where")
    return x.buffer if target == x.dtype else x.device.astype(x.buffer, target)
