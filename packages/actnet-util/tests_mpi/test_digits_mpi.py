"""Data-parallel training with actnet-util under `mpiexec -n 2` (the nox session
`distributed`). `mpiexec -n 2 actnet demo digits`: both ranks
run the demo's command; rank 0 says it runs on 2 processes and writes the outputs
alone; the weights equal (to rounding: the gradients of two half batches averaged
against those of the whole batch) one process's, which rank 0 trains afterwards
with the process group gone; and a checkpoint of the 2-process run resumes in one
process."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

import actnet.tensor as at
import actnet.tensor.distributed as dist
from actnet import nn
from actnet.nn.parallel import DistributedDataParallel
from actnet.util import Trainer
from actnet.util.cli import main
from actnet.util.demos.digits import run_digits


def _weights(out: Path) -> dict[str, np.ndarray]:
    return safetensors.numpy.load_file(str(out / "model.safetensors"))


def test_the_demo_on_two_processes(capsys: pytest.CaptureFixture[str]) -> None:
    shared = Path(tempfile.gettempdir()) / f"actnet-mpi-digits-{os.getppid()}"
    out = shared / "two"
    assert main(["demo", "digits", "--epochs", "2", "--out", str(out),
                 "--progress", "none", "--fresh"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    rank, size = dist.get_rank(), dist.get_world_size()
    assert size == 2
    dist.barrier()  # rank 0 has written everything
    dist.destroy_process_group()
    if rank != 0:
        assert printed == ""  # one rank speaks
        return
    assert printed.startswith("running on 2 processes (MPI)")
    assert "test accuracy:" in printed
    os.environ.pop("PMI_SIZE", None)  # one process from now on
    os.environ.pop("OMPI_COMM_WORLD_SIZE", None)
    try:
        single = run_digits(epochs=2, out=shared / "one", progress="none")
        assert single.processes == 1
        for name, value in _weights(shared / "one").items():
            np.testing.assert_allclose(_weights(out)[name], value, atol=1e-6)
        resumed = run_digits(epochs=3, out=out, progress="none")  # 2 -> 1 process
        assert resumed.resumed_from is not None
        reference = run_digits(epochs=3, out=shared / "one", progress="none")
        assert abs(resumed.test_accuracy - reference.test_accuracy) < 1e-9
        for name, value in _weights(shared / "one").items():
            np.testing.assert_allclose(_weights(out)[name], value, atol=1e-6)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_accumulation_under_ddp_is_one_big_batch() -> None:
    """2 processes x 2 accumulated batches of 4 rows = one process on 16 rows."""
    dist.init_process_group("mpi")
    try:
        rank, size = dist.get_rank(), dist.get_world_size()
        rng = np.random.default_rng(0)
        x = rng.standard_normal((64, 4)).astype(np.float32)
        y = rng.integers(0, 3, 64)

        def model() -> nn.Module:
            at.manual_seed(0)
            return nn.Linear(4, 3)

        ddp = DistributedDataParallel(model())
        ours = [
            (x[i : i + 8 * size][rank::size], y[i : i + 8 * size][rank::size])
            for i in range(0, 64, 8 * size)
        ]  # batches of 4 rows a process, 2 of them a group
        ours = [(bx[j : j + 4], by[j : j + 4]) for bx, by in ours for j in (0, 4)]
        opt = nn.optim.SGD(ddp.parameters(), lr=0.1)
        Trainer(ddp, nn.CrossEntropyLoss(), opt, progress="none",
                accumulate_grad_batches=2).fit(ours, epochs=2)  # fmt: skip
        single = model()
        big = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
        opt1 = nn.optim.SGD(single.parameters(), lr=0.1)
        Trainer(single, nn.CrossEntropyLoss(), opt1, progress="none").fit(big, epochs=2)
        for p, q in zip(ddp.module.parameters(), single.parameters(), strict=True):
            np.testing.assert_allclose(
                p.detach().numpy(), q.detach().numpy(), rtol=1e-5
            )
    finally:
        dist.destroy_process_group()
