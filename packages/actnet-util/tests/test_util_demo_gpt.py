"""The gpt demo: its command line, a short run through `actnet.util.cli.main`
into a temporary folder, `actnet generate` on what it wrote, and resume after an
interruption (in-process) and after SIGKILL (in a subprocess, with a tiny
GPTConfig through the Python API), ending with the weights of an uninterrupted
run."""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy

from actnet.util.checkpoint import CheckpointError
from actnet.util.cli import main
from actnet.util.demos import GPTConfig, GPTResult, run_gpt
from actnet.util.demos.gpt import (
    MIN_LR_FACTOR,
    load_text,
    prepare_data,
    warmup_cosine,
)
from actnet.util.text import pydoc_topics

WORKER = Path(__file__).with_name("util_gpt_worker.py")
SEED = int(os.environ.get("ACTNET_KILL_SEED", time.time_ns() % 2**32))
VAL_LINE = re.compile(
    r"^validation loss (\d+\.\d\d) nats/token, (\d+\.\d\d) bits/byte$", re.MULTILINE
)
TINY = GPTConfig(vocab_size=280, context=16, d_model=16, n_layers=1, n_heads=2)
TINY_TEXT = pydoc_topics()[:6000]


@pytest.fixture(scope="module")
def small_text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text") / "small.txt"
    path.write_text(pydoc_topics()[:20000], encoding="utf-8")
    return path


# ----------------------------------------------------------------- the command
@pytest.mark.parametrize(
    ("argv", "options"),
    [
        (
            ["demo", "gpt", "--help"],
            ("--text", "--steps", "--out", "--fresh", "--memory-budget"),
        ),
        (
            ["generate", "--help"],
            ("--model", "--prompt", "--max-new-tokens", "--top-k", "--top-p"),
        ),
    ],
)
def test_help(
    argv: list[str], options: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for option in (*options, "--progress" if argv[0] == "demo" else "--seed"):
        assert option in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "gpt", "--steps", "0"], "--steps"),
        (["demo", "gpt", "--text", "/no/such/file.txt"], "--text"),
        (["demo", "gpt", "--memory-budget", "1.5"], "--memory-budget"),
        (["demo", "gpt", "--memory-budget", "0"], "--memory-budget"),
        (["demo", "gpt", "--no-compile", "--memory-budget", "0.5"], "--memory-budget"),
        (["generate"], "--model"),
        (["generate", "--model", "/no/such/dir"], "--model"),
        (["generate", "--model", ".", "--top-p", "1.5"], "--top-p"),
        (["generate", "--model", ".", "--temperature", "-1"], "--temperature"),
        (["generate", "--model", ".", "--top-k", "-2"], "--top-k"),
    ],
)
def test_bad_command_lines(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_text_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café crème".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.txt is not UTF-8"):
        load_text(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_text(tmp_path / "missing.txt")
    with pytest.raises(SystemExit):
        main(["demo", "gpt", "--text", str(bad), "--out", str(tmp_path / "run")])
    assert "not UTF-8" in capsys.readouterr().err
    short = tmp_path / "short.txt"
    short.write_text("a few words", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["demo", "gpt", "--text", str(short), "--out", str(tmp_path / "run")])
    assert "--text: text: it makes" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_progress_bar_shows_loss_tokens_and_memory(tmp_path: Path) -> None:
    stream = io.StringIO()
    _tiny_run(tmp_path, steps=3, progress="bar", file=stream)
    shown = stream.getvalue()
    assert "gpt: 100%" in shown
    assert "3/3" in shown
    for part in ("loss=", "tokens/s", "mem="):
        assert part in shown, shown


def test_demo_then_generate(
    tmp_path: Path, small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI with the issue's model (d_model 256, 4 layers), two steps."""
    out = tmp_path / "gpt"
    argv = ["demo", "gpt", "--text", str(small_text), "--steps", "2"]
    argv += ["--eval-every", "1", "--out", str(out), "--progress", "epoch"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "training from scratch" in text
    assert "step 1/2: loss" in text
    assert "tokens/s" in text
    match = VAL_LINE.search(text)
    assert match is not None, text
    assert 0 < float(match.group(1)) < math.log(512) + 0.5
    assert "sample:\nThe" in text
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "checkpoints",
        "config.json",
        "history.json",
        "loss.png",
        "memory.png",
        "model.safetensors",
        "tokenizer.json",
    ]
    config = json.loads((out / "config.json").read_text())
    assert config == {
        "vocab_size": 512,
        "context": 128,
        "d_model": 256,
        "n_layers": 4,
        "n_heads": 4,
    }
    weights = safetensors.numpy.load_file(str(out / "model.safetensors"))
    assert weights["blocks.3.qkv.weight"].shape == (768, 256)
    assert weights["head.weight"].shape == (512, 256)
    history = json.loads((out / "history.json").read_text())
    assert history["epochs"]["step"] == [1, 2]
    assert len(history["steps"]["memory_used"]) == 2

    generate = ["generate", "--model", str(out), "--max-new-tokens", "6"]
    assert main([*generate, "--seed", "3"]) == 0
    first = capsys.readouterr()
    assert "6 tokens in" in first.err
    assert main([*generate, "--seed", "3", "--no-cache"]) == 0
    assert capsys.readouterr().out == first.out  # the same tokens without the cache
    assert main([*generate, "--seed", "3", "--top-k", "0", "--top-p", "0.9"]) == 0
    assert capsys.readouterr().out != ""
    assert main([*generate, "--temperature", "0", "--prompt", "x"]) == 0
    greedy = capsys.readouterr().out
    assert main([*generate, "--temperature", "0", "--prompt", "x", "--seed", "9"]) == 0
    assert capsys.readouterr().out == greedy  # greedy ignores the seed


# ------------------------------------------------------------ the Python API
def test_schedule_and_data() -> None:
    factors = [warmup_cosine(s, warmup=4, total=20) for s in range(21)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0]
    assert factors[4] == 1.0
    assert all(a >= b for a, b in itertools.pairwise(factors[4:]))
    assert factors[20] == pytest.approx(MIN_LR_FACTOR)
    data = prepare_data(TINY_TEXT, 280, 16)
    assert data.bpe.vocab_size == 280
    assert len(data.train) + len(data.val) == len(data.bpe.encode(TINY_TEXT))
    assert data.val_bytes == len(data.bpe.decode_bytes(data.val))
    with pytest.raises(ValueError, match="text: it makes"):
        prepare_data("too short", 280, 16)
    with pytest.raises(TypeError, match="text must be a str"):
        prepare_data(b"bytes", 280, 16)  # type: ignore[arg-type]  # the error case


def _tiny_run(out: Path, steps: int = 12, **options: Any) -> GPTResult:
    settings: dict[str, Any] = {
        "text": TINY_TEXT,
        "progress": "none",
        "eval_every": 3,
        "config": TINY,
        "batch_size": 4,
        "sample_tokens": 5,
    }
    return run_gpt(steps, out, **(settings | options))


class Interrupted(Exception):
    pass


def _interrupt_at(at_step: int) -> Callable[[int, float], None]:
    def on_step(step: int, loss: float) -> None:
        if step == at_step:
            raise Interrupted

    return on_step


def _weights(out: Path) -> dict[str, np.ndarray]:
    return safetensors.numpy.load_file(str(out / "model.safetensors"))


def test_interrupted_run_resumes_to_the_same_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = _tiny_run(tmp_path / "ref")
    expected = _weights(tmp_path / "ref")
    out = tmp_path / "run"
    with pytest.raises(Interrupted):
        _tiny_run(out, on_step=_interrupt_at(8))  # after the checkpoint of step 6
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "step-000003",
        "step-000006",
    ]
    capsys.readouterr()
    resumed = _tiny_run(out)
    assert "resuming from checkpoint" in capsys.readouterr().out
    assert resumed.resumed_from == out / "checkpoints" / "step-000006"
    assert resumed.history.epochs["step"] == [3, 6, 9, 12]
    assert len(resumed.history.steps["loss"]) == 12
    for name, value in expected.items():
        assert np.array_equal(_weights(out)[name], value), name
    assert resumed.val_loss == reference.val_loss
    assert resumed.sample == reference.sample
    # --fresh starts over, and gets there again
    again = _tiny_run(out, fresh=True)
    assert again.resumed_from is None
    for name, value in expected.items():
        assert np.array_equal(_weights(out)[name], value), name


def test_captured_steps_train_the_same_weights_as_eager_ones(tmp_path: Path) -> None:
    compiled = _tiny_run(tmp_path / "compiled", steps=9)  # compile=True, the default
    eager = _tiny_run(tmp_path / "eager", steps=9, compile=False)
    assert compiled.history.steps["loss"] == eager.history.steps["loss"]
    for name, value in _weights(tmp_path / "eager").items():
        assert np.array_equal(_weights(tmp_path / "compiled")[name], value), name
    assert compiled.sample == eager.sample


def test_a_memory_budget_trains_the_same_weights(tmp_path: Path) -> None:
    """A memory budget: saved tensors recomputed in backward, the same losses and
    weights as the unconstrained captured steps. (0.8: the tiny model's
    backward temporaries are most of its plan; the peer-sized model reaches
    0.5, see benchmarks/bench_compile.py.)"""
    free = _tiny_run(tmp_path / "free", steps=9)
    held = _tiny_run(tmp_path / "held", steps=9, memory_budget=0.8)
    assert held.history.steps["loss"] == free.history.steps["loss"]
    for name, value in _weights(tmp_path / "free").items():
        assert np.array_equal(_weights(tmp_path / "held")[name], value), name
    with pytest.raises(ValueError, match="needs compile=True"):
        _tiny_run(tmp_path / "eager", steps=3, compile=False, memory_budget=0.5)


def test_resume_refuses_another_run(tmp_path: Path) -> None:
    _tiny_run(tmp_path, steps=3)
    with pytest.raises(CheckpointError, match="belongs to another run"):
        run_gpt(
            6,
            tmp_path,
            text=TINY_TEXT[:5000],
            progress="none",
            eval_every=3,
            config=TINY,
            batch_size=4,
        )


def test_bits_per_byte_is_nats_per_token_over_bytes_per_token(tmp_path: Path) -> None:
    result = _tiny_run(tmp_path, steps=3)
    data = prepare_data(TINY_TEXT, TINY.vocab_size, TINY.context)
    expected = result.val_loss * len(data.val) / data.val_bytes / math.log(2)
    assert result.bits_per_byte == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"eval_every": 0}, "eval_every"),
        ({"batch_size": -1}, "batch_size"),
        ({"progress": "loud"}, "progress"),
    ],
)
def test_bad_arguments(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _tiny_run(tmp_path, **options)
    with pytest.raises(ValueError, match="steps"):
        run_gpt(0, tmp_path)


# ----------------------------------------------------------------- SIGKILL
def _run_worker(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WORKER), str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sigkill_then_resume_is_bitwise_identical(tmp_path: Path) -> None:
    reference = tmp_path / "ref"
    done = _run_worker(reference)
    assert done.returncode == 0, done.stderr
    kill_at = random.Random(SEED).randint(1, 11)  # the worker runs 12 steps
    print(f"ACTNET_KILL_SEED={SEED}: killing the gpt run at step {kill_at}")
    out = tmp_path / "run"
    killed = _run_worker(out, "--kill-at", str(kill_at))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (out / "model.safetensors").exists()
    resumed = _run_worker(out)
    assert resumed.returncode == 0, resumed.stderr
    if kill_at > 3:  # the first checkpoint is at step 3
        assert "resumed from " + str(out / "checkpoints") in resumed.stdout
    for name, value in _weights(reference).items():
        assert np.array_equal(_weights(out)[name], value), (
            f"{name} differs after a kill at step {kill_at} (ACTNET_KILL_SEED={SEED})"
        )
