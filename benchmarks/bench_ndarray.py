"""actnet-ndarray against its peers, in the same run (2 threads each).

Rows (issue 5):
- `a + b` end-to-end through NDArray, 1 and 1000 float32 elements, against torch's
  `a + b` under `no_grad` (pass <= 2.5x, goal <= 1.5x).
- a 10-op elementwise chain on 10**6 float32 elements against the same chain in
  NumPy (pass <= 1.2x).
Rows (issue 18, value semantics), against NumPy:
- `x[mask] = 0` on 10**6 float32 elements, half of them masked (pass <= 1.2x);
- `x += y` on an array that alone holds its buffer, 10**6 float32 elements, against
  NumPy's in-place add (pass <= 1.1x).
"""

from __future__ import annotations

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
    rows: dict[str, dict[str, float]] = {}
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


def writes() -> dict[str, dict[str, float]]:
    """The writes of value semantics, into arrays that alone hold their buffers
    (so they go in place, as NumPy's do)."""
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal(10**6).astype(np.float32)
    y_np = rng.standard_normal(10**6).astype(np.float32)
    mask_np = rng.random(10**6) < 0.5
    box, y, mask = [xp.asarray(x_np)], xp.asarray(y_np), xp.asarray(mask_np)
    peer = [x_np.copy()]

    def set_ours() -> None:
        box[0][mask] = 0.0

    def set_peer() -> None:
        peer[0][mask_np] = 0.0

    def add_ours() -> None:
        box[0] += y

    def add_peer() -> None:
        peer[0] += y_np

    set_ours(), set_peer(), add_ours(), add_peer()  # once each: the same values
    np.testing.assert_array_equal(np.asarray(box[0]), peer[0])
    rows = {}
    for name, ours_fn, peer_fn, bound in (
        ("x[mask] = 0, 10**6 elements (numpy)", set_ours, set_peer, "1.2x"),
        ("x += y, 10**6 elements (numpy)", add_ours, add_peer, "1.1x"),
    ):
        ours, peer_s, ratio = interleaved(ours_fn, peer_fn, reps=9)
        rows[name] = {"actnet_us": ours * 1e6, "peer_us": peer_s * 1e6, "ratio": ratio}
        print(
            f"{name:34s} {ours * 1e6:8.1f}us {peer_s * 1e6:8.1f}us {ratio:6.2f}x"
            f"   pass <= {bound}"
        )
    return rows


if __name__ == "__main__":
    main()
