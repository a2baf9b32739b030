"""Collective operations on Buffers across processes: data parallelism.

A `ProcessGroup` is the contract a transport fills: `rank`, `size`, and
`all_reduce` (sum, avg, max; in place), `broadcast` (in place, from `root`),
`all_gather` (into `out`, one slice per rank along a new first axis) and
`barrier`. Every collective but `barrier` has a non-blocking form
(`async_op=True`) that returns a `Work` to `wait()` on; the blocking form is the
same followed by `wait()`.

`MPIGroup` is the MPI transport, through mpi4py (`pip install
"actnet-device[mpi]"` brings mpi4py and the mpich wheel, whose `mpiexec` is then
in the environment: `mpiexec -n 2 python train.py`). It reads and writes the
buffers' own host memory (no copy) and is imported only when a group is made, so
actnet-device runs without it. NCCL (CuPy, CUDA buffers) will be another
`ProcessGroup` beside it.

    group = MPIGroup()                     # MPI.COMM_WORLD
    buf = cpu.from_host(np.full(4, float(group.rank)))
    group.all_reduce(buf, "avg")           # every rank now holds the mean
    work = group.broadcast(buf, root=0, async_op=True)
    ...                                    # other work meanwhile
    work.wait()
"""

from __future__ import annotations

import importlib
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Final

from actnet.device import _dtypes as dt
from actnet.device._buffer import Buffer

__all__ = ["REDUCE_OPS", "MPIGroup", "ProcessGroup", "Work"]

REDUCE_OPS: Final = ("sum", "avg", "max")
# Seconds an uncaught exception's process waits, its traceback written, before
# it aborts the group: mpiexec forwards each process's output through its own
# proxy, and an abort at once can end the proxies before the traceback reaches
# the terminal (seen: a job that failed with no message at all).
ABORT_GRACE: Final = 0.5

# The dtypes MPI has a type for (NumPy's buffer formats); half and bfloat16 have none.
_MPI_DTYPES: Final = frozenset(
    {
        dt.bool_, dt.int8, dt.int16, dt.int32, dt.int64, dt.uint8, dt.uint16,
        dt.uint32, dt.uint64, dt.float32, dt.float64, dt.complex64, dt.complex128,
    }
)  # fmt: skip


class Work:
    """A collective in flight: `wait()` until it is done (then runs what finishes
    it, such as avg's division), `is_completed()` to ask without waiting.
    `then(fn)` is a Work that waits for this one and then runs `fn`."""

    def __init__(
        self,
        requests: list[Any],
        done: Callable[[], None] | None = None,
        after: Work | None = None,
        *,
        timeout: float | None = None,
        what: str = "a collective",
    ) -> None:
        self._requests = requests  # the transport's (MPI requests: Wait, Test)
        self._done = done
        self._after = after
        self._finished = False
        self._timeout = timeout
        self._timeout_s = 0.0 if timeout is None else timeout
        self._what = what

    def then(self, fn: Callable[[], None]) -> Work:
        return Work([], fn, self)

    def is_completed(self) -> bool:
        if not self._finished:
            ready = self._after is None or self._after.is_completed()
            if ready and all(r.Test() for r in self._requests):
                self._finish()
        return self._finished

    def wait(self) -> None:
        """Block until done. With a `timeout` (seconds, the group's), a rank that
        stopped (raised, died, or never called the collective) ends the wait
        with TimeoutError instead of a hang."""
        if not self._finished:
            if self._after is not None:
                self._after.wait()
            if self._timeout is None:
                for r in self._requests:
                    r.Wait()
            else:
                self._poll()
            self._finish()

    def _poll(self) -> None:
        deadline = time.monotonic() + self._timeout_s
        pause = 0.0
        while not all(r.Test() for r in self._requests):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self._what} did not complete within {self._timeout_s:g} s: "
                    "another process of the group has stopped (raised, died or "
                    "never called it)"
                )
            time.sleep(pause)  # spin first, then back off to 1 ms
            pause = min(1e-3, pause * 2 or 1e-6)

    def _finish(self) -> None:
        self._finished = True
        if self._done is not None:
            self._done()


class ProcessGroup(ABC):
    """The processes taking part in collectives, and the transport between them."""

    rank: int
    size: int

    @abstractmethod
    def all_reduce(
        self, buffer: Buffer, op: str = "sum", *, async_op: bool = False
    ) -> Work | None:
        """buffer = op over the ranks of their `buffer` (same shape and dtype)."""

    @abstractmethod
    def broadcast(
        self, buffer: Buffer, root: int = 0, *, async_op: bool = False
    ) -> Work | None:
        """buffer = `root`'s buffer, on every rank."""

    @abstractmethod
    def all_gather(
        self, buffer: Buffer, out: Buffer, *, async_op: bool = False
    ) -> Work | None:
        """out[r] = rank r's `buffer` (out has shape (size, *buffer.shape))."""

    @abstractmethod
    def barrier(self) -> None:
        """Return once every rank has called it."""


class MPIGroup(ProcessGroup):
    """A process group over an MPI communicator (default: all processes)."""

    def __init__(self, comm: Any = None, *, timeout: float | None = 1800.0) -> None:
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds or None, got {timeout!r}")
        mpi = importlib.import_module("mpi4py.MPI")  # only when a group is made
        self._mpi = mpi
        self._comm = mpi.COMM_WORLD if comm is None else comm
        self.rank = int(self._comm.Get_rank())
        self.size = int(self._comm.Get_size())
        self.timeout = timeout  # seconds a collective may wait (None: forever)
        self._ops = {"sum": mpi.SUM, "avg": mpi.SUM, "max": mpi.MAX}
        if self.size > 1:
            _abort_on_uncaught_errors(self._comm)

    def __repr__(self) -> str:
        return f"MPIGroup(rank={self.rank}, size={self.size})"

    def _host(self, op: str, buffer: Buffer, name: str = "buffer") -> Any:
        if type(buffer) is not Buffer:
            raise TypeError(
                f"{op}: {name} must be a Buffer, got {type(buffer).__name__}"
            )
        if buffer.device.kind != "cpu":
            raise ValueError(
                f"{op}: {name} is on {buffer.device.name}; the MPI group moves host "
                "memory (a CUDA buffer needs the NCCL group)"
            )
        arr = buffer.native
        if arr.dtype not in _MPI_DTYPES:
            raise TypeError(f"{op}: MPI has no type for {arr.dtype}; cast {name} first")
        if not arr.flags.c_contiguous:
            raise ValueError(f"{op}: {name} must be contiguous (copy it first)")
        return arr

    def _wait(self, work: Work, async_op: bool) -> Work | None:
        if async_op:
            return work
        work.wait()
        return None

    def all_reduce(
        self, buffer: Buffer, op: str = "sum", *, async_op: bool = False
    ) -> Work | None:
        if op not in REDUCE_OPS:
            raise ValueError(f"all_reduce: op must be one of {REDUCE_OPS}, got {op!r}")
        arr = self._host("all_reduce", buffer)
        if op == "avg" and arr.dtype.kind not in "fc":
            raise TypeError(f"all_reduce: avg needs a floating dtype, got {arr.dtype}")
        request = self._comm.Iallreduce(self._mpi.IN_PLACE, arr, self._ops[op])
        size = self.size

        def average() -> None:
            buffer.device.multiply(buffer, 1.0 / size, out=buffer)

        work = self._work([request], "all_reduce", average if op == "avg" else None)
        return self._wait(work, async_op)

    def broadcast(
        self, buffer: Buffer, root: int = 0, *, async_op: bool = False
    ) -> Work | None:
        self._check_root("broadcast", root)
        arr = self._host("broadcast", buffer)
        return self._wait(
            self._work([self._comm.Ibcast(arr, root=root)], "broadcast"), async_op
        )

    def all_gather(
        self, buffer: Buffer, out: Buffer, *, async_op: bool = False
    ) -> Work | None:
        arr = self._host("all_gather", buffer)
        dest = self._host("all_gather", out, "out")
        if dest.shape != (self.size, *arr.shape) or dest.dtype != arr.dtype:
            raise ValueError(
                f"all_gather: out must be {(self.size, *arr.shape)} of {arr.dtype}, "
                f"got {dest.shape} of {dest.dtype}"
            )
        work = self._work([self._comm.Iallgather(arr, dest)], "all_gather")
        return self._wait(work, async_op)

    def barrier(self) -> None:
        self._work([self._comm.Ibarrier()], "barrier").wait()

    def _work(
        self, requests: list[Any], what: str, done: Callable[[], None] | None = None
    ) -> Work:
        return Work(requests, done, timeout=self.timeout, what=what)

    def _check_root(self, op: str, root: int) -> None:
        if type(root) is not int or not 0 <= root < self.size:
            raise ValueError(
                f"{op}: root must be a rank in [0, {self.size}), got {root!r}"
            )


def _abort_on_uncaught_errors(comm: Any) -> None:
    """An uncaught exception in one process of a group ends them all: after the
    traceback is printed (and ABORT_GRACE for mpiexec to forward it), the
    communicator is aborted (mpiexec then stops every process), instead of the
    others waiting forever in a collective."""
    previous = sys.excepthook
    if getattr(previous, "_actnet_aborts", False):
        return

    def abort(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        previous(kind, value, tb)
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(ABORT_GRACE)
        comm.Abort(1)

    abort._actnet_aborts = True  # type: ignore[attr-defined]  # a marker on the hook
    sys.excepthook = abort
