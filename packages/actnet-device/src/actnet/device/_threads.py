"""One thread setting for BLAS and the compiled kernels, and the threads it allows.

`set_num_threads(n)` is PyTorch's `torch.set_num_threads`: it governs BLAS and the
compiled kernels together. The default is `OMP_NUM_THREADS` when it is set, else
the count NumPy's OpenBLAS started with (it reads `OPENBLAS_NUM_THREADS`, else
counts the cores), else the cores this process may run on
(`os.sched_getaffinity`). BLAS is NumPy's own OpenBLAS (found as `_blas` finds
its axpy); the compiled kernels' runtime registers itself with `on_change` when
it is first loaded, so setting the count never imports it.

A machine is usually shared, and a thread that spins while it waits for another
takes a core that a busy neighbour needs too: with one other busy process on two
cores, OpenBLAS's spinning threads ran a (16, 4, 128, 64) @ (16, 4, 64, 128)
product (64 separate calls) 80x slower than one thread did. So the threads here
wait without spinning:

- `parallel_for(fn, n)` runs `fn(0)`, ..., `fn(n - 1)` on the calling thread and
  up to `get_num_threads() - 1` sleeping helpers. Each thread takes the next
  index when it is free, so a thread the scheduler delays takes fewer; the
  caller waits only for indices already taken.
- `single_threaded_blas()` runs BLAS on the calling thread alone for a while
  (each part of a split product, and products too small to share).
- `passive_openmp()` makes the OpenMP runtime that numba loads sleep between
  parallel loops after a short spin, not after GNU OpenMP's default of about
  3 ms per thread (`GOMP_SPINCOUNT`, and `OMP_WAIT_POLICY=PASSIVE` for other
  runtimes, while it loads), unless the user chose a wait policy. A runtime
  another library loaded first (PyTorch ships GNU OpenMP under the same name)
  keeps its own.

Example::

    from actnet.device import _threads

    squares = [0] * 8

    def square(i: int) -> None:
        squares[i] = i * i

    _threads.parallel_for(square, 8)  # squares == [0, 1, 4, ..., 49]
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from typing import Final

from actnet.device._blas import find_thread_control

_lock = threading.Lock()  # guards _count and _listeners
_listeners: list[Callable[[int], None]] = []

_blas = find_thread_control()

# The environment variables that choose how an OpenMP runtime waits: when the
# user set one, passive_openmp leaves the choice to them.
_WAIT_VARIABLES: Final = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")
# GNU OpenMP's spins before a waiting thread sleeps (its own estimate: 100 per
# microsecond); its default is 300000. On a machine loaded 4-5x over, the
# default's spinning made 0.3 ms loops take 8-17 ms. Too few spins cost as much
# the other way: waking a sleeping thread took 60-90 us on a 2-core virtual
# machine, paid by every parallel kernel that follows some Python. Measured
# there, one operator's forward + backward in a loop (layer_norm of (2048,
# 256), softmax of (16, 4, 128, 128), 2 threads): idle, 1000 spins took 0.71
# and 1.28 ms, 10000 0.42 and 0.94 ms (30000, 300000: no faster); with one
# busy process beside, 1000 took 0.85 and 1.59 ms, 10000 1.32 and 2.04 ms,
# 30000 1.99 and 2.88 ms, 300000 4.9 and 10.2 ms. A GPT step did not move.
SPIN_COUNT: Final = 10000


def _from_environment() -> int | None:
    """The first count of OMP_NUM_THREADS (a list such as "4,2" gives one per
    nesting level), or None when it is unset or not a positive integer."""
    text = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return None


def _default() -> int:
    chosen = _from_environment()
    if chosen is not None:
        return chosen
    if _blas is not None:
        return max(1, _blas[1]())
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - a platform without affinity
        return os.cpu_count() or 1


_count = _default()
if _blas is not None and _blas[1]() != _count:
    # OpenBLAS read OPENBLAS_NUM_THREADS, which OMP_NUM_THREADS overrides here.
    _blas[0](_count)


def get_num_threads() -> int:
    """The threads BLAS and the compiled kernels may use."""
    return _count


def set_num_threads(n: int) -> None:
    """Let BLAS and the compiled kernels use `n` threads (PyTorch's
    `torch.set_num_threads`)."""
    global _count
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads: n must be at least 1, got {n}")
    with _lock:
        _count = n
        with _blas_lock:
            if _blas is not None and _single_depth == 0:
                _blas[0](n)
        for listener in _listeners:
            listener(n)


def blas_threads() -> int | None:
    """The thread count NumPy's OpenBLAS reports, or None when it is not found."""
    return None if _blas is None else _blas[1]()


def controls_blas() -> bool:
    """Whether the thread count of NumPy's BLAS was found (else that BLAS keeps
    its own, and a product is best left to it whole)."""
    return _blas is not None


def on_change(listener: Callable[[int], None]) -> None:
    """Call `listener(n)` now and whenever the count changes."""
    with _lock:
        _listeners.append(listener)
        listener(_count)


# --- BLAS on one thread -----------------------------------------------------

_blas_lock = threading.Lock()  # guards _single_depth and OpenBLAS's count
_single_depth = 0  # how many single_threaded_blas blocks are running


def begin_single_threaded_blas() -> None:
    """From now until the matching `end_single_threaded_blas`, BLAS runs on the
    calling thread alone (OpenBLAS's count is 1 until the last such stretch, in
    any thread, ends; then it is `get_num_threads()` again). The pair costs
    about a microsecond; `single_threaded_blas()` is the same as a block."""
    global _single_depth
    with _blas_lock:
        _single_depth += 1
        if _single_depth == 1 and _blas is not None and _count > 1:
            _blas[0](1)


def end_single_threaded_blas() -> None:
    global _single_depth
    with _blas_lock:
        _single_depth -= 1
        if _single_depth == 0 and _blas is not None and _count > 1:
            _blas[0](_count)


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS runs on the calling thread alone inside the block (see
    `begin_single_threaded_blas`)."""
    begin_single_threaded_blas()
    try:
        yield
    finally:
        end_single_threaded_blas()


# --- A pool of sleeping helpers ---------------------------------------------


class _Job:
    """One parallel_for call: indices handed out one at a time, and a count of
    those finished, which the caller waits on."""

    def __init__(self, fn: Callable[[int], None], n: int, helpers: int) -> None:
        self.fn = fn
        self.n = n
        self._next = itertools.count()  # next() is atomic under the GIL
        self._seats = itertools.count()  # helpers beyond `helpers` stay out
        self.helpers = helpers
        self._finished = 0
        self._done = threading.Condition(threading.Lock())  # guards _finished
        self.error: BaseException | None = None

    def join(self) -> bool:
        """Whether a helper may work on this job (at most `helpers` do)."""
        return next(self._seats) < self.helpers

    def work(self) -> None:
        """Run indices until none are left; count them as finished."""
        finished = 0
        for i in self._next:
            if i >= self.n:
                break
            if self.error is None:  # after a failure the rest are skipped
                try:
                    self.fn(i)
                except BaseException as exc:  # noqa: BLE001  # re-raised by the caller
                    self.error = exc
            finished += 1
        with self._done:
            self._finished += finished
            if self._finished >= self.n:
                self._done.notify_all()

    def wait(self) -> None:
        with self._done:
            while self._finished < self.n:
                self._done.wait()


class _Pool:
    """Helper threads that sleep on a condition between jobs."""

    def __init__(self) -> None:
        self.busy = threading.Lock()  # held by the one running parallel_for
        self._wake = threading.Condition(threading.Lock())  # guards the fields below
        self._job: _Job | None = None
        self._generation = 0
        self._helpers = 0

    def run(self, job: _Job) -> None:
        with self._wake:
            while self._helpers < job.helpers:
                thread = threading.Thread(
                    target=self._serve, name="actnet-device", daemon=True
                )
                thread.start()
                self._helpers += 1
            self._job = job
            self._generation += 1
            self._wake.notify(job.helpers)
        job.work()
        job.wait()
        with self._wake:
            self._job = None  # a helper waking late finds nothing to do

    def _serve(self) -> None:
        seen = 0
        while True:
            with self._wake:
                while self._generation == seen:
                    self._wake.wait()
                seen = self._generation
                job = self._job
            if job is not None and job.join():
                job.work()


_pool = _Pool()


def _reset_after_fork() -> None:
    """A forked child has none of the helpers (only the forking thread survives)
    and perhaps a lock held by a thread that no longer exists."""
    global _pool, _blas_lock, _single_depth
    _pool = _Pool()
    _blas_lock = threading.Lock()
    _single_depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def parallel_for(fn: Callable[[int], None], n: int) -> None:
    """Call fn(i) for i in range(n), on up to `get_num_threads()` threads (the
    caller and sleeping helpers), each taking the next index when it is free.
    `fn` runs in parallel with itself: it must release the GIL to gain anything
    (NumPy's BLAS calls do). The first exception any call raises is re-raised
    here, after the calls already started have ended. A call made while another
    runs (from another thread, or from inside `fn`) runs its indices in order
    on the calling thread."""
    helpers = min(_count, n) - 1
    pool = _pool
    if helpers < 1 or not pool.busy.acquire(blocking=False):
        for i in range(n):
            fn(i)
        return
    try:
        job = _Job(fn, n, helpers)
        pool.run(job)
    finally:
        pool.busy.release()
    if job.error is not None:
        raise job.error


@contextlib.contextmanager
def passive_openmp() -> Iterator[None]:
    """Inside the block, an OpenMP runtime that loads (numba's threading layer,
    when its threads launch) reads a short wait: GNU OpenMP spins
    SPIN_COUNT times (some 100 microseconds, enough to catch the next kernel
    after a Python operator's dispatch) and then sleeps, where its default
    spins about 3 ms on a core another process may need; other runtimes read
    OMP_WAIT_POLICY=PASSIVE.
    Unchanged when the user set any of the variables that choose a wait."""
    if any(name in os.environ for name in _WAIT_VARIABLES):
        yield
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    os.environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
    try:
        yield
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)
        os.environ.pop("GOMP_SPINCOUNT", None)
