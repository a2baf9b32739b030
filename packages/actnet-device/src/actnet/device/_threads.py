"""One thread setting for BLAS and the compiled kernels: `set_num_threads`.

PyTorch's `torch.set_num_threads` governs its BLAS and its kernels together; so
does this. The default is `OMP_NUM_THREADS` when it is set, else the
count NumPy's OpenBLAS started with (it reads `OPENBLAS_NUM_THREADS`, else counts
the cores), else the cores this process may run on (`os.sched_getaffinity`).
BLAS is NumPy's own OpenBLAS (found as `_blas` finds its axpy); the compiled
kernels' runtime registers itself with `on_change` when it is first loaded, so
setting the count never imports it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from actnet.device._blas import find_thread_control

_lock = threading.Lock()  # guards _count and _listeners
_listeners: list[Callable[[int], None]] = []


_blas = find_thread_control()


def _default() -> int:
    text = os.environ.get("OMP_NUM_THREADS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    if _blas is not None:
        return max(1, _blas[1]())
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - a platform without affinity
        return os.cpu_count() or 1


_count = _default()


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
        if _blas is not None:
            _blas[0](n)
        for listener in _listeners:
            listener(n)


def blas_threads() -> int | None:
    """The thread count NumPy's OpenBLAS reports, or None when it is not found."""
    return None if _blas is None else _blas[1]()


def on_change(listener: Callable[[int], None]) -> None:
    """Call `listener(n)` now and whenever the count changes."""
    with _lock:
        _listeners.append(listener)
        listener(_count)
