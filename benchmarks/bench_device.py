"""actnet-device against plain NumPy, in the same run (2 threads each).

Rows (issue 4):
- `a + b` through Device.add with the output allocated from the arena, 1 and 1000
  float32 elements: ratio to NumPy's `a + b` (pass <= 7x, goal <= 4x).
- matmul n=2048 float32 into an arena buffer: GFLOP/s ratio to NumPy's
  `np.matmul(a, b, out=c)` (pass >= 0.97x).
- RNG throughput: 10**7 float32 normals from actnet's Philox Generator against
  `numpy.random.Generator(numpy.random.Philox)` (reported; no criterion).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import benchutil as bu  # before any numeric library: it sets the thread counts
import numpy as np

import actnet.device as ad


def interleaved(
    ours: object, peer: object, *, reps: int = 15
) -> tuple[float, float, float]:
    """Median seconds per call of each, and the median of the per-round ratios,
    alternating the two so drift affects both alike."""
    assert callable(ours) and callable(peer)
    inner_ours = bu.auto_inner(ours, 0.1)
    inner_peer = bu.auto_inner(peer, 0.1)
    t_ours, t_peer, ratios = [], [], []
    for _ in range(reps):
        a = _seconds(ours, inner_ours)
        b = _seconds(peer, inner_peer)
        t_ours.append(a)
        t_peer.append(b)
        ratios.append(a / b)
    return (
        statistics.median(t_ours),
        statistics.median(t_peer),
        statistics.median(ratios),
    )


def _seconds(fn: Callable[[], object], inner: int) -> float:
    """Seconds per call of fn over `inner` calls after as many to warm up;
    measured in its own process for a side run there (isolated.Remote)."""
    timed = getattr(fn, "timed", None)
    if timed is not None:
        seconds: float = timed(inner)
        return seconds
    return bu.median_time(fn, inner=inner, reps=1, warmup=1)[0]


def dispatch(device: ad.Device) -> dict[str, dict[str, float]]:
    rows = {}
    for n in (1, 1000):
        rng = np.random.default_rng(n)
        a_np = rng.standard_normal(n).astype(np.float32)
        b_np = rng.standard_normal(n).astype(np.float32)
        a, b = device.from_host(a_np), device.from_host(b_np)
        ours, peer, ratio = interleaved(
            lambda a=a, b=b: device.add(a, b), lambda a=a_np, b=b_np: a + b
        )
        rows[f"a + b, {n} elements"] = {
            "actnet_us": ours * 1e6,
            "numpy_us": peer * 1e6,
            "ratio": ratio,
        }
    return rows


def matmul(device: ad.Device, n: int = 2048) -> dict[str, float]:
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((n, n)).astype(np.float32)
    b_np = rng.standard_normal((n, n)).astype(np.float32)
    c_np = np.empty((n, n), np.float32)
    a, b = device.from_host(a_np), device.from_host(b_np)
    c = device.alloc((n, n), np.float32)
    ours, peer, _ratio = interleaved(
        lambda: device.matmul(a, b, out=c),
        lambda: np.matmul(a_np, b_np, out=c_np),
        reps=7,
    )
    np.testing.assert_allclose(device.to_host(c), c_np, rtol=1e-4, atol=1e-3)
    flops = 2 * n**3
    return {
        "actnet_gflops": flops / ours / 1e9,
        "numpy_gflops": flops / peer / 1e9,
        "ratio": peer / ours,
    }


def rng_throughput(device: ad.Device, n: int = 10**7) -> dict[str, float]:
    gen = ad.Generator(0)
    peer = np.random.Generator(np.random.Philox(0))
    gen.normal((n,), device=device)  # warm up
    t0 = time.perf_counter()
    x = gen.normal((n,), device=device)
    device.synchronize()
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    peer.standard_normal(n, dtype=np.float32)
    theirs = time.perf_counter() - t0
    host = device.to_host(x)
    assert abs(float(host.mean())) < 0.01 and abs(float(host.std()) - 1) < 0.01
    return {
        "actnet_Mvalues_s": n / ours / 1e6,
        "numpy_philox_Mvalues_s": n / theirs / 1e6,
        "ratio": ours / theirs,
    }


def main() -> None:
    device = ad.get_device("cpu")
    info = bu.environment()
    for pool in info.get("threadpools", []):  # type: ignore[union-attr]
        print(f"threadpool: {pool}")
    rows = dispatch(device)
    print(f"{'workload':28s} {'actnet':>10s} {'numpy':>10s} {'ratio':>7s}")
    for name, row in rows.items():
        print(
            f"{name:28s} {row['actnet_us']:8.2f}us {row['numpy_us']:8.2f}us "
            f"{row['ratio']:6.2f}x   pass <= 7x, goal <= 4x"
        )
    mm = matmul(device)
    print(
        f"{'matmul 2048 float32':28s} {mm['actnet_gflops']:6.1f}GF/s "
        f"{mm['numpy_gflops']:6.1f}GF/s {mm['ratio']:6.3f}x  pass >= 0.97x"
    )
    rng = rng_throughput(device)
    print(
        f"{'normal float32, 1e7':28s} {rng['actnet_Mvalues_s']:6.1f}M/s "
        f"{rng['numpy_philox_Mvalues_s']:7.1f}M/s {rng['ratio']:6.2f}x time"
    )
    bu.save("device", {"dispatch": rows, "matmul_2048": mm, "rng_normal_1e7": rng})


if __name__ == "__main__":
    main()
