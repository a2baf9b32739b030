"""`mpiexec -n 2 actnet demo digits` (the nox session `distributed`): both ranks
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

import actnet.tensor.distributed as dist
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
