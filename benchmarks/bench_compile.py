"""Captured steps (`actnet.tensor.compile`, issue 20) against PyTorch eager, in the
same run (2 threads each).

Rows:
- The GPT peer's training step (gpt_actnet.py's model: ../shared/peers/
  bench_gpt_torch.py's, batch 16, context 128, from torch's initial weights, the
  same tokens, AdamW) as one `at.compile` step, against torch's eager step and
  actnet's own eager step: pass <= 1.0x torch. actnet runs in a process of its
  own, without torch (isolated.py says why); the eager step with torch in the
  same process is printed for the record. The time of the recording (call 2)
  and the first losses of both (they must agree) are printed.
- Its planned transient memory (`memory_plan`: every buffer made and freed within
  the step, placed by actnet.mem.plan): pass peak <= 141.5 MiB (the live-bytes
  bound of the same step's transient buffers traced in PyTorch), goal <= 1.02x
  its own lower bound.
- Issue 12: the same step compiled with `memory_budget=0.75` and `0.5` (of its
  unconstrained plan) and with `policy=dots_saveable`, each against the
  unconstrained compiled step in the same process: 20 steps' losses (equal),
  planned peak, time (pass <= 1.10x at 75 %, <= 1.30x at 50 %, goal <= 1.15x;
  dots_saveable: peak <= 0.75x at <= 1.10x), and the smallest budget accepted.
The digits step compiled is bench_util.py's "actnet_compiled" row (beside torch
and JAX in one table).

Run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python
benchmarks/bench_compile.py` (see /work/shared/peers/README.md).
"""

from __future__ import annotations

from typing import Any

import benchutil as bu  # before any numeric library: it sets the thread counts
from bench_device import interleaved
from bench_kernels import inprocess_gpt, isolated_gpt, peer_gpt

TORCH_TRANSIENT_BOUND_MIB = 141.5


def main() -> None:
    peer, state, tokens = peer_gpt()
    with isolated_gpt(state, tokens) as side:
        ours, eager = side.step("compiled"), side.step("eager")
        # call 1 eager, call 2 recorded, call 3 replayed
        losses = [(ours(), eager(), peer()) for _ in range(3)]
        record_ms = side.info("record_ms")
        worst = max(max(abs(a - b), abs(a - c)) for a, b, c in losses)
        print(f"GPT losses of the first 3 steps (compiled, eager, torch): {losses}")
        print(f"max difference {worst:.2e}; recording (call 2) {record_ms:.0f} ms")
        t_ours, t_peer, ratio = interleaved(ours, peer, reps=7)
        t_eager, t_peer2, eager_ratio = interleaved(eager, peer, reps=5)
        plan = side.info("memory_plan")
    same = inprocess_gpt(state, tokens)
    s_ours, s_peer, s_ratio = interleaved(same, peer, reps=5)
    rows = {
        "GPT step, compiled": {
            "actnet_ms": t_ours * 1e3,
            "torch_ms": t_peer * 1e3,
            "ratio": ratio,
            "record_ms": record_ms,
            "first_losses_max_diff": worst,
        },
        "GPT step, eager (same run)": {
            "actnet_ms": t_eager * 1e3,
            "torch_ms": t_peer2 * 1e3,
            "ratio": eager_ratio,
        },
        "GPT step, eager, torch in the same process": {
            "actnet_ms": s_ours * 1e3,
            "torch_ms": s_peer * 1e3,
            "ratio": s_ratio,
        },
        "GPT step, planned transient memory": {
            **plan,
            "torch_transient_bound_mib": TORCH_TRANSIENT_BOUND_MIB,
        },
    }
    print(f"{'':44s} {'actnet':>10s} {'torch':>10s} {'ratio':>7s}")
    print(
        f"{'GPT step, compiled':44s} {t_ours * 1e3:8.1f}ms {t_peer * 1e3:8.1f}ms "
        f"{ratio:6.2f}x   pass <= 1.0x"
    )
    print(
        f"{'GPT step, eager (same run)':44s} {t_eager * 1e3:8.1f}ms "
        f"{t_peer2 * 1e3:8.1f}ms {eager_ratio:6.2f}x"
    )
    print(
        f"{'GPT step, eager, torch in the same process':44s} {s_ours * 1e3:8.1f}ms "
        f"{s_peer * 1e3:8.1f}ms {s_ratio:6.2f}x   for the record (isolated.py)"
    )
    print(
        f"GPT planned transient peak {plan['peak_mib']:.1f} MiB "
        f"(pass <= {TORCH_TRANSIENT_BOUND_MIB} MiB), its lower bound "
        f"{plan['lower_bound_mib']:.1f} MiB: "
        f"{plan['peak_over_lower_bound']:.4f}x (goal <= 1.02x); "
        f"{plan['buffers']} buffers, {plan['kernel_calls']} kernel calls"
    )
    rows.update(memory_rows(state, tokens))
    bu.save("compile", rows)


def memory_rows(state: dict[str, Any], tokens: Any) -> dict[str, dict[str, Any]]:
    """Issue 12's rows: the GPT step compiled under memory budgets of 75 % and
    50 % of its unconstrained plan and with the selective policy
    dots_saveable, each against the unconstrained compiled step in the same
    process (interleaved): 20 steps' losses equal, planned peak, time."""
    rows: dict[str, dict[str, Any]] = {}
    with isolated_gpt(state, tokens) as side:
        free = side.step("compiled")
        names = {"75": "compiled_75", "50": "compiled_50", "dots": "compiled_dots"}
        steps = {k: side.step(v) for k, v in names.items()}
        worst = dict.fromkeys(names, 0.0)
        for _ in range(20):
            want = free()
            for k, step in steps.items():
                worst[k] = max(worst[k], abs(step() - want))
        plan = side.info("memory_plan")
        print(
            f"{'':44s} {'peak MiB':>9s} {'of free':>8s} {'time':>7s} {'loss diff':>9s}"
        )
        for k, step in steps.items():
            _, _, ratio = interleaved(step, free, reps=7)
            mine = side.info(f"memory_plan_{k}")
            share = mine["peak_mib"] / plan["peak_mib"]
            criterion = {
                "75": "pass: time <= 1.10x",
                "50": "pass: time <= 1.30x, goal <= 1.15x",
                "dots": "pass: peak <= 0.75x at time <= 1.10x",
            }[k]
            name = {
                "75": "GPT step, memory_budget=0.75",
                "50": "GPT step, memory_budget=0.5",
                "dots": "GPT step, policy=dots_saveable",
            }[k]
            rows[name] = {**mine, "peak_over_unconstrained": share,
                          "time_over_unconstrained": ratio,
                          "max_loss_diff_20_steps": worst[k]}  # fmt: skip
            ops = ", ".join(mine["recomputed_ops"])
            print(f"{name:44s} {mine['peak_mib']:9.1f} {share:8.3f} {ratio:6.3f}x "
                  f"{worst[k]:9.1e}   {criterion}; recomputes "
                  f"{mine['recomputed']} ({ops})")  # fmt: skip
        smallest = side.info("smallest_budget")
    rows["GPT step, smallest memory budget accepted"] = {
        "mib": smallest, "of_unconstrained": smallest / plan["peak_mib"],
    }  # fmt: skip
    print(f"GPT step, smallest memory budget accepted: {smallest:.1f} MiB "
          f"({smallest / plan['peak_mib']:.1%} of the unconstrained plan)")  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
