"""actnet's side of the op rows (bench_kernels.py): each fused operator forward +
backward at the GPT peer's shapes, importable without PyTorch, so that
`isolated.py` can run it in a process of its own.

`CASES` names each row, its input shape and the seed of its inputs; `inputs`
makes them (the parent gives torch the same arrays). `steps({"threads": n})`
serves one call per row, named as the row: the forward, then the backward of
its output weighted by a fixed array (so the incoming gradient is not all
ones); and one fact per row, of the same name: the weighted output's sum (the
parent compares it with torch's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gpt_actnet import BATCH, HEADS, SEQ, VOCAB, D
from isolated import Steps

import actnet.device as ad
import actnet.neuron as F
import actnet.tensor as at

GELU = "gelu (exact) fwd+bwd, 2048x1024"
GELU_TANH = "gelu (tanh) fwd+bwd, 2048x1024"
LAYER_NORM = "layer_norm fwd+bwd, 16x128x256"
SOFTMAX = "softmax fwd+bwd, 16x4x128x128"
LOG_SOFTMAX = "log_softmax fwd+bwd, 2048x256"
CROSS_ENTROPY = "cross_entropy fwd+bwd, 2048x256"
SDPA = "sdpa causal fwd+bwd, 16x4x128x64"

# name: (the shape of each floating input, the seed of the first; the backward's
# weight has the seed after the last input's). cross_entropy's targets (BATCH *
# SEQ class indices) come from `targets`.
CASES: dict[str, tuple[tuple[tuple[int, ...], ...], int]] = {
    GELU: (((2048, 1024),), 0),
    GELU_TANH: (((2048, 1024),), 10),
    LAYER_NORM: (((BATCH, SEQ, D),), 20),
    SOFTMAX: (((BATCH, HEADS, SEQ, SEQ),), 30),
    LOG_SOFTMAX: (((BATCH * SEQ, VOCAB),), 40),
    CROSS_ENTROPY: (((BATCH * SEQ, VOCAB),), 50),
    SDPA: (((BATCH, HEADS, SEQ, D // HEADS),) * 3, 60),
}


def inputs(name: str) -> tuple[list[np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
    """The float32 inputs of row `name` and the gradient its backward starts
    from (for cross_entropy, whose loss is a scalar, a 0-d 1)."""
    shapes, seed = CASES[name]
    arrays = [
        np.random.default_rng(seed + i).standard_normal(s).astype(np.float32)
        for i, s in enumerate(shapes)
    ]
    if name == CROSS_ENTROPY:
        return arrays, np.ones((), np.float32)
    rng = np.random.default_rng(seed + len(shapes))
    return arrays, rng.standard_normal(shapes[0]).astype(np.float32)


def targets() -> np.ndarray[Any, Any]:
    """cross_entropy's class indices, (BATCH * SEQ,) int64."""
    return np.random.default_rng(99).integers(0, VOCAB, BATCH * SEQ)


# The forward of each row, as actnet's functional API spells it; the last
# argument of cross_entropy's is its targets.
FORWARDS: dict[str, Callable[..., at.Tensor]] = {
    GELU: F.gelu,
    GELU_TANH: lambda x: F.gelu(x, approximate="tanh"),
    LAYER_NORM: lambda x: F.layer_norm(x, (D,)),
    SOFTMAX: lambda x: F.softmax(x, dim=-1),
    LOG_SOFTMAX: lambda x: F.log_softmax(x, dim=-1),
    CROSS_ENTROPY: F.cross_entropy,
    SDPA: lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
}


def step(name: str) -> tuple[Callable[[], None], Callable[[], float]]:
    """Row `name` on actnet: (its forward + backward, the weighted sum of one
    forward's output)."""
    arrays, w = inputs(name)
    leaves = [at.tensor(a, requires_grad=True) for a in arrays]
    extra = (at.tensor(targets()),) if name == CROSS_ENTROPY else ()
    weight = at.tensor(w)
    forward = FORWARDS[name]

    def run() -> None:
        for leaf in leaves:
            leaf.grad = None
        forward(*leaves, *extra).backward(weight)

    def check() -> float:
        with at.no_grad():
            return float((forward(*leaves, *extra) * weight).sum().item())

    return run, check


def steps(args: dict[str, Any]) -> Steps:
    ad.set_num_threads(int(args.get("threads", 2)))
    made = {name: step(name) for name in CASES}
    return Steps(
        {name: run for name, (run, _) in made.items()},
        {name: check for name, (_, check) in made.items()},
    )
