"""Indexing: take, gather, scatter, scatter_add, index (NumPy's basic and advanced
indexing), index_update, concatenate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from actnet.device._buffer import Buffer
from actnet.device._checks import (
    broadcast,
    check_axis,
    check_bounds,
    check_other_axes,
    consumed,
    index_shape,
)
from actnet.device._core import DeviceCore, Operand


class IndexingOps(DeviceCore):
    """The indexing operators of a Device."""

    def _index_array(self, op: str, index: Buffer, argument: str) -> Any:
        arr = self._own(index, op, argument)
        if arr.dtype.kind not in "iu":
            raise TypeError(
                f"{op}: {argument} must have an integer dtype, got {arr.dtype}"
            )
        return arr

    def take(
        self,
        x: Buffer,
        indices: Buffer,
        axis: int | None = None,
        out: Buffer | None = None,
    ) -> Buffer:
        """Elements of x at `indices` (1-d) along `axis` (numpy.take)."""
        arr = self._own(x, "take")
        idx = self._index_array("take", indices, "indices")
        if idx.ndim != 1:
            raise ValueError(f"take: indices must be 1-d, got shape {idx.shape}")
        if axis is None:
            if arr.ndim != 1:
                raise ValueError(f"take: axis is required for a {arr.ndim}-d buffer")
            axis = 0
        a = check_axis(axis, arr.ndim)
        self._host_check(check_bounds, "take", self._xp, idx, arr.shape[a])
        shape = (*arr.shape[:a], idx.shape[0], *arr.shape[a + 1 :])
        out = self._output("take", out, shape, arr.dtype)
        self._backend.take(arr, idx, a, out.native)
        return out

    def gather(
        self, x: Buffer, index: Buffer, axis: int, out: Buffer | None = None
    ) -> Buffer:
        """out[..., i, ...] = x[..., index[..., i, ...], ...] along `axis`
        (torch.gather, numpy.take_along_axis). Off `axis`, x's extents equal
        index's or are 1 (broadcast); out has index's shape."""
        arr = self._own(x, "gather")
        idx = self._index_array("gather", index, "index")
        if idx.ndim != arr.ndim:
            raise ValueError(f"gather: index has {idx.ndim} axes, x has {arr.ndim}")
        a = check_axis(axis, arr.ndim)
        check_other_axes("gather", arr.shape, idx.shape, a)
        self._host_check(check_bounds, "gather", self._xp, idx, arr.shape[a])
        out = self._output("gather", out, idx.shape, arr.dtype)
        self._backend.gather(arr, idx, a, out.native)
        return out

    def _scatter(
        self,
        op: str,
        x: Buffer,
        index: Buffer,
        src: Operand,
        axis: int,
        out: Buffer | None,
    ) -> Buffer:
        arr = self._own(x, op)
        idx = self._index_array(op, index, "index")
        if idx.ndim != arr.ndim:
            raise ValueError(f"{op}: index has {idx.ndim} axes, x has {arr.ndim}")
        a = check_axis(axis, arr.ndim)
        check_other_axes(op, arr.shape, idx.shape, a)
        self._host_check(check_bounds, op, self._xp, idx, arr.shape[a])
        if type(src) is Buffer:
            values = self._own(src, op, "src")
            if values.dtype != arr.dtype:
                raise TypeError(
                    f"{op}: src has dtype {values.dtype}, x has {arr.dtype}"
                )
            broadcast(op, values.shape, idx.shape, into=True)
        else:
            values = self._scalar(op, src, arr.dtype)
        out = self._output(op, out, arr.shape, arr.dtype)
        self._check_no_overlap(op, out, index, src)
        self._backend.scatter(arr, idx, values, a, op == "scatter_add", out.native)
        return out

    def scatter(
        self,
        x: Buffer,
        index: Buffer,
        src: Operand,
        axis: int,
        out: Buffer | None = None,
    ) -> Buffer:
        """A copy of x with x[..., index[..., i, ...], ...] = src[..., i, ...] along
        `axis` (torch.scatter; with repeated indices, one of the writes wins). Off
        `axis`, x's extents equal index's or are 1, as in gather."""
        return self._scatter("scatter", x, index, src, axis, out)

    def scatter_add(
        self,
        x: Buffer,
        index: Buffer,
        src: Operand,
        axis: int,
        out: Buffer | None = None,
    ) -> Buffer:
        """Like scatter, but adds; repeated indices accumulate (torch.scatter_add)."""
        return self._scatter("scatter_add", x, index, src, axis, out)

    def _key(self, op: str, key: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
        """An index key with Buffers replaced by their arrays (checked)."""
        items = key if isinstance(key, tuple) else (key,)
        result = []
        for item in items:
            if type(item) is Buffer:
                arr = self._own(item, op, "key")
                if arr.dtype.kind not in "iub":
                    raise TypeError(
                        f"{op}: index arrays must be integer or bool, got {arr.dtype}"
                    )
                result.append(arr)
            elif item is None or item is Ellipsis or isinstance(item, slice):
                result.append(item)
            elif isinstance(item, int | np.integer) and not isinstance(item, bool):
                result.append(int(item))
            else:
                raise TypeError(
                    f"{op}: an index is an int, slice, None, Ellipsis or Buffer; "
                    f"got {type(item).__name__}"
                )
        return tuple(result)

    def index(self, x: Buffer, key: Any, out: Buffer | None = None) -> Buffer:
        """x[key] as a new buffer, NumPy's indexing rules (basic and advanced)."""
        arr = self._own(x, "index")
        k = self._key("index", key, arr.shape)
        try:
            shape = index_shape(self._xp, arr.shape, k)
        except IndexError as exc:
            raise IndexError(f"index: {exc} (shape {arr.shape})") from None
        self._host_check(self._check_key_bounds, "index", k, arr.shape)
        out = self._output("index", out, shape, arr.dtype)
        self._backend.index(arr, k, out.native)
        return out

    def index_update(
        self,
        x: Buffer,
        key: Any,
        values: Operand,
        mode: Literal["set", "add", "multiply", "min", "max"] = "set",
        out: Buffer | None = None,
    ) -> Buffer:
        """A copy of x with x[key] set to (or combined with) `values`; with "add",
        "multiply", "min" and "max", repeated indices accumulate. `out` may be x
        itself: then x is updated in place."""
        if mode not in ("set", "add", "multiply", "min", "max"):
            raise ValueError(
                "index_update: mode must be set, add, multiply, min or max, "
                f"got {mode!r}"
            )
        arr = self._own(x, "index_update")
        k = self._key("index_update", key, arr.shape)
        try:
            target = index_shape(self._xp, arr.shape, k)
        except IndexError as exc:
            raise IndexError(f"index_update: {exc} (shape {arr.shape})") from None
        self._host_check(self._check_key_bounds, "index_update", k, arr.shape)
        if type(values) is Buffer:
            v = self._own(values, "index_update", "values")
            if v.dtype != arr.dtype:
                raise TypeError(
                    f"index_update: values have dtype {v.dtype}, x has {arr.dtype}"
                )
            broadcast("index_update", v.shape, target, into=True)
        else:
            v = self._scalar("index_update", values, arr.dtype)
        out = self._output("index_update", out, arr.shape, arr.dtype)
        self._check_no_overlap(
            "index_update", out, values, *[i for i in k if type(i) is not int]
        )
        self._call(True, self._backend.index_update, arr, k, v, mode, out.native)
        return out

    def _check_key_bounds(
        self, op: str, key: tuple[Any, ...], shape: tuple[int, ...]
    ) -> None:
        """Integer-array indices must be in bounds. NumPy raises by itself, but
        another backend might wrap around, so the device checks for every one."""
        explicit = sum(consumed(item) for item in key)
        axis = 0
        for item in key:
            if item is Ellipsis:
                axis += len(shape) - explicit
                continue
            is_array = not (item is None or isinstance(item, int | slice))
            if is_array and item.dtype.kind in "iu" and item.size:
                n = shape[axis]
                low, high = int(self._xp.min(item)), int(self._xp.max(item))
                if low < -n or high >= n:
                    raise IndexError(
                        f"{op}: index {high if high >= n else low} is out of bounds "
                        f"for axis {axis} of size {n}"
                    )
            axis += consumed(item)

    def concatenate(
        self, buffers: Sequence[Buffer], axis: int = 0, out: Buffer | None = None
    ) -> Buffer:
        """The buffers joined along `axis` (one dtype, equal other extents)."""
        if not isinstance(buffers, list | tuple) or not buffers:
            raise ValueError("concatenate takes a non-empty list of Buffers")
        arrays = [
            self._own(b, "concatenate", f"buffers[{i}]") for i, b in enumerate(buffers)
        ]
        first = arrays[0]
        if first.ndim == 0:
            raise ValueError("concatenate: 0-d buffers have no axis to join")
        a = check_axis(axis, first.ndim)
        for i, arr in enumerate(arrays[1:], start=1):
            if arr.dtype != first.dtype:
                raise TypeError(
                    f"concatenate: buffers[{i}] has dtype {arr.dtype}, "
                    f"not {first.dtype}"
                )
            if arr.ndim != first.ndim or any(
                m != n
                for j, (m, n) in enumerate(zip(arr.shape, first.shape, strict=True))
                if j != a
            ):
                raise ValueError(
                    f"concatenate: buffers[{i}] has shape {arr.shape}, which does "
                    f"not match {first.shape} off axis {a}"
                )
        shape = list(first.shape)
        shape[a] = sum(arr.shape[a] for arr in arrays)
        out = self._output("concatenate", out, tuple(shape), first.dtype)
        self._check_no_overlap("concatenate", out, *buffers)
        self._backend.concatenate(arrays, a, out.native)
        return out
