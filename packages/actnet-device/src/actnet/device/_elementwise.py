"""Elementwise operators: the array API's unary and binary functions (and erf),
where, astype and copy.

Each unary and binary operator is a method made by one factory below: one
function per operator, so a call is one Python frame (these are the hottest paths
of every layer). Their dtype tables, cut down to what the device holds, are
`DeviceCore._unary_ops` and `_binary_ops`.
"""

from __future__ import annotations

from typing import Any, NoReturn, Protocol

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._buffer import Buffer
from actnet.device._checks import broadcast
from actnet.device._core import MOVE_HINT, DeviceCore, Operand


class UnaryOperator(Protocol):
    def __call__(
        self, x: Buffer, out: Buffer | None = None, *, info: Any = None
    ) -> Buffer: ...


class BinaryOperator(Protocol):
    def __call__(
        self, a: Operand, b: Operand, out: Buffer | None = None, *, info: Any = None
    ) -> Buffer: ...


def _unary_operator(op: str, doc: str) -> UnaryOperator:
    """The method of an elementwise unary operator (one function per operator, so
    a call is one Python frame: these are the hottest paths of every layer).
    `info`, when given, labels the result (`Buffer.info`): a new one as it is
    made, or `out`."""

    def operator(
        self: ElementwiseOps, x: Buffer, out: Buffer | None = None, *, info: Any = None
    ) -> Buffer:
        table, quiet, func = self._unary_ops[op]
        if type(x) is not Buffer or x.device is not self:
            self._own(x, op)
        arr = x.native
        dtype = table.get(arr.dtype)
        if dtype is None:
            dtype = self._result_dtype(op, table, arr.dtype)
        if out is None:
            out = self._empty(arr.shape, dtype, info, True)
            xo = out.native
        else:
            xo = out.native if type(out) is Buffer else None
            if (
                xo is None
                or out.device is not self
                or xo.shape != arr.shape
                or xo.dtype is not dtype
            ):  # the checks of _output, whose common case this is
                xo = self._output(op, out, arr.shape, dtype).native
            if info is not None:
                out.info = info
        if quiet:
            token = self._backend.begin_quiet()
            try:
                func(arr, out=xo)
            finally:
                self._backend.end_quiet(token)
        else:
            func(arr, out=xo)
        return out

    operator.__name__ = operator.__qualname__ = op
    operator.__doc__ = doc
    return operator  # type: ignore[return-value]  # becomes a bound method of Device


def _binary_operator(op: str, doc: str) -> BinaryOperator:
    """The method of an elementwise binary operator: two Buffers of one dtype
    (broadcast together), or a Buffer and a Python scalar taken in its dtype.
    `info` labels a new result as the unary operators' does."""

    def operator(
        self: ElementwiseOps,
        a: Operand,
        b: Operand,
        out: Buffer | None = None,
        *,
        info: Any = None,
    ) -> Buffer:
        table, quiet, func = self._binary_ops[op]
        if type(a) is Buffer:
            if a.device is not self:
                self._two_devices(op, a, b)
            xa = a.native
            dtype = xa.dtype
            if type(b) is Buffer:
                if b.device is not self:
                    self._two_devices(op, a, b)
                xb = b.native
                if xb.dtype is not dtype and xb.dtype != dtype:
                    raise TypeError(
                        f"{op}: operands have dtypes {dtype} and {xb.dtype}; "
                        "cast one first"
                    )
                shape = xa.shape
                if xb.shape != shape:
                    shape = broadcast(op, shape, xb.shape)
            else:
                xb = self._scalar(op, b, dtype)
                shape = xa.shape
        elif type(b) is Buffer:
            if b.device is not self:
                self._own(b, op, "b")
            xb = b.native
            dtype = xb.dtype
            xa = self._scalar(op, a, dtype)
            shape = xb.shape
        else:
            raise TypeError(f"{op}: at least one operand must be a Buffer")
        result = table.get(dtype)
        if result is None:
            result = self._result_dtype(op, table, dtype)
        if out is None:
            out = self._empty(shape, result, info, True)
            xo = out.native
        else:
            xo = out.native if type(out) is Buffer else None
            if (
                xo is None
                or out.device is not self
                or xo.shape != shape
                or xo.dtype is not result
            ):  # the checks of _output, whose common case this is
                xo = self._output(op, out, shape, result).native
            if info is not None:
                out.info = info
        # ml_dtypes before 0.7 raises the invalid flag comparing a bfloat16 NaN
        # (float32's comparisons do not): bfloat16 runs quiet
        if quiet or dt.is_bfloat16(dtype):
            token = self._backend.begin_quiet()
            try:
                func(xa, xb, xo)
            finally:
                self._backend.end_quiet(token)
        else:
            func(xa, xb, xo)
        return out

    operator.__name__ = operator.__qualname__ = op
    operator.__doc__ = doc
    return operator  # type: ignore[return-value]  # becomes a bound method of Device


class ElementwiseOps(DeviceCore):
    """The elementwise operators of a Device."""

    def _two_devices(self, op: str, a: Any, b: Any) -> NoReturn:
        names = [x.device.name for x in (a, b) if type(x) is Buffer]
        if len(names) == 1 or names[0] == names[1]:  # a scalar, or one other device
            raise ValueError(
                f"{op}: operands are on {names[0]}, "
                f"but the operator runs on {self.name}"
            )
        raise ValueError(
            f"{op}: operands are on two devices, {names[0]} and {names[1]}; "
            f"move one to the other's device first ({MOVE_HINT})"
        )

    # Unary elementwise operators (the array API's, plus erf).
    abs = _unary_operator("abs", "abs(x), elementwise.")
    acos = _unary_operator("acos", "acos(x), elementwise.")
    acosh = _unary_operator("acosh", "acosh(x), elementwise.")
    asin = _unary_operator("asin", "asin(x), elementwise.")
    asinh = _unary_operator("asinh", "asinh(x), elementwise.")
    atan = _unary_operator("atan", "atan(x), elementwise.")
    atanh = _unary_operator("atanh", "atanh(x), elementwise.")
    bitwise_invert = _unary_operator(
        "bitwise_invert", "bitwise_invert of x, elementwise."
    )
    ceil = _unary_operator("ceil", "ceil(x), elementwise.")
    conj = _unary_operator("conj", "conj(x), elementwise.")
    cos = _unary_operator("cos", "cos(x), elementwise.")
    cosh = _unary_operator("cosh", "cosh(x), elementwise.")
    erf = _unary_operator("erf", "The error function, accurate to double precision.")
    exp = _unary_operator("exp", "exp(x), elementwise.")
    expm1 = _unary_operator("expm1", "expm1(x), elementwise.")
    floor = _unary_operator("floor", "floor(x), elementwise.")
    imag = _unary_operator("imag", "imag(x), elementwise.")
    isfinite = _unary_operator("isfinite", "isfinite(x), elementwise.")
    isinf = _unary_operator("isinf", "isinf(x), elementwise.")
    isnan = _unary_operator("isnan", "isnan(x), elementwise.")
    log = _unary_operator("log", "log(x), elementwise.")
    log1p = _unary_operator("log1p", "log1p(x), elementwise.")
    log2 = _unary_operator("log2", "log2(x), elementwise.")
    log10 = _unary_operator("log10", "log10(x), elementwise.")
    logical_not = _unary_operator("logical_not", "logical_not(x), elementwise.")
    negative = _unary_operator("negative", "negative(x), elementwise.")
    positive = _unary_operator("positive", "positive(x), elementwise.")
    real = _unary_operator("real", "real(x), elementwise.")
    reciprocal = _unary_operator("reciprocal", "reciprocal(x), elementwise.")
    round = _unary_operator("round", "Round half to even.")
    sign = _unary_operator("sign", "sign(x), elementwise.")
    signbit = _unary_operator("signbit", "signbit(x), elementwise.")
    sin = _unary_operator("sin", "sin(x), elementwise.")
    sinh = _unary_operator("sinh", "sinh(x), elementwise.")
    sqrt = _unary_operator("sqrt", "sqrt(x), elementwise.")
    square = _unary_operator("square", "square(x), elementwise.")
    tan = _unary_operator("tan", "tan(x), elementwise.")
    tanh = _unary_operator("tanh", "tanh(x), elementwise.")
    trunc = _unary_operator("trunc", "trunc(x), elementwise.")

    # Binary elementwise operators: two Buffers of one dtype (broadcast), or a
    # Buffer and a Python scalar (taken in the Buffer's dtype).
    add = _binary_operator("add", "add(a, b), elementwise.")
    atan2 = _binary_operator("atan2", "atan2(a, b), elementwise.")
    bitwise_and = _binary_operator("bitwise_and", "bitwise_and(a, b), elementwise.")
    bitwise_left_shift = _binary_operator(
        "bitwise_left_shift", "bitwise_left_shift(a, b), elementwise."
    )
    bitwise_or = _binary_operator("bitwise_or", "bitwise_or(a, b), elementwise.")
    bitwise_right_shift = _binary_operator(
        "bitwise_right_shift", "bitwise_right_shift(a, b), elementwise."
    )
    bitwise_xor = _binary_operator("bitwise_xor", "bitwise_xor(a, b), elementwise.")
    copysign = _binary_operator("copysign", "copysign(a, b), elementwise.")
    divide = _binary_operator("divide", "divide(a, b), elementwise.")
    equal = _binary_operator("equal", "equal(a, b), elementwise.")
    floor_divide = _binary_operator("floor_divide", "floor_divide(a, b), elementwise.")
    greater = _binary_operator("greater", "greater(a, b), elementwise.")
    greater_equal = _binary_operator(
        "greater_equal", "greater_equal(a, b), elementwise."
    )
    hypot = _binary_operator("hypot", "hypot(a, b), elementwise.")
    less = _binary_operator("less", "less(a, b), elementwise.")
    less_equal = _binary_operator("less_equal", "less_equal(a, b), elementwise.")
    logaddexp = _binary_operator("logaddexp", "logaddexp(a, b), elementwise.")
    logical_and = _binary_operator("logical_and", "logical_and(a, b), elementwise.")
    logical_or = _binary_operator("logical_or", "logical_or(a, b), elementwise.")
    logical_xor = _binary_operator("logical_xor", "logical_xor(a, b), elementwise.")
    maximum = _binary_operator("maximum", "maximum(a, b), elementwise.")
    minimum = _binary_operator("minimum", "minimum(a, b), elementwise.")
    multiply = _binary_operator("multiply", "multiply(a, b), elementwise.")
    nextafter = _binary_operator("nextafter", "nextafter(a, b), elementwise.")
    not_equal = _binary_operator("not_equal", "not_equal(a, b), elementwise.")
    pow = _binary_operator("pow", "pow(a, b), elementwise.")
    remainder = _binary_operator("remainder", "remainder(a, b), elementwise.")
    subtract = _binary_operator("subtract", "subtract(a, b), elementwise.")

    # ------------------------------------------------------- where and casts
    def where(
        self, cond: Buffer, a: Operand, b: Operand, out: Buffer | None = None
    ) -> Buffer:
        """a where cond is true, else b (broadcast together)."""
        xc = self._own(cond, "where", "cond")
        if xc.dtype != dt.bool_:
            raise TypeError(f"where: cond must be bool, got {xc.dtype}")
        buffers = [x for x in (a, b) if type(x) is Buffer]
        if not buffers:
            raise TypeError("where: a or b must be a Buffer")
        dtype = buffers[0].dtype
        arrays = []
        for x, name in ((a, "a"), (b, "b")):
            if type(x) is Buffer:
                arr = self._own(x, "where", name)
                if arr.dtype != dtype:
                    raise TypeError(
                        f"where: a and b have dtypes {dtype} and {arr.dtype}"
                    )
                arrays.append(arr)
            else:
                arrays.append(self._scalar("where", x, dtype))
        shape = xc.shape
        for arr in arrays:
            shape = broadcast("where", shape, np.shape(arr))
        out = self._output("where", out, shape, dtype)
        self._check_no_overlap("where", out, cond, a, b)
        self._backend.where(xc, arrays[0], arrays[1], out.native)
        return out

    def astype(self, x: Buffer, dtype: Any, out: Buffer | None = None) -> Buffer:
        """x cast to `dtype` (C casting rules: float to int truncates; a complex
        buffer cannot be cast to a real dtype)."""
        arr = self._own(x, "astype")
        target = dt.as_dtype(dtype)
        if arr.dtype.kind == "c" and target.kind != "c":
            raise TypeError(
                f"astype: cannot cast complex {arr.dtype} to {target}; take real()"
            )
        out = self._output("astype", out, arr.shape, target)
        self._call(True, self._backend.astype, arr, out.native)
        return out

    def copy(self, x: Buffer, out: Buffer | None = None) -> Buffer:
        """A contiguous copy of x, or x broadcast into `out` (same dtype)."""
        arr = self._own(x, "copy")
        if out is None:
            out = self._empty(arr.shape, arr.dtype)
        else:
            self._own(out, "copy", "out")
            if out.dtype != arr.dtype:
                raise TypeError(
                    f"copy: out has dtype {out.dtype}, x has {arr.dtype}; astype"
                )
            broadcast("copy", arr.shape, out.shape, into=True)
        self._backend.copy(arr, out.native)
        return out
