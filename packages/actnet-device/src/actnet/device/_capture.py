"""Captured work: the kernel calls of a stretch of operators, recorded once,
their memory planned ahead, replayed without dispatch.

`Device.capture()` records, on the calling thread, every kernel the device's
operators call (the backend's methods, the elementwise ufuncs, and the copies
the device makes itself), with each array argument resolved to the arena block
it lies in. When the block is over:

- blocks that existed before and still do, and blocks made during the capture
  that are still alive (gradients set by backward, a step's loss), are the
  program's *state*: a replay reads and writes them where they are;
- blocks made and freed during the capture are *transient*: their lifetimes (the
  first and the last kernel call that touched them) go to `actnet.mem.plan`, and
  a replay finds them at the planned offsets of one arena block that the program
  holds (`memory_plan` describes it);
- everything else an argument holds (Python and NumPy scalars, host arrays) is a
  constant of the program.

`Capture.program` is then a flat list of kernel calls on bound arrays: a replay
makes no allocation of its own, no dispatch and no check (a kernel's scratch
still comes from the arena, inside the kernel).

Values a step takes from the host every time must not become constants, so:

- random numbers: a `Generator.reserve` made while recording is made again, at
  the same place, by every replay, and the kernels that took its key and counter
  take the new ones (so N replays draw what N eager runs draw);
- `Device.host_step(fn)`: `fn` runs now, unrecorded, and again at its place in
  every replay (an optimizer's update, whose learning rate and step count live on
  the host); it may touch only state, never a transient buffer.

What cannot be replayed raises `CaptureError` while recording, naming it: a read
of device data on the host (`to_host`: `.item()`, `float()`, printing), an
operator whose result's shape depends on the data (`nonzero`, `unique`, ...),
state that the work frees after reading it (a tensor replaced rather than
updated in place), or a kernel reading memory a host step made.

    with cpu.capture() as cap:
        y = cpu.multiply(x, w)
        cpu.add(y, b, out=z)
    program = cap.program
    program.replay()  # z = x * w + b again, for x's and w's values now
"""

from __future__ import annotations

import bisect
import gc
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

from actnet.device import _dtypes as dt
from actnet.device import _hooks
from actnet.device._buffer import free_deferred
from actnet.device._capture_proxies import (
    BackendProxy,
    ModuleProxy,
    RefusingModule,
    RefusingProxy,
)
from actnet.device._program import (
    CaptureError,
    HostStep,
    MemoryPlan,
    PlannedBuffer,
    Program,
    Reservation,
)
from actnet.mem import Block, plan

if TYPE_CHECKING:
    from actnet.device._core import DeviceCore
    from actnet.device._random import Generator


class _BlockInfo:
    """What the recorder knows of one block."""

    __slots__ = (
        "address",
        "alive",
        "block",
        "first",
        "host_made",
        "host_touched",
        "last",
        "pre",
    )

    def __init__(self, block: Block, pre: bool, host_made: bool) -> None:
        self.block = block
        self.address = -1  # of its first byte (set when first found)
        self.pre = pre  # allocated before the capture began
        self.alive = True
        self.host_made = host_made  # allocated inside a host step
        self.host_touched = False
        self.first = -1  # kernel calls that touched it (recorded ones only)
        self.last = -1


class _Ref:
    """An array argument: `delta` bytes into `info`'s block, seen as `array`."""

    __slots__ = ("array", "delta", "info")

    def __init__(self, info: _BlockInfo, delta: int, array: Any) -> None:
        self.info = info
        self.delta = delta
        self.array = array


class _Seq:
    """A list or tuple argument holding arrays."""

    __slots__ = ("items", "kind")

    def __init__(self, kind: type, items: list[Any]) -> None:
        self.kind = kind
        self.items = items


class Capture:
    """The recorder of `Device.capture()`; `program` once the block has ended."""

    def __init__(self, device: DeviceCore) -> None:
        self._device = device
        self.thread = threading.get_ident()
        self._depth = 0  # > 0 inside a kernel (its scratch is not the program's)
        self._host = 0  # > 0 inside a host step
        self._blocks: dict[Block, _BlockInfo] = {}
        self._offsets: dict[Any, list[int]] = {}  # segment -> live block offsets
        self._live: dict[Any, list[_BlockInfo]] = {}  # the blocks, in that order
        self._segments: list[tuple[int, int, Any]] = []  # (address, size, key)
        # (kernel, argument specs, keyword specs), host steps and reservations
        self._calls: list[
            tuple[Callable[..., Any], list[Any], dict[str, Any] | None]
        ] = []
        self._reservations: list[Reservation] = []
        self._saved: dict[str, Any] = {}
        self._program: Program | None = None
        self.recording = False  # between start() and stop()
        self._rebound: list[_BlockInfo] = []  # see _note_copy
        # the other devices, and what start() replaced on them
        self._others: list[tuple[Any, Any, Any, Any, Any]] = []

    @property
    def program(self) -> Program:
        """The recording as a Program (after the `capture()` block ended)."""
        if self._program is None:
            raise RuntimeError("the capture has not ended yet")
        return self._program

    # ------------------------------------------------------------ start and end
    def start(self) -> None:
        dev = self._device
        if dev._capture is not None:
            raise CaptureError(f"device {dev.name} is already capturing")
        if _hooks.reservation_hook is not None:
            raise CaptureError("another capture is recording random reservations")
        free_deferred()
        for block in dev.allocator.blocks():
            self._add(block, pre=True)
        self._refresh_segments()
        backend = dev._backend
        saved = self._saved
        saved.update(
            _backend=backend,
            _xp=dev._xp,
            _malloc=dev._malloc,
            _free=dev._free,
            _unary_ops=dev._unary_ops,
            _binary_ops=dev._binary_ops,
        )
        dev._backend = BackendProxy(self, backend)  # type: ignore[assignment]  # the proxy has the backend's kernels
        dev._xp = ModuleProxy(self, dev._xp)
        dev._malloc = self._malloc
        dev._free = self._free
        dev._unary_ops = {
            name: (table, quiet, self._kernel(name, fn))
            for name, (table, quiet, fn) in dev._unary_ops.items()
        }
        dev._binary_ops = {
            name: (table, quiet, self._kernel(name, fn))
            for name, (table, quiet, fn) in dev._binary_ops.items()
        }
        _hooks.reservation_hook = self._reserved
        # Work on another device would not be in the program: refuse it.
        for other in list(_hooks.devices):
            if other is not dev:
                self._others.append(
                    (other, other._backend, other._unary_ops, other._binary_ops,
                     other._xp)
                )  # fmt: skip
                other._backend = RefusingProxy(self, other, other._backend)
                other._xp = RefusingModule(self, other, other._xp)
                other._unary_ops = {
                    name: (table, quiet, self._refusing(other, name, fn))
                    for name, (table, quiet, fn) in other._unary_ops.items()
                }
                other._binary_ops = {
                    name: (table, quiet, self._refusing(other, name, fn))
                    for name, (table, quiet, fn) in other._binary_ops.items()
                }
        dev._capture = self
        self.recording = True

    def stop(self) -> None:
        """Put the device back as it was (recording or not, error or not)."""
        dev = self._device
        if dev._capture is not self:
            return
        for name, value in self._saved.items():
            setattr(dev, name, value)
        for other, backend, unary, binary, xp in self._others:
            other._backend, other._unary_ops, other._binary_ops = backend, unary, binary
            other._xp = xp
        self._others.clear()
        _hooks.reservation_hook = None
        dev._capture = None
        self.recording = False

    def finish(self) -> None:
        """Classify the blocks, plan the transient ones, bind the calls."""
        gc.collect()  # buffers held only by reference cycles are freed now
        free_deferred()
        self.stop()
        blocks = [b for b in self._blocks.values() if b.first >= 0]
        replaced = [b for b in blocks if b.pre and not b.alive]
        if replaced:
            raise CaptureError(
                "the captured work frees memory it read that existed before it "
                f"({_describe(replaced)}): a tensor replaced instead of updated "
                "in place cannot be replayed"
            )
        hosted = [  # a host step's own temporaries are its business
            b
            for b in self._blocks.values()
            if b.host_touched and not b.alive and not b.host_made
        ]
        if hosted:
            raise CaptureError(
                "a host step touched memory that the captured work frees "
                f"({_describe(hosted)}): host steps may use only state that "
                "outlives the work"
            )
        transient = [b for b in blocks if not b.alive]
        state = [b.block for b in blocks if b.alive]
        dev = self._device
        alignment = dev.allocator.alignment
        placed = plan(
            [(b.block.size, b.first, b.last) for b in transient], alignment=alignment
        )
        region = None
        where: dict[_BlockInfo, tuple[Any, int]] = {}
        if transient:
            region = dev._empty((placed.peak_bytes,), dt.uint8, "captured transients")
            block = region._hold
            assert type(block) is Block
            segment = dev._segments[block[0]]
            for b, offset in zip(transient, placed.offsets, strict=True):
                where[b] = (segment, block[1] + offset)
        array_at = dev._backend.array_at
        views: dict[tuple[Any, ...], Any] = {}

        def bind(spec: Any) -> Any:
            t = type(spec)
            if t is _Ref:
                info = spec.info
                if info.alive:
                    return spec.array
                segment, offset = where[info]
                arr = spec.array
                key = (id(info), spec.delta, arr.shape, arr.strides, arr.dtype.str)
                view = views.get(key)
                if view is None:
                    view = array_at(
                        arr.shape, arr.dtype, segment, offset + spec.delta, arr.strides
                    )
                    views[key] = view
                return view
            if t is _Seq:
                return spec.kind(bind(item) for item in spec.items)
            return spec

        calls: list[tuple[Callable[..., Any], list[Any], dict[str, Any] | None]] = []
        bound: dict[int, list[Any]] = {}  # id of a call's specs -> its arguments
        for fn, specs, kwspecs in self._calls:
            args = [bind(s) for s in specs]
            bound[id(specs)] = args
            kwargs = (
                None if kwspecs is None else {k: bind(v) for k, v in kwspecs.items()}
            )
            calls.append((fn, args, kwargs))
        for r in self._reservations:
            r.patches = [(bound[id(specs)], i) for specs, i in r.patches]
        kernels = sum(
            1 for fn, _, _ in self._calls if type(fn) not in (Reservation, HostStep)
        )
        memory_plan = MemoryPlan(
            peak_bytes=placed.peak_bytes,
            lower_bound_bytes=placed.lower_bound_bytes,
            buffers=tuple(
                PlannedBuffer(
                    offset=offset,
                    nbytes=b.block.size,
                    first_use=b.first,
                    last_use=b.last,
                    dtype=b.block.info[0],
                    shape=b.block.info[1],
                    label=b.block.info[2],
                )
                for b, offset in zip(transient, placed.offsets, strict=True)
            ),
            kernel_calls=kernels,
            host_steps=sum(1 for fn, _, _ in self._calls if type(fn) is HostStep),
            state_buffers=len(state),
        )
        # A host step that copied recorded state into memory that outlives it
        # rebound that state (see _note_copy): right once, then record again.
        rebound = any(b.alive for b in self._rebound)
        self._program = Program(dev, calls, state, region, memory_plan, rebound)

    # ------------------------------------------------------------- the record
    def _add(self, block: Block, pre: bool) -> _BlockInfo:
        info = _BlockInfo(block, pre, self._host > 0)
        self._blocks[block] = info
        seg, offset = block[0], block[1]
        offsets = self._offsets.setdefault(seg, [])
        i = bisect.bisect_left(offsets, offset)
        offsets.insert(i, offset)
        self._live.setdefault(seg, []).insert(i, info)
        return info

    def _malloc(self, nbytes: int, info: Any = None) -> Block:
        block: Block = self._saved["_malloc"](nbytes, info)
        if self._depth == 0 and threading.get_ident() == self.thread:
            self._add(block, pre=False)
        return block

    def _free(self, block: Block) -> None:
        self._saved["_free"](block)
        info = self._blocks.get(block)
        if info is not None and info.alive:
            info.alive = False
            seg = block[0]
            offsets = self._offsets[seg]
            i = bisect.bisect_left(offsets, block[1])
            live = self._live[seg]
            while live[i] is not info:  # blocks of size 0 may share an offset
                i += 1
            del offsets[i]
            del live[i]

    def _refresh_segments(self) -> None:
        dev = self._device
        backend = self._saved.get("_backend", dev._backend)
        segments = []
        for s in dev.allocator.segments():
            start = backend.array_at((s.size,), dt.uint8, dev._segments[s.segment], 0)
            segments.append((backend.address(start), s.size, s.segment))
        self._segments = sorted(segments, key=lambda t: t[0])

    def _locate(self, address: int) -> tuple[Any, int] | None:
        """(segment, offset) of an address in the arena, or None (host memory)."""
        for refresh in (False, True):
            if refresh:
                self._refresh_segments()
            for base, size, key in self._segments:
                if base <= address < base + size:
                    return key, address - base
        return None

    def _spec(self, value: Any, index: int) -> Any:
        """An argument as the program keeps it (see `finish`'s `bind`)."""
        t = type(value)
        if t is list or t is tuple:
            items = [self._spec(v, index) for v in value]
            if any(type(i) is _Ref or type(i) is _Seq for i in items):
                return _Seq(t, items)
            return t(items)
        if t is ModuleProxy:  # the array module itself (a check's argument)
            return value._real
        if not isinstance(value, self._array_type):
            return value
        info = self._find(value)
        if info is None:  # host memory (or nothing): a constant of the program
            array: Any = value
            return array.copy()
        if self._host:
            info.host_touched = True
            return value
        if info.host_made:
            raise CaptureError(
                "a kernel reads memory that a host step made: host steps run again "
                "at every replay and make it anew"
            )
        if info.first < 0:
            info.first = index
        info.last = index
        return _Ref(info, self._saved["_backend"].address(value) - info.address, value)

    def _find(self, array: Any) -> _BlockInfo | None:
        """The block an array argument lies in; None for host memory."""
        if array.size == 0:
            return None
        address = self._saved["_backend"].address(array)
        for refresh in (False, True):
            # A segment released and a new one mapped at the same addresses:
            # the cached map names the old one, so look again with a fresh map.
            if refresh:
                self._refresh_segments()
            where = self._locate(address)
            if where is None:
                return None
            seg, offset = where
            offsets = self._offsets.get(seg, [])
            i = bisect.bisect_right(offsets, offset) - 1
            live = self._live.get(seg, [])
            info = live[i] if i >= 0 else None
            if info is not None and offset < info.block[1] + max(info.block[2], 1):
                info.address = address - (offset - info.block[1])
                return info
        raise CaptureError(
            "a kernel argument lies in arena memory that the capture does not "
            "know (a buffer made on another thread while recording)"
        )

    @property
    def _array_type(self) -> type:
        array_type: type = self._saved["_xp"].ndarray
        return array_type

    def _record(
        self,
        name: str,
        fn: Callable[..., Any],
        args: Sequence[Any],
        kwargs: dict[str, Any],
    ) -> None:
        index = len(self._calls)
        specs = [self._spec(a, index) for a in args]
        kwspecs = {k: self._spec(v, index) for k, v in kwargs.items()} or None
        if self._host:
            if name in _COPIES and len(args) >= 2:
                src, dst = args[:2] if name == "copy" else args[1::-1]
                self._note_copy(src, dst)
            return
        for i in range(len(args) - 1):  # a reservation's (key, counter) pair
            key, counter = args[i], args[i + 1]
            if type(key) is tuple and type(counter) is int:
                for r in reversed(self._reservations):
                    if r.key == key and r.counter == counter:
                        r.patches.append((specs, i))
                        break
        self._calls.append((fn, specs, kwspecs))

    def _note_copy(self, src: Any, dst: Any) -> None:
        """A host step copies memory that recorded kernels read into memory it
        made, which outlives it: state rebound by copy-on-write (an optimizer
        writing a parameter that a kept state_dict shares). The recorded kernels
        would go on reading the old copy: the program must record again."""
        if not isinstance(src, self._array_type) or not isinstance(
            dst, self._array_type
        ):
            return
        read, made = self._find(src), self._find(dst)
        if read is not None and made is not None and read.first >= 0 and made.host_made:
            self._rebound.append(made)

    def _kernel(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn`, recording its calls made on the capturing thread."""

        def kernel(*args: Any, **kwargs: Any) -> Any:
            if self._depth or threading.get_ident() != self.thread:
                return fn(*args, **kwargs)
            self._record(name, fn, args, kwargs)
            self._depth += 1
            try:
                result = fn(*args, **kwargs)
            finally:
                self._depth -= 1
            if (
                not self._host
                and self._holds_array(result)
                and not any(result is a for a in args)  # a ufunc returns its out
                and not any(result is a for a in kwargs.values())
            ):
                raise CaptureError(
                    f"{name}: its result's shape depends on the data (it is computed "
                    "on the host and copied), so it cannot be captured"
                )
            return result

        return kernel

    def _refusing(
        self, other: DeviceCore, name: str, fn: Callable[..., Any]
    ) -> Callable[..., Any]:
        """`fn`, a kernel of another device, refused on the recording thread."""

        def kernel(*args: Any, **kwargs: Any) -> Any:
            if self.recording and threading.get_ident() == self.thread:
                raise self.elsewhere(other, name)
            return fn(*args, **kwargs)

        return kernel

    def elsewhere(self, other: DeviceCore, name: str) -> CaptureError:
        return CaptureError(
            f"{name} ran on {other.name} while {self._device.name} records: a "
            f"captured step runs on one device, and this work would not be "
            f"replayed (a step with no tensor argument is recorded on "
            f"{self._device.name}; pass it a tensor on {other.name})"
        )

    def call_kernel(
        self, name: str, fn: Callable[..., Any], args: Sequence[Any]
    ) -> Any:
        """fn(*args), recorded as a kernel call (a host check of the device's)."""
        return self._kernel(name, fn)(*args)

    def _holds_array(self, value: Any) -> bool:
        if isinstance(value, self._array_type):
            return True
        t = type(value)
        return (t is tuple or t is list) and any(self._holds_array(v) for v in value)

    def check_last_call(self, check: Callable[[Any], None]) -> None:
        """Have every replay pass the last recorded kernel call's result to
        `check` (the device's validation of what a kernel reports back)."""
        if threading.get_ident() != self.thread or self._host or not self._calls:
            return
        fn, specs, kwspecs = self._calls[-1]

        def checked(*args: Any, **kwargs: Any) -> None:
            check(fn(*args, **kwargs))

        self._calls[-1] = (checked, specs, kwspecs)

    def _reserved(
        self, generator: Generator, n_words: int, key: tuple[int, int], counter: int
    ) -> None:
        if threading.get_ident() != self.thread or self._host:
            return
        r = Reservation(generator, n_words, key, counter)
        self._reservations.append(r)
        self._calls.append((r, [], None))

    def host_step(self, fn: Callable[[], None]) -> None:
        self._host += 1
        try:
            fn()
        finally:
            self._host -= 1
        self._calls.append((HostStep(fn), [], None))

    def host_read(self, what: str) -> CaptureError:
        """The error of a host read inside the capture, naming the read (the
        outermost actnet function of the known ones) and the caller's line."""
        read, where = what, ""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            name = frame.f_code.co_name
            if module.startswith("actnet."):
                read = _HOST_READS.get(name, read)
                if not where and not module.startswith(_CORE):
                    where = f" in {module}.{name}"
            else:
                where += f", called from {frame.f_code.co_filename}:{frame.f_lineno}"
                break
            frame = frame.f_back
        return CaptureError(
            f"{read}{where} reads device data on the host, which a captured step "
            "cannot: the value would be the recording's forever. Return the tensor "
            "from the step and read it after the call"
        )


# Functions of the layers above that read device data on the host, as a user
# knows them; and the modules whose frames are not worth naming.
_HOST_READS: Final = {
    "item": "item()",
    "tolist": "tolist()",
    "numpy": "numpy()",
    "__float__": "float()",
    "__int__": "int()",
    "__bool__": "bool()",
    "__index__": "using a tensor as an index",
    "__repr__": "repr() or print()",
    "__str__": "str() or print()",
    "__format__": "format()",
    "__array__": "numpy.asarray()",
}
_CORE: Final = ("actnet.device.", "actnet.ndarray.", "actnet.tensor._tensor")


def _describe(blocks: list[_BlockInfo]) -> str:
    parts = []
    for b in blocks[:3]:
        dtype, shape, label = b.block.info
        parts.append(f"{label or 'a buffer'} {dtype} {tuple(shape)}")
    more = f" and {len(blocks) - 3} more" if len(blocks) > 3 else ""
    return ", ".join(parts) + more


# The kernels that copy (copy(x, out); the array module's copyto(out, x)).
_COPIES: Final = ("copy", "copyto")
