"""Argument checks and shape arithmetic shared by Buffer and the operators.

Plain functions of shapes, axes and index arrays: they know nothing of devices or
buffers, so every other module of the package can use them.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any, SupportsIndex

import numpy as np

Scalar = bool | int | float | complex
Axis = int | tuple[int, ...] | None


def check_axis(axis: SupportsIndex, ndim: int) -> int:
    """`axis` in [0, ndim), negative axes counted from the end."""
    a = int(axis)
    if not -ndim <= a < ndim:
        raise IndexError(f"axis {a} is out of range for {ndim} dimensions")
    return a % ndim


def check_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """The sorted axes of an `axis` argument (all of them when None)."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    for a in items:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(
                f"axis must be an int, a tuple of ints or None, got {axis!r}"
            )
    result = tuple(check_axis(a, ndim) for a in items)
    if len(set(result)) != len(result):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(result))


def shape_argument(args: tuple[Any, ...], what: str) -> tuple[int, ...]:
    """`f(2, 3)` and `f((2, 3))` alike: ints only (not bools)."""
    items = args[0] if len(args) == 1 and isinstance(args[0], tuple | list) else args
    plain = type(items) is tuple
    for item in items:
        if type(item) is not int:
            if isinstance(item, bool) or not isinstance(item, int | np.integer):
                raise TypeError(f"{what} takes ints, got {args!r}")
            plain = False
    return items if plain else tuple(int(i) for i in items)  # type: ignore[return-value]  # plain: a tuple of ints


def check_shape(shape: Any) -> tuple[int, ...]:
    """A shape argument (an int, or a tuple or list of ints) as a tuple of ints."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, tuple | list):
        raise TypeError(f"shape must be a tuple of ints, got {type(shape).__name__}")
    result = []
    for n in shape:
        if not isinstance(n, int | np.integer) or isinstance(n, bool):
            raise TypeError(f"shape must hold ints, got {shape!r}")
        if n < 0:
            raise ValueError(
                f"shape must not have negative extents, got {tuple(shape)}"
            )
        result.append(int(n))
    return tuple(result)


@functools.lru_cache(maxsize=4096)
def broadcast_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """NumPy's broadcast of two shapes; None when they do not broadcast."""
    result = []
    for m, n in itertools.zip_longest(reversed(a), reversed(b), fillvalue=1):
        if m == n or n == 1:
            result.append(m)
        elif m == 1:
            result.append(n)
        else:
            return None
    return tuple(reversed(result))


def broadcast(
    op: str, a: tuple[int, ...], b: tuple[int, ...], *, into: bool = False
) -> tuple[int, ...]:
    """The broadcast shape of a and b; with `into`, a must broadcast to exactly b."""
    shape = broadcast_shapes(a, b)
    if shape is None or (into and shape != b):
        what = f"to {b}" if into else f"with {b}"
        raise ValueError(f"{op}: shape {a} does not broadcast {what}")
    return shape


def reduced_shape(
    shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool
) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The result shape of NumPy's matmul of shapes a and b."""
    if not a or not b:
        raise ValueError("matmul: operands must have at least one axis")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(
            f"matmul: shapes {a} and {b} do not align ({a2[-1]} != {b2[-2]})"
        )
    batch = broadcast("matmul", a2[:-2], b2[:-2])
    shape = [*batch, a2[-2], b2[-1]]
    if len(b) == 1:
        shape.pop(-1)
    if len(a) == 1:
        shape.pop(-2 if len(b) != 1 else -1)
    return tuple(shape)


def check_other_axes(
    op: str, x: tuple[int, ...], index: tuple[int, ...], axis: int
) -> None:
    """Off `axis`, x's extents must broadcast to index's (numpy.take_along_axis with
    a result of index's shape)."""
    broadcast(op, x[:axis] + x[axis + 1 :], index[:axis] + index[axis + 1 :],
              into=True)  # fmt: skip


def check_bounds(op: str, xp: Any, index: Any, n: int) -> None:
    """Every element of the index array `index` (of array module `xp`) must index
    an axis of `n` elements (negative ones from the end)."""
    if index.size == 0:
        return
    low, high = int(xp.min(index)), int(xp.max(index))
    if low < -n or high >= n:
        bad = high if high >= n else low
        raise IndexError(f"{op}: index {bad} is out of bounds for an axis of size {n}")


def index_shape(
    xp: Any, shape: tuple[int, ...], key: tuple[Any, ...]
) -> tuple[int, ...]:
    """The shape of x[key] for x of `shape`, by NumPy's indexing rules, computed
    from the key alone (a mask costs a count, not the gather NumPy would do on a
    probe array). `key` holds ints, slices, None, Ellipsis and index arrays of
    `xp` (integer or bool). Raises IndexError as NumPy would: too many indices,
    an int out of range, a mask of the wrong shape, arrays that do not
    broadcast together. Integer arrays' values are not checked here."""
    explicit = sum(consumed(item) for item in key)
    if explicit > len(shape):
        raise IndexError(
            f"too many indices: the array has {len(shape)} axes, {explicit} indexed"
        )
    has_arrays = any(
        not isinstance(i, int | slice) and i is not None and i is not Ellipsis
        for i in key
    )
    if not any(i is Ellipsis for i in key):
        key = (*key, Ellipsis)
    # basic: (n,), or () for an Ellipsis of no axes (NumPy still counts it as
    # separating the advanced indices around it); advanced: None
    parts: list[tuple[int, ...] | None] = []
    advanced: list[tuple[int, ...]] = []
    positions: list[int] = []
    axis = 0
    for item in key:
        if item is Ellipsis:
            if len(shape) == explicit:
                parts.append(())
            for _ in range(len(shape) - explicit):
                parts.append((shape[axis],))
                axis += 1
        elif item is None:
            parts.append((1,))
        elif isinstance(item, slice):
            parts.append((len(range(*item.indices(shape[axis]))),))
            axis += 1
        elif isinstance(item, int):
            n = shape[axis]
            if not -n <= item < n:
                raise IndexError(
                    f"index {item} is out of bounds for axis {axis} with size {n}"
                )
            axis += 1
            if has_arrays:  # NumPy: an int beside arrays is a 0-d index array
                positions.append(len(parts))
                parts.append(None)
                advanced.append(())
        elif item.dtype.kind == "b":
            k = item.ndim
            axes = shape[axis : axis + k]
            # The array API (and NumPy) let a mask's extent be 0 on any axis.
            if any(m not in (n, 0) for m, n in zip(item.shape, axes, strict=True)):
                raise IndexError(
                    f"boolean index of shape {tuple(item.shape)} does not match the "
                    f"indexed axes {axes} at axis {axis}"
                )
            axis += k
            positions.append(len(parts))
            parts.append(None)
            advanced.append((int(xp.count_nonzero(item)),))
        else:
            axis += 1
            positions.append(len(parts))
            parts.append(None)
            advanced.append(tuple(item.shape))
    basic = [n for p in parts if p is not None for n in p]
    if not positions:
        return tuple(basic)
    try:
        block = np.broadcast_shapes(*advanced)
    except ValueError:
        raise IndexError(
            "shape mismatch: indexing arrays could not be broadcast together with "
            f"shapes {' '.join(str(a) for a in advanced)}"
        ) from None
    if positions[-1] - positions[0] == len(positions) - 1:  # adjacent: in place
        before = sum(len(p) for p in parts[: positions[0]] if p is not None)
        return (*basic[:before], *block, *basic[before:])
    return (*block, *basic)


def consumed(item: Any) -> int:
    """How many axes of the indexed array an index item consumes."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, int | slice) or item.dtype.kind != "b":
        return 1
    return int(item.ndim)
