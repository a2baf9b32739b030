"""Data parallelism over MPI (issue 15), in the same run.

Rows, on the large MLP (1024->4096->4096->10, SGD lr 0.01, a global batch of 256,
../shared/peers/bench_mlp_large.py's weights and data), median step after 2
warm-up steps of 10:
- scaling efficiency: 1 process x 2 threads against 2 processes x 1 thread
  (DistributedDataParallel, 128 rows a process): t(1 x 2) / t(2 x 1), pass >= 0.85,
  goal >= 0.95;
- against torch's DistributedDataParallel (gloo) on the same 2 processes x 1
  thread: pass <= 1.0x.
The 2-process rows run under the mpiexec of the environment (testing/
requirements-mpi.txt), in rounds alternating actnet and torch. Run with
`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_distributed.py`.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import benchutil as bu  # before any numeric library: it sets the thread counts
import torch
from bench_util import LARGE_LR, LARGE_SIZES, _large_init

import actnet.device as ad
import actnet.tensor as at
import actnet.tensor.distributed as dist
from actnet import nn
from actnet.nn import functional as F
from actnet.nn.parallel import DistributedDataParallel

STEPS, WARMUP, ROUNDS = 10, 2, 2
PORT = 29517


def _actnet_model() -> tuple[nn.Module, Any, Any]:
    state, x, y = _large_init()
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(LARGE_SIZES)):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(LARGE_SIZES) - 2 else [])
    model = nn.Sequential(*layers)
    model.load_state_dict({k: at.tensor(v) for k, v in state.items()})
    return model, x, y


def _torch_model() -> tuple[torch.nn.Module, Any, Any]:
    state, x, y = _large_init()
    layers: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(LARGE_SIZES)):
        layers += [torch.nn.Linear(a, b)]
        if i < len(LARGE_SIZES) - 2:
            layers += [torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return model, x, y


def _actnet_steps(rank: int, ranks: int) -> dict[str, float]:
    model, x, y = _actnet_model()
    if ranks > 1:
        model = DistributedDataParallel(model)
    opt = nn.optim.SGD(model.parameters(), lr=LARGE_LR)
    xs, ys = at.tensor(x[rank::ranks]), at.tensor(y[rank::ranks])
    times, loss = [], 0.0
    for i in range(WARMUP + STEPS):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        out = F.cross_entropy(model(xs), ys)
        out.backward()
        opt.step()
        loss = float(out)
        if i >= WARMUP:
            times.append(time.perf_counter() - t0)
    return {"step_s": statistics.median(times), "last_loss": loss}


def _torch_steps(rank: int, ranks: int) -> dict[str, float]:
    model, x, y = _torch_model()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=LARGE_LR)
    xs, ys = torch.from_numpy(x[rank::ranks]), torch.from_numpy(y[rank::ranks])
    times, loss = [], 0.0
    for i in range(WARMUP + STEPS):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        out = torch.nn.functional.cross_entropy(ddp(xs), ys)
        out.backward()
        opt.step()
        loss = float(out.detach())
        if i >= WARMUP:
            times.append(time.perf_counter() - t0)
    return {"step_s": statistics.median(times), "last_loss": loss}


def worker(kind: str) -> None:
    """One rank of a 2-process run (under mpiexec), one thread."""
    rank, ranks = int(os.environ["PMI_RANK"]), int(os.environ["PMI_SIZE"])
    ad.set_num_threads(1)
    torch.set_num_threads(1)
    if kind == "actnet":
        dist.init_process_group("mpi")
        result = _actnet_steps(rank, ranks)
    else:
        torch.distributed.init_process_group(
            "gloo", init_method=f"tcp://127.0.0.1:{PORT}", rank=rank, world_size=ranks
        )
        result = _torch_steps(rank, ranks)
        torch.distributed.destroy_process_group()
    if rank == 0:
        print(json.dumps(result), flush=True)


def _two_processes(kind: str) -> dict[str, float]:
    mpiexec = Path(sys.executable).parent / "mpiexec"
    job = subprocess.run(
        [str(mpiexec), "-n", "2", sys.executable, __file__, "--worker", kind],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    result: dict[str, float] = json.loads(job.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    rows: dict[str, list[dict[str, float]]] = {"single": [], "actnet": [], "torch": []}
    for r in range(ROUNDS):
        rows["single"].append(_actnet_steps(0, 1))
        for kind in ("actnet", "torch") if r % 2 == 0 else ("torch", "actnet"):
            rows[kind].append(_two_processes(kind))
    step = {k: statistics.median(v["step_s"] for v in runs) for k, runs in rows.items()}
    efficiency = step["single"] / step["actnet"]
    ratio = step["actnet"] / step["torch"]
    print(f"large MLP {LARGE_SIZES}, global batch 256, median step of {STEPS}")
    print(f"  actnet, 1 process x 2 threads        {step['single'] * 1e3:8.1f} ms")
    print(f"  actnet DDP, 2 processes x 1 thread   {step['actnet'] * 1e3:8.1f} ms")
    print(f"  torch DDP (gloo), 2 x 1              {step['torch'] * 1e3:8.1f} ms")
    print(f"scaling efficiency {efficiency:.2f} (pass >= 0.85, goal >= 0.95)")
    print(f"actnet DDP / torch DDP {ratio:.2f}x (pass <= 1.0x)")
    bu.save(
        "distributed",
        {
            "steps_ms": {k: v * 1e3 for k, v in step.items()},
            "scaling_efficiency": efficiency,
            "ratio_vs_torch_ddp": ratio,
            "runs": rows,
        },
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker(sys.argv[2])
    else:
        main()
