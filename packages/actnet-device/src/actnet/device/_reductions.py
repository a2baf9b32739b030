"""Reductions over axes: sum, sum_of_squares, prod, mean, var, max, min, any,
all; argmax and argmin; cumulative_sum and cumulative_prod."""

from __future__ import annotations

from typing import Any, Final

from actnet.device import _dtypes as dt
from actnet.device._buffer import Buffer
from actnet.device._checks import Axis, check_axes, check_axis, reduced_shape
from actnet.device._core import DeviceCore
from actnet.device._opset import ARG_REDUCE, CUMULATIVE, OPS, REDUCE


class ReductionOps(DeviceCore):
    """The reductions of a Device."""

    def _reduce(
        self,
        op: str,
        x: Buffer,
        axis: Axis,
        keepdims: bool,
        out: Buffer | None,
        dtype: Any = None,
        correction: float = 0.0,
    ) -> Buffer:
        if type(x) is not Buffer or x.device is not self:
            self._own(x, op)
        arr = x.native
        table = REDUCE[op]
        result = table.get(arr.dtype)
        if result is None or result not in self._dtypes:
            result = self._result_dtype(op, table, arr.dtype)
        if dtype is not None:
            if op not in ("sum", "prod", "mean"):
                raise TypeError(f"{op} takes no dtype")
            result = dt.as_dtype(dtype)
        in_shape = arr.shape
        if axis is None:
            axes = _ALL_AXES[len(in_shape)]
            shape = (1,) * len(in_shape) if keepdims else ()
        else:
            axes = check_axes(axis, len(in_shape))
            shape = reduced_shape(in_shape, axes, keepdims)
        if (
            (op == "max" or op == "min")
            and 0 in in_shape
            and any(in_shape[a] == 0 for a in axes)
        ):
            raise ValueError(f"{op} of an empty extent has no identity")
        out = (
            self._empty(shape, result)
            if out is None
            else self._output(op, out, shape, result)
        )
        # ml_dtypes before 0.7 raises the invalid flag comparing a bfloat16 NaN
        # (max, min): bfloat16 runs quiet, as float32's comparisons are
        if op in _QUIET_REDUCTIONS or dt.is_bfloat16(arr.dtype):
            token = self._backend.begin_quiet()
            try:
                self._backend.reduce(op, arr, axes, keepdims, out.native, correction)
            finally:
                self._backend.end_quiet(token)
        else:
            self._backend.reduce(op, arr, axes, keepdims, out.native, correction)
        return out

    def sum(
        self, x: Buffer, axis: Axis = None, keepdims: bool = False, *,
        dtype: Any = None, out: Buffer | None = None,
    ) -> Buffer:  # fmt: skip
        """Sum over `axis` (all when None), accumulated and returned in `dtype`
        (x's dtype when None)."""
        return self._reduce("sum", x, axis, keepdims, out, dtype)

    def sum_of_squares(
        self, x: Buffer, axis: Axis = None, keepdims: bool = False, *,
        out: Buffer | None = None,
    ) -> Buffer:  # fmt: skip
        """The sum of x**2 over `axis` (all when None), in x's dtype: each
        square and the sum in float64 (float32 in float64, bfloat16 too), rounded
        once; the 2-norm is its square root (`linalg.vector_norm`, clipping
        gradients by their norm). One pass, no array of the squares."""
        return self._reduce("sum_of_squares", x, axis, keepdims, out)

    def prod(
        self, x: Buffer, axis: Axis = None, keepdims: bool = False, *,
        dtype: Any = None, out: Buffer | None = None,
    ) -> Buffer:  # fmt: skip
        return self._reduce("prod", x, axis, keepdims, out, dtype)

    def mean(
        self, x: Buffer, axis: Axis = None, keepdims: bool = False, *,
        dtype: Any = None, out: Buffer | None = None,
    ) -> Buffer:  # fmt: skip
        return self._reduce("mean", x, axis, keepdims, out, dtype)

    def var(
        self, x: Buffer, axis: Axis = None, keepdims: bool = False, *,
        correction: float = 0.0, out: Buffer | None = None,
    ) -> Buffer:  # fmt: skip
        """Variance with `correction` degrees of freedom subtracted (ddof)."""
        return self._reduce("var", x, axis, keepdims, out, None, correction)

    def max(
        self,
        x: Buffer,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        out: Buffer | None = None,
    ) -> Buffer:
        return self._reduce("max", x, axis, keepdims, out)

    def min(
        self,
        x: Buffer,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        out: Buffer | None = None,
    ) -> Buffer:
        return self._reduce("min", x, axis, keepdims, out)

    def any(
        self,
        x: Buffer,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        out: Buffer | None = None,
    ) -> Buffer:
        return self._reduce("any", x, axis, keepdims, out)

    def all(
        self,
        x: Buffer,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        out: Buffer | None = None,
    ) -> Buffer:
        return self._reduce("all", x, axis, keepdims, out)

    def _arg_reduce(
        self, op: str, x: Buffer, axis: int | None, keepdims: bool, out: Buffer | None
    ) -> Buffer:
        arr = self._own(x, op)
        result = self._result_dtype(op, ARG_REDUCE[op], arr.dtype)
        if axis is None:
            if arr.size == 0:
                raise ValueError(f"{op} of an empty buffer")
            shape: tuple[int, ...] = (1,) * arr.ndim if keepdims else ()
        else:
            a = check_axis(axis, arr.ndim)
            if arr.shape[a] == 0:
                raise ValueError(f"{op} over an empty axis")
            shape = reduced_shape(arr.shape, (a,), keepdims)
            axis = a
        out = self._output(op, out, shape, result)
        if axis is None and keepdims:
            self._backend.arg_reduce(op, arr, None, False, out.native.reshape(()))
        else:
            self._backend.arg_reduce(op, arr, axis, keepdims, out.native)
        return out

    def argmax(
        self, x: Buffer, axis: int | None = None, keepdims: bool = False,
        *, out: Buffer | None = None,
    ) -> Buffer:  # fmt: skip
        """Index of the first maximum (of the flattened buffer when axis is None)."""
        return self._arg_reduce("argmax", x, axis, keepdims, out)

    def argmin(
        self, x: Buffer, axis: int | None = None, keepdims: bool = False,
        *, out: Buffer | None = None,
    ) -> Buffer:  # fmt: skip
        return self._arg_reduce("argmin", x, axis, keepdims, out)

    def _cumulative(
        self, op: str, x: Buffer, axis: int | None, dtype: Any, include_initial: bool,
        out: Buffer | None,
    ) -> Buffer:  # fmt: skip
        arr = self._own(x, op)
        result = self._result_dtype(op, CUMULATIVE[op], arr.dtype)
        if dtype is not None:
            result = dt.as_dtype(dtype)
        if axis is None:
            if arr.ndim != 1:
                raise ValueError(f"{op}: axis is required for a {arr.ndim}-d buffer")
            axis = 0
        a = check_axis(axis, arr.ndim)
        shape = list(arr.shape)
        shape[a] += 1 if include_initial else 0
        out = self._output(op, out, tuple(shape), result)
        self._call(
            True, self._backend.cumulative, op, arr, a, include_initial, out.native
        )
        return out

    def cumulative_sum(
        self, x: Buffer, axis: int | None = None, *, dtype: Any = None,
        include_initial: bool = False, out: Buffer | None = None,
    ) -> Buffer:  # fmt: skip
        return self._cumulative("cumulative_sum", x, axis, dtype, include_initial, out)

    def cumulative_prod(
        self, x: Buffer, axis: int | None = None, *, dtype: Any = None,
        include_initial: bool = False, out: Buffer | None = None,
    ) -> Buffer:  # fmt: skip
        return self._cumulative("cumulative_prod", x, axis, dtype, include_initial, out)


_ALL_AXES: Final = [tuple(range(n)) for n in range(65)]
_QUIET_REDUCTIONS: Final = frozenset(name for name in REDUCE if OPS[name].quiet)
