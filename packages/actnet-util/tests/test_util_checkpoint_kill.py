"""Crash safety end to end: a training process killed with SIGKILL at a random
step, resumed, ends with exactly the weights of an uninterrupted run.

The step is drawn at random, seeded per test run (set ACTNET_KILL_SEED to replay
one); it is printed, and named in the assertion message.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

WORKER = Path(__file__).with_name("util_train_worker.py")
STEPS = 24  # 4 epochs of 6 batches (see the worker)
# a loader without state_dict (the epoch is replayed) and actnet's DataLoader (put
# back at its position); the demo's EpochBatches is checked in test_util_cli.py
LOADERS = ("plain", "dataloader")
SEED = int(os.environ.get("ACTNET_KILL_SEED", time.time_ns() % 2**32))


def _run(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WORKER), str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _weights(out: Path) -> dict[str, np.ndarray]:
    with np.load(out / "final.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The uninterrupted runs, one per loader kind."""
    out = {}
    for loader in LOADERS:
        d = tmp_path_factory.mktemp(f"ref-{loader}")
        done = _run(d, "--loader", loader)
        assert done.returncode == 0, done.stderr
        out[loader] = _weights(d)
    return out


@pytest.mark.parametrize("loader", LOADERS)
def test_sigkill_then_resume_is_bitwise_identical(
    tmp_path: Path, reference: dict[str, dict], loader: str
) -> None:
    kill_at = random.Random(f"{SEED}-{loader}").randint(1, STEPS - 1)
    print(f"ACTNET_KILL_SEED={SEED}: killing the {loader} run at step {kill_at}")
    killed = _run(tmp_path, "--loader", loader, "--kill-at", str(kill_at))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "final.npz").exists()
    resumed = _run(tmp_path, "--loader", loader, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "done: step 24" in resumed.stdout
    final = _weights(tmp_path)
    assert final.keys() == reference[loader].keys()
    for name, value in reference[loader].items():
        assert np.array_equal(final[name], value), (
            f"{name} differs after a kill at step {kill_at} (ACTNET_KILL_SEED={SEED})"
        )


def test_kill_before_the_first_checkpoint_restarts(
    tmp_path: Path, reference: dict[str, dict]
) -> None:
    killed = _run(tmp_path, "--loader", "plain", "--kill-at", "2")
    assert killed.returncode == -signal.SIGKILL
    resumed = _run(tmp_path, "--loader", "plain", "--resume")
    assert "resumed from None" in resumed.stdout
    for name, value in reference["plain"].items():
        assert np.array_equal(_weights(tmp_path)[name], value)
