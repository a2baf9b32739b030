"""actnet-ndarray against its peers, in the same run (2 threads each).

Rows (issue 5):
- `a + b` end-to-end through NDArray, 1 and 1000 float32 elements, against torch's
  `a + b` under `no_grad` (pass <= 2.5x, goal <= 1.5x).
- a 10-op elementwise chain on 10**6 float32 elements against the same chain in
  NumPy (pass <= 1.2x).
Rows (issue 18, value semantics), against NumPy:
- `x[mask] = 0` on 10**6 float32 elements, half of them masked (pass <= 1.2x);
- `x += y` on an array that alone holds its buffer, 10**6 float32 elements, against
  NumPy's in-place add on the same memory (pass <= 1.1x; where 4 MB arrays land
  moves both sides by up to 30 % between processes), and, for the record, on
  NumPy's own arrays (the median over 8 fresh pairs a side).
"""

from __future__ import annotations

import statistics

import benchutil as bu  # before any numeric library: it sets the thread counts
import numpy as np
import torch
from bench_device import interleaved

import actnet.ndarray as xp

torch.set_num_threads(bu.NTHREADS)


def chain(m: object, x: object) -> object:
    """Ten elementwise operations (the same code runs on NumPy and NDArray)."""
    y = x * 2.0 + 1.0  # type: ignore[operator]
    y = y * x - 3.0
    y = y / (x + 4.0)
    y = abs(y) * 0.5
    y = m.sqrt(y + 1.0)  # type: ignore[attr-defined]
    return m.exp(-y)  # type: ignore[attr-defined]


def main() -> None:
    rows: dict[str, dict[str, object]] = {}
    print(f"{'workload':34s} {'actnet':>10s} {'peer':>10s} {'ratio':>7s}")
    for n in (1, 1000):
        rng = np.random.default_rng(n)
        a_np = rng.standard_normal(n).astype(np.float32)
        b_np = rng.standard_normal(n).astype(np.float32)
        a, b = xp.asarray(a_np), xp.asarray(b_np)
        ta, tb = torch.from_numpy(a_np.copy()), torch.from_numpy(b_np.copy())
        with torch.no_grad():
            ours, peer, ratio = interleaved(
                lambda a=a, b=b: a + b, lambda a=ta, b=tb: a + b
            )
        name = f"a + b, {n} elements (torch no_grad)"
        rows[name] = {"actnet_us": ours * 1e6, "peer_us": peer * 1e6, "ratio": ratio}
        print(
            f"{name:34s} {ours * 1e6:8.2f}us {peer * 1e6:8.2f}us {ratio:6.2f}x"
            "   pass <= 2.5x, goal <= 1.5x"
        )
    x_np = np.random.default_rng(0).standard_normal(10**6).astype(np.float32)
    x = xp.asarray(x_np)
    np.testing.assert_allclose(np.asarray(chain(xp, x)), chain(np, x_np), rtol=1e-5)
    ours, peer, ratio = interleaved(
        lambda: chain(xp, x), lambda: chain(np, x_np), reps=9
    )
    name = "10-op chain, 10**6 elements (numpy)"
    rows[name] = {"actnet_ms": ours * 1e3, "peer_ms": peer * 1e3, "ratio": ratio}
    print(
        f"{name:34s} {ours * 1e3:8.2f}ms {peer * 1e3:8.2f}ms {ratio:6.2f}x"
        "  pass <= 1.2x"
    )
    rows.update(writes())
    bu.save("ndarray", rows)


def writes() -> dict[str, dict[str, object]]:
    """The writes of value semantics, into arrays that alone hold their buffers
    (so they go in place, as NumPy's do)."""
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal(10**6).astype(np.float32)
    mask_np = rng.random(10**6) < 0.5
    box, mask = [xp.asarray(x_np)], xp.asarray(mask_np)
    peer = [x_np.copy()]

    def set_ours() -> None:
        box[0][mask] = 0.0

    def set_peer() -> None:
        peer[0][mask_np] = 0.0

    set_ours(), set_peer()  # once each: the same values
    np.testing.assert_array_equal(np.asarray(box[0]), peer[0])
    ours, peer_s, ratio = interleaved(set_ours, set_peer, reps=9)
    rows: dict[str, dict[str, object]] = {
        "x[mask] = 0, 10**6 elements (numpy)": {
            "actnet_us": ours * 1e6,
            "peer_us": peer_s * 1e6,
            "ratio": ratio,
        }
    }
    report("x[mask] = 0, 10**6 elements (numpy)", ours, peer_s, ratio, "1.2x")
    rows.update(in_place_add(rng))
    return rows


def in_place_add(
    rng: np.random.Generator, pairs: int = 8
) -> dict[str, dict[str, object]]:
    """`x += y` on 4 MB operands, against NumPy's in-place add twice:

    - on NumPy arrays over the very memory actnet's x and y hold (the pass row):
      where the four arrays land moves both sides by up to 30 % from process to
      process (cache sets in a 2 MB L2; no huge pages either side), so only the
      same memory measures what actnet adds;
    - on NumPy's own arrays, as a user meets it: the median over `pairs` fresh
      pairs of arrays a side (all kept alive, so each lands somewhere new), with
      every pair's ratio printed.
    """
    same, own = [], []
    kept: list[object] = []
    for _ in range(pairs):
        x_np = rng.standard_normal(10**6).astype(np.float32)
        y_np = rng.standard_normal(10**6).astype(np.float32)
        box, y = [xp.asarray(x_np)], xp.asarray(y_np)
        x_mem, y_mem = box[0].buffer.native, y.buffer.native  # NumPy views
        peer, y_peer = [x_np.copy()], y_np.copy()
        kept += [box, y, peer, y_peer]

        def add_ours(box: list[xp.NDArray] = box, y: xp.NDArray = y) -> None:
            box[0] += y

        def add_same(x: np.ndarray = x_mem, y: np.ndarray = y_mem) -> None:
            x += y

        def add_peer(peer: list[np.ndarray] = peer, y: np.ndarray = y_peer) -> None:
            peer[0] += y

        add_ours()
        add_peer()  # once each: the same values, and x kept its memory
        np.testing.assert_array_equal(np.asarray(box[0]), peer[0])
        assert np.shares_memory(box[0].buffer.native, x_mem), "x moved"
        same.append(interleaved(add_ours, add_same, reps=5))
        own.append(interleaved(add_ours, add_peer, reps=5))
    rows: dict[str, dict[str, object]] = {}
    for name, results, bound in (
        ("x += y, 10**6 (numpy, same memory)", same, "1.1x"),
        (f"x += y, 10**6 (numpy, {pairs} own pairs)", own, "-"),
    ):
        ours, peer_s, ratio = (
            statistics.median(r[i] for r in results) for i in range(3)
        )
        ratios = sorted(r[2] for r in results)
        report(name, ours, peer_s, ratio, bound)
        print(f"{'':34s} per pair: " + " ".join(f"{r:.2f}" for r in ratios))
        rows[name] = {
            "actnet_us": ours * 1e6,
            "peer_us": peer_s * 1e6,
            "ratio": ratio,
            "pair_ratios": ratios,
        }
    return rows


def report(name: str, ours: float, peer: float, ratio: float, bound: str) -> None:
    verdict = f"   pass <= {bound}" if bound != "-" else "   (where arrays land)"
    print(f"{name:34s} {ours * 1e6:8.1f}us {peer * 1e6:8.1f}us {ratio:6.2f}x{verdict}")


if __name__ == "__main__":
    main()
