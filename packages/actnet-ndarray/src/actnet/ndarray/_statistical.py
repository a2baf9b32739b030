"""Statistical functions of the standard: cumulative_prod, cumulative_sum, max,
mean, min, prod, std, sum and var.

    x = xp.asarray([[1, 2], [3, 4]], dtype=xp.int8)
    xp.sum(x)                            # 10, int64: integers accumulate wide
    xp.mean(xp.astype(x, xp.float32), axis=0)     # [2.0, 3.0]
    xp.cumulative_sum(x, axis=1, include_initial=True)  # [[0, 1, 3], [0, 3, 7]]

With dtype=None, sum, prod and the cumulative functions accumulate an integer
array in the default integer dtype of its signedness (int64, or uint64 for
unsigned input) and a floating array in its own dtype; `dtype` asks for another.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, Final, Literal

from actnet.device import Buffer
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import array_arg, normalize_axes, normalize_axis
from actnet.ndarray._array import NDArray, _wrap

__all__ = [
    "cumulative_prod",
    "cumulative_sum",
    "max",
    "mean",
    "min",
    "prod",
    "std",
    "sum",
    "var",
]

Axes = int | tuple[int, ...] | None

# The dtype categories the functions take, by the name errors give them.
# Each takes bfloat16 too, once it loads (`on_bfloat16`).
DTYPES: Final[dict[str, set[dt.DType]]] = {
    "numeric": set(dt.NUMERIC),
    "real numeric": {*dt.INTEGER, *dt.REAL_FLOATING},
    "floating-point": set(dt.FLOATING),
    "real floating-point": set(dt.REAL_FLOATING),
}


def _take_bfloat16(bf16: dt.DType) -> None:
    for dtypes in DTYPES.values():
        dtypes.add(bf16)


dt.on_bfloat16(_take_bfloat16)


# ------------------------------------------------------------------ helpers
def checked(x: Any, op: str, kind: str, argument: str = "x") -> NDArray:
    """`x`, after checking it is an NDArray with a dtype of `kind` (a key of
    DTYPES)."""
    array = array_arg(x, op, argument)
    if array.dtype not in DTYPES[kind]:
        raise TypeError(f"{op}: {argument} must have a {kind} dtype, got {array.dtype}")
    return array


def reduction_axes(x: NDArray, axis: Axes, op: str) -> tuple[int, ...]:
    """`axis` (None: every axis) as distinct positions in [0, x.ndim)."""
    if axis is None:
        return tuple(range(x.ndim))
    return normalize_axes(axis, x.ndim, op)


def accumulation_dtype(source: dt.DType, dtype: Any, op: str) -> dt.DType:
    """The dtype sum, prod, trace and the cumulative functions compute and return
    in: `dtype` when given, else the default integer dtype of the signedness of
    an integer `source`, else `source` itself."""
    if dtype is not None:
        target = dt.as_dtype(dtype)
        if source.kind == "c" and target.kind != "c":
            raise TypeError(
                f"{op}: cannot accumulate complex {source} in {target}; take real() "
                "or abs() first"
            )
        return target
    if source in dt.SIGNED:
        return dt.DEFAULT_INT
    if source in dt.UNSIGNED:
        return dt.uint64  # the unsigned dtype as wide as the default integer
    return source


def bool_arg(value: Any, op: str, argument: str) -> builtins.bool:
    """`value`, after checking it is a bool."""
    if not isinstance(value, builtins.bool):
        raise TypeError(f"{op}: {argument} must be a bool, got {value!r}")
    return value


def _sum_or_prod(
    op: Literal["sum", "prod"],
    x: NDArray,
    axis: Axes,
    dtype: Any,
    keepdims: builtins.bool,
) -> NDArray:
    checked(x, op, "numeric")
    axes = reduction_axes(x, axis, op)
    target = accumulation_dtype(x.dtype, dtype, op)
    bool_arg(keepdims, op, "keepdims")
    dev = x.device
    method = dev.sum if op == "sum" else dev.prod
    return _wrap(method(x.buffer, axes, keepdims, dtype=target))


# ------------------------------------------------------------------ reductions
def sum(
    x: NDArray,
    /,
    *,
    axis: Axes = None,
    dtype: Any = None,
    keepdims: builtins.bool = False,
) -> NDArray:
    """The sum over `axis` (every axis when None); 0 over an empty extent.

    >>> xp.sum(xp.asarray([[1, 2], [3, 4]]), axis=0)     # [4, 6]
    """
    return _sum_or_prod("sum", x, axis, dtype, keepdims)


def prod(
    x: NDArray,
    /,
    *,
    axis: Axes = None,
    dtype: Any = None,
    keepdims: builtins.bool = False,
) -> NDArray:
    """The product over `axis` (every axis when None); 1 over an empty extent.

    >>> xp.prod(xp.asarray([[1, 2], [3, 4]]), axis=1)    # [2, 12]
    """
    return _sum_or_prod("prod", x, axis, dtype, keepdims)


def _max_or_min(
    op: Literal["max", "min"], x: NDArray, axis: Axes, keepdims: builtins.bool
) -> NDArray:
    checked(x, op, "real numeric")
    axes = reduction_axes(x, axis, op)
    bool_arg(keepdims, op, "keepdims")
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(
            f"{op}: the array has no elements to compare along axis {axis!r} "
            f"(shape {x.shape}); {op} of nothing has no identity"
        )
    dev = x.device
    method = dev.max if op == "max" else dev.min
    return _wrap(method(x.buffer, axes, keepdims))


def max(
    x: NDArray, /, *, axis: Axes = None, keepdims: builtins.bool = False
) -> NDArray:
    """The largest element over `axis`; NaNs propagate. An empty extent is a
    ValueError.

    >>> xp.max(xp.asarray([[1, 5], [3, 2]]), axis=1)     # [5, 3]
    """
    return _max_or_min("max", x, axis, keepdims)


def min(
    x: NDArray, /, *, axis: Axes = None, keepdims: builtins.bool = False
) -> NDArray:
    """The smallest element over `axis`; NaNs propagate. An empty extent is a
    ValueError.

    >>> xp.min(xp.asarray([[1, 5], [3, 2]]), axis=1)     # [1, 2]
    """
    return _max_or_min("min", x, axis, keepdims)


def mean(
    x: NDArray, /, *, axis: Axes = None, keepdims: builtins.bool = False
) -> NDArray:
    """The arithmetic mean over `axis` of a floating array; NaN over an empty
    extent.

    >>> xp.mean(xp.asarray([1.0, 2.0, 6.0]))              # 3.0
    """
    checked(x, "mean", "floating-point")
    axes = reduction_axes(x, axis, "mean")
    bool_arg(keepdims, "mean", "keepdims")
    return _wrap(x.device.mean(x.buffer, axes, keepdims))


def _correction(value: Any, op: str) -> float:
    if isinstance(value, builtins.bool) or not isinstance(value, int | float):
        raise TypeError(f"{op}: correction must be an int or a float, got {value!r}")
    return float(value)


def reduced_shape(
    shape: tuple[int, ...], axes: tuple[int, ...], keepdims: builtins.bool
) -> tuple[int, ...]:
    """The shape a reduction over `axes` leaves (extents of 1 with keepdims)."""
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _variance(
    op: Literal["var", "std"],
    x: NDArray,
    axis: Axes,
    correction: Any,
    keepdims: builtins.bool,
) -> Buffer:
    checked(x, op, "real floating-point")
    axes = reduction_axes(x, axis, op)
    ddof = _correction(correction, op)
    bool_arg(keepdims, op, "keepdims")
    dev = x.device
    count = math.prod(x.shape[a] for a in axes)
    if count - ddof <= 0:  # the standard's NaN (NumPy divides by zero, or less)
        return dev.full(reduced_shape(x.shape, axes, keepdims), math.nan, x.dtype)
    return dev.var(x.buffer, axes, keepdims, correction=ddof)


def var(
    x: NDArray,
    /,
    *,
    axis: Axes = None,
    correction: float = 0.0,
    keepdims: builtins.bool = False,
) -> NDArray:
    """The variance over `axis` of a real floating array, dividing by
    N - correction (1 gives Bessel's unbiased sample variance); NaN where
    N - correction <= 0.

    >>> xp.var(xp.asarray([1.0, 2.0, 3.0, 4.0]), correction=1)   # 1.6666666
    """
    return _wrap(_variance("var", x, axis, correction, keepdims))


def std(
    x: NDArray,
    /,
    *,
    axis: Axes = None,
    correction: float = 0.0,
    keepdims: builtins.bool = False,
) -> NDArray:
    """The standard deviation over `axis` of a real floating array: the square
    root of `var` with the same arguments.

    >>> xp.std(xp.asarray([1.0, 3.0]))                    # 1.0
    """
    buf = _variance("std", x, axis, correction, keepdims)
    return _wrap(buf.device.sqrt(buf))


# ------------------------------------------------------------------ cumulative
def _cumulative(
    op: Literal["cumulative_sum", "cumulative_prod"],
    x: NDArray,
    axis: int | None,
    dtype: Any,
    include_initial: builtins.bool,
) -> NDArray:
    checked(x, op, "numeric")
    if x.ndim == 0:
        raise ValueError(f"{op}: x must have at least one axis, got a 0-d array")
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"{op}: axis is required for an array with {x.ndim} axes")
        a = 0
    else:
        a = normalize_axis(axis, x.ndim, op)
    target = accumulation_dtype(x.dtype, dtype, op)
    bool_arg(include_initial, op, "include_initial")
    dev = x.device
    method = dev.cumulative_sum if op == "cumulative_sum" else dev.cumulative_prod
    return _wrap(method(x.buffer, a, dtype=target, include_initial=include_initial))


def cumulative_sum(
    x: NDArray,
    /,
    *,
    axis: int | None = None,
    dtype: Any = None,
    include_initial: builtins.bool = False,
) -> NDArray:
    """Running sums along `axis` (optional for a 1-d x); with `include_initial`,
    the empty sum 0 comes first and the axis grows by one.

    >>> xp.cumulative_sum(xp.asarray([1, 2, 3]))           # [1, 3, 6]
    """
    return _cumulative("cumulative_sum", x, axis, dtype, include_initial)


def cumulative_prod(
    x: NDArray,
    /,
    *,
    axis: int | None = None,
    dtype: Any = None,
    include_initial: builtins.bool = False,
) -> NDArray:
    """Running products along `axis` (optional for a 1-d x); with
    `include_initial`, the empty product 1 comes first.

    >>> xp.cumulative_prod(xp.asarray([1, 2, 3]), include_initial=True)  # [1, 1, 2, 6]
    """
    return _cumulative("cumulative_prod", x, axis, dtype, include_initial)
