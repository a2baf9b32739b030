"""Trainer / fit: the loop against a NumPy oracle, logs, callbacks, early stopping,
schedulers, progress output, checkpoints and resume."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import actnet.device as ad
import actnet.tensor as at
from actnet import nn
from actnet.util.checkpoint import (
    CheckpointError,
    CheckpointWarning,
    load_checkpoint,
)
from actnet.util.history import History
from actnet.util.trainer import Callback, EarlyStopping, Trainer, fit

LR, MOMENTUM = 0.1, 0.9


def _data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5).astype(np.int64)
    return x, y


def _batches(x: np.ndarray, y: np.ndarray, size: int) -> list[tuple[Any, Any]]:
    return [(x[i : i + size], y[i : i + size]) for i in range(0, len(x), size)]


def _model(seed: int = 0) -> nn.Linear:
    rng = np.random.default_rng(seed)
    model = nn.Linear(4, 3)
    model.load_state_dict(
        {
            "weight": at.tensor(rng.uniform(-0.5, 0.5, (3, 4)).astype(np.float32)),
            "bias": at.tensor(rng.uniform(-0.5, 0.5, 3).astype(np.float32)),
        }
    )
    return model


def _trainer(model: nn.Module, **options: Any) -> Trainer:
    opt = nn.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    options.setdefault("progress", "none")
    return Trainer(model, nn.CrossEntropyLoss(), opt, **options)


def _numpy_fit(
    w: np.ndarray, b: np.ndarray, batches: list[tuple[Any, Any]], epochs: int
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Softmax regression, SGD with torch-style momentum, in float64."""
    w, b = w.astype(np.float64), b.astype(np.float64)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    losses = []
    for _ in range(epochs):
        for x, y in batches:
            z = x.astype(np.float64) @ w.T + b
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            losses.append(float(-np.log(p[np.arange(len(y)), y]).mean()))
            p[np.arange(len(y)), y] -= 1
            p /= len(y)
            vw = MOMENTUM * vw + p.T @ x
            vb = MOMENTUM * vb + p.sum(axis=0)
            w, b = w - LR * vw, b - LR * vb
    return w, b, losses


def test_fit_matches_a_numpy_oracle() -> None:
    x, y = _data()
    batches = _batches(x, y, 8)
    model = _model()
    w0 = model.weight.detach().numpy().copy()
    b0 = model.bias.detach().numpy().copy()
    history = _trainer(model).fit(batches, epochs=3)
    w, b, losses = _numpy_fit(w0, b0, batches, 3)
    np.testing.assert_allclose(model.weight.detach().numpy(), w, atol=1e-5)
    np.testing.assert_allclose(model.bias.detach().numpy(), b, atol=1e-5)
    np.testing.assert_allclose(history.steps["loss"], losses, rtol=1e-5)
    assert history.steps["step"] == list(range(1, 16))
    assert history["epoch"] == [1, 2, 3]
    assert history["step"] == [5, 10, 15]


def test_compiled_fit_matches_the_numpy_oracle_and_eager_fit() -> None:
    x, y = _data(44)  # 5 batches of 8 and a short one of 4 per epoch
    batches = _batches(x, y, 8)
    model = _model()
    w0 = model.weight.detach().numpy().copy()
    b0 = model.bias.detach().numpy().copy()
    trainer = _trainer(model, compile=True)
    history = trainer.fit(batches, epochs=4)
    w, b, losses = _numpy_fit(w0, b0, batches, 4)
    np.testing.assert_allclose(model.weight.detach().numpy(), w, atol=1e-5)
    np.testing.assert_allclose(model.bias.detach().numpy(), b, atol=1e-5)
    np.testing.assert_allclose(history.steps["loss"], losses, rtol=1e-5)
    eager = _model()
    eager_history = _trainer(eager).fit(batches, epochs=4)
    assert history.steps["loss"] == eager_history.steps["loss"]  # bit for bit
    assert np.array_equal(model.weight.detach().numpy(), eager.weight.detach().numpy())
    compiled = trainer._compiled
    assert compiled is not None
    # two signatures (the full and the short batch), each eager once, recorded
    # once, then replayed: 24 steps
    assert compiled.recordings == 2 and compiled.replays == 24 - 2 - 2
    with pytest.raises(TypeError, match="compile must be a bool"):
        _trainer(_model(), compile=1)


def test_accumulated_batches_train_as_one_batch_of_their_size(tmp_path: Path) -> None:
    """k batches of 8, each loss divided by k, step once: as one batch of 8k (the
    oracle: the same data in batches of 8k, without accumulation)."""
    x, y = _data(48)
    small, big = _batches(x, y, 8), _batches(x, y, 16)
    model = _model()
    scheduler_steps: list[int] = []
    opt = nn.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    sched = nn.optim.lr_scheduler.LambdaLR(
        opt, lambda s: scheduler_steps.append(s) or 1.0
    )
    trainer = Trainer(
        model, nn.CrossEntropyLoss(), opt, progress="none", accumulate_grad_batches=2,
        scheduler=sched, scheduler_interval="step", checkpoint_dir=tmp_path,
        checkpoint_every=3,
    )  # fmt: skip
    history = trainer.fit(small, epochs=3)
    oracle = _model()
    _trainer(oracle).fit(big, epochs=3)
    np.testing.assert_allclose(
        model.weight.detach().numpy(), oracle.weight.detach().numpy(), rtol=1e-5
    )
    np.testing.assert_allclose(
        model.bias.detach().numpy(), oracle.bias.detach().numpy(), rtol=1e-5
    )
    assert len(history.steps["loss"]) == 18  # a row per batch
    assert len(scheduler_steps) == 1 + 9  # LambdaLR's first call, then a step a group
    # checkpoint_every=3 falls inside groups of 2: written at the group's end
    steps = sorted(int(p.name.split("-")[1]) for p in tmp_path.iterdir())
    assert all(s % 2 == 0 for s in steps)
    with pytest.raises(ValueError, match="accumulate_grad_batches must be an int"):
        _trainer(_model(), accumulate_grad_batches=0)
    with pytest.raises(ValueError, match="with compile=True is not built"):
        _trainer(_model(), accumulate_grad_batches=2, compile=True)


def test_epoch_logs() -> None:
    x, y = _data(30)
    batches = _batches(x, y, 8)  # sizes 8, 8, 8, 6
    model = _model()
    trainer = _trainer(model, metrics=["accuracy", "top2_accuracy"])
    history = trainer.fit(batches, batches[:2], epochs=2)
    steps = np.array(history.steps["loss"], dtype=np.float64).reshape(2, 4)
    sizes = np.array([8, 8, 8, 6])
    expected = (steps * sizes).sum(axis=1) / 30
    np.testing.assert_allclose(history["loss"], expected, rtol=1e-12)
    assert history["lr"] == [LR, LR]
    for name in ("accuracy", "top2_accuracy", "val_loss", "val_accuracy"):
        assert len(history[name]) == 2
    val = trainer.evaluate(batches[:2])
    assert history["val_loss"][-1] == pytest.approx(val["loss"])
    assert history["val_top2_accuracy"][-1] == val["top2_accuracy"]
    # evaluate agrees with NumPy
    with at.no_grad():
        logits = model(at.tensor(np.concatenate([x[:8], x[8:16]]))).numpy()
    pred = logits.argmax(axis=1)
    assert val["accuracy"] == pytest.approx((pred == y[:16]).mean())
    mem = history.steps["memory_used"]
    assert all(isinstance(v, int) and v > 0 for v in mem)
    peaks = history.steps["memory_peak"]
    assert all(p >= u for p, u in zip(peaks, mem, strict=True))  # type: ignore[operator]  # ints


def test_callbacks_are_called_in_order() -> None:
    events: list[tuple[Any, ...]] = []

    class Recorder(Callback):
        def on_train_begin(self, trainer: Trainer) -> None:
            events.append(("train_begin",))

        def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
            events.append(("epoch_begin", epoch))

        def on_step_end(
            self, trainer: Trainer, step: int, logs: Mapping[str, Any]
        ) -> None:
            events.append(("step", step, round(logs["loss"], 3) > 0))

        def on_epoch_end(
            self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]
        ) -> None:
            events.append(("epoch_end", epoch, "val_loss" in logs))

        def on_train_end(self, trainer: Trainer) -> None:
            events.append(("train_end",))

    x, y = _data(16)
    batches = _batches(x, y, 8)
    _trainer(_model(), callbacks=[Recorder()]).fit(batches, batches, epochs=2)
    assert events == [
        ("train_begin",),
        ("epoch_begin", 0),
        ("step", 1, True),
        ("step", 2, True),
        ("epoch_end", 0, True),
        ("epoch_begin", 1),
        ("step", 3, True),
        ("step", 4, True),
        ("epoch_end", 1, True),
        ("train_end",),
    ]


class _FakeTrainer:
    def __init__(self) -> None:
        self.model = _model()
        self.stop_training = False
        self.step = 0


def test_early_stopping_rule() -> None:
    stop = EarlyStopping(monitor="val_loss", patience=2, min_delta=0.1)
    t = _FakeTrainer()
    stop.on_train_begin(t)  # type: ignore[arg-type]  # a stand-in trainer
    for epoch, value in enumerate([1.0, 0.95, 0.85, 0.8, 0.79]):
        stop.on_epoch_end(t, epoch, {"val_loss": value})  # type: ignore[arg-type]
        # 0.95 and 0.85 are no improvement by more than 0.1 over 1.0 ... until 0.85
        if t.stop_training:
            break
    assert stop.best == 0.85
    assert stop.best_epoch == 2
    assert stop.stopped_epoch == 4
    acc = EarlyStopping(monitor="val_accuracy", patience=0)
    assert acc.mode == "max"
    t2 = _FakeTrainer()
    acc.on_epoch_end(t2, 0, {"val_accuracy": 0.5})  # type: ignore[arg-type]
    acc.on_epoch_end(t2, 1, {"val_accuracy": 0.5})  # type: ignore[arg-type]
    assert t2.stop_training
    with pytest.raises(KeyError, match="val_loss"):
        EarlyStopping().on_epoch_end(t2, 0, {"loss": 1.0})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")


def test_early_stopping_in_fit_and_restore_best_weights() -> None:
    x, y = _data(16)
    batches = _batches(x, y, 8)
    model = _model()
    opt = nn.optim.SGD(model.parameters(), lr=0.0)
    stop = EarlyStopping(monitor="loss", patience=1)
    trainer = Trainer(
        model, nn.CrossEntropyLoss(), opt, callbacks=[stop], progress="none"
    )
    history = trainer.fit(batches, epochs=10)
    # lr 0: the loss never improves after epoch 0, so epoch 1 stops the run
    assert len(history) == 2
    assert stop.stopped_epoch == 1
    assert trainer.stop_training
    # restore_best_weights: the weights of the best epoch come back at the stop
    t = _FakeTrainer()
    best = {k: v.numpy().copy() for k, v in t.model.state_dict().items()}
    keep = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    keep.on_epoch_end(t, 0, {"loss": 1.0})  # type: ignore[arg-type]
    with at.no_grad():
        t.model.weight.fill_(5.0)
    keep.on_epoch_end(t, 1, {"loss": 2.0})  # type: ignore[arg-type]
    assert t.stop_training
    for k, v in t.model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), best[k])


class _HalvingScheduler:
    """lr halves at every step() call; a scheduler with state."""

    def __init__(self, optimizer: Any) -> None:
        self.optimizer = optimizer
        self.calls = 0
        self.seen: list[Any] = []

    def step(self, metric: Any = None) -> None:
        self.calls += 1
        self.seen.append(metric)
        for g in self.optimizer.param_groups:
            g["lr"] = g["lr"] / 2

    def state_dict(self) -> dict[str, Any]:
        return {"calls": self.calls}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.calls = state["calls"]


@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_scheduler(interval: str) -> None:
    x, y = _data(16)
    batches = _batches(x, y, 8)
    model = _model()
    opt = nn.optim.SGD(model.parameters(), lr=0.8)
    sched = _HalvingScheduler(opt)
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        opt,
        scheduler=sched,
        scheduler_interval=interval,
        progress="none",
    )
    history = trainer.fit(batches, epochs=3)
    if interval == "epoch":
        assert history["lr"] == [0.8, 0.4, 0.2]
        assert sched.calls == 3
    else:
        assert history["lr"] == [0.2, 0.05, 0.0125]
        assert sched.calls == 6


def test_scheduler_monitor() -> None:
    x, y = _data(16)
    batches = _batches(x, y, 8)
    model = _model()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    sched = _HalvingScheduler(opt)
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        opt,
        scheduler=sched,
        scheduler_monitor="val_loss",
        progress="none",
    )
    history = trainer.fit(batches, batches, epochs=2)
    assert sched.seen == history["val_loss"]
    bad = Trainer(
        model,
        nn.CrossEntropyLoss(),
        opt,
        scheduler=sched,
        scheduler_monitor="val_loss",
        progress="none",
    )
    with pytest.raises(KeyError, match="val_loss"):
        bad.fit(batches, epochs=1)


def test_progress_modes() -> None:
    x, y = _data(16)
    batches = _batches(x, y, 8)
    out = io.StringIO()
    _trainer(_model(), progress="epoch", file=out).fit(batches, batches, epochs=2)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2: loss ")
    assert "val_accuracy" in lines[1]
    assert "samples/s" in lines[1]
    auto = io.StringIO()  # not a terminal: one line per epoch
    _trainer(_model(), progress="auto", file=auto).fit(batches, epochs=1)
    assert auto.getvalue().count("\n") == 1
    bar = io.StringIO()
    _trainer(_model(), progress="bar", file=bar).fit(batches, batches, epochs=1)
    text = bar.getvalue()
    assert "epoch 1/1" in text
    assert "2/2" in text
    assert "loss=" in text
    assert "val_accuracy=" in text  # the epoch's values end on the bar's line
    assert "samples/s" in text
    assert "mem=" in text
    silent = io.StringIO()
    _trainer(_model(), progress="none", file=silent).fit(batches, epochs=1)
    assert silent.getvalue() == ""


def test_resume_in_process_is_bitwise(tmp_path: Path) -> None:
    x, y = _data()
    batches = _batches(x, y, 8)
    ad.manual_seed(7)
    straight = _model()
    full = _trainer(straight).fit(batches, batches, epochs=4)
    ad.manual_seed(7)
    first = _model()
    _trainer(first, checkpoint_dir=tmp_path, checkpoint_every=3).fit(
        batches, batches, epochs=2
    )
    second = _model(seed=99)  # other weights: the checkpoint must replace them
    trainer = _trainer(second, checkpoint_dir=tmp_path)
    history = trainer.fit(batches, batches, epochs=4, resume=True)
    assert trainer.resumed_from == tmp_path / "step-000010"
    for name, value in straight.state_dict().items():
        assert np.array_equal(second.state_dict()[name].numpy(), value.numpy())
    assert history["loss"] == full["loss"]
    assert history["val_accuracy"] == full["val_accuracy"]
    assert history.steps["loss"] == full.steps["loss"]
    # a finished run resumes to nothing more
    again = _trainer(_model(), checkpoint_dir=tmp_path)
    assert len(again.fit(batches, epochs=4, resume=True)) == 4
    assert again.step == 20


def test_resume_falls_back_past_a_corrupted_checkpoint(tmp_path: Path) -> None:
    x, y = _data(16)
    batches = _batches(x, y, 8)
    _trainer(_model(), checkpoint_dir=tmp_path, keep=3).fit(batches, epochs=3)
    newest = tmp_path / "step-000006"
    (newest / "optimizer.safetensors").write_bytes(b"\0" * 10)
    with pytest.raises(CheckpointError, match="step-000006"):
        _trainer(_model(), checkpoint_dir=tmp_path).fit(
            batches, epochs=3, resume=newest
        )
    trainer = _trainer(_model(), checkpoint_dir=tmp_path)
    with pytest.warns(CheckpointWarning, match="step-000006"):
        trainer.fit(batches, epochs=3, resume=True)
    assert trainer.resumed_from == tmp_path / "step-000004"
    assert trainer.step == 6
    assert load_checkpoint(newest)["trainer"]["step"] == 6  # rewritten, intact


def test_resume_without_checkpoints_starts_over(tmp_path: Path) -> None:
    x, y = _data(16)
    trainer = _trainer(_model(), checkpoint_dir=tmp_path)
    trainer.fit(_batches(x, y, 8), epochs=1, resume=True)
    assert trainer.resumed_from is None
    assert trainer.step == 2
    assert [p.name for p in tmp_path.iterdir()] == ["step-000002"]


def test_fit_function() -> None:
    x, y = _data(16)
    model = _model()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    history = fit(
        model, nn.CrossEntropyLoss(), opt, _batches(x, y, 8), epochs=2, progress="none"
    )
    assert isinstance(history, History)
    assert len(history) == 2
    assert not math.isnan(history["loss"][-1])  # type: ignore[arg-type]  # a float


def test_bad_arguments() -> None:
    model = _model()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss()
    with pytest.raises(TypeError, match="model"):
        Trainer(object(), loss, opt)  # type: ignore[arg-type]  # bad input
    with pytest.raises(TypeError, match="loss"):
        Trainer(model, 3, opt)  # type: ignore[arg-type]  # bad input
    with pytest.raises(TypeError, match="optimizer"):
        Trainer(model, loss, object())
    with pytest.raises(ValueError, match="progress"):
        Trainer(model, loss, opt, progress="loud")
    with pytest.raises(ValueError, match="checkpoint_every"):
        Trainer(model, loss, opt, checkpoint_every=0)
    with pytest.raises(TypeError, match="callbacks"):
        Trainer(model, loss, opt, callbacks=[print])  # type: ignore[list-item]
    trainer = Trainer(model, loss, opt, progress="none")
    with pytest.raises(TypeError, match="train_loader"):
        trainer.fit(iter([]), epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        trainer.fit([], epochs=-1)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        trainer.fit([], epochs=1, resume=True)
    with pytest.raises(TypeError, match="pair"):
        trainer.fit([(np.zeros((2, 4), np.float32),)], epochs=1)


def test_resume_with_adamw_steplr_and_dropout_is_bitwise(tmp_path: Path) -> None:
    """Optimizer moments and its 0-d step counters, the scheduler and the dropout
    generator all come back from the checkpoint."""
    x, y = _data()
    batches = _batches(x, y, 8)

    def make(seed: int) -> tuple[nn.Module, Any, Any]:
        ad.manual_seed(seed)
        model = nn.Sequential(
            nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)
        )
        opt = nn.optim.AdamW(model.parameters(), lr=0.01)
        sched = nn.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return model, opt, sched

    def trainer(parts: tuple[nn.Module, Any, Any], **options: Any) -> Trainer:
        model, opt, sched = parts
        return Trainer(
            model,
            nn.CrossEntropyLoss(),
            opt,
            scheduler=sched,
            progress="none",
            **options,
        )

    straight = make(0)
    ad.manual_seed(3)
    full = trainer(straight).fit(batches, batches, epochs=5)
    first = make(0)
    ad.manual_seed(3)
    trainer(first, checkpoint_dir=tmp_path, checkpoint_every=3).fit(
        batches, batches, epochs=2
    )
    resumed = make(1)  # other weights and generator state: the checkpoint's win
    history = trainer(resumed, checkpoint_dir=tmp_path).fit(
        batches, batches, epochs=5, resume=True
    )
    assert history["lr"] == full["lr"] == [0.01, 0.01, 0.005, 0.005, 0.0025]
    assert history.steps["loss"] == full.steps["loss"]
    for name, value in straight[0].state_dict().items():
        assert np.array_equal(resumed[0].state_dict()[name].numpy(), value.numpy())
