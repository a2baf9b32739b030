"""Allocation traces: synthetic ones, and replaying any of them on an Allocator."""

from __future__ import annotations

import itertools
import math
import random
import time
from dataclasses import dataclass
from typing import Literal, NamedTuple

from actnet.mem._allocator import Allocator, Block


class TraceEvent(NamedTuple):
    """One step of a trace.

    `malloc` reserves `nbytes` under `key`; `free` gives back the block of `key`;
    `mark` labels a point (a training step boundary) and is recorded by `replay`.
    """

    op: Literal["malloc", "free", "mark"]
    key: int
    nbytes: int = 0
    info: str = ""


@dataclass(frozen=True)
class MarkStats:
    """The allocator's numbers at a `mark` event."""

    label: str
    used_bytes: int
    total_bytes: int
    step_peak_requested: int  # peak of the live requests since the previous mark
    step_peak_used: int  # peak of used_bytes since the previous mark
    live_requested: int  # sum of the live requests, before rounding
    largest_free_block: int
    segments: int


@dataclass(frozen=True)
class ReplayStats:
    """What one replay cost and how tightly it packed.

    `fragmentation` is reserved peak ÷ peak of the live *requested* bytes, so the
    rounding to the alignment counts against the allocator too.
    """

    events: int
    seconds: float
    peak_requested: int
    peak_used: int
    peak_reserved: int
    marks: tuple[MarkStats, ...]

    @property
    def fragmentation(self) -> float:
        return self.peak_reserved / self.peak_requested if self.peak_requested else 1.0


def replay(allocator: Allocator, trace: list[TraceEvent]) -> ReplayStats:
    """Run `trace` on `allocator` and measure it; blocks still live stay allocated."""
    live: dict[int, Block] = {}
    requested: dict[int, int] = {}
    live_requested = 0
    peak_requested = step_peak_requested = 0
    step_peak_used = allocator.used_bytes()
    marks: list[MarkStats] = []
    allocator.reset_peak()
    start = time.perf_counter()
    for event in trace:
        if event.op == "malloc":
            if event.key in live:
                raise ValueError(f"trace reuses key {event.key} while it is live")
            live[event.key] = allocator.malloc(event.nbytes, event.info)
            requested[event.key] = event.nbytes
            live_requested += event.nbytes
            step_peak_requested = max(step_peak_requested, live_requested)
            step_peak_used = max(step_peak_used, allocator.used_bytes())
        elif event.op == "free":
            allocator.free(live.pop(event.key))
            live_requested -= requested.pop(event.key)
        else:
            stats = allocator.stats()
            marks.append(
                MarkStats(
                    label=event.info,
                    used_bytes=stats.used_bytes,
                    total_bytes=stats.total_bytes,
                    step_peak_requested=step_peak_requested,
                    step_peak_used=step_peak_used,
                    live_requested=live_requested,
                    largest_free_block=stats.largest_free_block,
                    segments=stats.segments,
                )
            )
            peak_requested = max(peak_requested, step_peak_requested)
            step_peak_requested = live_requested
            step_peak_used = stats.used_bytes
    seconds = time.perf_counter() - start
    return ReplayStats(
        events=len(trace),
        seconds=seconds,
        peak_requested=max(peak_requested, step_peak_requested),
        peak_used=allocator.peak_bytes(),
        peak_reserved=allocator.peak_total_bytes(),
        marks=tuple(marks),
    )


class _TraceBuilder:
    def __init__(self) -> None:
        self.events: list[TraceEvent] = []
        self._next_key = 0

    def malloc(self, nbytes: int, info: str) -> int:
        key = self._next_key
        self._next_key += 1
        self.events.append(TraceEvent("malloc", key, nbytes, info))
        return key

    def free(self, key: int) -> None:
        self.events.append(TraceEvent("free", key))

    def mark(self, label: str) -> None:
        self.events.append(TraceEvent("mark", -1, 0, label))


def training_step_trace(
    steps: int = 8,
    *,
    batch: int = 64,
    widths: tuple[int, ...] = (784, 1024, 512, 512, 256, 10),
    seed: int = 0,
) -> list[TraceEvent]:
    """The allocations of an MLP trained with AdamW, as PyTorch's eager mode makes them.

    Parameters and optimizer state are allocated once; each step allocates the
    batch, the forward activations (kept for backward) and short-lived
    temporaries, frees the last step's gradients (`zero_grad(set_to_none=True)`),
    runs backward in reverse (activation gradients live one layer at a time,
    parameter gradients until the next step), then the optimizer's two
    temporaries per parameter. The batch of each step varies (as the last batch
    of an epoch, or bucketed sequence lengths, make it), which is what makes
    placement hard. float32 throughout.
    """
    rng = random.Random(seed)
    b = _TraceBuilder()
    f32 = 4
    layers = list(itertools.pairwise(widths))
    params = []
    for i, (fan_in, fan_out) in enumerate(layers):
        params.append(
            (b.malloc(fan_in * fan_out * f32, f"layer{i}.weight"), fan_in * fan_out)
        )
        params.append((b.malloc(fan_out * f32, f"layer{i}.bias"), fan_out))
    for k, (_, n) in enumerate(params):  # optimizer state lives for the whole run
        b.malloc(n * f32, f"adamw.exp_avg[{k}]")
        b.malloc(n * f32, f"adamw.exp_avg_sq[{k}]")
    grads: list[int] = []
    for step in range(steps):
        rows = batch if rng.random() < 0.5 else rng.randint(batch // 4, batch)
        inputs = [b.malloc(rows * widths[0] * f32, "batch")]  # each layer's input
        pres = []  # each layer's linear output
        for i, (_, fan_out) in enumerate(layers):
            pres.append(b.malloc(rows * fan_out * f32, f"layer{i}.linear"))
            if i < len(layers) - 1:
                inputs.append(b.malloc(rows * fan_out * f32, f"layer{i}.relu"))
        probs = b.malloc(rows * widths[-1] * f32, "log_softmax")
        loss = b.malloc(f32, "loss")
        for key in grads:  # zero_grad(set_to_none=True) before backward
            b.free(key)
        grads = []
        grad = b.malloc(rows * widths[-1] * f32, "grad logits")
        b.free(probs)
        b.free(loss)
        b.free(pres[-1])
        for i in reversed(range(len(layers))):
            fan_in, fan_out = layers[i]
            grads.append(b.malloc(fan_in * fan_out * f32, f"layer{i}.weight.grad"))
            grads.append(b.malloc(fan_out * f32, f"layer{i}.bias.grad"))
            b.free(inputs[i])  # the weight gradient was its last use
            if i == 0:
                b.free(grad)
                break
            grad_in = b.malloc(rows * fan_in * f32, f"grad layer{i} input")
            b.free(grad)
            grad = b.malloc(rows * fan_in * f32, f"grad layer{i - 1}.linear")
            b.free(grad_in)
            b.free(pres[i - 1])  # relu's backward was its last use
        for _, n in params:  # AdamW's for-loop path: two temporaries per parameter
            tmp_sqrt = b.malloc(n * f32, "adamw.sqrt")
            tmp_div = b.malloc(n * f32, "adamw.div")
            b.free(tmp_sqrt)
            b.free(tmp_div)
        b.mark(f"step {step}: batch {rows}")
    return b.events


def mixed_size_trace(
    operations: int = 20_000,
    *,
    live_target: int = 2_000,
    min_size: int = 16,
    max_size: int = 1 << 20,
    seed: int = 0,
) -> list[TraceEvent]:
    """Random mallocs and frees with log-uniform sizes in [min_size, max_size].

    The number of live blocks drifts around `live_target`; which block dies is
    chosen at random, so lifetimes interleave freely (the classic setting of
    allocator fragmentation studies).
    """
    rng = random.Random(seed)
    b = _TraceBuilder()
    live: list[int] = []
    lo, hi = math.log(min_size), math.log(max_size)
    for _ in range(operations):
        if live and rng.random() < len(live) / (2 * live_target):
            victim = live.pop(rng.randrange(len(live)))
            b.free(victim)
        else:
            live.append(b.malloc(int(math.exp(rng.uniform(lo, hi))), "mixed"))
    for key in live:
        b.free(key)
    return b.events
