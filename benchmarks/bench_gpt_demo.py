"""The gpt demo's training against the same training in PyTorch (2 threads each).

Both train the peer's GPT (../shared/peers/bench_gpt_torch.py `build`, with the
demo's vocabulary of 512 BPE tokens) on the same tokens: the demo's ByteBPE of
the pydoc topics, its training windows in the order of its DataLoader (seed 0),
taken once as NumPy arrays and fed to both. torch starts from actnet's initial
state dict (copied by name), and both use AdamW (lr 3e-4, betas 0.9/0.95,
weight decay 0.1), a LambdaLR over the demo's `warmup_cosine`, gradient
clipping to norm 1, for the same number of steps.

Printed: the first losses side by side, the validation loss of each on the
demo's validation windows (pass: actnet within 2 % of torch's), and the wall
time of the whole training pass of each, summed over the steps, which run
interleaved (an actnet step, then a torch step) so that a change in the
machine's load hits both alike: pass <= 1.0x torch, goal <= 0.8x.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python benchmarks/bench_gpt_demo.py --steps 300
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path
from typing import Any

import benchutil as bu  # before any numeric library: it sets the thread counts
import numpy as np
import torch

import actnet.device as ad
import actnet.tensor as at
from actnet.util.demos import GPT, GPTConfig
from actnet.util.demos.gpt import (
    BETAS,
    CLIP,
    LR,
    WEIGHT_DECAY,
    build_optimizer,
    evaluate,
    prepare_data,
    train_loader,
    train_step,
    validation_batches,
    warmup_cosine,
    warmup_steps,
)
from actnet.util.text import pydoc_topics

torch.set_num_threads(bu.NTHREADS)
ad.set_num_threads(bu.NTHREADS)

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"
Arrays = list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]


def _peer_build(config: GPTConfig) -> Any:
    """The peer's model, built by the peer's own `build` with the demo's sizes
    (its module constants are what `build` reads)."""
    sys.path.insert(0, str(PEERS))
    try:
        import bench_gpt_torch as peer  # the peer's script, as bench_kernels does
    finally:
        sys.path.pop(0)
    peer.VOCAB, peer.D, peer.L = config.vocab_size, config.d_model, config.n_layers
    peer.H, peer.SEQ = config.n_heads, config.context
    return peer.build(torch)


def _arrays(batches: Any, n: int | None = None) -> Arrays:
    out = []
    for x, y in batches:
        out.append((x.numpy(), y.numpy()))
        if n is not None and len(out) == n:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, metavar="N")
    args = parser.parse_args()
    steps = args.steps
    if steps < 1:
        parser.error("--steps must be positive")

    data = prepare_data(pydoc_topics(), 512, 128)
    config = GPTConfig(vocab_size=data.bpe.vocab_size)
    loader = train_loader(data, config.context)
    batches: Arrays = []
    while len(batches) < steps:  # each pass over the loader is its next epoch
        batches += _arrays(loader, steps - len(batches))
    val = _arrays(validation_batches(data, config.context))

    ad.manual_seed(0)
    model = GPT(config)
    optimizer, scheduler = build_optimizer(model, steps)
    tmodel = _peer_build(config)
    tmodel.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    )
    topt = torch.optim.AdamW(
        tmodel.parameters(), lr=LR, betas=BETAS, weight_decay=WEIGHT_DECAY
    )
    schedule = functools.partial(warmup_cosine, warmup=warmup_steps(steps), total=steps)
    tsched = torch.optim.lr_scheduler.LambdaLR(topt, schedule)
    vocab = config.vocab_size

    def ours(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> float:
        return train_step(
            model, optimizer, scheduler, (at.tensor(x), at.tensor(y)), CLIP
        )

    def peer(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> float:
        topt.zero_grad(set_to_none=True)
        logits = tmodel(torch.from_numpy(x))
        loss = torch.nn.functional.cross_entropy(
            logits.view(-1, vocab), torch.from_numpy(y).view(-1)
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tmodel.parameters(), CLIP)
        topt.step()
        tsched.step()
        return float(loss.detach())

    print(f"{steps} steps of batch {batches[0][0].shape}, vocabulary {vocab}")
    times: list[tuple[float, float]] = []
    losses: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(batches):
        t0 = time.perf_counter()
        a = ours(x, y)
        t1 = time.perf_counter()
        b = peer(x, y)
        t2 = time.perf_counter()
        times.append((t1 - t0, t2 - t1))
        losses.append((a, b))
        if i < 3 or (i + 1) % 50 == 0:
            print(f"step {i + 1:5d}: loss actnet {a:.5f}  torch {b:.5f}", flush=True)

    t_ours, t_peer = (sum(column) for column in zip(*times, strict=True))
    med_ours, med_peer = (
        float(np.median(column)) for column in zip(*times, strict=True)
    )
    val_ours = evaluate(model, [(at.tensor(x), at.tensor(y)) for x, y in val])
    tmodel.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in val:
            logits = tmodel(torch.from_numpy(x))
            loss = torch.nn.functional.cross_entropy(
                logits.view(-1, vocab), torch.from_numpy(y).view(-1)
            )
            total += float(loss) * y.size
            count += y.size
    val_peer = total / count
    gap = abs(val_ours - val_peer) / val_peer
    ratio = t_ours / t_peer
    print(
        f"validation loss: actnet {val_ours:.4f}, torch {val_peer:.4f} nats/token, "
        f"difference {gap:.2%}   pass <= 2%: {'ok' if gap <= 0.02 else 'FAIL'}"
    )
    print(
        f"training pass: actnet {t_ours:.1f} s, torch {t_peer:.1f} s, ratio "
        f"{ratio:.2f}x   pass <= 1.0x: {'ok' if ratio <= 1.0 else 'FAIL'}, "
        f"goal <= 0.8x: {'ok' if ratio <= 0.8 else 'not yet'}",
        flush=True,
    )
    print(
        f"median step: actnet {med_ours * 1e3:.0f} ms, torch {med_peer * 1e3:.0f} ms, "
        f"ratio {med_ours / med_peer:.2f}x (actnet's first step compiles its kernels)"
    )
    bu.save(
        "gpt_demo",
        {
            "steps": steps,
            "val_loss": {"actnet": val_ours, "torch": val_peer, "difference": gap},
            "training_s": {"actnet": t_ours, "torch": t_peer, "ratio": ratio},
            "median_step_s": {"actnet": med_ours, "torch": med_peer},
            "first_losses": losses[:5],
            "last_losses": losses[-5:],
            "step_times_s": times,
        },
    )


if __name__ == "__main__":
    main()
