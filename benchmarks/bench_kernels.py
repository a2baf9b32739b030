"""The compiled kernel layer against PyTorch, in the same run (2 threads each).

Rows (issue 19):
- gelu (exact and tanh), layer_norm, softmax, log_softmax, cross_entropy and
  scaled-dot-product attention, each forward + backward at the GPT peer's shapes
  (../shared/peers/bench_gpt_torch.py: batch 16, context 128, d_model 256, 4 heads,
  MLP 1024), from the same inputs (ops_actnet.py), actnet in a process without
  torch (isolated.py says why): pass <= 1.2x torch each, goal <= 1.0x. The
  softmax row once more with actnet in this process, for the record.
- The GPT peer's training step, eager: its model built in actnet from the same
  initial weights (copied from torch's), the same random tokens, AdamW(lr 3e-4,
  betas 0.9/0.95, weight decay 0.1) against torch's default AdamW; the losses of
  the first steps must agree (printed). Pass <= 1.5x torch, goal <= 1.0x.
- The same step with one busy process beside it (a Python loop on one core): each
  framework's slowdown against its own idle step, and actnet's slowdown over
  torch's. Pass <= 1.2x, goal <= 1.0x.
- A CNN epoch on digits: Conv2d(1, 16, 3, padding 1), ReLU, MaxPool2d(2),
  Conv2d(16, 32, 3, padding 1), ReLU, MaxPool2d(2), Linear(128, 10) on the 8x8
  images, SGD (lr 0.05, momentum 0.9), batch 64 (the digits demo's split and
  scaling; 22 steps), from the same initial weights: pass <= 1.5x torch, goal
  <= 1.0x.
- First digits step in a fresh process (numba's cache cold, then warm; Python's
  bytecode cached, as installed packages have it): pass <= 2 s cold, <= 0.3 s
  warm.

Run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python
benchmarks/bench_kernels.py` (see /work/shared/peers/README.md).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import benchutil as bu  # before any numeric library: it sets the thread counts
import numpy as np
import ops_actnet as ops
import torch
from bench_device import interleaved
from gpt_actnet import ADAMW, BATCH, GPT, SEQ, VOCAB, D
from isolated import Isolated

import actnet.device as ad
import actnet.neuron as F
import actnet.tensor as at
from actnet import nn
from actnet.nn.optim import SGD, AdamW
from actnet.util.demos.digits import load_digits_data

torch.set_num_threads(bu.NTHREADS)
ad.set_num_threads(bu.NTHREADS)

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"


# ------------------------------------------------------------------- the ops
# torch's forward of each row (ops_actnet.FORWARDS is actnet's).
_TF = torch.nn.functional
PEER_FORWARDS: dict[str, Callable[..., Any]] = {
    ops.GELU: _TF.gelu,
    ops.GELU_TANH: lambda x: _TF.gelu(x, approximate="tanh"),
    ops.LAYER_NORM: lambda x: _TF.layer_norm(x, (D,)),
    ops.SOFTMAX: lambda x: _TF.softmax(x, dim=-1),
    ops.LOG_SOFTMAX: lambda x: _TF.log_softmax(x, dim=-1),
    ops.CROSS_ENTROPY: _TF.cross_entropy,
    ops.SDPA: lambda q, k, v: _TF.scaled_dot_product_attention(q, k, v, is_causal=True),
}
# The one op row also timed with actnet in this process, for the record
# (isolated.py: torch's OpenMP threads spin after each of actnet's parallel
# kernels).
SAME_PROCESS_ROW = ops.SOFTMAX


def peer_step(name: str) -> tuple[Callable[[], None], float]:
    """Row `name` on torch, from ops_actnet's inputs: (its forward + backward,
    the weighted sum of one forward's output)."""
    arrays, w = ops.inputs(name)
    leaves = [torch.from_numpy(a).requires_grad_(True) for a in arrays]
    extra = (torch.from_numpy(ops.targets()),) if name == ops.CROSS_ENTROPY else ()
    weight = torch.from_numpy(w)
    forward = PEER_FORWARDS[name]

    def run() -> None:
        for leaf in leaves:
            leaf.grad = None
        forward(*leaves, *extra).backward(weight)

    with torch.no_grad():
        check = float((forward(*leaves, *extra) * weight).sum())
    return run, check


def op_rows() -> dict[str, dict[str, float]]:
    """Each op forward + backward, actnet in a process without torch, torch
    here, alternating; one row again with actnet in this process."""
    rows: dict[str, dict[str, float]] = {}
    print(f"{'workload':52s} {'actnet':>10s} {'torch':>10s} {'ratio':>7s}")
    with Isolated("ops_actnet", "steps", {"threads": bu.NTHREADS}) as side:
        for name in ops.CASES:
            peer, peer_value = peer_step(name)
            ours_value = side.info(name)
            if not abs(ours_value - peer_value) <= 1e-4 * max(1.0, abs(peer_value)):
                raise RuntimeError(
                    f"{name}: actnet's weighted output sums to {ours_value}, "
                    f"torch's to {peer_value}"
                )
            _report(rows, name, side.step(name), peer, "pass <= 1.2x, goal <= 1x")
    peer, _ = peer_step(SAME_PROCESS_ROW)
    ours, _ = ops.step(SAME_PROCESS_ROW)
    _report(rows, f"{SAME_PROCESS_ROW}, torch in the same process", ours, peer,
            "for the record (isolated.py: torch's OpenMP spins)")  # fmt: skip
    return rows


def _report(
    rows: dict[str, dict[str, float]],
    name: str,
    ours: Callable[[], None],
    peer: Callable[[], None],
    criterion: str,
) -> None:
    t_ours, t_peer, ratio = interleaved(ours, peer, reps=7)
    rows[name] = {"actnet_ms": t_ours * 1e3, "torch_ms": t_peer * 1e3, "ratio": ratio}
    print(
        f"{name:52s} {t_ours * 1e3:8.2f}ms {t_peer * 1e3:8.2f}ms {ratio:6.2f}x"
        f"   {criterion}",
        flush=True,
    )


# ------------------------------------------------------------ the GPT step
def _peer() -> Any:
    sys.path.insert(0, str(PEERS))
    try:
        import bench_gpt_torch  # the peer's model, as the peer script builds it
    finally:
        sys.path.pop(0)
    return bench_gpt_torch


def peer_gpt() -> tuple[Callable[[], float], dict[str, Any], np.ndarray[Any, Any]]:
    """torch's step (the peer's model and default AdamW), its initial state dict
    as NumPy arrays, and the tokens (BATCH, SEQ + 1) it trains on."""
    torch.manual_seed(0)
    tmodel = _peer().build(torch)
    state = {k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()}
    topt = torch.optim.AdamW(tmodel.parameters(), **ADAMW)
    g = torch.Generator().manual_seed(0)
    data = torch.randint(0, VOCAB, (BATCH, SEQ + 1), generator=g)
    tx, ty = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    def peer() -> float:
        topt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(
            tmodel(tx).view(-1, VOCAB), ty.view(-1)
        )
        loss.backward()
        topt.step()
        return float(loss.detach())

    return peer, state, data.numpy()


@contextlib.contextmanager
def isolated_gpt(
    state: dict[str, Any], tokens: np.ndarray[Any, Any]
) -> Iterator[Isolated]:
    """gpt_actnet's steps from these weights and tokens, in a process without
    torch (isolated.py says why)."""
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "state.npz", **state)
        np.save(Path(tmp) / "tokens.npy", tokens)
        args = {
            "state": str(Path(tmp) / "state.npz"),
            "tokens": str(Path(tmp) / "tokens.npy"),
            "threads": bu.NTHREADS,
        }
        with Isolated("gpt_actnet", "steps", args) as side:  # fmt: skip
            yield side


def inprocess_gpt(
    state: dict[str, Any], tokens: np.ndarray[Any, Any]
) -> Callable[[], float]:
    """actnet's eager step in this process, where torch is loaded (for the
    record: isolated.py says what that costs)."""
    model = GPT()
    model.load_state_dict({k: at.tensor(v) for k, v in state.items()})
    opt = AdamW(model.parameters(), **ADAMW)
    x = at.tensor(tokens[:, :-1].copy())
    y = at.tensor(tokens[:, 1:].reshape(-1).copy())

    def ours() -> float:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y)
        loss.backward()
        opt.step()
        return float(loss.item())

    return ours


def _busy() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def gpt_rows() -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    peer, state, tokens = peer_gpt()
    with isolated_gpt(state, tokens) as side:
        ours = side.step("eager")
        losses = [(ours(), peer()) for _ in range(3)]
        worst = max(abs(a - b) for a, b in losses)
        print(
            f"GPT losses of the first 3 steps (actnet, torch): {losses}; "
            f"max diff {worst:.2e}"
        )
        t_ours, t_peer, ratio = interleaved(ours, peer, reps=7)
        rows["GPT step, eager"] = {
            "actnet_ms": t_ours * 1e3, "torch_ms": t_peer * 1e3, "ratio": ratio,
            "first_losses_max_diff": worst,
        }  # fmt: skip
        print(f"{'GPT step, eager':52s} {t_ours * 1e3:8.1f}ms {t_peer * 1e3:8.1f}ms "
              f"{ratio:6.2f}x   pass <= 1.5x, goal <= 1x", flush=True)  # fmt: skip
        busy = _busy()
        try:
            time.sleep(0.5)
            b_ours, b_peer, b_ratio = interleaved(ours, peer, reps=5)
        finally:
            busy.kill()
            busy.wait()
    slow_ours, slow_peer = b_ours / t_ours, b_peer / t_peer
    rows["GPT step, one busy process beside it"] = {
        "actnet_ms": b_ours * 1e3, "torch_ms": b_peer * 1e3, "ratio": b_ratio,
        "actnet_slowdown": slow_ours, "torch_slowdown": slow_peer,
        "slowdown_ratio": slow_ours / slow_peer,
    }  # fmt: skip
    print(f"{'GPT step, one busy process beside it':52s} {b_ours * 1e3:8.1f}ms "
          f"{b_peer * 1e3:8.1f}ms {b_ratio:6.2f}x   slowdown actnet {slow_ours:.2f}x, "
          f"torch {slow_peer:.2f}x: {slow_ours / slow_peer:.2f} (pass <= 1.2)",
          flush=True)  # fmt: skip
    same = inprocess_gpt(state, tokens)
    s_ours, s_peer, s_ratio = interleaved(same, peer, reps=5)
    name = "GPT step, eager, torch in the same process"
    rows[name] = {"actnet_ms": s_ours * 1e3, "torch_ms": s_peer * 1e3,
                  "ratio": s_ratio}  # fmt: skip
    print(
        f"{name:52s} {s_ours * 1e3:8.1f}ms {s_peer * 1e3:8.1f}ms {s_ratio:6.2f}x"
        "   for the record (isolated.py: torch's OpenMP spins)",
        flush=True,
    )
    return rows


# ----------------------------------------------------------- the CNN epoch
def _cnn(framework: Any) -> Any:
    """The CNN in `framework` (actnet.nn or torch.nn: the same constructors)."""
    return framework.Sequential(
        framework.Conv2d(1, 16, 3, padding=1),
        framework.ReLU(),
        framework.MaxPool2d(2),
        framework.Conv2d(16, 32, 3, padding=1),
        framework.ReLU(),
        framework.MaxPool2d(2),
        framework.Flatten(),
        framework.Linear(32 * 2 * 2, 10),
    )


def cnn_rows() -> dict[str, dict[str, float]]:
    x_train, y_train, _, _ = load_digits_data()
    images = x_train.reshape(-1, 1, 8, 8)
    steps = len(images) // 64
    torch.manual_seed(0)
    tmodel = _cnn(torch.nn)
    model = _cnn(nn)
    model.load_state_dict(
        {
            k: at.tensor(v.detach().numpy().copy())
            for k, v in tmodel.state_dict().items()
        }
    )
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.05, momentum=0.9)
    batches = [(images[i * 64 : (i + 1) * 64], y_train[i * 64 : (i + 1) * 64])
               for i in range(steps)]  # fmt: skip
    ours_data = [(at.tensor(x), at.tensor(y)) for x, y in batches]
    peer_data = [(torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))
                 for x, y in batches]  # fmt: skip

    def ours() -> float:
        total = 0.0
        for x, y in ours_data:
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            total += float(loss.item())
        return total

    def peer() -> float:
        total = 0.0
        for x, y in peer_data:
            topt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(tmodel(x), y)
            loss.backward()
            topt.step()
            total += float(loss.detach())
        return total

    first = ours(), peer()
    print(f"CNN first-epoch summed losses (actnet, torch): {first}")
    t_ours, t_peer, ratio = interleaved(ours, peer, reps=7)
    name = f"CNN epoch on digits ({steps} steps)"
    print(f"{name:52s} {t_ours * 1e3:8.1f}ms {t_peer * 1e3:8.1f}ms {ratio:6.2f}x"
          "   pass <= 1.5x, goal <= 1x", flush=True)  # fmt: skip
    diff = abs(first[0] - first[1])
    return {name: {"actnet_ms": t_ours * 1e3, "torch_ms": t_peer * 1e3,
                   "ratio": ratio, "first_epoch_loss_diff": diff}}  # fmt: skip


# ---------------------------------------------------------------- cold start
_FIRST_STEP = textwrap.dedent(
    """
    import time
    start = time.perf_counter()
    import actnet.neuron as F
    import actnet.tensor as at
    from actnet.util.demos.digits import build_model
    from actnet.nn.optim import SGD
    model = build_model(seed=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = at.randn(64, 64), at.tensor([i % 10 for i in range(64)])
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    print(time.perf_counter() - start)
    """
)


def cold_start_rows() -> dict[str, dict[str, float]]:
    """Cold: numba's cache empty; warm: filled by the runs before. Python's
    bytecode is cached in both, as a user's installed packages have it (pip
    compiles it on install): a machine that sets PYTHONDONTWRITEBYTECODE (this
    sandbox does) made every run recompile some 500 modules (0.34 s), so the
    children run without it, after one untimed run that writes the bytecode
    (with a numba cache of its own, left empty for the cold run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as cache:
        subprocess.run(
            [sys.executable, "-c", _FIRST_STEP],
            env={**env, "NUMBA_CACHE_DIR": first}, capture_output=True, check=True,
        )  # fmt: skip
        env["NUMBA_CACHE_DIR"] = cache
        runs = []
        for _ in range(3):
            done = subprocess.run(
                [sys.executable, "-c", _FIRST_STEP],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            runs.append(float(done.stdout.strip().splitlines()[-1]))
    cold, warm = runs[0], statistics.median(runs[1:])
    print(f"{'first digits step, fresh process':52s} cold {cold:.2f}s, warm {warm:.2f}s"
          "   pass <= 2 s cold, <= 0.3 s warm")  # fmt: skip
    return {"first digits step, fresh process": {"cold_s": cold, "warm_s": warm}}


def main() -> None:
    rows: dict[str, dict[str, float]] = {}
    rows.update(op_rows())
    rows.update(gpt_rows())
    rows.update(cnn_rows())
    rows.update(cold_start_rows())
    bu.save("kernels", rows)


if __name__ == "__main__":
    main()
