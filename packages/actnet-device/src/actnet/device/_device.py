"""Device: one runtime API over every backend, with memory in allocator-managed arenas.

The public methods validate (buffers on this device, dtypes in the operator's
table, shapes of `out`), allocate results from the arena, and call the backend's
kernels. Every byte a buffer holds is a block of this device's
`actnet.mem.Allocator`, so `memory_stats()` is the allocator's own numbers.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NoReturn, Protocol

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._backend import Backend
from actnet.device._buffer import Buffer, _axis, free_deferred, new_buffer
from actnet.device._opset import (
    ARG_REDUCE,
    BINARY,
    CUMULATIVE,
    LINALG_DTYPES,
    OPS,
    REDUCE,
    UNARY,
)
from actnet.mem import Allocator, Block

Scalar = bool | int | float | complex
Operand = Buffer | Scalar
Axis = int | tuple[int, ...] | None


@dataclass(frozen=True)
class MemoryStats:
    """A device's memory, in exact bytes: the allocator's own numbers."""

    used_bytes: int  # held by live buffers (their blocks' rounded sizes)
    reserved_bytes: int  # held in arenas (segments) by the device
    free_bytes: int  # reserved_bytes - used_bytes
    peak_bytes: int  # peak of used_bytes since creation or reset_peak_memory_stats()
    peak_reserved_bytes: int
    limit: int | None  # the budget set with set_memory_limit
    largest_free_block: int
    segments: int
    live_buffers: int  # live blocks: owners of memory (views share their owner's)


@dataclass(frozen=True)
class BufferRecord:
    """One live block of a device, as `memory_snapshot()` reports it."""

    nbytes: int  # the block's size (rounded to the alignment)
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    info: Any  # what the layer above attached to the buffer
    segment: Any
    offset: int  # byte offset in the segment


class UnaryOperator(Protocol):
    def __call__(self, x: Buffer, out: Buffer | None = None) -> Buffer: ...


class BinaryOperator(Protocol):
    def __call__(self, a: Operand, b: Operand, out: Buffer | None = None) -> Buffer: ...


def _unary_operator(op: str, doc: str) -> UnaryOperator:
    """The method of an elementwise unary operator (one function per operator, so
    a call is one Python frame: these are the hottest paths of every layer)."""

    def operator(self: Device, x: Buffer, out: Buffer | None = None) -> Buffer:
        table, quiet, func = self._unary_ops[op]
        if type(x) is not Buffer or x.device is not self:
            self._own(x, op)
        arr = x.native
        dtype = table.get(arr.dtype)
        if dtype is None:
            dtype = self._result_dtype(op, table, arr.dtype)
        if out is None:  # self._empty, inlined on this hot path
            shape = arr.shape
            meta = [dtype, shape, None]
            block = self._malloc(math.prod(shape) * dtype.itemsize, meta)
            xo = self._views.get((block[0], block[1]))  # self._view, inlined
            if xo is None or xo.shape != shape or xo.dtype != dtype:
                xo = self._view(shape, dtype, block)
            out = new_buffer(Buffer)
            out.native = xo
            out._hold = block
            out.device = self
            out._meta = meta
        else:
            xo = out.native if type(out) is Buffer else None
            if (
                xo is None
                or out.device is not self
                or xo.shape != arr.shape
                or xo.dtype is not dtype
            ):  # the checks of _output, whose common case this is
                xo = self._output(op, out, arr.shape, dtype).native
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
    (broadcast together), or a Buffer and a Python scalar taken in its dtype."""

    def operator(
        self: Device, a: Operand, b: Operand, out: Buffer | None = None
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
                    shape = _broadcast(op, shape, xb.shape)
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
        if out is None:  # self._empty, inlined on this hot path
            meta = [result, shape, None]
            block = self._malloc(math.prod(shape) * result.itemsize, meta)
            xo = self._views.get((block[0], block[1]))  # self._view, inlined
            if xo is None or xo.shape != shape or xo.dtype != result:
                xo = self._view(shape, result, block)
            out = new_buffer(Buffer)
            out.native = xo
            out._hold = block
            out.device = self
            out._meta = meta
        else:
            xo = out.native if type(out) is Buffer else None
            if (
                xo is None
                or out.device is not self
                or xo.shape != shape
                or xo.dtype is not result
            ):  # the checks of _output, whose common case this is
                xo = self._output(op, out, shape, result).native
        if quiet:
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


class Device:
    """A compute device: buffers in arenas, and the closed operator set.

    Devices come from `get_device(name)`; one object per name.
    """

    def __init__(
        self,
        name: str,
        backend: Backend,
        *,
        dtypes: Sequence[np.dtype[Any]] = dt.ALL,
        segment_size: int = 2 << 20,
    ) -> None:
        self.name: Final = name
        self._backend = backend
        self._xp = backend.xp
        self._dtypes = frozenset(dtypes)
        self._segments: dict[Any, Any] = {}  # segment id -> backend arena
        self._segment_ids = itertools.count()
        self._allocator = Allocator(
            segment_size=segment_size,
            grow=self._grow,
            release=self._release_segment,
            name=name,
        )
        self._malloc = self._allocator.malloc
        self._free = self._allocator.free
        self._array_at = backend.array_at
        self._views: dict[tuple[Any, int], Any] = {}  # (segment, offset) -> array
        ufuncs = backend.ufuncs
        # Per operator: its dtype table cut down to what this device holds (so one
        # lookup checks both), whether it runs quietly, and the kernel.
        self._unary_ops: dict[str, tuple[dict[Any, Any], bool, Any]] = {
            name: (
                self._held(table),
                quiet,
                backend.erf if name == "erf" else ufuncs[name],
            )
            for name, (table, quiet) in UNARY.items()
        }
        self._binary_ops: dict[str, tuple[dict[Any, Any], bool, Any]] = {
            name: (self._held(table), quiet, ufuncs[name])
            for name, (table, quiet) in BINARY.items()
        }

    def _held(self, table: dict[Any, Any]) -> dict[Any, Any]:
        return {
            a: r for a, r in table.items() if a in self._dtypes and r in self._dtypes
        }

    # ------------------------------------------------------------------ arenas
    def _grow(self, nbytes: int) -> int:
        segment = self._backend.new_segment(nbytes)
        key = next(self._segment_ids)
        self._segments[key] = segment
        return key

    def _release_segment(self, key: int) -> None:
        views = self._views
        for k in [k for k in views if k[0] == key]:
            del views[k]
        self._backend.free_segment(self._segments.pop(key))

    def _view(self, shape: tuple[int, ...], dtype: np.dtype[Any], block: Block) -> Any:
        """The backend array of `shape` and `dtype` at `block`'s memory.

        Making one costs more than the operator that fills it on small arrays, and
        the allocator hands the same blocks out again and again (it reuses a freed
        block of the same size first), so the arrays are kept per (segment, offset)
        and reused when the shape and dtype match: the same memory seen the same
        way. A block is never handed out twice at once, so no two live buffers
        share an array.
        """
        key = (block[0], block[1])
        arr = self._views.get(key)
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            arr = self._array_at(shape, dtype, self._segments[block[0]], block[1])
            views = self._views
            if len(views) >= _MAX_VIEWS:
                views.clear()
            views[key] = arr
        return arr

    def _empty(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Buffer:
        """A new owner buffer (uninitialised) of `shape` and `dtype`."""
        if dtype not in self._dtypes:
            self._unsupported(dtype)
        meta = [dtype, shape, None]
        block = self._malloc(math.prod(shape) * dtype.itemsize, meta)
        arr = self._views.get((block[0], block[1]))  # self._view, inlined
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            arr = self._view(shape, dtype, block)
        buf: Buffer = new_buffer(Buffer)
        buf.native = arr
        buf._hold = block
        buf.device = self
        buf._meta = meta
        return buf

    def _unsupported(self, dtype: Any) -> NoReturn:
        names = ", ".join(str(d) for d in dt.ALL if d in self._dtypes)
        raise TypeError(
            f"device {self.name} does not support dtype {dtype}; it holds {names}"
        )

    @property
    def allocator(self) -> Allocator:
        """The allocator of this device's arenas (read its numbers, do not malloc)."""
        return self._allocator

    @property
    def kind(self) -> str:
        return self._backend.kind

    @property
    def dtypes(self) -> frozenset[np.dtype[Any]]:
        """The data types this device can hold."""
        return self._dtypes

    def supports(self, dtype: Any) -> bool:
        return dt.as_dtype(dtype) in self._dtypes

    def __repr__(self) -> str:
        return f"Device({self.name!r})"

    # ------------------------------------------------------ memory and transfers
    def alloc(self, shape: Sequence[int], dtype: Any, *, info: Any = None) -> Buffer:
        """An uninitialised buffer of `shape` and `dtype` from the arena."""
        buf = self._empty(_check_shape(shape), dt.as_dtype(dtype))
        buf._meta[2] = info
        return buf

    def from_host(self, array: np.ndarray[Any, Any], *, info: Any = None) -> Buffer:
        """A new buffer holding a copy of the host array."""
        if not isinstance(array, np.ndarray | np.generic):
            raise TypeError(
                f"from_host takes a numpy.ndarray, got {type(array).__name__}"
            )
        host = np.asarray(array)
        dtype = dt.as_dtype(host.dtype, "array dtype")
        buf = self._empty(host.shape, dtype)
        buf._meta[2] = info
        self._backend.from_host(host, buf.native)
        return buf

    def to_host(self, buffer: Buffer) -> np.ndarray[Any, Any]:
        """A new host NumPy array with the buffer's values."""
        self._own(buffer, "to_host")
        return self._backend.to_host(buffer.native)

    def copy_to(self, buffer: Buffer, device: Device) -> Buffer:
        """A copy of `buffer` on `device` (which may be this one)."""
        self._own(buffer, "copy_to")
        if not isinstance(device, Device):
            raise TypeError(f"copy_to takes a Device, got {type(device).__name__}")
        if device._backend.xp is self._xp:
            out = device._empty(buffer.shape, buffer.dtype)
            self._xp.copyto(out.native, buffer.native)
        else:
            out = device.from_host(self.to_host(buffer))
        out._meta[2] = buffer.info
        return out

    def synchronize(self) -> None:
        self._backend.synchronize()

    def memory_stats(self) -> MemoryStats:
        free_deferred()  # blocks of buffers the garbage collector finalized
        s = self._allocator.stats()
        return MemoryStats(
            used_bytes=s.used_bytes,
            reserved_bytes=s.total_bytes,
            free_bytes=s.free_bytes,
            peak_bytes=s.peak_bytes,
            peak_reserved_bytes=s.peak_total_bytes,
            limit=s.limit,
            largest_free_block=s.largest_free_block,
            segments=s.segments,
            live_buffers=s.live_blocks,
        )

    def memory_snapshot(self) -> list[BufferRecord]:
        """Every live block (an owner buffer and its views), in address order."""
        free_deferred()
        return [
            BufferRecord(
                nbytes=b.size,
                dtype=b.info[0],
                shape=b.info[1],
                info=b.info[2],
                segment=b.segment,
                offset=b.offset,
            )
            for b in self._allocator.blocks()
        ]

    def set_memory_limit(self, nbytes: int | None) -> None:
        """Cap the bytes this device reserves (None: no cap). An allocation that
        would pass it raises actnet.mem.OutOfMemoryError naming the device."""
        self._allocator.set_limit(nbytes)

    def reset_peak_memory_stats(self) -> None:
        self._allocator.reset_peak()

    def empty_cache(self) -> int:
        """Give back the arenas that hold no live buffer; return the bytes freed."""
        free_deferred()
        return self._allocator.free_all_blocks()

    # ---------------------------------------------------------------- checking
    def _own(self, buffer: Any, op: str, argument: str = "x") -> Any:
        """`buffer`'s array, after checking it is a Buffer of this device."""
        if type(buffer) is not Buffer:
            raise TypeError(
                f"{op}: {argument} must be a Buffer, got {type(buffer).__name__}"
            )
        if buffer.device is not self:
            raise ValueError(
                f"{op}: {argument} is on {buffer.device.name}, but the operator "
                f"runs on {self.name}; move it with copy_to"
            )
        return buffer.native

    def _output(
        self, op: str, out: Buffer | None, shape: tuple[int, ...], dtype: np.dtype[Any]
    ) -> Buffer:
        if out is None:
            return self._empty(shape, dtype)
        self._own(out, op, "out")
        if out.native.shape != shape:
            raise ValueError(
                f"{op}: out has shape {out.shape}, the result has shape {shape}"
            )
        if out.native.dtype != dtype:
            raise TypeError(
                f"{op}: out has dtype {out.dtype}, the result has dtype {dtype}"
            )
        return out

    def _scalar(self, op: str, value: Any, dtype: np.dtype[Any]) -> Any:
        """A Python scalar operand as a NumPy scalar of the other operand's dtype."""
        kind = dtype.kind
        t = type(value)
        if t is bool:
            ok = kind == "b"
        elif t is int:
            ok = kind in "iufc"
        elif t is float:
            ok = kind in "fc"
        elif t is complex:
            ok = kind == "c"
        else:
            raise TypeError(
                f"{op}: operands are Buffers or Python scalars, "
                f"got {type(value).__name__}"
            )
        if not ok and not (dtype == dt.bfloat16 and t in (int, float)):
            raise TypeError(
                f"{op}: a Python {t.__name__} cannot combine with a {dtype} buffer"
            )
        try:
            return dtype.type(value)
        except OverflowError as exc:
            raise OverflowError(f"{op}: {value} does not fit in {dtype}") from exc

    def _result_dtype(
        self, op: str, table: dict[Any, Any], dtype: Any
    ) -> np.dtype[Any]:
        try:
            result: np.dtype[Any] = table[dtype]
        except KeyError:
            if dtype not in self._dtypes:
                self._unsupported(dtype)
            allowed = ", ".join(sorted({str(d) for d in table}))
            raise TypeError(f"{op} does not take {dtype}; it takes {allowed}") from None
        if result not in self._dtypes:
            self._unsupported(result)
        return result

    def _call(self, quiet: bool, func: Any, *args: Any) -> None:
        if quiet:
            token = self._backend.begin_quiet()
            try:
                func(*args)
            finally:
                self._backend.end_quiet(token)
        else:
            func(*args)

    # ------------------------------------------------------------- elementwise
    def _two_devices(self, op: str, a: Any, b: Any) -> NoReturn:
        names = [x.device.name for x in (a, b) if type(x) is Buffer]
        if len(names) == 1 or names[0] == names[1]:  # a scalar, or one other device
            raise ValueError(
                f"{op}: operands are on {names[0]}, "
                f"but the operator runs on {self.name}"
            )
        raise ValueError(
            f"{op}: operands are on two devices, {names[0]} and {names[1]}; "
            f"move one with copy_to"
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
            shape = _broadcast("where", shape, np.shape(arr))
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
            _broadcast("copy", arr.shape, out.shape, into=True)
        self._backend.copy(arr, out.native)
        return out

    def full(
        self, shape: Sequence[int], value: Scalar, dtype: Any, out: Buffer | None = None
    ) -> Buffer:
        """A buffer of `shape` filled with `value` (or `out` filled with it)."""
        target = dt.as_dtype(dtype)
        out = self._output("full", out, _check_shape(shape), target)
        self._backend.full(self._scalar("full", value, target), out.native)
        return out

    def arange(
        self,
        start: float,
        stop: float,
        step: float = 1,
        *,
        dtype: Any,
        out: Buffer | None = None,
    ) -> Buffer:
        """start, start + step, ... below stop: ceil((stop - start) / step) values."""
        for name, v in (("start", start), ("stop", stop), ("step", step)):
            if type(v) not in (int, float):
                raise TypeError(
                    f"arange: {name} must be an int or float, got {type(v).__name__}"
                )
        if step == 0:
            raise ValueError("arange: step must not be 0")
        target = dt.as_dtype(dtype)
        n = max(0, math.ceil((stop - start) / step))
        out = self._output("arange", out, (n,), target)
        self._backend.arange(start, step, out.native)
        return out

    # ---------------------------------------------------------------- reductions
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
            axes = _axes(axis, len(in_shape))
            shape = _reduced_shape(in_shape, axes, keepdims)
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
        if op in _QUIET_REDUCTIONS:
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
            a = _axis(axis, arr.ndim)
            if arr.shape[a] == 0:
                raise ValueError(f"{op} over an empty axis")
            shape = _reduced_shape(arr.shape, (a,), keepdims)
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
        a = _axis(axis, arr.ndim)
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

    # ------------------------------------------------------------------ matmul
    def matmul(self, a: Buffer, b: Buffer, out: Buffer | None = None) -> Buffer:
        """NumPy's matmul: batched over leading axes (broadcast), 1-d operands
        promoted to a row / column and the added axis dropped."""
        xa = self._own(a, "matmul", "a")
        xb = self._own(b, "matmul", "b")
        if xa.dtype != xb.dtype:
            raise TypeError(f"matmul: operands have dtypes {xa.dtype} and {xb.dtype}")
        result = self._result_dtype("matmul", OPS["matmul"].dtypes, xa.dtype)
        shape = _matmul_shape(xa.shape, xb.shape)
        out = self._output("matmul", out, shape, result)
        self._check_no_overlap("matmul", out, a, b)
        self._backend.matmul(xa, xb, out.native)
        return out

    def add_scaled(
        self, a: Buffer, b: Buffer, alpha: float, out: Buffer | None = None
    ) -> Buffer:
        """a + alpha * b (`torch.add(a, b, alpha=alpha)`, BLAS's axpy): a and b of
        one floating dtype and one shape, alpha a real Python number taken in that
        dtype. `out` may be a itself (an optimizer's in-place update) or b itself,
        but no other view of their memory.

        A backend may fuse the multiply-add and round once (the NumPy backend calls
        the BLAS that NumPy links, on its threads, for contiguous float32 and
        float64 written into a), or round the product before the sum: the results
        then differ by at most one rounding of the product."""
        xa = self._own(a, "add_scaled", "a")
        xb = self._own(b, "add_scaled", "b")
        if xa.dtype != xb.dtype:
            raise TypeError(
                f"add_scaled: a and b have dtypes {xa.dtype} and {xb.dtype}"
            )
        if xa.shape != xb.shape:
            raise ValueError(
                f"add_scaled: a has shape {xa.shape} and b {xb.shape}; they must "
                "be equal"
            )
        if isinstance(alpha, bool | np.bool_) or not isinstance(alpha, numbers.Real):
            raise TypeError(
                f"add_scaled: alpha must be a real Python number, got "
                f"{type(alpha).__name__}"
            )
        result = self._result_dtype("add_scaled", OPS["add_scaled"].dtypes, xa.dtype)
        if out is a or out is b:  # the usual in-place update: nothing to compare
            into_a = out is a
        else:
            out = self._output("add_scaled", out, xa.shape, result)
            into_a = self._same_view(out, a)
            if not into_a and not self._same_view(out, b):
                self._check_no_overlap("add_scaled", out, a, b)
        self._backend.add_scaled(xa, xb, float(alpha), out.native, into_a)
        return out

    def _same_view(self, x: Buffer, y: Buffer) -> bool:
        """Whether x and y show the same elements of the same memory alike."""
        if x._owner() is not y._owner():
            return False
        address = self._backend.address
        xa, ya = x.native, y.native
        return bool(address(xa) == address(ya) and xa.strides == ya.strides)

    # ---------------------------------------------------------------- indexing
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
        a = _axis(axis, arr.ndim)
        _check_bounds("take", self, indices, arr.shape[a])
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
        a = _axis(axis, arr.ndim)
        _check_other_axes("gather", arr.shape, idx.shape, a)
        _check_bounds("gather", self, index, arr.shape[a])
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
        a = _axis(axis, arr.ndim)
        _check_other_axes(op, arr.shape, idx.shape, a)
        _check_bounds(op, self, index, arr.shape[a])
        if type(src) is Buffer:
            values = self._own(src, op, "src")
            if values.dtype != arr.dtype:
                raise TypeError(
                    f"{op}: src has dtype {values.dtype}, x has {arr.dtype}"
                )
            _broadcast(op, values.shape, idx.shape, into=True)
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
            probe = _probe(self._xp, arr.shape)[k]
        except IndexError as exc:
            raise IndexError(f"index: {exc} (shape {arr.shape})") from None
        self._check_key_bounds("index", k, arr.shape)
        out = self._output("index", out, probe.shape, arr.dtype)
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
        "multiply", "min" and "max", repeated indices accumulate."""
        if mode not in ("set", "add", "multiply", "min", "max"):
            raise ValueError(
                "index_update: mode must be set, add, multiply, min or max, "
                f"got {mode!r}"
            )
        arr = self._own(x, "index_update")
        k = self._key("index_update", key, arr.shape)
        try:
            target = _probe(self._xp, arr.shape)[k].shape
        except IndexError as exc:
            raise IndexError(f"index_update: {exc} (shape {arr.shape})") from None
        self._check_key_bounds("index_update", k, arr.shape)
        if type(values) is Buffer:
            v = self._own(values, "index_update", "values")
            if v.dtype != arr.dtype:
                raise TypeError(
                    f"index_update: values have dtype {v.dtype}, x has {arr.dtype}"
                )
            _broadcast("index_update", v.shape, target, into=True)
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
        explicit = sum(_consumed(item) for item in key)
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
            axis += _consumed(item)

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
        a = _axis(axis, first.ndim)
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

    # ------------------------------------------------------- sorting and sets
    def _sort(
        self, op: str, x: Buffer, axis: int, descending: bool, out: Buffer | None
    ) -> Buffer:
        arr = self._own(x, op)
        result = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        if arr.ndim == 0:
            raise ValueError(f"{op}: a 0-d buffer has no axis to sort")
        a = _axis(axis, arr.ndim)
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

    def _keep(self, arr: Any) -> Buffer:
        """A backend temporary copied into a new buffer of this device's arena."""
        buf = self._empty(tuple(arr.shape), dt.as_dtype(arr.dtype))
        self._xp.copyto(buf.native, arr)
        return buf

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

    # ------------------------------------------------------------ linear algebra
    def _linalg(self, op: str, inputs: Sequence[Buffer], **params: Any) -> Any:
        arrays = [
            self._own(b, op, name) for b, name in zip(inputs, ("a", "b"), strict=False)
        ]
        for arr in arrays:
            self._result_dtype(op, LINALG_DTYPES, arr.dtype)
            if arr.ndim < 2 and not (
                op == "solve" and arr is arrays[-1] and len(arrays) == 2
            ):
                raise ValueError(
                    f"{op}: needs a stack of matrices, got shape {arr.shape}"
                )
        if len(arrays) == 2 and arrays[0].dtype != arrays[1].dtype:
            raise TypeError(
                f"{op}: dtypes {arrays[0].dtype} and {arrays[1].dtype} differ"
            )
        square = arrays[0].shape[-1] == arrays[0].shape[-2]
        if op not in ("qr", "svd", "svdvals") and not square:
            raise ValueError(
                f"{op}: needs square matrices, got shape {arrays[0].shape}"
            )
        token = self._backend.begin_quiet()
        try:
            result = self._backend.linalg(op, arrays, params)
        except self._backend.linalg_error as exc:
            raise ValueError(f"{op}: {exc}") from exc
        finally:
            self._backend.end_quiet(token)
        if isinstance(result, tuple):
            return tuple(self._keep(r) for r in result)
        return self._keep(result)

    def solve(self, a: Buffer, b: Buffer) -> Buffer:
        """x with a @ x = b; b is a stack of matrices, or one vector when 1-d."""
        result: Buffer = self._linalg("solve", [a, b])
        return result

    def inv(self, a: Buffer) -> Buffer:
        result: Buffer = self._linalg("inv", [a])
        return result

    def det(self, a: Buffer) -> Buffer:
        result: Buffer = self._linalg("det", [a])
        return result

    def slogdet(self, a: Buffer) -> tuple[Buffer, Buffer]:
        """(sign, log|det|)."""
        result: tuple[Buffer, Buffer] = self._linalg("slogdet", [a])
        return result

    def cholesky(self, a: Buffer, *, upper: bool = False) -> Buffer:
        """The Cholesky factor L (a = L @ L^H), or U = L^H when `upper`."""
        result: Buffer = self._linalg("cholesky", [a], upper=upper)
        return result

    def qr(
        self, a: Buffer, *, mode: Literal["reduced", "complete"] = "reduced"
    ) -> tuple[Buffer, Buffer]:
        if mode not in ("reduced", "complete"):
            raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
        result: tuple[Buffer, Buffer] = self._linalg("qr", [a], mode=mode)
        return result

    def svd(
        self, a: Buffer, *, full_matrices: bool = True
    ) -> tuple[Buffer, Buffer, Buffer]:
        """(U, S, Vh) with a = U @ diag(S) @ Vh."""
        result: tuple[Buffer, Buffer, Buffer] = self._linalg(
            "svd", [a], full_matrices=full_matrices
        )
        return result

    def svdvals(self, a: Buffer) -> Buffer:
        """The singular values, in descending order."""
        result: Buffer = self._linalg("svdvals", [a])
        return result

    def eigh(self, a: Buffer) -> tuple[Buffer, Buffer]:
        """(eigenvalues ascending, eigenvectors) of a Hermitian matrix (its lower
        triangle is read)."""
        result: tuple[Buffer, Buffer] = self._linalg("eigh", [a])
        return result

    # ---------------------------------------------------------------- randomness
    def random_bits(self, key: tuple[int, int], counter: int, n: int) -> Buffer:
        """n uint32 words of Philox4x32-10 under `key` (two 32-bit words), from the
        128-bit counters (counter, 0), (counter + 1, 0), ... four words each."""
        if (
            not isinstance(key, tuple) or len(key) != 2
            or not all(type(k) is int and 0 <= k < 2**32 for k in key)
        ):  # fmt: skip
            raise ValueError(f"random_bits: key must be two 32-bit ints, got {key!r}")
        if type(counter) is not int or not 0 <= counter < 2**64:
            raise ValueError(
                f"random_bits: counter must be an int in [0, 2**64), got {counter!r}"
            )
        if type(n) is not int or n < 0:
            raise ValueError(f"random_bits: n must be a non-negative int, got {n!r}")
        out = self._empty((n,), dt.uint32)
        self._backend.random_bits(key, counter, out.native)
        return out

    # ----------------------------------------------------------------- run(...)
    def run(
        self,
        op_name: str,
        inputs: Sequence[Any],
        out: Buffer | None = None,
        **params: Any,
    ) -> Any:
        """Any operator by name: `run("add", [a, b])` is `add(a, b)`."""
        if op_name not in OPS:
            raise ValueError(
                f"unknown operator {op_name!r}; the operator set is {sorted(OPS)}"
            )
        method = getattr(self, op_name)
        if out is not None:
            params["out"] = out
        return method(*inputs, **params)

    # ------------------------------------------------------------------ aliasing
    def _check_no_overlap(self, op: str, out: Buffer, *inputs: Any) -> None:
        """Kernels that are not ufuncs may not write into memory they read."""
        owner = out._owner()
        for x in inputs:
            if type(x) is Buffer and x._owner() is owner:
                raise ValueError(
                    f"{op}: out shares memory with an input; use a fresh out"
                )
            if isinstance(x, list | tuple):
                self._check_no_overlap(op, out, *x)


def _check_shape(shape: Any) -> tuple[int, ...]:
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
def _broadcast_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    result = []
    for m, n in itertools.zip_longest(reversed(a), reversed(b), fillvalue=1):
        if m == n or n == 1:
            result.append(m)
        elif m == 1:
            result.append(n)
        else:
            return None
    return tuple(reversed(result))


def _broadcast(
    op: str, a: tuple[int, ...], b: tuple[int, ...], *, into: bool = False
) -> tuple[int, ...]:
    """The broadcast shape of a and b; with `into`, a must broadcast to exactly b."""
    shape = _broadcast_shapes(a, b)
    if shape is None or (into and shape != b):
        what = f"to {b}" if into else f"with {b}"
        raise ValueError(f"{op}: shape {a} does not broadcast {what}")
    return shape


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    for a in items:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(
                f"axis must be an int, a tuple of ints or None, got {axis!r}"
            )
    result = tuple(_axis(a, ndim) for a in items)
    if len(set(result)) != len(result):
        raise ValueError(f"axis {axis} repeats an axis")
    return tuple(sorted(result))


_MAX_VIEWS: Final = 1 << 14  # arrays kept by Device._view (a few MB at most)
_ALL_AXES: Final = [tuple(range(n)) for n in range(65)]
_QUIET_REDUCTIONS: Final = frozenset(name for name in REDUCE if OPS[name].quiet)


def _reduced_shape(
    shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool
) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not a or not b:
        raise ValueError("matmul: operands must have at least one axis")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(
            f"matmul: shapes {a} and {b} do not align ({a2[-1]} != {b2[-2]})"
        )
    batch = _broadcast("matmul", a2[:-2], b2[:-2])
    shape = [*batch, a2[-2], b2[-1]]
    if len(b) == 1:
        shape.pop(-1)
    if len(a) == 1:
        shape.pop(-2 if len(b) != 1 else -1)
    return tuple(shape)


def _check_other_axes(
    op: str, x: tuple[int, ...], index: tuple[int, ...], axis: int
) -> None:
    """Off `axis`, x's extents must broadcast to index's (numpy.take_along_axis with
    a result of index's shape)."""
    _broadcast(op, x[:axis] + x[axis + 1 :], index[:axis] + index[axis + 1 :],
               into=True)  # fmt: skip


def _probe(xp: Any, shape: tuple[int, ...]) -> Any:
    """A one-byte array seen with `shape`: indexing it tells a key's result shape."""
    return xp.lib.stride_tricks.as_strided(
        xp.empty(1, xp.int8), shape, (0,) * len(shape)
    )


def _consumed(item: Any) -> int:
    """How many axes of the indexed array an index item consumes."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, int | slice) or item.dtype.kind != "b":
        return 1
    return int(item.ndim)


def _check_bounds(op: str, device: Device, index: Buffer, n: int) -> None:
    arr = index.native
    if arr.size == 0:
        return
    xp = device._xp
    low, high = int(xp.min(arr)), int(xp.max(arr))
    if low < -n or high >= n:
        bad = high if high >= n else low
        raise IndexError(f"{op}: index {bad} is out of bounds for an axis of size {n}")
