"""Replay a synthetic training run's allocations and show how the allocator packs them.

    python -m actnet.mem.demo [--steps N] [--batch B] [--seed S]

Nothing is allocated for real: the allocator is a memory shadow, so the trace of
an MLP trained with AdamW (see `training_step_trace`) is replayed on offsets only,
and the table shows what a device would hold after each step.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from actnet.mem._allocator import Allocator
from actnet.mem._trace import replay, training_step_trace


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:9.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actnet.mem.demo",
        description="Replay a synthetic training run's allocations on an Allocator.",
    )
    parser.add_argument(
        "--steps", type=int, default=10, help="training steps (default 10)"
    )
    parser.add_argument(
        "--batch", type=int, default=512, help="full batch size (default 512)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the batch sizes")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch < 4:
        parser.error("--steps must be >= 1 and --batch >= 4")

    trace = training_step_trace(args.steps, batch=args.batch, seed=args.seed)
    allocator = Allocator()
    result = replay(allocator, trace)

    print(
        f"actnet-mem demo: MLP 784-1024-512-512-256-10 trained with AdamW, "
        f"{args.steps} steps, {result.events} allocator events"
    )
    print(
        f"allocator: alignment {allocator.alignment} B, "
        f"segments of {allocator.segment_size // 2**20} MiB "
        "(larger requests get their own)"
    )
    print()
    print(
        f"{'step':>5} {'batch':>5}  {'peak live':>9} {'peak used':>9} {'end live':>9} "
        f"{'reserved':>9} {'largest free':>12} {'segments':>8}   (MiB)"
    )
    for mark in result.marks:
        step, _, rows = mark.label.removeprefix("step ").partition(": batch ")
        print(
            f"{step:>5} {rows:>5}  {_mib(mark.step_peak_requested)} "
            f"{_mib(mark.step_peak_used)} {_mib(mark.live_requested)} "
            f"{_mib(mark.total_bytes)} {_mib(mark.largest_free_block):>12} "
            f"{mark.segments:>8}"
        )
    print()
    print(f"peak of live requested bytes : {result.peak_requested:>12,d} B")
    print(f"peak of used (rounded) bytes : {result.peak_used:>12,d} B")
    print(f"peak of reserved bytes       : {result.peak_reserved:>12,d} B")
    print(f"fragmentation (reserved peak / live peak): {result.fragmentation:.4f}")
    print(
        f"replay: {result.events:,d} events in "
        f"{result.seconds * 1e3:.1f} ms "
        f"({result.seconds / max(result.events, 1) * 1e6:.2f} us per event)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
