"""Device: one runtime API over every backend, with memory in allocator-managed arenas.

The public methods validate (buffers on this device, dtypes in the operator's
table, shapes of `out`), allocate results from the arena, and call the backend's
kernels. `Device` joins the operator groups, each in a module of its own over
`DeviceCore` (arenas, memory, transfers, checks), and adds what takes a second
device (`copy_to`) or any operator (`run`). CPython caches method lookups per
class, so the groups cost nothing per call.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from actnet.device._activations import ActivationOps
from actnet.device._attention import AttentionOps
from actnet.device._buffer import Buffer
from actnet.device._capture import Capture
from actnet.device._conv import ConvOps
from actnet.device._creation import CreationOps
from actnet.device._dropout import DropoutOps
from actnet.device._elementwise import ElementwiseOps
from actnet.device._fft import FFTOps
from actnet.device._indexing import IndexingOps
from actnet.device._linalg import LinalgOps
from actnet.device._memory_record import MemoryRecording
from actnet.device._norms import NormOps
from actnet.device._opset import OPS
from actnet.device._optim import OptimOps
from actnet.device._recurrent import RecurrentOps
from actnet.device._reductions import ReductionOps
from actnet.device._softmax import SoftmaxOps
from actnet.device._sorting import SortingOps


class Device(
    ElementwiseOps,
    ReductionOps,
    LinalgOps,
    IndexingOps,
    SortingOps,
    CreationOps,
    ActivationOps,
    NormOps,
    OptimOps,
    SoftmaxOps,
    AttentionOps,
    DropoutOps,
    ConvOps,
    RecurrentOps,
    FFTOps,
):
    """A compute device: buffers in arenas, and the closed operator set.

    Devices come from `get_device(name)`; one object per name.
    """

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

    @contextlib.contextmanager
    def capture(self) -> Iterator[Capture]:
        """Record the kernel calls this device runs for the calling thread inside
        the block; afterwards `.program` replays them (see `_capture`: what is
        state, what is planned, what raises CaptureError).

        >>> with cpu.capture() as cap:
        ...     cpu.add(cpu.multiply(x, w), b, out=z)
        >>> cap.program.replay()  # z again, from x's, w's and b's values now
        """
        cap = Capture(self)
        cap.start()
        try:
            yield cap
        except BaseException:
            cap.stop()
            raise
        cap.finish()

    @contextlib.contextmanager
    def record_memory(
        self, context: Callable[[], Any] | None = None
    ) -> Iterator[MemoryRecording]:
        """Sample this device's memory after every operator the calling thread
        runs on it inside the block: the bytes in use, by label (`Buffer.info`),
        and the peak within the operator (see `_memory_record`). `context()`,
        when given, is called as each operator returns, and what it returns is
        kept with the sample (actnet-util names the module running so). Nothing
        is watched outside the block.

        >>> with cpu.record_memory() as rec:
        ...     y = cpu.exp(cpu.add(x, x))
        >>> [s.operator for s in rec.samples], rec.samples[-1].used_bytes
        (['add', 'exp'], 768)
        """
        rec = MemoryRecording(self, context)
        rec.start()
        try:
            yield rec
        finally:
            rec.stop()

    @property
    def capturing(self) -> bool:
        """Whether the calling thread is inside this device's `capture()`."""
        cap = self._capture
        return cap is not None and cap.thread == threading.get_ident()

    def host_step(self, fn: Callable[[], None]) -> None:
        """Run `fn()` now; inside `capture()`, also at this place in every
        replay of the recording (unrecorded: its kernels run eagerly then). For
        work whose numbers come from the host each time, such as an optimizer's
        update (its step count, its learning rate): `fn` may read and write only
        buffers that outlive the captured work."""
        cap = self._capture
        if cap is not None and cap.thread == threading.get_ident():
            cap.host_step(fn)
        else:
            fn()

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
