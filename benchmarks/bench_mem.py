"""actnet-mem: allocator latency and fragmentation, and the offline planner.

Pass criteria (issue 3): a malloc+free pair <= 4 us median with 10 000 live blocks
of mixed sizes (goal 2 us); fragmentation (reserved peak / live peak) <= 1.15 on a
trace of mixed sizes. The allocator is pure Python with no peer to compare with in
the same run, so the numbers are absolute; what stands in for a peer is the cost of
the bare Python work any allocator call does (a dict insert and delete), printed
beside it. The planner's rows give its peak against the live-bytes lower bound and
the allocator's reserved peak on the same trace, and what plan() costs.
"""

from __future__ import annotations

import functools
import math
import random

import benchutil as bu  # before any numeric library: it sets the thread counts

from actnet.mem import (
    Allocator,
    TraceEvent,
    mixed_size_trace,
    plan,
    replay,
    training_step_trace,
)

LIVE = 10_000


def mixed_sizes(rng: random.Random, n: int) -> list[int]:
    """Log-uniform sizes from 16 B to 1 MiB."""
    lo, hi = math.log(16), math.log(1 << 20)
    return [int(math.exp(rng.uniform(lo, hi))) for _ in range(n)]


def pair_latency() -> dict[str, float]:
    rng = random.Random(0)
    allocator = Allocator()
    sizes = mixed_sizes(rng, 2 * LIVE)
    live = [allocator.malloc(n) for n in sizes[:LIVE]]
    for i in rng.sample(range(LIVE), LIVE // 2):  # fragment the arena
        allocator.free(live[i])
        live[i] = allocator.malloc(sizes[LIVE + i])
    victims = [rng.randrange(LIVE) for _ in range(4096)]
    state = {"k": 0}

    def churn() -> None:
        # malloc a new block, free a random live one: 10 000 stay live
        k = state["k"] = (state["k"] + 1) & 4095
        j = victims[k]
        new = allocator.malloc(sizes[k])
        allocator.free(live[j])
        live[j] = new

    def same() -> None:
        k = state["k"] = (state["k"] + 1) & 4095
        allocator.free(allocator.malloc(sizes[k]))

    def repeat() -> None:
        # one size over and over, as a training loop asks for its buffers
        allocator.free(allocator.malloc(4000))

    table: dict[str, int] = {}

    def dict_pair() -> None:
        k = state["k"] = (state["k"] + 1) & 4095
        table[k] = k
        del table[k]

    out = {}
    cases = (
        ("churn", churn),
        ("same_block", same),
        ("repeated_size", repeat),
        ("dict_pair", dict_pair),
    )
    for name, fn in cases:
        med, _ = bu.median_time(fn, inner=bu.auto_inner(fn), reps=15)
        out[name] = med * 1e6
    assert allocator.stats().live_blocks == LIVE
    return out


def fragmentation() -> dict[str, dict[str, float]]:
    """Reserved peak / live peak: two training runs, and ten random mixed-size traces
    (16 B to 1 MiB, log-uniform, random lifetimes), whose mean is the criterion."""
    traces = {
        "training step, batch 512": training_step_trace(10, batch=512),
        "training step, batch 2048": training_step_trace(10, batch=2048),
        **{f"mixed sizes, seed {s}": mixed_size_trace(seed=s) for s in range(10)},
    }
    out = {}
    for name, trace in traces.items():
        result = replay(Allocator(), trace)
        out[name] = {
            "fragmentation": result.fragmentation,
            "peak_reserved_MiB": result.peak_reserved / 2**20,
            "peak_live_MiB": result.peak_requested / 2**20,
            "us_per_event": result.seconds / result.events * 1e6,
        }
    mixed = [
        row["fragmentation"] for name, row in out.items() if name.startswith("mixed")
    ]
    out["mixed sizes, mean of 10"] = {
        "fragmentation": sum(mixed) / len(mixed),
        "max": max(mixed),
    }
    return out


def trace_blocks(trace: list[TraceEvent]) -> list[tuple[int, int, int]]:
    """A trace as plan() blocks: each lives from the index of its malloc event to
    that of its free (the end of the trace when it is never freed)."""
    started: dict[int, tuple[int, int]] = {}  # key -> (nbytes, malloc index)
    blocks: dict[int, tuple[int, int, int]] = {}
    for step, event in enumerate(trace):
        if event.op == "malloc":
            started[event.key] = (event.nbytes, step)
        elif event.op == "free":
            nbytes, first = started.pop(event.key)
            blocks[event.key] = (nbytes, first, step)
    for key, (nbytes, first) in started.items():
        blocks[key] = (nbytes, first, len(trace))
    return [blocks[key] for key in sorted(blocks)]


def planning() -> dict[str, dict[str, float]]:
    """The offline plan of whole traces, every lifetime known ahead: its peak against
    the lower bound (the most aligned bytes live at once) and against the allocator's
    reserved peak on the same trace, and the time plan() takes (median of 3). The
    mixed traces are smaller than fragmentation()'s: 2,000 blocks, 200 live."""
    traces = {
        "training step, batch 512": training_step_trace(10, batch=512),
        "training step, batch 2048": training_step_trace(10, batch=2048),
        "training, 37 steps, batch 512": training_step_trace(37, batch=512),
        **{
            f"mixed sizes, 200 live, seed {s}": mixed_size_trace(
                4000, live_target=200, seed=s
            )
            for s in range(3)
        },
    }
    out = {}
    for name, trace in traces.items():
        blocks = trace_blocks(trace)
        result = plan(blocks)
        seconds, _ = bu.median_time(
            functools.partial(plan, blocks), inner=1, reps=3, warmup=0
        )
        reserved = replay(Allocator(), trace).peak_reserved
        out[name] = {
            "blocks": len(blocks),
            "peak_MiB": result.peak_bytes / 2**20,
            "lower_bound_MiB": result.lower_bound_bytes / 2**20,
            "peak_over_lower_bound": result.peak_bytes / result.lower_bound_bytes,
            "allocator_reserved_MiB": reserved / 2**20,
            "plan_s": seconds,
        }
    return out


def main() -> None:
    latency = pair_latency()
    print(f"malloc+free pair, {LIVE} live blocks of mixed sizes (median, us)")
    print(
        f"  {'churn (free a random live block)':40s} {latency['churn']:7.2f}"
        "   pass <= 4, goal <= 2"
    )
    print(f"  {'same block (malloc, then free it)':40s} {latency['same_block']:7.2f}")
    print(
        f"  {'one size repeated (training loop)':40s} {latency['repeated_size']:7.2f}"
    )
    print(f"  {'reference: dict insert + delete':40s} {latency['dict_pair']:7.2f}")
    frag = fragmentation()
    print()
    print(f"{'trace':32s} {'reserved peak':>14s} {'live peak':>10s} {'ratio':>7s}")
    for name, row in frag.items():
        if "peak_live_MiB" not in row:
            print(f"{name:58s} {row['fragmentation']:7.3f}  (max {row['max']:.3f})")
            continue
        print(
            f"{name:32s} {row['peak_reserved_MiB']:10.1f} MiB "
            f"{row['peak_live_MiB']:6.1f} MiB {row['fragmentation']:7.3f}"
        )
    print("pass: ratio <= 1.15 (TLSF's published average is < 15 %)")
    planned = planning()
    print()
    print(
        f"{'offline plan of the trace':32s} {'blocks':>6s} {'peak':>10s} "
        f"{'bound':>10s} {'ratio':>6s} {'allocator':>10s} {'plan':>7s}"
    )
    for name, row in planned.items():
        print(
            f"{name:32s} {row['blocks']:6.0f} {row['peak_MiB']:6.1f} MiB "
            f"{row['lower_bound_MiB']:6.1f} MiB {row['peak_over_lower_bound']:6.3f} "
            f"{row['allocator_reserved_MiB']:6.1f} MiB {row['plan_s']:6.3f}s"
        )
    bu.save(
        "mem",
        {"pair_latency_us": latency, "fragmentation": frag, "planning": planned},
    )


if __name__ == "__main__":
    main()
