"""actnet's side of bench_gpt_demo.py: the gpt demo's training, importable
without PyTorch, so that `isolated.py` runs it in a process of its own (why:
see isolated.py).

`steps({"steps": N, "threads": 2, "folder": DIR})` prepares the demo's data as
`actnet demo gpt` does (its ByteBPE of the pydoc topics, the first N batches of
its training loader, epoch after epoch, and its validation windows), makes the
demo's model three times from the demo's seed, and writes what the peer needs
into DIR: `state.npz` (the initial state dict, by name) and `tokens.npz`
(`x`, `y`: the windows of the N training batches, in order; `val_x`, `val_y`:
the validation windows). It serves one call per variant, each a training step on that
variant's next batch returning `[loss, seconds]` (the step timed here, in the
child): "eager" (the demo's `train_step`), "compiled" (`at.compile` of the
demo's step, as `actnet demo gpt` runs by default) and "compiled_50" (with
`memory_budget=0.5`, as `actnet demo gpt --memory-budget 0.5`); each variant
has a model, AdamW and LambdaLR of its own (`build_optimizer`). The facts:
"val_eager", "val_compiled", "val_compiled_50" (the demo's `evaluate` on the
validation windows), "memory_plan_compiled", "memory_plan_compiled_50" (the
planned transient memory of the last recording).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from isolated import Steps

import actnet.device as ad
import actnet.tensor as at
from actnet.util.demos import GPT, GPTConfig
from actnet.util.demos.gpt import (
    CLIP,
    SEED,
    build_optimizer,
    evaluate,
    prepare_data,
    train_loader,
    train_step,
    update,  # what TrainLoop compiles
    validation_batches,
)
from actnet.util.text import pydoc_topics

MIB = 2**20
Batch = tuple[at.Tensor, at.Tensor]
VARIANTS = {"eager": None, "compiled": None, "compiled_50": 0.5}  # memory budgets


def _batches(loader: Any, n: int) -> list[Batch]:
    """The first `n` batches of `loader`, epoch after epoch, as the demo's
    TrainLoop takes them."""
    out: list[Batch] = []
    while len(out) < n:
        before = len(out)
        for batch in loader:
            out.append(batch)
            if len(out) == n:
                break
        if len(out) == before:
            raise ValueError("the training loader gives no batch")
    return out


def _windows(batches: list[Batch], i: int) -> np.ndarray[Any, Any]:
    """Part `i` (0: contexts, 1: next tokens) of every window of `batches`, in
    order, as one (windows, context) array (the last validation batch may be
    short)."""
    return np.concatenate([b[i].numpy() for b in batches])


class _Run:
    """One variant's training: the demo's model from the demo's seed, its
    optimizer and schedule, and its step eager or compiled."""

    def __init__(
        self,
        name: str,
        config: GPTConfig,
        batches: list[Batch],
        memory_budget: float | None,
    ) -> None:
        ad.manual_seed(SEED)  # as run_gpt makes its model
        self.model = GPT(config)
        self.optimizer, self.scheduler = build_optimizer(self.model, len(batches))
        self.batches = batches
        self.compiled = (
            None if name == "eager" else at.compile(update, memory_budget=memory_budget)
        )
        self.done = 0

    def step(self) -> list[float]:
        """The next batch's step: [loss, seconds]."""
        if self.done == len(self.batches):
            raise RuntimeError(f"all {self.done} steps are done")
        x, y = self.batches[self.done]
        self.done += 1
        model, optimizer = self.model, self.optimizer
        start = time.perf_counter()
        if self.compiled is None:
            loss = train_step(model, optimizer, self.scheduler, (x, y), CLIP)
        else:  # as TrainLoop runs a step (the scheduler steps on the host)
            loss = float(self.compiled(model, optimizer, x, y, CLIP, model.training))
            self.scheduler.step()
        return [loss, time.perf_counter() - start]

    def memory_plan(self) -> dict[str, Any]:
        plan = None if self.compiled is None else self.compiled.memory_plan
        if plan is None:
            raise RuntimeError("no recording yet: run two compiled steps first")
        assert self.compiled is not None
        return {
            "peak_mib": plan.peak_bytes / MIB,
            "lower_bound_mib": plan.lower_bound_bytes / MIB,
            "budget_mib": None
            if plan.budget_bytes is None
            else plan.budget_bytes / MIB,
            "recordings": self.compiled.recordings,
            "recomputed": len(plan.recomputed),
            "recomputed_mib": sum(r.nbytes for r in plan.recomputed) / MIB,
        }


def steps(args: dict[str, Any]) -> Steps:
    ad.set_num_threads(int(args.get("threads", 2)))
    n = int(args["steps"])
    folder = Path(args["folder"])
    base = GPTConfig()
    data = prepare_data(pydoc_topics(), base.vocab_size, base.context)
    config = GPTConfig(vocab_size=data.bpe.vocab_size)  # as run_gpt's
    batches = _batches(train_loader(data, config.context), n)
    val = validation_batches(data, config.context)
    runs = {
        name: _Run(name, config, batches, budget) for name, budget in VARIANTS.items()
    }
    state = runs["eager"].model.state_dict()
    for name, run in runs.items():  # the same seed, the same initial weights
        for key, value in run.model.state_dict().items():
            if not np.array_equal(value.numpy(), state[key].numpy()):
                raise RuntimeError(f"{name}: initial {key} differs from eager's")
    arrays: dict[str, Any] = {k: v.numpy() for k, v in state.items()}
    np.savez(folder / "state.npz", **arrays)
    np.savez(
        folder / "tokens.npz",
        x=_windows(batches, 0),
        y=_windows(batches, 1),
        val_x=_windows(val, 0),
        val_y=_windows(val, 1),
    )
    facts: dict[str, Any] = {}
    for name, run in runs.items():
        facts[f"val_{name}"] = lambda run=run: evaluate(run.model, val)
        if run.compiled is not None:
            facts[f"memory_plan_{name}"] = run.memory_plan
    return Steps({name: run.step for name, run in runs.items()}, facts)
