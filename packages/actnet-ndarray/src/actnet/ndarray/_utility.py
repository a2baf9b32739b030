"""Utility functions of the standard: all, any and diff.

x = xp.asarray([[1, 0], [4, 9]])
xp.all(x, axis=1)                    # [False, True]
xp.any(x)                            # True
xp.diff(x, axis=0)                   # [[3, 9]]
xp.diff(xp.asarray([1, 4, 9]), n=2)  # [2]
"""

from __future__ import annotations

import builtins
from typing import Literal

from actnet.device import Buffer
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import (
    array_arg,
    common_device,
    int_arg,
    normalize_axis,
)
from actnet.ndarray._array import NDArray, _wrap
from actnet.ndarray._statistical import Axes, bool_arg, checked, reduction_axes

__all__ = ["all", "any", "diff"]


def _truth(
    op: Literal["all", "any"], x: NDArray, axis: Axes, keepdims: builtins.bool
) -> NDArray:
    array_arg(x, op)
    axes = reduction_axes(x, axis, op)
    bool_arg(keepdims, op, "keepdims")
    dev = x.device
    method = dev.all if op == "all" else dev.any
    return _wrap(method(x.buffer, axes, keepdims))


def all(
    x: NDArray, /, *, axis: Axes = None, keepdims: builtins.bool = False
) -> NDArray:
    """Whether every element over `axis` is nonzero (NaN counts as nonzero);
    True over an empty extent.

    >>> xp.all(xp.asarray([1.0, float("nan")]))           # True
    """
    return _truth("all", x, axis, keepdims)


def any(
    x: NDArray, /, *, axis: Axes = None, keepdims: builtins.bool = False
) -> NDArray:
    """Whether some element over `axis` is nonzero; False over an empty extent.

    >>> xp.any(xp.asarray([[0, 0], [0, 2]]), axis=0)      # [False, True]
    """
    return _truth("any", x, axis, keepdims)


def _edge(
    x: NDArray, values: NDArray | None, axis: int, argument: str
) -> NDArray | None:
    """`values` to join to x along `axis`, checked: same axes and extents as x
    off `axis`."""
    if values is None:
        return None
    checked(values, "diff", "numeric", argument)
    common_device([x, values], "diff", ["x", argument])
    expected = (*x.shape[:axis], None, *x.shape[axis + 1 :])
    actual = (*values.shape[:axis], None, *values.shape[axis + 1 :])
    if values.ndim != x.ndim or actual != expected:
        raise ValueError(
            f"diff: {argument} has shape {values.shape}, which must equal x's "
            f"{x.shape} but along axis {axis}"
        )
    return values


def _joined(parts: list[NDArray], axis: int) -> Buffer:
    """The arrays joined along `axis`, in the dtype they promote to."""
    target = parts[0].dtype
    for part in parts[1:]:
        target = dt.result_type_of(target, part.dtype)
    dev = parts[0].device
    bufs = [
        p.buffer if p.dtype == target else dev.astype(p.buffer, target) for p in parts
    ]
    return bufs[0] if len(bufs) == 1 else dev.concatenate(bufs, axis)


def diff(
    x: NDArray,
    /,
    *,
    axis: int = -1,
    n: int = 1,
    prepend: NDArray | None = None,
    append: NDArray | None = None,
) -> NDArray:
    """The n-th forward difference along `axis`: out[i] = a[i + 1] - a[i],
    applied n times to a, which is x with `prepend` before it and `append` after
    it along the axis (the three promote by the table). The axis shrinks by n (to
    no less than 0).

    >>> xp.diff(xp.asarray([1, 2, 4, 7]))                  # [1, 2, 3]
    """
    checked(x, "diff", "numeric")
    if x.ndim == 0:
        raise ValueError("diff: x must have at least one axis, got a 0-d array")
    a = normalize_axis(axis, x.ndim, "diff")
    if int_arg(n, "diff", "n") < 0:
        raise ValueError(f"diff: n must be non-negative, got {n}")
    before_x = _edge(x, prepend, a, "prepend")
    after_x = _edge(x, append, a, "append")
    buf = _joined([p for p in (before_x, x, after_x) if p is not None], a)
    dev = x.device
    before = (slice(None),) * a
    for _ in range(n):
        buf = dev.subtract(buf[(*before, slice(1, None))], buf[(*before, slice(-1))])
    return _wrap(buf)
