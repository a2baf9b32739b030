"""Sorting and sets: sort, argsort, searchsorted, nonzero, unique."""

from __future__ import annotations

from typing import Literal

from actnet.device._buffer import Buffer
from actnet.device._checks import check_axis
from actnet.device._core import DeviceCore
from actnet.device._opset import OPS


class SortingOps(DeviceCore):
    """The sorting and set operators of a Device."""

    def _sort(
        self, op: str, x: Buffer, axis: int, descending: bool, out: Buffer | None
    ) -> Buffer:
        arr = self._own(x, op)
        result = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        if arr.ndim == 0:
            raise ValueError(f"{op}: a 0-d buffer has no axis to sort")
        a = check_axis(axis, arr.ndim)
        out = self._output(op, out, arr.shape, result)
        self._check_no_overlap(op, out, x)
        self._backend.sort(arr, a, descending, op == "argsort", out.native)
        return out

    def sort(
        self,
        x: Buffer,
        axis: int = -1,
        *,
        descending: bool = False,
        out: Buffer | None = None,
    ) -> Buffer:
        """Values sorted along `axis`; stable (NaNs last when ascending)."""
        return self._sort("sort", x, axis, descending, out)

    def argsort(
        self,
        x: Buffer,
        axis: int = -1,
        *,
        descending: bool = False,
        out: Buffer | None = None,
    ) -> Buffer:
        """Indices that sort x along `axis`; stable: equal values keep their order."""
        return self._sort("argsort", x, axis, descending, out)

    def searchsorted(
        self,
        sorted_1d: Buffer,
        values: Buffer,
        *,
        side: Literal["left", "right"] = "left",
        out: Buffer | None = None,
    ) -> Buffer:
        """Insertion points of `values` in the ascending 1-d `sorted_1d`."""
        xs = self._own(sorted_1d, "searchsorted", "sorted_1d")
        xv = self._own(values, "searchsorted", "values")
        if xs.ndim != 1:
            raise ValueError(
                f"searchsorted: sorted_1d must be 1-d, got shape {xs.shape}"
            )
        if xs.dtype != xv.dtype:
            raise TypeError(f"searchsorted: dtypes {xs.dtype} and {xv.dtype} differ")
        if side not in ("left", "right"):
            raise ValueError(
                f"searchsorted: side must be 'left' or 'right', got {side!r}"
            )
        result = self._result_dtype(
            "searchsorted", OPS["searchsorted"].dtypes, xs.dtype
        )
        out = self._output("searchsorted", out, xv.shape, result)
        self._backend.searchsorted(xs, xv, side, out.native)
        return out

    def nonzero(self, x: Buffer) -> tuple[Buffer, ...]:
        """One int64 buffer per axis with the indices of the nonzero elements."""
        arr = self._own(x, "nonzero")
        if arr.ndim == 0:
            raise ValueError("nonzero: a 0-d buffer has no indices")
        return tuple(
            self._keep(i.astype(self._xp.int64)) for i in self._backend.nonzero(arr)
        )

    def unique(self, x: Buffer) -> tuple[Buffer, Buffer, Buffer, Buffer]:
        """(values, indices, inverse_indices, counts) of the flattened x: the
        sorted distinct values, the first index of each, the index into values of
        every element (shaped like x), and how often each occurs. NaNs are all
        distinct."""
        arr = self._own(x, "unique")
        self._result_dtype("unique", OPS["unique"].dtypes, arr.dtype)
        values, first, inverse, counts = self._backend.unique(arr)
        xp = self._xp
        return (
            self._keep(values),
            self._keep(first.astype(xp.int64)),
            self._keep(inverse.astype(xp.int64)),
            self._keep(counts.astype(xp.int64)),
        )
