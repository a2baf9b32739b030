"""The `actnet` command: help, the digits demo, resume and --fresh, and
`python -m actnet.util`. Needs scikit-learn (the `demo` extra)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

from actnet.util.cli import main
from actnet.util.demos.digits import EpochBatches, initial_state, load_digits_data

ACCURACY_LINE = re.compile(r"^test accuracy: (\d+\.\d\d)%$", re.MULTILINE)


@pytest.mark.parametrize(
    "argv", [["--help"], ["demo", "--help"], ["demo", "digits", "--help"]]
)
def test_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: actnet")
    if argv[-2:] == ["digits", "--help"]:
        for option in ("--epochs", "--out", "--fresh"):
            assert option in out


@pytest.mark.parametrize(
    "argv",
    [[], ["demo"], ["demo", "mnist"], ["demo", "digits", "--epochs", "0"]],
)
def test_bad_command_lines(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert "usage: actnet" in capsys.readouterr().err


def test_data_and_weights_are_the_peers() -> None:
    x_train, y_train, x_test, _ = load_digits_data()
    assert x_train.shape == (1437, 64)
    assert x_test.shape == (360, 64)
    assert x_train.dtype == np.float32
    # StandardScaler fitted on the train split: train columns are standardised
    used = x_train.std(axis=0) > 0
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=0)[used], 1, atol=1e-4)
    state = initial_state()
    assert state["0.weight"].shape == (256, 64)
    assert np.abs(state["0.weight"]).max() <= 1 / 8
    # the first number the peer draws: rng.uniform(-1/8, 1/8) of default_rng(0)
    first = np.random.default_rng(0).uniform(-1 / 8, 1 / 8)
    assert state["0.weight"][0, 0] == np.float32(first)
    loader = EpochBatches(x_train, y_train)
    assert len(loader) == 22
    rng = np.random.default_rng(0)
    for epoch in range(3):
        perm = rng.permutation(1437)[: 22 * 64].reshape(22, 64)
        np.testing.assert_array_equal(loader.order(epoch), perm)


def test_epoch_batches_resume_position() -> None:
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    a = EpochBatches(x, y, batch_size=3, seed=1)
    assert a.state_dict() == {"epoch": 0, "batch": 0}
    first_epoch = [b[1].numpy().tolist() for b in a]
    assert len(first_epoch) == 3
    assert a.state_dict() == {"epoch": 1, "batch": 0}
    it = iter(a)
    second_start = [next(it)[1].numpy().tolist() for _ in range(2)]
    state = a.state_dict()
    assert state == {"epoch": 1, "batch": 2}
    rest = [b[1].numpy().tolist() for b in it]
    b = EpochBatches(x, y, batch_size=3, seed=1)
    b.load_state_dict(state)
    assert [t[1].numpy().tolist() for t in b] == rest
    assert second_start + rest != first_epoch  # epochs are shuffled anew
    with pytest.raises(ValueError, match="batch"):
        b.load_state_dict({"epoch": 0, "batch": 3})


def test_digits_demo_one_epoch_then_resume_then_fresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["demo", "digits", "--epochs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "training from scratch" in text
    match = ACCURACY_LINE.search(text)
    assert match is not None, text
    assert float(match.group(1)) > 85.0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "accuracy.png",
        "checkpoints",
        "history.json",
        "loss.png",
        "memory.png",
        "model.safetensors",
    ]
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step-000022"]
    history = json.loads((out / "history.json").read_text())
    assert len(history["epochs"]["loss"]) == 1
    assert len(history["steps"]["loss"]) == 22
    weights = safetensors.numpy.load_file(str(out / "model.safetensors"))
    assert weights["0.weight"].shape == (256, 64)
    assert weights["4.weight"].shape == (10, 256)

    # same --out: resumes and trains epoch 2 only
    assert main(["demo", "digits", "--epochs", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "resuming from checkpoint" in text
    assert "step-000022" in text
    history = json.loads((out / "history.json").read_text())
    assert len(history["steps"]["loss"]) == 44
    resumed = safetensors.numpy.load_file(str(out / "model.safetensors"))

    # --fresh starts over; two epochs from scratch give the same weights
    assert main(["demo", "digits", "--epochs", "2", "--fresh", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "training from scratch" in text
    fresh = safetensors.numpy.load_file(str(out / "model.safetensors"))
    for name, value in fresh.items():
        assert np.array_equal(value, resumed[name]), name


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "actnet.util",
            "demo",
            "digits",
            "--epochs",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # not a terminal: no progress bar, one line per epoch
    assert "\r" not in done.stdout + done.stderr
    assert "epoch 1/1: loss" in done.stdout
    assert ACCURACY_LINE.search(done.stdout) is not None
    assert (tmp_path / "model.safetensors").is_file()
