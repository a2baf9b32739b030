"""Captured steps (`actnet.tensor.compile`, issue 20) against PyTorch eager, in the
same run (2 threads each).

Rows:
- The GPT peer's training step (bench_kernels.py's model: ../shared/peers/
  bench_gpt_torch.py's, batch 16, context 128, from torch's initial weights, the
  same tokens, AdamW) as one `at.compile` step, against torch's eager step and
  actnet's own eager step: pass <= 1.0x torch. The time of the recording (call 2)
  and the first losses of both (they must agree) are printed.
- Its planned transient memory (`memory_plan`: every buffer made and freed within
  the step, placed by actnet.mem.plan): pass peak <= 141.5 MiB (the live-bytes
  bound of the same step's transient buffers traced in PyTorch), goal <= 1.02x
  its own lower bound.
The digits step compiled is bench_util.py's "actnet_compiled" row (beside torch
and JAX in one table).

Run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python
benchmarks/bench_compile.py` (see /work/shared/peers/README.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import benchutil as bu  # before any numeric library: it sets the thread counts
import torch
from bench_device import interleaved
from bench_kernels import ADAMW, BATCH, GPT, SEQ, VOCAB, _peer

import actnet.neuron as F
import actnet.tensor as at
from actnet.nn.optim import AdamW

TORCH_TRANSIENT_BOUND_MIB = 141.5
MIB = 2**20


def gpt_steps() -> tuple[
    Callable[[], float], Callable[[], float], Callable[[], float], at.CompiledFunction
]:
    """actnet's step compiled and eager (two models from the same weights) and
    torch's eager step, each on the same tokens."""
    torch.manual_seed(0)
    tmodel = _peer().build(torch)
    state = {k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()}
    models = []
    for _ in range(2):
        model = GPT()
        model.load_state_dict({k: at.tensor(v) for k, v in state.items()})
        models.append((model, AdamW(model.parameters(), **ADAMW)))
    topt = torch.optim.AdamW(tmodel.parameters(), **ADAMW)
    g = torch.Generator().manual_seed(0)
    data = torch.randint(0, VOCAB, (BATCH, SEQ + 1), generator=g)
    tx, ty = data[:, :-1].contiguous(), data[:, 1:].contiguous()
    x, y = at.tensor(tx.numpy()), at.tensor(ty.numpy().reshape(-1))

    def make(model: GPT, opt: AdamW) -> Callable[[at.Tensor, at.Tensor], at.Tensor]:
        def step(x: at.Tensor, y: at.Tensor) -> at.Tensor:
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y)
            loss.backward()
            opt.step()
            return loss

        return step

    compiled = at.compile(make(*models[0]))
    eager = make(*models[1])

    def peer() -> float:
        topt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(
            tmodel(tx).view(-1, VOCAB), ty.view(-1)
        )
        loss.backward()
        topt.step()
        return float(loss.detach())

    return (
        lambda: float(compiled(x, y)),
        lambda: float(eager(x, y)),
        peer,
        compiled,
    )


def main() -> None:
    ours, eager, peer, compiled = gpt_steps()
    losses, record_s = [], 0.0
    for i in range(3):  # call 1 eager, call 2 recorded, call 3 replayed
        t0 = time.perf_counter()
        a = ours()
        if i == 1:
            record_s = time.perf_counter() - t0
        losses.append((a, eager(), peer()))
    worst = max(max(abs(a - b), abs(a - c)) for a, b, c in losses)
    print(f"GPT losses of the first 3 steps (compiled, eager, torch): {losses}")
    print(f"max difference {worst:.2e}; recording (call 2) {record_s * 1e3:.0f} ms")
    t_ours, t_peer, ratio = interleaved(ours, peer, reps=7)
    t_eager, t_peer2, eager_ratio = interleaved(eager, peer, reps=5)
    plan = compiled.memory_plan
    assert plan is not None
    rows = {
        "GPT step, compiled": {
            "actnet_ms": t_ours * 1e3,
            "torch_ms": t_peer * 1e3,
            "ratio": ratio,
            "record_ms": record_s * 1e3,
            "first_losses_max_diff": worst,
        },
        "GPT step, eager (same run)": {
            "actnet_ms": t_eager * 1e3,
            "torch_ms": t_peer2 * 1e3,
            "ratio": eager_ratio,
        },
        "GPT step, planned transient memory": {
            "peak_mib": plan.peak_bytes / MIB,
            "lower_bound_mib": plan.lower_bound_bytes / MIB,
            "peak_over_lower_bound": plan.peak_bytes / plan.lower_bound_bytes,
            "torch_transient_bound_mib": TORCH_TRANSIENT_BOUND_MIB,
            "buffers": len(plan.buffers),
            "kernel_calls": plan.kernel_calls,
        },
    }
    print(f"{'':36s} {'actnet':>10s} {'torch':>10s} {'ratio':>7s}")
    print(
        f"{'GPT step, compiled':36s} {t_ours * 1e3:8.1f}ms {t_peer * 1e3:8.1f}ms "
        f"{ratio:6.2f}x   pass <= 1.0x"
    )
    print(
        f"{'GPT step, eager (same run)':36s} {t_eager * 1e3:8.1f}ms "
        f"{t_peer2 * 1e3:8.1f}ms {eager_ratio:6.2f}x"
    )
    print(
        f"GPT planned transient peak {plan.peak_bytes / MIB:.1f} MiB "
        f"(pass <= {TORCH_TRANSIENT_BOUND_MIB} MiB), its lower bound "
        f"{plan.lower_bound_bytes / MIB:.1f} MiB: "
        f"{plan.peak_bytes / plan.lower_bound_bytes:.4f}x (goal <= 1.02x); "
        f"{len(plan.buffers)} buffers, {plan.kernel_calls} kernel calls"
    )
    bu.save("compile", rows)


if __name__ == "__main__":
    main()
