"""Collectives across processes: run under `mpiexec -n 2` (the nox session
`distributed`), where every rank runs these tests and all must pass. The oracle
is NumPy on the data every rank can compute (each rank's values are a function
of its rank), and, for data parallelism, one process on the whole batch."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import actnet.tensor as at
import actnet.tensor.distributed as dist
from actnet.device import get_device
from actnet.device.collectives import MPIGroup

cpu = get_device("cpu")


@pytest.fixture(scope="module")
def group() -> MPIGroup:
    return MPIGroup()


def _values(rank: int, dtype: type) -> np.ndarray:
    return (np.arange(6).reshape(2, 3) * (rank + 1) - rank).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("op", ["sum", "avg", "max"])
def test_all_reduce(group: MPIGroup, dtype: type, op: str) -> None:
    every = np.stack([_values(r, dtype) for r in range(group.size)])
    buf = cpu.from_host(_values(group.rank, dtype))
    if op == "avg" and dtype is np.int64:
        with pytest.raises(TypeError, match="avg needs a floating dtype"):
            group.all_reduce(buf, op)
        return
    group.all_reduce(buf, op)
    want = {"sum": every.sum(0), "avg": every.mean(0), "max": every.max(0)}[op]
    np.testing.assert_allclose(cpu.to_host(buf), want.astype(dtype), rtol=1e-6)


def test_broadcast_all_gather_and_async(group: MPIGroup) -> None:
    root = group.size - 1
    buf = cpu.from_host(_values(group.rank, np.float32))
    group.broadcast(buf, root=root)
    np.testing.assert_array_equal(cpu.to_host(buf), _values(root, np.float32))
    out = cpu.alloc((group.size, 2, 3), np.float32)
    group.all_gather(cpu.from_host(_values(group.rank, np.float32)), out)
    want = np.stack([_values(r, np.float32) for r in range(group.size)])
    np.testing.assert_array_equal(cpu.to_host(out), want)
    big = cpu.from_host(np.full(1 << 16, float(group.rank + 1), np.float64))
    work = group.all_reduce(big, "sum", async_op=True)
    assert work is not None
    cpu.add(out, 1.0)  # other work meanwhile
    work.wait()
    assert work.is_completed()
    total = sum(r + 1 for r in range(group.size))
    np.testing.assert_array_equal(cpu.to_host(big), np.full(1 << 16, float(total)))
    with pytest.raises(ValueError, match="root must be a rank"):
        group.broadcast(buf, root=group.size)
    with pytest.raises(TypeError, match="MPI has no type for float16"):
        group.all_reduce(cpu.from_host(np.ones(2, np.float16)))
    with pytest.raises(ValueError, match="must be contiguous"):
        group.all_reduce(cpu.from_host(np.ones((4, 4), np.float32)).T)
    group.barrier()


@pytest.fixture
def default_group() -> Iterator[None]:
    dist.init_process_group(backend="mpi")
    yield
    dist.destroy_process_group()


def test_torch_distributed_names(default_group: None) -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized()
    t = at.tensor(_values(rank, np.float32))
    kept = t.array  # an array taken before the write keeps its values
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    every = np.stack([_values(r, np.float32) for r in range(size)])
    np.testing.assert_allclose(t.numpy(), every.mean(0), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(kept), _values(rank, np.float32))
    b = at.full((3,), float(rank))
    dist.broadcast(b, src=0)
    np.testing.assert_array_equal(b.numpy(), np.zeros(3))
    parts = [at.zeros(2, 3) for _ in range(size)]
    dist.all_gather(parts, at.tensor(_values(rank, np.float32)))
    for r, p in enumerate(parts):
        np.testing.assert_array_equal(p.numpy(), _values(r, np.float32))
    dist.barrier()
    with pytest.raises(RuntimeError, match="already initialized"):
        dist.init_process_group()
    with pytest.raises(TypeError, match="op must be a ReduceOp"):
        dist.all_reduce(t, op="sum")  # type: ignore[arg-type]  # the refusal


def test_without_a_group_functions_refuse() -> None:
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="backend must be one of"):
        dist.init_process_group(backend="gloo")


def test_averaged_gradients_equal_one_process_on_the_whole_batch(
    default_group: None,
) -> None:
    """Data parallelism by hand: each rank's gradients of its share of the batch,
    averaged, equal one process's gradients of the whole batch; 20 SGD steps of
    both stay equal (relative 1e-6)."""
    rank, size = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8 * size, 5)).astype(np.float32)
    y = rng.standard_normal((8 * size, 1)).astype(np.float32)

    def params() -> list[at.Tensor]:
        at.manual_seed(1)
        return [at.randn(5, 1, requires_grad=True), at.zeros(1, requires_grad=True)]

    ours, whole = params(), params()
    mine = slice(8 * rank, 8 * (rank + 1))
    for _ in range(20):
        for ps, xb, yb, share in (
            (ours, x[mine], y[mine], True),
            (whole, x, y, False),
        ):
            w, b = ps
            loss = ((at.tensor(xb) @ w + b - at.tensor(yb)) ** 2).mean()
            loss.backward()
            with at.no_grad():
                for p in ps:
                    assert p.grad is not None
                    if share:
                        dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)
                    p.sub_(0.1 * p.grad)
                    p.grad = None
    for p, q in zip(ours, whole, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6)


FAULTS = {
    "raises": "if dist.get_rank() == 1:\n    raise RuntimeError('rank 1 fails')\n",
    "never calls": "if dist.get_rank() == 1:\n    time.sleep(60)\n",
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_stopped_process_stops_the_others(fault: str, tmp_path: Path) -> None:
    """Rank 0 of this run starts a fresh 2-process job whose rank 1 raises, or
    never joins the collective: the job ends within seconds with a clear error,
    never hangs."""
    if MPIGroup().rank != 0:
        return
    script = tmp_path / "job.py"
    script.write_text(
        "import datetime, time\n"
        "import actnet.tensor as at\n"
        "import actnet.tensor.distributed as dist\n"
        "dist.init_process_group('mpi', timeout=datetime.timedelta(seconds=3))\n"
        + FAULTS[fault]
        + "dist.all_reduce(at.ones(4))\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PMI_", "HYDRA", "MPI"))
    }
    bin_dir = Path(sys.executable).parent
    started = time.monotonic()
    job = subprocess.run(
        [str(bin_dir / "mpiexec"), "-n", "2", sys.executable, str(script)],
        check=False, capture_output=True, text=True, timeout=50, env=env,
    )  # fmt: skip
    assert time.monotonic() - started < 40
    assert job.returncode != 0
    expected = "rank 1 fails" if fault == "raises" else "did not complete within 3 s"
    assert expected in job.stdout + job.stderr
