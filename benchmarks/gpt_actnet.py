"""actnet's side of the GPT step rows (bench_kernels.py, bench_compile.py): the
peer's model (../shared/peers/bench_gpt_torch.py) in actnet, importable without
PyTorch, so that `isolated.py` can run it in a process of its own.

`steps({"state": npz of torch's initial state dict, "tokens": npy of (BATCH, SEQ
+ 1) token ids})` serves the calls "eager", "compiled", "compiled_dots" (the
step compiled with `policy=dots_saveable`: selective checkpointing),
"compiled_75" and "compiled_50" (with `memory_budget=0.75` and `0.5`) (one AdamW
training step each, on models of their own from the same weights; each returns
its loss), and the facts "record_ms" (the compiled step's call 2, the
recording), "memory_plan", "memory_plan_dots", "memory_plan_75",
"memory_plan_50" (their planned transient memory, with what a budget
recomputes) and "smallest_budget" (a budget far out of reach, refused: the
smallest that works, from a model of its own).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from isolated import Steps

import actnet.device as ad
import actnet.neuron as F
import actnet.tensor as at
from actnet import nn
from actnet.nn.optim import AdamW
from actnet.tensor.checkpoint import dots_saveable

VOCAB, D, LAYERS, HEADS, SEQ, BATCH = 256, 256, 4, 4, 128, 16
ADAMW = {"lr": 3e-4, "betas": (0.9, 0.95), "weight_decay": 0.1}
MIB = 2**20


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.fc1, self.fc2 = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)

    def forward(self, x: at.Tensor) -> at.Tensor:
        b, t, _ = x.shape
        q, k, v = F.split(self.qkv(self.ln1(x)), D, dim=2)
        q, k, v = (
            z.reshape(b, t, HEADS, D // HEADS).transpose(1, 2) for z in (q, k, v)
        )
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, D))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tok, self.pos = nn.Embedding(VOCAB, D), nn.Embedding(SEQ, D)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(D)
        self.head = nn.Linear(D, VOCAB, bias=False)

    def forward(self, idx: at.Tensor) -> at.Tensor:
        x = self.tok(idx) + self.pos(at.arange(idx.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln_f(x))


def _model(state: dict[str, np.ndarray[Any, Any]]) -> tuple[GPT, AdamW]:
    model = GPT()
    model.load_state_dict({k: at.tensor(v) for k, v in state.items()})
    return model, AdamW(model.parameters(), **ADAMW)


def steps(args: dict[str, Any]) -> Steps:
    ad.set_num_threads(int(args.get("threads", 2)))
    with np.load(args["state"]) as archive:
        state = {k: archive[k] for k in archive.files}
    data = np.load(args["tokens"])
    x = at.tensor(data[:, :-1].copy())
    y = at.tensor(data[:, 1:].reshape(-1).copy())

    def make(model: GPT, opt: AdamW) -> Any:
        def step(x: at.Tensor, y: at.Tensor) -> at.Tensor:
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y)
            loss.backward()
            opt.step()
            return loss

        return step

    eager = make(*_model(state))
    compiled = at.compile(make(*_model(state)))
    dots = at.compile(make(*_model(state)), policy=dots_saveable)
    budget75 = at.compile(make(*_model(state)), memory_budget=0.75)
    budget50 = at.compile(make(*_model(state)), memory_budget=0.5)
    calls = [0]
    record = [0.0]

    def run_compiled() -> float:
        calls[0] += 1
        start = time.perf_counter()
        loss = float(compiled(x, y))
        if calls[0] == 2:  # call 1 eager, call 2 recorded, then replayed
            record[0] = time.perf_counter() - start
        return loss

    def memory_plan(compiled: at.CompiledFunction[Any, Any]) -> dict[str, float]:
        plan = compiled.memory_plan
        if plan is None:
            raise RuntimeError("no recording yet: call 'compiled' twice first")
        return {
            "peak_mib": plan.peak_bytes / MIB,
            "lower_bound_mib": plan.lower_bound_bytes / MIB,
            "peak_over_lower_bound": plan.peak_bytes / plan.lower_bound_bytes,
            "buffers": len(plan.buffers),
            "kernel_calls": plan.kernel_calls,
            "recordings": compiled.recordings,
            "recomputed": len(plan.recomputed),
            "recomputed_mib": sum(r.nbytes for r in plan.recomputed) / MIB,
            "recomputed_ops": sorted({r.function for r in plan.recomputed}),
        }

    def smallest_budget() -> float:
        """MiB: the smallest budget that works, as the refusal of one far out
        of reach names it."""
        probe = at.compile(make(*_model(state)), memory_budget=0.05)
        for _ in range(12):  # call 1 eager, then recordings until refused
            try:
                probe(x, y)
            except at.MemoryBudgetError as exc:
                return exc.smallest_bytes / MIB
        raise RuntimeError("a budget of 5% was accepted")

    return Steps(
        {
            "eager": lambda: float(eager(x, y)),
            "compiled": run_compiled,
            "compiled_dots": lambda: float(dots(x, y)),
            "compiled_75": lambda: float(budget75(x, y)),
            "compiled_50": lambda: float(budget50(x, y)),
        },
        {
            "record_ms": lambda: record[0] * 1e3,
            "memory_plan": lambda: memory_plan(compiled),
            "memory_plan_dots": lambda: memory_plan(dots),
            "memory_plan_75": lambda: memory_plan(budget75),
            "memory_plan_50": lambda: memory_plan(budget50),
            "smallest_budget": smallest_budget,
        },
    )
