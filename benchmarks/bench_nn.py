"""actnet-nn against PyTorch, in the same run (2 threads each).

Rows:
- One AdamW step (lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1, as the GPT peer
  ../shared/peers/bench_gpt_torch.py uses) over the GPT peer's 3,323,392 float32
  parameters, in its shapes and order, gradients already present, against
  torch's default `torch.optim.AdamW` (on CPU, the single-tensor for-loop path):
  pass <= 1.0x torch.
- The same against torch's `fused=True` AdamW (one pass per tensor, on its
  threads): goal <= 1.0x.
- The same against torch on 1 thread (information only: torch's 2-thread kernels
  slow down badly when other processes load the cores, and this shows it).
"""

from __future__ import annotations

import benchutil as bu  # before any numeric library: it sets the thread counts
import numpy as np
import torch
from bench_device import interleaved

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import AdamW

torch.set_num_threads(bu.NTHREADS)

VOCAB, D, LAYERS, SEQ = 256, 256, 4, 128
OPTIONS = {"lr": 3e-4, "betas": (0.9, 0.95), "weight_decay": 0.1}


def gpt_shapes() -> list[tuple[int, ...]]:
    """The parameter shapes of the GPT peer, in `model.parameters()` order: token
    and position embeddings; per block ln1, ln2, qkv, proj, fc1, fc2 (weight,
    bias); the final LayerNorm; the untied LM head (no bias)."""
    shapes: list[tuple[int, ...]] = [(VOCAB, D), (SEQ, D)]
    for _ in range(LAYERS):
        shapes += [(D,), (D,), (D,), (D,)]  # ln1, ln2: weight, bias
        shapes += [(3 * D, D), (3 * D,)]  # qkv
        shapes += [(D, D), (D,)]  # proj
        shapes += [(4 * D, D), (4 * D,)]  # fc1
        shapes += [(D, 4 * D), (D,)]  # fc2
    shapes += [(D,), (D,), (VOCAB, D)]  # ln_f, head
    return shapes


def make(seed: int = 0) -> tuple[list[Parameter], list[torch.nn.Parameter]]:
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape in gpt_shapes():
        value = (0.02 * rng.standard_normal(shape)).astype(np.float32)
        grad = (0.01 * rng.standard_normal(shape)).astype(np.float32)
        p = Parameter(at.tensor(value))
        p.grad = at.tensor(grad)
        q = torch.nn.Parameter(torch.from_numpy(value.copy()))
        q.grad = torch.from_numpy(grad.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


def check(steps: int = 5) -> float:
    """Both optimizers agree over a few steps (max abs difference)."""
    ours, theirs = make(1)
    opt, topt = AdamW(ours, **OPTIONS), torch.optim.AdamW(theirs, **OPTIONS)
    for _ in range(steps):
        opt.step()
        topt.step()
    return max(
        float(np.abs(p.detach().numpy() - q.detach().numpy()).max())
        for p, q in zip(ours, theirs, strict=True)
    )


def main() -> None:
    ours, theirs = make()
    n = sum(p.numel() for p in theirs)
    assert n == sum(p.numel() for p in ours) == 3_323_392
    opt = AdamW(ours, **OPTIONS)
    topt = torch.optim.AdamW(theirs, **OPTIONS)
    device = ours[0].device
    rows: dict[str, object] = {}
    print(f"{'workload':44s} {'actnet':>10s} {'torch':>10s} {'ratio':>7s}")
    name = f"AdamW step, GPT shapes, {n:,} params"
    t_ours, t_peer, ratio = interleaved(opt.step, topt.step)
    used = device.memory_stats().used_bytes
    opt.step()
    assert device.memory_stats().used_bytes == used  # nothing outlives a step
    rows[name] = {
        "actnet_ms": t_ours * 1e3,
        "torch_ms": t_peer * 1e3,
        "ratio": ratio,
        "params": n,
        "tensors": len(ours),
        "used_bytes_after_step": used,
    }
    print(
        f"{name:44s} {t_ours * 1e3:8.2f}ms {t_peer * 1e3:8.2f}ms {ratio:6.2f}x"
        "   pass <= 1x"
    )
    _, fused_params = make()
    tfused = torch.optim.AdamW(fused_params, fused=True, **OPTIONS)
    t_oursf, t_fused, ratiof = interleaved(opt.step, tfused.step)
    namef = "  the same, torch fused=True"
    rows[namef] = {
        "actnet_ms": t_oursf * 1e3,
        "torch_ms": t_fused * 1e3,
        "ratio": ratiof,
    }
    print(
        f"{namef:44s} {t_oursf * 1e3:8.2f}ms {t_fused * 1e3:8.2f}ms {ratiof:6.2f}x"
        "   goal <= 1x"
    )
    torch.set_num_threads(1)
    try:
        t_ours1, t_peer1, ratio1 = interleaved(opt.step, topt.step)
    finally:
        torch.set_num_threads(bu.NTHREADS)
    name1 = "  the same, torch on 1 thread (information)"
    rows[name1] = {
        "actnet_ms": t_ours1 * 1e3,
        "torch_ms": t_peer1 * 1e3,
        "ratio": ratio1,
    }
    print(f"{name1:44s} {t_ours1 * 1e3:8.2f}ms {t_peer1 * 1e3:8.2f}ms {ratio1:6.2f}x")
    diff = check()
    print(f"max |actnet - torch| after 5 steps: {diff:.2e}")
    assert diff <= 1e-5
    bu.save("nn", rows)


if __name__ == "__main__":
    main()
