"""Memory per operator: what `Device.record_memory()` records.

While a recording is open, each outermost operator call of the device in the
calling thread (the one `OutOfMemoryError.operator` names: `cross_entropy`, not
the `log_softmax` it runs inside), and each call of its other allocating methods
(`alloc`, `from_host`, `copy_to`), gets a sample of the device's memory after it:
taken when the next such call starts, or when the recording ends. By then the
temporaries dropped as it returned are freed and the layers above have labelled
what it made; only frees and labels change between two calls, since every
allocation is made by one. A sample holds:

- `used_bytes`: the allocator's counter (`memory_stats().used_bytes`);
- `by_label`: the bytes of every live block grouped by its label (`Buffer.info`,
  what the layers above attach: ("parameter", ...), ("saved for backward", ...)),
  from the allocator's list of live blocks. The two are read apart, so that
  `sum(by_label.values()) == used_bytes` checks one against the other;
  `unlabelled_made_bytes` says how much of the unlabelled (None) bytes were made
  by calls of the recording;
- `peak_bytes`: the most bytes in use while the call ran (its scratch and the
  temporaries it freed before returning included), from every allocation it made;
- `context`: what the recording's `context()` callback returned as the call
  returned (actnet-util passes one that names the module running).

`peak_blocks` lists the live blocks at the sample with the most bytes in use,
each with the index of the sample of the call that made it.

How: a profile function (`sys.setprofile`) sees the operators' code objects run,
and the device's `_malloc` is wrapped to note each new block's call and the peak
within the call. Both are installed when the recording starts and removed when it
ends: outside a recording, operators run exactly the code they ran before, with
no check and no flag. A recording walks the live blocks once per call, so it is
for one step, not for a training run.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, Final

from actnet.device._buffer import free_deferred
from actnet.device._opset import OPS
from actnet.mem import Block

if TYPE_CHECKING:
    from actnet.device._device import Device

# Methods that allocate without being operators of the closed set: the layers
# above call them to make buffers, so they are samples too.
_ALLOCATING: Final = ("alloc", "from_host", "copy_to")


@dataclass(frozen=True)
class OperatorMemory:
    """The device's memory right after one operator call (see the module doc)."""

    operator: str
    context: Any
    used_bytes: int
    peak_bytes: int
    by_label: Mapping[Any, int]
    # Of by_label[None]: the blocks made by an operator of the recording, which
    # the layers above have not labelled (yet): results on their way.
    unlabelled_made_bytes: int


@dataclass(frozen=True)
class LiveBlock:
    """One live block: its size (rounded), dtype, shape and label (`Buffer.info`),
    and `made_by`, the index in `MemoryRecording.samples` of the call that
    allocated it (None: allocated before the recording, or outside any call)."""

    nbytes: int
    dtype: Any
    shape: tuple[int, ...]
    info: Any
    made_by: int | None


class MemoryRecording:
    """What `Device.record_memory()` records; filled while the block runs.

    >>> with cpu.record_memory() as rec:
    ...     y = cpu.add(x, x)
    >>> [(s.operator, s.used_bytes) for s in rec.samples]
    [('add', 512)]
    """

    def __init__(self, device: Device, context: Callable[[], Any] | None) -> None:
        self.device: Final = device
        self.samples: list[OperatorMemory] = []
        # the sample (index) with the most bytes in use, and the blocks then
        self.peak_index: int | None = None
        self.peak_blocks: list[LiveBlock] = []
        self.start_bytes = 0  # used_bytes when the recording started
        self._context = context
        self._allocator = device.allocator
        self._codes = _operator_codes(type(device))
        self._frame: FrameType | None = None  # the outermost call running
        self._call_peak = 0
        self._pending: tuple[str, Any] | None = None  # returned, not yet sampled
        self._peak_used = -1
        self._made: dict[Block, int] = {}  # block -> index of the call that made it
        # the device's own malloc while ours stands in (its allocator's bound
        # method, or a capture's when one records)
        self._saved_malloc: Any = None
        self._thread = threading.get_ident()

    # ------------------------------------------------------------ start and end
    def start(self) -> None:
        if sys.getprofile() is not None:
            raise RuntimeError(
                "record_memory watches operator calls with sys.setprofile, and a "
                "profile function is already set (another record_memory, or a "
                "profiler such as cProfile); end that one first"
            )
        dev = self.device
        free_deferred()
        self.start_bytes = self._allocator.used_bytes()
        self._saved_malloc = dev._malloc
        dev._malloc = self._malloc
        sys.setprofile(self._profile)

    def stop(self) -> None:
        sys.setprofile(None)
        pending = self._pending
        if pending is not None:
            self._pending = None
            self._sample(*pending)
        dev = self.device
        if self._saved_malloc is not None:
            dev._malloc = self._saved_malloc
            self._saved_malloc = None
        self._frame = None
        self._made.clear()

    # ------------------------------------------------------------ the hooks
    def _malloc(self, nbytes: int, info: Any = None) -> Block:
        assert self._saved_malloc is not None  # installed only while recording
        block: Block = self._saved_malloc(nbytes, info)
        if self._frame is not None:
            self._made[block] = len(self.samples)  # the index its sample will get
            used = self._allocator.used_bytes()
            if used > self._call_peak:  # noqa: PLR1730  # max() costs more
                self._call_peak = used
        return block

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            if (
                self._frame is None
                and frame.f_code in self._codes
                and frame.f_locals.get("self") is self.device
            ):
                pending = self._pending
                if pending is not None:
                    self._pending = None
                    self._sample(*pending)
                self._frame = frame
                self._call_peak = self._allocator.used_bytes()
        elif event == "return" and frame is self._frame:
            # Sampled when the next operator starts (or the recording ends): by
            # then the temporaries dropped as this one returned are freed, and
            # the layers above have labelled what it made. The frame object is
            # not kept: it would keep the operator's locals.
            self._frame = None
            name = self._codes[frame.f_code]
            if name is None:  # an elementwise operator: one code for all of them
                name = frame.f_locals["op"]
            context = None if self._context is None else self._context()
            self._pending = (name, context)

    def _sample(self, operator: str, context: Any) -> None:
        free_deferred()  # as memory_stats() does before it reads the counter
        allocator = self._allocator
        blocks = allocator.blocks()
        used = allocator.used_bytes()
        made = self._made
        by_label: dict[Any, int] = {}
        new_unlabelled = 0
        for block in blocks:
            label = block[3][2]  # the info list is [dtype, shape, label]
            if label is None and block in made:
                new_unlabelled += block[2]
            key = _key(label)
            by_label[key] = by_label.get(key, 0) + block[2]
        index = len(self.samples)
        self.samples.append(
            OperatorMemory(
                operator=operator,
                context=context,
                used_bytes=used,
                peak_bytes=max(self._call_peak, used),
                by_label=by_label,
                unlabelled_made_bytes=new_unlabelled,
            )
        )
        if used > self._peak_used:
            self._peak_used = used
            self.peak_index = index
            self.peak_blocks = [
                LiveBlock(
                    nbytes=b[2],
                    dtype=b[3][0],
                    shape=b[3][1],
                    info=b[3][2],
                    made_by=made.get(b),
                )
                for b in blocks
            ]


def _key(label: Any) -> Any:
    """A label as a dict key: itself, or its repr when it is not hashable."""
    try:
        hash(label)
    except TypeError:
        return repr(label)
    return label


_CODES: dict[type, dict[CodeType, str | None]] = {}


def _operator_codes(cls: type) -> dict[CodeType, str | None]:
    """The code object of each operator method of `cls` and its name (None for
    the code the elementwise operators share, which keeps the name in `op`)."""
    codes = _CODES.get(cls)
    if codes is None:
        codes = {}
        for name in (*OPS, *_ALLOCATING):
            code = getattr(cls, name).__code__
            codes[code] = name if code.co_name == name else None
        _CODES[cls] = codes
    return codes
