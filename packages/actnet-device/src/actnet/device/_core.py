"""DeviceCore: a device's arenas, its buffers' memory, transfers, and the checks
every operator makes.

The operator groups (`_elementwise`, `_reductions`, `_indexing`, `_linalg`,
`_sorting`, `_creation`) are subclasses of DeviceCore, and `Device` joins them.
Every byte a buffer holds is a block of this device's `actnet.mem.Allocator`, so
`memory_stats()` is the allocator's own numbers; kernels that need scratch memory
get it from the same arena (`_scratch`).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod
from types import FrameType
from typing import Any, Final, NoReturn

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device import _hooks
from actnet.device._backend import Backend
from actnet.device._buffer import Buffer, free_deferred, new_buffer
from actnet.device._capture import Capture
from actnet.device._checks import Scalar, check_shape
from actnet.device._opset import BINARY, OPS, UNARY
from actnet.mem import Allocator, Block, OutOfMemoryError

# How to move data to another device at each layer. A device mismatch raised here
# reaches the users of every layer above, so its message names each one's move.
MOVE_HINT: Final = "`Tensor.to`, `NDArray.to_device` or `Device.copy_to`"

Operand = Buffer | Scalar


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


class DeviceCore:
    """Arenas, memory, transfers and argument checks: what every operator uses."""

    def __init__(
        self,
        name: str,
        backend: Backend,
        *,
        dtypes: Sequence[np.dtype[Any]] | None = None,
        segment_size: int = 2 << 20,
    ) -> None:
        """A device holding `dtypes` (None: every dtype of `ALL`, bfloat16 from
        when it loads, see `_dtypes`)."""
        self.name: Final = name
        self._backend = backend
        self._xp = backend.xp
        self._every = dtypes is None
        self._dtypes = frozenset(dt.loaded() if dtypes is None else dtypes)
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
        self._capture: Capture | None = None  # recording (Device.capture)
        _hooks.devices.add(self)  # see Capture.start
        # The backend's kernels take their scratch memory from this arena.
        backend.scratch = self._scratch
        self._cut_tables()

    def _cut_tables(self) -> None:
        """Per elementwise operator: its dtype table cut down to what this device
        holds (so one lookup checks both), whether it runs quietly, the kernel."""
        backend = self._backend
        ufuncs = backend.ufuncs
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

    def _take_bfloat16(self, bfloat16: np.dtype[Any]) -> None:
        """Hold bfloat16 (just loaded) if made to hold every dtype."""
        if self._every:
            self._dtypes = self._dtypes | {bfloat16}
            self._cut_tables()

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

    def _empty(
        self,
        shape: tuple[int, ...],
        dtype: np.dtype[Any],
        info: Any = None,
        held: bool = False,
    ) -> Buffer:
        """A new owner buffer (uninitialised) of `shape` and `dtype`, labelled
        `info`: the one place an owner is made (views are made by `Buffer._view`).
        Every operator's result comes from here, so it is kept lean: `held` says
        that the device holds `dtype` (it came from a table cut down to the
        device's dtypes), which is then not checked again."""
        if not held and dtype not in self._dtypes:
            self._unsupported(dtype)
        meta = [dtype, shape, info]
        try:
            block = self._malloc(prod(shape) * dtype.itemsize, meta)
        except OutOfMemoryError as exc:
            _name_operator(exc)
            raise
        arr = self._views.get((block[0], block[1]))  # self._view, inlined
        # `is not`: a dtype equal to `dtype` is the same object (NumPy keeps one
        # per type); anything else takes _view's full comparison.
        if arr is None or arr.shape != shape or arr.dtype is not dtype:
            arr = self._view(shape, dtype, block)
        buf: Buffer = new_buffer(Buffer)
        buf.native = arr
        buf._hold = block
        buf.device = self  # type: ignore[assignment]  # every DeviceCore is a Device
        buf._meta = meta
        return buf

    def _scratch(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Buffer:
        """Scratch memory of a kernel, from the arena (so memory_stats sees it): a
        buffer whose `native` has `shape` and `dtype`, freed when it goes. Any
        dtype: a kernel may work in one the device holds no buffers of (erf in
        float64 on a device without float64), on the arena's bytes."""
        if dtype in self._dtypes:
            buf = self._empty(shape, dtype)
        else:
            raw = self._empty((prod(shape) * dtype.itemsize,), dt.uint8)
            buf = raw._view(raw.native.view(dtype).reshape(shape))
        buf._meta[2] = _SCRATCH  # shared by a view and its owner
        return buf

    def _unsupported(self, dtype: Any) -> NoReturn:
        names = ", ".join(str(d) for d in dt.ALL if d in self.dtypes)
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
    def type(self) -> str:
        """torch.device's name for `kind` ("cpu", "cuda": `x.device.type`)."""
        return self._backend.kind

    @property
    def dtypes(self) -> frozenset[np.dtype[Any]]:
        """The data types this device can hold (bfloat16 loaded if among them)."""
        if self._every:
            dt.load_bfloat16()
        return self._dtypes

    def supports(self, dtype: Any) -> bool:
        return dt.as_dtype(dtype) in self._dtypes

    def __repr__(self) -> str:
        return f"Device({self.name!r})"

    # ------------------------------------------------------ memory and transfers
    def alloc(self, shape: Sequence[int], dtype: Any, *, info: Any = None) -> Buffer:
        """An uninitialised buffer of `shape` and `dtype` from the arena."""
        return self._empty(check_shape(shape), dt.as_dtype(dtype), info)

    def from_host(self, array: np.ndarray[Any, Any], *, info: Any = None) -> Buffer:
        """A new buffer holding a copy of the host array."""
        if not isinstance(array, np.ndarray | np.generic):
            raise TypeError(
                f"from_host takes a numpy.ndarray, got {type(array).__name__}"
            )
        host = np.asarray(array)
        dtype = dt.as_dtype(host.dtype, "array dtype")
        buf = self._empty(host.shape, dtype, info)
        self._backend.from_host(host, buf.native)
        return buf

    def to_host(self, buffer: Buffer) -> np.ndarray[Any, Any]:
        """A new host NumPy array with the buffer's values."""
        self._own(buffer, "to_host")
        return self._backend.to_host(buffer.native)

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
        would pass it raises actnet.mem.OutOfMemoryError naming the device. A cap
        below the reserved bytes first gives back the arenas that hold no live
        buffer (`empty_cache`); when those that do still reserve more, it raises
        ValueError saying so, and the old cap stays."""
        free_deferred()  # blocks of buffers the garbage collector finalized
        self._allocator.set_limit(nbytes)

    def reset_peak_memory_stats(self) -> None:
        """Restart the peaks from the bytes in use now (after the frees of buffers
        the garbage collector finalized, which would otherwise count)."""
        free_deferred()
        self._allocator.reset_peak()

    def empty_cache(self) -> int:
        """Give back the arenas that hold no live buffer; return the bytes freed."""
        free_deferred()
        return self._allocator.free_all_blocks()

    def _keep(self, arr: Any) -> Buffer:
        """A backend temporary copied into a new buffer of this device's arena."""
        buf = self._empty(tuple(arr.shape), dt.as_dtype(arr.dtype))
        self._xp.copyto(buf.native, arr)
        return buf

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
                f"runs on {self.name}; move it there first ({MOVE_HINT})"
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
        if not ok and not (dt.is_bfloat16(dtype) and t in (int, float)):
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

    def _host_check(self, check: Callable[..., None], *args: Any) -> None:
        """check(*args), a validation that reads data on the host (the bounds of
        integer indices); inside a capture it is part of the recording, so every
        replay checks the data it is given."""
        cap = self._capture
        if cap is None:
            check(*args)
        else:
            cap.call_kernel("check", check, args)

    def _check_kernel_result(self, result: Any, check: Callable[[Any], None]) -> None:
        """check(result) for what the last kernel reported back (cross-entropy's
        target bounds, say); inside a capture, every replay checks it again."""
        check(result)
        cap = self._capture
        if cap is not None:
            cap.check_last_call(check)

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


def _name_operator(exc: OutOfMemoryError) -> None:
    """Name, in a note of `exc` and as its `operator` attribute, the outermost
    operator of the device that was allocating (the one the layer above called:
    cross_entropy, not the log_softmax it runs inside)."""
    op = None
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("actnet.device."):
            name = frame.f_code.co_name
            if name in OPS:
                op = name
            else:  # the elementwise operators' shared code keeps its name in `op`
                local = frame.f_locals.get("op")
                if isinstance(local, str) and local in OPS:
                    op = local
        frame = frame.f_back
    if op is not None and exc.operator is None:
        exc.operator = op
        exc.add_note(f"raised by the operator {op!r}")


_MAX_VIEWS: Final = 1 << 14  # arrays kept by DeviceCore._view (a few MB at most)
_SCRATCH: Final = "scratch"  # the info of a kernel's scratch in memory_snapshot


def _take_bfloat16(bfloat16: np.dtype[Any]) -> None:
    # After _opset's completion (registered when _opset was imported, before
    # this module): the tables a device cuts down already take bfloat16.
    for device in list(_hooks.devices):
        device._take_bfloat16(bfloat16)


dt.on_bfloat16(_take_bfloat16)
