"""Shared settings and helpers of actnet's benchmarks.

Import this module first: it sets every library's thread count to 2 (as the peer
scripts in ../shared/peers do) before NumPy or PyTorch are imported.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

NTHREADS = 2
for _name in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_name] = str(NTHREADS)
os.environ["PJRT_NPROC"] = str(NTHREADS)

RESULTS = Path(__file__).resolve().parent / "results"


def median_time(
    fn: Callable[[], object], *, inner: int, reps: int = 9, warmup: int = 2
) -> tuple[float, list[float]]:
    """Seconds per call of fn: the median over `reps` repetitions of `inner` calls."""
    for _ in range(warmup):
        for _ in range(inner):
            fn()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples), samples


def auto_inner(fn: Callable[[], object], target_s: float = 0.2) -> int:
    """An inner-loop count that makes one repetition last about target_s."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= target_s / 4 or n >= 1_000_000:
            return max(1, min(1_000_000, int(n * target_s / max(elapsed, 1e-9))))
        n *= 4


def environment() -> dict[str, object]:
    info: dict[str, object] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "threads_env": {
            k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        },
        "openblas_env": {
            k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        },
    }
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return info
    info["threadpools"] = [
        {
            k: d.get(k)
            for k in ("internal_api", "num_threads", "version", "architecture")
        }
        for d in threadpool_info()
    ]
    return info


def save(name: str, rows: dict[str, object]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "rows": rows, "environment": environment()}
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    print(f"wrote {path}")
    return path
