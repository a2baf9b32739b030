"""actnet-tensor against PyTorch, in the same run (2 threads each).

Rows (issue 6):
- `a + b` with graph recording, 1000 float32 elements (a, b require grad):
  pass <= 2x torch, goal <= 1.5x.
- `y = (a*b).sum(); y.backward()` on 1000 elements: pass <= 1.5x, goal <= 1.0x.
"""

from __future__ import annotations

import benchutil as bu  # before any numeric library: it sets the thread counts
import numpy as np
import torch
from bench_device import interleaved

import actnet.tensor as at

torch.set_num_threads(bu.NTHREADS)


def main() -> None:
    rng = np.random.default_rng(7)
    a_np = rng.standard_normal(1000).astype(np.float32)
    b_np = rng.standard_normal(1000).astype(np.float32)
    a = at.tensor(a_np, requires_grad=True)
    b = at.tensor(b_np, requires_grad=True)
    ta = torch.from_numpy(a_np.copy()).requires_grad_(True)
    tb = torch.from_numpy(b_np.copy()).requires_grad_(True)

    def step() -> None:
        y = (a * b).sum()
        y.backward()

    def torch_step() -> None:
        y = (ta * tb).sum()
        y.backward()

    rows = {}
    print(f"{'workload':44s} {'actnet':>10s} {'torch':>10s} {'ratio':>7s}")
    for name, ours_fn, peer_fn, criterion in (
        (
            "a + b with graph, 1000 elements",
            lambda: a + b,
            lambda: ta + tb,
            "pass <= 2x, goal <= 1.5x",
        ),
        (
            "(a*b).sum().backward(), 1000 elements",
            step,
            torch_step,
            "pass <= 1.5x, goal <= 1x",
        ),
    ):
        ours, peer, ratio = interleaved(ours_fn, peer_fn)
        rows[name] = {"actnet_us": ours * 1e6, "torch_us": peer * 1e6, "ratio": ratio}
        print(
            f"{name:44s} {ours * 1e6:8.2f}us {peer * 1e6:8.2f}us {ratio:6.2f}x"
            f"   {criterion}"
        )
    a.grad, ta.grad = None, None
    step()
    torch_step()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)  # type: ignore[union-attr]
    bu.save("tensor", rows)


if __name__ == "__main__":
    main()
