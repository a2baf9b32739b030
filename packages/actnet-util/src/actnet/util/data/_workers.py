"""The worker threads of a DataLoader iterator: they build batches in the
background and hand them back in order.

The iterator submits numbered tasks (a batch's indices) at most
``prefetch_factor * num_workers`` ahead of the batch it returns; any free worker
takes the next task; `result(n)` waits for batch n, whatever order the workers
finish in. An exception in a worker is handed back as the result of its batch
and raised in the thread that asks for it, with the worker's traceback and a
note naming the worker. `shutdown` stops and joins the threads; the iterator
calls it when the epoch ends, on an error, and when it is closed or collected.

The threads are daemons so that an iterator kept alive until interpreter exit
cannot hang the exit; an atexit hook still stops every live pool first, so no
worker is cut off in the middle of a batch.
"""

from __future__ import annotations

import atexit
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, Final

__all__ = ["WorkerPool"]

_live_pools: Final[weakref.WeakSet[WorkerPool]] = weakref.WeakSet()


class WorkerPool:
    """`num_workers` threads running `fetch(task)` for numbered tasks."""

    def __init__(
        self,
        fetch: Callable[[Any], Any],
        num_workers: int,
        worker_init_fn: Callable[[int], None] | None,
    ) -> None:
        self._fetch = fetch
        self._worker_init_fn = worker_init_fn
        self._tasks: queue.SimpleQueue[tuple[int, Any] | None] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._done: dict[int, tuple[bool, Any]] = {}  # guarded by _cond
        self._failed: BaseException | None = None  # guarded by _cond
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._work,
                args=(worker_id,),
                name=f"actnet DataLoader worker {worker_id}",
                daemon=True,
            )
            for worker_id in range(num_workers)
        ]
        _live_pools.add(self)
        for t in self._threads:
            t.start()

    def submit(self, number: int, task: Any) -> None:
        self._tasks.put((number, task))

    def result(self, number: int, timeout: float | None) -> Any:
        """The result of task `number`, or its exception raised here."""
        with self._cond:
            ready = self._cond.wait_for(
                lambda: number in self._done or self._failed is not None, timeout
            )
            if not ready:
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")
            if number in self._done:
                ok, value = self._done.pop(number)
            else:
                ok, value = False, self._failed
        if not ok:
            raise value
        return value

    def _work(self, worker_id: int) -> None:
        if self._worker_init_fn is not None:
            try:
                self._worker_init_fn(worker_id)
            except BaseException as exc:  # noqa: BLE001  # handed to the main thread
                exc.add_note(
                    f"raised by worker_init_fn in DataLoader worker {worker_id}"
                )
                with self._cond:
                    self._failed = exc
                    self._cond.notify_all()
                return
        while not self._stopping.is_set():
            item = self._tasks.get()
            if item is None or self._stopping.is_set():
                break
            number, task = item
            try:
                outcome: tuple[bool, Any] = (True, self._fetch(task))
            except BaseException as exc:  # noqa: BLE001  # raised in the main thread
                exc.add_note(
                    f"raised in DataLoader worker {worker_id} while building "
                    f"batch {number} of the epoch"
                )
                outcome = (False, exc)
            with self._cond:
                self._done[number] = outcome
                self._cond.notify_all()

    def shutdown(self) -> None:
        """Stop the workers (each finishes the batch it is building) and join
        them; safe to call more than once, and from a worker itself."""
        self._stopping.set()
        for _ in self._threads:
            self._tasks.put(None)
        current = threading.current_thread()
        for t in self._threads:
            if t is not current and t.ident is not None:
                t.join()
        with self._cond:
            self._done.clear()
        _live_pools.discard(self)


@atexit.register
def _shutdown_all() -> None:
    for pool in list(_live_pools):
        pool.shutdown()
