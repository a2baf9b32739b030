"""Manipulation functions of the standard: shapes, axes, joining and repeating.

Where the standard allows, the result is a view of the input's memory (no copy):
broadcast_to, broadcast_arrays, expand_dims, flip, moveaxis, permute_dims,
squeeze, unstack, and reshape when the strides allow it. A write to an array that
shares memory copies first (copy-on-write), so sharing is safe. The others copy
through device operators.

    x = xp.reshape(xp.arange(6), (2, 3))
    xp.concat([x, x], axis=None).shape     # (12,)
    xp.moveaxis(xp.stack([x, x]), 0, -1).shape   # (2, 3, 2): a view
"""

from __future__ import annotations

import builtins
import itertools
import math
from typing import Any

from actnet.device import Buffer
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import (
    array_arg,
    broadcast_shapes,
    common_device,
    int_arg,
    normalize_axes,
    normalize_axis,
    shape_arg,
)
from actnet.ndarray._array import NDArray, _wrap

__all__ = [
    "broadcast_arrays",
    "broadcast_to",
    "concat",
    "expand_dims",
    "flip",
    "moveaxis",
    "permute_dims",
    "repeat",
    "reshape",
    "roll",
    "squeeze",
    "stack",
    "tile",
    "unstack",
]


# ------------------------------------------------------------------ helpers
def _reshaped(buf: Buffer, shape: tuple[int, ...]) -> Buffer:
    """`buf` with `shape` (same size): a view when the strides allow, else a copy."""
    try:
        return buf.reshape(shape)
    except ValueError:
        return buf.device.copy(buf).reshape(shape)


def _flat(buf: Buffer) -> Buffer:
    """`buf` as a 1-d buffer in row-major order (a view when possible)."""
    return _reshaped(buf, (buf.size,))


def _array_list(arrays: Any, op: str) -> list[NDArray]:
    """`arrays` (a non-empty tuple or list of NDArrays) as a list."""
    if not isinstance(arrays, tuple | list):
        raise TypeError(
            f"{op}: arrays must be a tuple or list of NDArrays, "
            f"got {type(arrays).__name__}"
        )
    if not arrays:
        raise ValueError(f"{op}: arrays must not be empty")
    for i, a in enumerate(arrays):
        array_arg(a, op, f"arrays[{i}]")
    return list(arrays)


def _promoted(arrays: list[NDArray], op: str) -> list[Buffer]:
    """The arrays' buffers, cast to the dtype they promote to by the table."""
    common_device(arrays, op, "arrays")
    target = arrays[0].dtype
    for a in arrays[1:]:
        target = dt.result_type_of(target, a.dtype)
    return [
        a.buffer if a.dtype == target else a.device.astype(a.buffer, target)
        for a in arrays
    ]


# ---------------------------------------------------------------- broadcasting
def broadcast_arrays(*arrays: NDArray) -> list[NDArray]:
    """The arrays broadcast to their common shape (views)."""
    checked = [
        array_arg(a, "broadcast_arrays", f"arrays[{i}]") for i, a in enumerate(arrays)
    ]
    if not checked:
        return []
    common_device(checked, "broadcast_arrays", "arrays")
    shape = broadcast_shapes([a.shape for a in checked], "broadcast_arrays")
    return [_wrap(a.buffer.broadcast_to(shape)) for a in checked]


def broadcast_to(x: NDArray, /, shape: tuple[int, ...]) -> NDArray:
    """x broadcast to `shape` (a view).

    xp.broadcast_to(xp.asarray([1, 2]), (3, 2)).shape  # (3, 2)
    """
    array_arg(x, "broadcast_to")
    target = shape_arg(shape, "broadcast_to")
    if any(n < 0 for n in target):
        raise ValueError(f"broadcast_to: shape {target} has a negative extent")
    if (
        len(target) < x.ndim
        or broadcast_shapes([x.shape, target], "broadcast_to") != target
    ):
        raise ValueError(
            f"broadcast_to: shape {x.shape} does not broadcast to {target}"
        )
    return _wrap(x.buffer.broadcast_to(target))


# ------------------------------------------------------------------- joining
def concat(
    arrays: tuple[NDArray, ...] | list[NDArray], /, *, axis: int | None = 0
) -> NDArray:
    """The arrays joined along `axis` (flattened first when axis is None); mixed
    dtypes promote by the table.

    xp.concat([xp.zeros((2, 3)), xp.ones((1, 3))]).shape  # (3, 3)
    """
    checked = _array_list(arrays, "concat")
    buffers = _promoted(checked, "concat")
    if axis is None:
        return _wrap(checked[0].device.concatenate([_flat(b) for b in buffers], 0))
    ndim = checked[0].ndim
    if ndim == 0:
        raise ValueError("concat: 0-d arrays have no axis to join; use axis=None")
    for i, other in enumerate(checked[1:], start=1):
        if other.ndim != ndim:
            raise ValueError(
                f"concat: arrays[{i}] has {other.ndim} axes, arrays[0] has {ndim}"
            )
    a = normalize_axis(axis, ndim, "concat")
    return _wrap(checked[0].device.concatenate(buffers, a))


def stack(arrays: tuple[NDArray, ...] | list[NDArray], /, *, axis: int = 0) -> NDArray:
    """The arrays (of one shape) joined along a new axis at `axis`.

    xp.stack([xp.zeros(3), xp.ones(3)], axis=1).shape  # (3, 2)
    """
    checked = _array_list(arrays, "stack")
    shape = checked[0].shape
    for i, other in enumerate(checked[1:], start=1):
        if other.shape != shape:
            raise ValueError(
                f"stack: arrays[{i}] has shape {other.shape}, arrays[0] has {shape}"
            )
    buffers = _promoted(checked, "stack")
    a = normalize_axis(axis, len(shape) + 1, "stack")
    return _wrap(checked[0].device.concatenate([b.expand_dims(a) for b in buffers], a))


def unstack(x: NDArray, /, *, axis: int = 0) -> tuple[NDArray, ...]:
    """The slices of x along `axis`, as a tuple of views."""
    array_arg(x, "unstack")
    a = normalize_axis(axis, x.ndim, "unstack")
    lead = (slice(None),) * a
    return tuple(_wrap(x.buffer[(*lead, i)]) for i in range(x.shape[a]))


# ------------------------------------------------------------ shapes and axes
def reshape(
    x: NDArray, /, shape: tuple[int, ...], *, copy: builtins.bool | None = None
) -> NDArray:
    """x with another shape (one extent may be -1: inferred).

    A view when the strides allow it; otherwise a copy, unless `copy=False`, which
    then raises ValueError. `copy=True` always copies.
    """
    array_arg(x, "reshape")
    target = _resolved_shape(shape_arg(shape, "reshape"), x.size, x.shape)
    buf = x.buffer
    if copy:
        return _wrap(buf.device.copy(buf).reshape(target))
    if copy is False:
        try:
            return _wrap(buf.reshape(target))
        except ValueError:
            raise ValueError(
                f"reshape: copy=False, but an array of shape {x.shape} and strides "
                f"{buf.strides} cannot be seen with shape {target} without copying"
            ) from None
    return _wrap(_reshaped(buf, target))


def _resolved_shape(
    shape: tuple[int, ...], size: int, source: tuple[int, ...]
) -> tuple[int, ...]:
    """`shape` with its -1 (if any) inferred, checked to hold `size` elements."""
    if any(n < -1 for n in shape):  # checked first: the more basic mistake
        raise ValueError(f"reshape: shape {shape} has a negative extent")
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1:
        raise ValueError(f"reshape: shape {shape} has more than one -1")
    known = math.prod(n for n in shape if n != -1)
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape {source} to {shape}")
        resolved = list(shape)
        resolved[unknown[0]] = size // known
        return tuple(resolved)
    if known != size:
        raise ValueError(
            f"reshape: cannot reshape {source} ({size} elements) to {shape}"
        )
    return shape


def expand_dims(x: NDArray, /, axis: int) -> NDArray:
    """x with a new axis of size 1 at `axis`, in [-ndim-1, ndim] (a view)."""
    array_arg(x, "expand_dims")
    a = normalize_axis(axis, x.ndim + 1, "expand_dims")
    return _wrap(x.buffer.expand_dims(a))


def squeeze(x: NDArray, /, axis: int | tuple[int, ...]) -> NDArray:
    """x without the size-1 axes `axis` (a view); ValueError for a larger one."""
    array_arg(x, "squeeze")
    axes = normalize_axes(axis, x.ndim, "squeeze")
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(
                f"squeeze: axis {a} has size {x.shape[a]}; only size-1 axes go"
            )
    return _wrap(x.buffer.squeeze(axes))


def flip(x: NDArray, /, *, axis: int | tuple[int, ...] | None = None) -> NDArray:
    """x with the order of elements reversed along `axis` (all axes when None);
    a view."""
    array_arg(x, "flip")
    axes = (
        tuple(range(x.ndim)) if axis is None else normalize_axes(axis, x.ndim, "flip")
    )
    return _wrap(x.buffer.flip(axes) if axes else x.buffer[()])


def permute_dims(x: NDArray, /, axes: tuple[int, ...]) -> NDArray:
    """x with its axes in the order `axes` (a permutation of them); a view."""
    array_arg(x, "permute_dims")
    if not isinstance(axes, tuple | list):
        raise TypeError(f"permute_dims: axes must be a tuple of ints, got {axes!r}")
    if len(axes) != x.ndim:
        raise ValueError(
            f"permute_dims: axes {tuple(axes)} must name each of the {x.ndim} axes once"
        )
    order = normalize_axes(tuple(axes), x.ndim, "permute_dims", "axes")
    return _wrap(x.buffer.transpose(order))


def moveaxis(
    x: NDArray,
    source: int | tuple[int, ...],
    destination: int | tuple[int, ...],
    /,
) -> NDArray:
    """x with the axes `source` moved to the positions `destination`, the other
    axes keeping their order (a view)."""
    array_arg(x, "moveaxis")
    src = normalize_axes(source, x.ndim, "moveaxis", "source")
    dst = normalize_axes(destination, x.ndim, "moveaxis", "destination")
    if len(src) != len(dst):
        raise ValueError(
            f"moveaxis: source {source!r} and destination {destination!r} must "
            "name as many axes"
        )
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return _wrap(x.buffer.transpose(tuple(order)))


# --------------------------------------------------------------- repetition
def repeat(
    x: NDArray, repeats: int | NDArray, /, *, axis: int | None = None
) -> NDArray:
    """Each element of x repeated `repeats` times along `axis` (of the flattened x
    when None); `repeats` is an int or a 1-d integer array of one count, or of one
    count per element along the axis.

    xp.repeat(xp.asarray([1, 2]), xp.asarray([2, 1]))  # [1, 1, 2]
    """
    array_arg(x, "repeat")
    buf = _flat(x.buffer) if axis is None else x.buffer
    a = 0 if axis is None else normalize_axis(axis, x.ndim, "repeat")
    if type(repeats) is NDArray:
        counts = _repeat_counts(repeats, buf, a)
        if isinstance(counts, int):
            return _wrap(_repeat_each(buf, counts, a))
        return _wrap(_repeat_varying(buf, counts, a))
    count = int_arg(repeats, "repeat", "repeats")
    if count < 0:
        raise ValueError(f"repeat: repeats must not be negative, got {count}")
    return _wrap(_repeat_each(buf, count, a))


def _repeat_counts(repeats: NDArray, buf: Buffer, axis: int) -> int | Buffer:
    """An array of counts checked: one count as an int, else an int64 buffer."""
    if repeats.dtype not in dt.INTEGER:
        raise TypeError(
            f"repeat: repeats must have an integer dtype, got {repeats.dtype}"
        )
    if repeats.device is not buf.device:
        raise ValueError(
            f"repeat: repeats is on {repeats.device.name}, x on {buf.device.name}"
        )
    n = buf.shape[axis]
    if repeats.ndim != 1 or repeats.shape[0] not in (1, n):
        raise ValueError(
            f"repeat: repeats must have shape (1,) or ({n},), got {repeats.shape}"
        )
    dev = buf.device
    counts = repeats.buffer
    if counts.dtype != dt.int64:
        counts = dev.astype(counts, dt.int64)
    if counts.size and int(dev.to_host(dev.min(counts))) < 0:
        raise ValueError("repeat: repeats must not be negative")
    if repeats.shape[0] == 1:
        return int(dev.to_host(counts)[0])
    return counts


def _repeat_each(buf: Buffer, count: int, axis: int) -> Buffer:
    """Every element along `axis` repeated `count` times: a stride-0 view copied."""
    shape = buf.shape
    wide = (*shape[: axis + 1], count, *shape[axis + 1 :])
    spread = buf.expand_dims(axis + 1).broadcast_to(wide)
    merged = (*shape[:axis], shape[axis] * count, *shape[axis + 1 :])
    return buf.device.copy(spread).reshape(merged)


def _repeat_varying(buf: Buffer, counts: Buffer, axis: int) -> Buffer:
    """Element i along `axis` repeated counts[i] times: output position p reads
    element searchsorted(cumulative_sum(counts), p, side="right")."""
    dev = buf.device
    ends = dev.cumulative_sum(counts)
    total = int(dev.to_host(ends[-1])) if ends.size else 0  # one value to host
    positions = dev.arange(0, total, 1, dtype=dt.int64)
    source = dev.searchsorted(ends, positions, side="right")
    return dev.take(buf, source, axis)


def tile(x: NDArray, repetitions: tuple[int, ...], /) -> NDArray:
    """x repeated `repetitions[i]` times along axis i (shapes aligned at the end,
    missing extents taken as 1).

    xp.tile(xp.asarray([1, 2]), (2, 2)).shape  # (2, 4)
    """
    array_arg(x, "tile")
    if not isinstance(repetitions, tuple):
        raise TypeError(
            f"tile: repetitions must be a tuple of ints, got {repetitions!r}"
        )
    reps = shape_arg(repetitions, "tile", "repetitions")
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: repetitions {reps} has a negative count")
    ndim = max(x.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    buf = x.buffer
    for _ in range(ndim - x.ndim):
        buf = buf.expand_dims(0)
    shape = buf.shape
    for i in range(ndim):  # (n0, n1) -> (1, n0, 1, n1)
        buf = buf.expand_dims(2 * i)
    wide = tuple(itertools.chain.from_iterable(zip(reps, shape, strict=True)))
    spread = buf.broadcast_to(wide)
    merged = tuple(r * n for r, n in zip(reps, shape, strict=True))
    return _wrap(x.device.copy(spread).reshape(merged))


def roll(
    x: NDArray,
    /,
    shift: int | tuple[int, ...],
    *,
    axis: int | tuple[int, ...] | None = None,
) -> NDArray:
    """x with its elements shifted by `shift` along `axis`, wrapping around (of
    the flattened x, then restored to x's shape, when axis is None)."""
    array_arg(x, "roll")
    shifts = _roll_shifts(x, shift, axis)
    if axis is None:
        flat = _flat(x.buffer)
        return _wrap(_reshaped(_rolled(flat, shifts), x.shape))
    return _wrap(_rolled(x.buffer, shifts))


def _roll_shifts(x: NDArray, shift: Any, axis: Any) -> dict[int, int]:
    """The total shift per axis (repeated axes add up, as in NumPy)."""
    if isinstance(shift, tuple):
        amounts = [int_arg(s, "roll", "shift") for s in shift]
        if not isinstance(axis, tuple) or len(axis) != len(amounts):
            raise ValueError(
                f"roll: a tuple shift {shift!r} needs a tuple axis of the same "
                f"length, got {axis!r}"
            )
    else:
        amounts = [int_arg(shift, "roll", "shift")]
    if axis is None:
        return {0: amounts[0]}
    axes = axis if isinstance(axis, tuple) else (axis,)
    if len(amounts) == 1:
        amounts = amounts * len(axes)
    totals: dict[int, int] = {}
    for a, s in zip(axes, amounts, strict=True):
        n = normalize_axis(a, x.ndim, "roll")
        totals[n] = totals.get(n, 0) + s
    return totals


def _rolled(buf: Buffer, shifts: dict[int, int]) -> Buffer:
    """`buf` rolled along each axis: the last k elements joined to the first."""
    for axis, shift in shifts.items():
        n = buf.shape[axis]
        k = shift % n if n else 0
        if not k:
            continue
        lead = (slice(None),) * axis
        tail = buf[(*lead, slice(n - k, None))]
        head = buf[(*lead, slice(0, n - k))]
        buf = buf.device.concatenate([tail, head], axis)
    return buf
