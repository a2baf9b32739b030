"""Sorting functions of the standard: sort and argsort.

    x = xp.asarray([[3, 1, 2], [1, 1, 0]])
    xp.sort(x)                           # each row ascending
    xp.argsort(x, descending=True)       # [[0, 2, 1], [0, 1, 2]]: ties keep order

Sorts are always stable (`stable=False` is allowed and gives a stable sort, which
the standard permits); NaNs go last in an ascending sort.
"""

from __future__ import annotations

import builtins

from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import array_arg, int_arg, normalize_axis
from actnet.ndarray._array import NDArray, _wrap

__all__ = ["argsort", "sort"]

_REAL_NUMERIC = {*dt.INTEGER, *dt.REAL_FLOATING}  # and bfloat16, once it loads:
dt.on_bfloat16(_REAL_NUMERIC.add)


def _sortable(x: NDArray, axis: int, op: str) -> int:
    """x checked (real numeric, at least 1-d) and `axis` as a position."""
    array_arg(x, op)
    if x.dtype not in _REAL_NUMERIC:
        raise TypeError(f"{op}: x must have a real numeric dtype, got {x.dtype}")
    int_arg(axis, op, "axis")
    if x.ndim == 0:
        raise ValueError(f"{op}: a 0-d array has no axis to sort along")
    return normalize_axis(axis, x.ndim, op)


def sort(
    x: NDArray,
    /,
    *,
    axis: int = -1,
    descending: builtins.bool = False,
    stable: builtins.bool = True,
) -> NDArray:
    """x with its values sorted along `axis` (ascending unless `descending`)."""
    a = _sortable(x, axis, "sort")
    return _wrap(x.device.sort(x.buffer, a, descending=builtins.bool(descending)))


def argsort(
    x: NDArray,
    /,
    *,
    axis: int = -1,
    descending: builtins.bool = False,
    stable: builtins.bool = True,
) -> NDArray:
    """The int64 indices that sort x along `axis`; equal values keep their order
    (also when `descending`)."""
    a = _sortable(x, axis, "argsort")
    return _wrap(x.device.argsort(x.buffer, a, descending=builtins.bool(descending)))
