"""The training loop: `Trainer` / `fit`, callbacks, early stopping, checkpoints.

    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), opt,
    ...                   checkpoint_dir="run/checkpoints", checkpoint_every=100)
    >>> history = trainer.fit(train_loader, val_loader, epochs=20, resume=True)
    >>> history["val_accuracy"][-1]
    0.975

Each step: zero the gradients, forward, loss, backward, `optimizer.step()`, then
the bookkeeping (running loss and metrics, device memory, the per-step log, the
progress bar). A batch is a pair (input, target) of Tensors or arrays.

The History gets one row per step ("step", "epoch", "loss", "memory_used",
"memory_peak" in bytes, and "time": seconds from receiving the batch to the end of
its bookkeeping, checkpoint writes excepted) and one per epoch ("epoch", "step",
"loss" (the sample-weighted mean), the metrics, "val_loss" and "val_<metric>"
with a validation loader, "lr", "time", "samples_per_s").

Progress (`progress=`): "bar" draws a tqdm bar per epoch with loss, accuracy,
throughput and device memory; "epoch" prints one line per epoch (what CI logs
want: no carriage-return spam); "none" is silent; "auto" (the default) is "bar"
when stderr is a terminal, else "epoch".

Checkpoints (`checkpoint_dir=`) are written every `checkpoint_every` steps and at
the end of every epoch (see `actnet.util.checkpoint` for the format). They hold the
model, optimizer and scheduler states, the default generator of actnet.device
(seed and counter, which drives dropout and every other draw), the generator state
at the start of the epoch, the data-loader position, the running sums of the
epoch, the metric and callback states and the History. `fit(..., resume=True)`
continues from the newest intact checkpoint so that an interrupted run ends with
exactly the weights of an uninterrupted one. Resuming inside an epoch: a loader
with `state_dict()` / `load_state_dict()` (actnet.util.data.DataLoader) is put back
at its position; any other re-iterable loader is iterated again from the start of
the epoch with the generator as it was then, and the batches already trained on
are skipped.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from pathlib import Path
from typing import Any, Final, TextIO

import numpy as np
from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints

import actnet.tensor as at
from actnet.device import Device, default_generator, get_device
from actnet.nn import Module
from actnet.tensor import Tensor
from actnet.util.checkpoint import CheckpointError, CheckpointManager, load_checkpoint
from actnet.util.history import History
from actnet.util.metrics import Metric, get_metric

__all__ = ["Callback", "EarlyStopping", "Trainer", "fit"]

_PROGRESS: Final = ("auto", "bar", "epoch", "none")
_MIB: Final = 1024.0 * 1024.0
_REFRESH_S: Final = 0.2  # how often the bar's numbers are reformatted

LossFn = Callable[[Any, Any], Tensor]


class Callback:
    """Hooks called by `Trainer.fit`; override the ones you need. `logs` are the
    values of the step or epoch (loss, accuracy, val_loss, ...). A callback with
    state that must survive a resume returns it from `state_dict` (JSON-able values
    and Tensors) and takes it back in `load_state_dict`.

    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, trainer, epoch, logs):
    ...         print(epoch, logs["loss"])
    """

    def on_train_begin(self, trainer: Trainer) -> None:
        """Before the first step (also when resuming)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """After the last epoch, or when training stopped early."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Before epoch `epoch` (0-based) starts (not when resuming inside it)."""

    def on_step_end(self, trainer: Trainer, step: int, logs: Mapping[str, Any]) -> None:
        """After optimizer step `step` (1-based, counted over the whole run)."""

    def on_epoch_end(
        self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]
    ) -> None:
        """After epoch `epoch` (0-based) and its validation, before its checkpoint.
        Set `trainer.stop_training = True` to stop after it."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned."""


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience`
    epochs (Keras' EarlyStopping). `mode` "min", "max", or "auto" (max for names
    containing "acc", else min). `baseline`: the value to beat from the start.
    `restore_best_weights`: load the best epoch's weights when stopping.

    >>> trainer = Trainer(model, loss, opt, callbacks=[EarlyStopping(patience=3)])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
    ) -> None:
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a str, got {type(monitor).__name__}")
        if type(patience) is not int or patience < 0:
            raise ValueError(f"patience must be a non-negative int, got {patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, int | float):
            raise TypeError(f"min_delta must be a number, got {min_delta!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best: float | None = self.baseline
        self.best_epoch: int | None = None
        self.best_weights: dict[str, Tensor] | None = None

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, trainer: Trainer) -> None:
        if trainer.step == 0:
            self._reset()

    def on_epoch_end(
        self, trainer: Trainer, epoch: int, logs: Mapping[str, Any]
    ) -> None:
        value = logs.get(self.monitor)
        if value is None:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, which this run does not "
                f"log; it logs {sorted(logs)}"
            )
        value = float(value)
        if math.isnan(value):
            return
        if self._improved(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = {
                    k: v.detach().clone() for k, v in trainer.model.state_dict().items()
                }
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.wait = int(state["wait"])
        self.stopped_epoch = state["stopped_epoch"]
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.best_weights = state["best_weights"]

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, min_delta={self.min_delta}, "
            f"patience={self.patience}, mode={self.mode!r})"
        )


def _has_state(obj: object) -> bool:
    return callable(getattr(obj, "state_dict", None)) and callable(
        getattr(obj, "load_state_dict", None)
    )


def _batch_size(t: Tensor) -> int:
    return t.shape[0] if t.ndim else 1


def _check_loader(loader: object, name: str) -> None:
    if isinstance(loader, Iterator) or not isinstance(loader, Iterable):
        raise TypeError(
            f"{name} must be a re-iterable of (input, target) batches (a DataLoader "
            f"or a list), got {type(loader).__name__}"
        )


class Trainer:
    """Trains `model` with `loss(model(input), target)` and `optimizer`.

    Arguments:
        model, loss, optimizer: what to train, the loss function (a module such as
            nn.CrossEntropyLoss() or any callable (output, target) -> Tensor), and
            the optimizer over the model's parameters.
        scheduler: an lr scheduler, stepped after every epoch (or every step with
            `scheduler_interval="step"`); with `scheduler_monitor` (say
            "val_loss") it is stepped with that value (ReduceLROnPlateau).
        metrics: names ("accuracy", "top5_accuracy") or Metric instances, computed
            on training batches and on the validation set ("val_" prefix); they
            need class-index targets, so pass metrics=() for regression.
        callbacks: Callback instances, called in order.
        checkpoint_dir, checkpoint_every, keep: where, how often (steps; None: at
            each epoch end only) and how many checkpoints to keep.
        device: the device batches are moved to (default: the model's).
        progress: "auto", "bar", "epoch" or "none" (see the module doc).
        log_memory: log the device's memory in use after every step
            ("memory_used", memory_stats().used_bytes) and its peak within the
            step ("memory_peak"), read from the allocator's counters (O(1)).
        file: where the progress goes (default sys.stderr for the bar, sys.stdout
            for epoch lines).
    """

    def __init__(
        self,
        model: Module,
        loss: LossFn,
        optimizer: Any,
        *,
        scheduler: Any = None,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str | None = None,
        metrics: Sequence[str | Metric] = ("accuracy",),
        callbacks: Sequence[Callback] = (),
        checkpoint_dir: str | os.PathLike[str] | None = None,
        checkpoint_every: int | None = None,
        keep: int | None = 2,
        device: Device | str | None = None,
        progress: str = "auto",
        log_memory: bool = True,
        file: TextIO | None = None,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        if not callable(loss):
            raise TypeError(f"loss must be callable, got {type(loss).__name__}")
        if not callable(getattr(optimizer, "step", None)) or not callable(
            getattr(optimizer, "zero_grad", None)
        ):
            raise TypeError(
                "optimizer must have step() and zero_grad(), got "
                f"{type(optimizer).__name__}"
            )
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                "scheduler_interval must be 'epoch' or 'step', got "
                f"{scheduler_interval!r}"
            )
        if scheduler is not None and not callable(getattr(scheduler, "step", None)):
            raise TypeError(
                f"scheduler must have step(), got {type(scheduler).__name__}"
            )
        if progress not in _PROGRESS:
            raise ValueError(f"progress must be one of {_PROGRESS}, got {progress!r}")
        if checkpoint_every is not None and (
            type(checkpoint_every) is not int or checkpoint_every < 1
        ):
            raise ValueError(
                "checkpoint_every must be a positive int or None, got "
                f"{checkpoint_every!r}"
            )
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be Callback instances, got {type(cb).__name__}"
                )
        self.model = model
        self.loss_fn = loss
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.scheduler_monitor = scheduler_monitor
        self.metrics = [get_metric(m) for m in metrics]
        self.val_metrics = [get_metric(m.name) for m in self.metrics]
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"metrics must have distinct names, got {names}")
        self.callbacks = list(callbacks)
        self.checkpoints = (
            None
            if checkpoint_dir is None
            else CheckpointManager(checkpoint_dir, keep=keep)
        )
        self.checkpoint_every = checkpoint_every
        self.device = self._device(device)
        self.progress = progress
        self.log_memory = log_memory
        self.file = file
        self.history = History()
        self.step = 0  # optimizer steps taken over the whole run
        self.epoch = 0  # the epoch being trained (0-based)
        self.stop_training = False
        self.resumed_from: Path | None = None
        self._batch = 0  # batches of the current epoch done
        self._loss_sum = 0.0  # sum over the epoch of batch loss * batch size
        self._samples = 0
        self._epoch_rng = default_generator.get_state()
        self._restored_loader = False  # load_state_dict put the loader in place

    def _device(self, device: Device | str | None) -> Device:
        if device is not None:
            return get_device(device)
        for p in self.model.parameters():
            return p.device
        return get_device("cpu")

    # ------------------------------------------------------------------ batches
    def _tensor(self, value: Any) -> Tensor:
        if isinstance(value, Tensor):
            return value if value.device is self.device else value.to(self.device)
        return at.as_tensor(np.asarray(value), device=self.device)

    def _split(self, batch: Any) -> tuple[Tensor, Tensor]:
        if not isinstance(batch, Sequence) or len(batch) != 2:
            raise TypeError(
                "each batch must be a pair (input, target), got "
                f"{type(batch).__name__}"
                + (f" of length {len(batch)}" if isinstance(batch, Sequence) else "")
            )
        return self._tensor(batch[0]), self._tensor(batch[1])

    # --------------------------------------------------------------- the step
    def train_step(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """One optimizer step on batch (x, y); returns (output, loss), detached."""
        self.optimizer.zero_grad(set_to_none=True)
        output = self.model(x)
        loss = self.loss_fn(output, y)
        loss.backward()
        self.optimizer.step()
        return output.detach(), loss.detach()

    def evaluate(self, loader: Iterable[Any], prefix: str = "") -> dict[str, float]:
        """Mean loss and the metrics over `loader`, in eval mode and without grad;
        keys prefixed with `prefix` ("val_" during fit)."""
        _check_loader(loader, "loader")
        was_training = self.model.training
        self.model.eval()
        for m in self.val_metrics:
            m.reset()
        loss_sum, samples = 0.0, 0
        try:
            with at.no_grad():
                for batch in loader:
                    x, y = self._split(batch)
                    output = self.model(x)
                    n = _batch_size(y)
                    loss_sum += float(self.loss_fn(output, y)) * n
                    samples += n
                    for m in self.val_metrics:
                        m.update(output, y)
        finally:
            self.model.train(was_training)
        logs = {f"{prefix}loss": loss_sum / samples if samples else math.nan}
        for m in self.val_metrics:
            logs[f"{prefix}{m.name}"] = m.compute()
        return logs

    # --------------------------------------------------------------- fitting
    def fit(
        self,
        train_loader: Iterable[Any],
        val_loader: Iterable[Any] | None = None,
        epochs: int = 1,
        *,
        resume: bool | str | os.PathLike[str] | None = None,
    ) -> History:
        """Train for `epochs` epochs (counted from the start of the run, so a
        resumed run trains only what is left); returns the History.

        resume: None/False starts over; True continues from the newest intact
        checkpoint in checkpoint_dir (starting over when there is none); a path
        continues from that checkpoint (CheckpointError if it is not intact).
        """
        _check_loader(train_loader, "train_loader")
        if val_loader is not None:
            _check_loader(val_loader, "val_loader")
        if type(epochs) is not int or epochs < 0:
            raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
        self._start(resume, train_loader)
        for cb in self.callbacks:
            cb.on_train_begin(self)
        try:
            while self.epoch < epochs and not self.stop_training:
                self._run_epoch(train_loader, val_loader, epochs)
        finally:
            for cb in self.callbacks:
                cb.on_train_end(self)
        return self.history

    def _start(
        self, resume: bool | str | os.PathLike[str] | None, loader: Iterable[Any]
    ) -> None:
        path: Path | None = None
        if resume is True:
            if self.checkpoints is None:
                raise ValueError("resume=True needs a checkpoint_dir")
            path = self.checkpoints.latest()
        elif resume is not None and resume is not False:
            if not isinstance(resume, str | os.PathLike):
                raise TypeError(
                    "resume must be None, a bool or a checkpoint path, got "
                    f"{type(resume).__name__}"
                )
            path = Path(resume)
        if path is None:
            self._reset_run()
            return
        self.load_state_dict(load_checkpoint(path), loader)
        self.resumed_from = path

    def _reset_run(self) -> None:
        self.history = History()
        self.step = 0
        self.epoch = 0
        self.stop_training = False
        self.resumed_from = None
        self._begin_epoch_sums()

    def _begin_epoch_sums(self) -> None:
        self._batch = 0
        self._loss_sum = 0.0
        self._samples = 0
        for m in self.metrics:
            m.reset()

    def _batches(self, loader: Iterable[Any]) -> Iterator[Any]:
        """The epoch's batches still to train on (see "Resuming" in the module
        doc). The generator state after the skip is the checkpoint's."""
        if self._batch == 0 or self._restored_loader:
            return iter(loader)
        resume_rng = default_generator.get_state()
        default_generator.set_state(dict(self._epoch_rng))
        it = iter(loader)
        for i in range(self._batch):
            if next(it, None) is None:
                raise CheckpointError(
                    f"cannot resume at batch {self._batch} of epoch {self.epoch + 1}: "
                    f"the loader gives only {i} batches"
                )
        default_generator.set_state(resume_rng)
        return it

    def _run_epoch(
        self,
        train_loader: Iterable[Any],
        val_loader: Iterable[Any] | None,
        epochs: int,
    ) -> None:
        if self._batch == 0:
            self._begin_epoch_sums()
            self._epoch_rng = default_generator.get_state()
            for cb in self.callbacks:
                cb.on_epoch_begin(self, self.epoch)
        self.model.train()
        batches = self._batches(train_loader)
        self._restored_loader = False
        bar = self._bar(train_loader, epochs)
        log_memory = self.log_memory
        allocator = self.device.allocator
        every = self.checkpoint_every
        started = time.perf_counter()
        epoch_samples = 0
        next_refresh = started + _REFRESH_S
        memory_used = 0
        try:
            for batch in batches:
                t0 = time.perf_counter()
                x, y = self._split(batch)
                if log_memory:
                    allocator.reset_peak()
                output, loss = self.train_step(x, y)
                loss_value = float(loss)
                n = _batch_size(y)
                self._loss_sum += loss_value * n
                self._samples += n
                epoch_samples += n
                for m in self.metrics:
                    m.update(output, y)
                self.step += 1
                self._batch += 1
                if self.scheduler is not None and self.scheduler_interval == "step":
                    self.scheduler.step()
                logs: dict[str, Any] = {
                    "step": self.step,
                    "epoch": self.epoch + 1,
                    "loss": loss_value,
                }
                if log_memory:
                    # the allocator's counters, not memory_stats(): that one also
                    # merges free blocks to find the largest, too slow for every step
                    memory_used = allocator.used_bytes()
                    logs["memory_used"] = memory_used
                    logs["memory_peak"] = allocator.peak_bytes()
                t1 = time.perf_counter()
                logs["time"] = t1 - t0
                self.history.log_step(logs)
                for cb in self.callbacks:
                    cb.on_step_end(self, self.step, logs)
                if bar is not None:
                    bar.update(1)
                    if t1 >= next_refresh:
                        next_refresh = t1 + _REFRESH_S
                        bar.set_postfix_str(
                            self._postfix(epoch_samples / (t1 - started), memory_used),
                            refresh=False,
                        )
                if every is not None and self.step % every == 0:
                    self.save_checkpoint(train_loader)
                if self.stop_training:
                    break
            elapsed = time.perf_counter() - started
            logs = self._end_epoch(
                train_loader, val_loader, epochs, elapsed, epoch_samples
            )
            if bar is not None:
                # the epoch's totals and validation values stay on the bar's line
                bar.set_postfix_str(self._epoch_postfix(logs, memory_used))
        finally:
            if bar is not None:
                bar.close()

    def _end_epoch(
        self,
        train_loader: Iterable[Any],
        val_loader: Iterable[Any] | None,
        epochs: int,
        elapsed: float,
        samples: int,
    ) -> dict[str, Any]:
        logs: dict[str, Any] = {
            "epoch": self.epoch + 1,
            "step": self.step,
            "loss": self._loss_sum / self._samples if self._samples else math.nan,
        }
        for m in self.metrics:
            logs[m.name] = m.compute()
        if val_loader is not None:
            logs.update(self.evaluate(val_loader, prefix="val_"))
        groups = getattr(self.optimizer, "param_groups", None)
        if groups:
            logs["lr"] = float(groups[0]["lr"])
        logs["time"] = elapsed
        logs["samples_per_s"] = samples / elapsed if elapsed > 0 else math.nan
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if self.scheduler_monitor is not None:
                if self.scheduler_monitor not in logs:
                    raise KeyError(
                        f"scheduler_monitor {self.scheduler_monitor!r} is not logged; "
                        f"the epoch logs {sorted(logs)}"
                    )
                self.scheduler.step(logs[self.scheduler_monitor])
            else:
                self.scheduler.step()
        for cb in self.callbacks:
            cb.on_epoch_end(self, self.epoch, logs)
        self.history.log_epoch(logs)
        self._print_epoch(logs, epochs)
        self.epoch += 1
        self._begin_epoch_sums()
        if self.checkpoints is not None:
            self.save_checkpoint(train_loader)
        return logs

    # --------------------------------------------------------------- progress
    def _mode(self) -> str:
        if self.progress != "auto":
            return self.progress
        stream = self.file if self.file is not None else sys.stderr
        isatty = getattr(stream, "isatty", None)
        return "bar" if isatty is not None and isatty() else "epoch"

    def _bar(self, loader: Iterable[Any], epochs: int) -> Any:
        if self._mode() != "bar":
            return None
        total = len(loader) if isinstance(loader, Sized) else None
        return tqdm(
            total=total,
            initial=self._batch,
            desc=f"epoch {self.epoch + 1}/{epochs}",
            file=self.file,
            leave=True,
            dynamic_ncols=True,
            unit="step",
        )

    def _postfix(self, samples_per_s: float, memory_used: int) -> str:
        parts = [f"loss={self._loss_sum / max(self._samples, 1):.4f}"]
        for m in self.metrics:
            parts.append(f"{m.name}={m.compute():.4f}")
        parts.append(f"{samples_per_s:,.0f} samples/s")
        if self.log_memory:
            parts.append(f"mem={memory_used / _MIB:.1f}MiB")
        return ", ".join(parts)

    def _epoch_postfix(self, logs: Mapping[str, Any], memory_used: int) -> str:
        parts = [
            f"{k}={v:.4f}"
            for k, v in logs.items()
            if k not in ("epoch", "step", "time", "samples_per_s", "lr")
        ]
        parts.append(f"{logs['samples_per_s']:,.0f} samples/s")
        if self.log_memory:
            parts.append(f"mem={memory_used / _MIB:.1f}MiB")
        return ", ".join(parts)

    def _print_epoch(self, logs: Mapping[str, Any], epochs: int) -> None:
        if self._mode() != "epoch":
            return
        shown = ", ".join(
            f"{k} {v:.4f}"
            for k, v in logs.items()
            if k not in ("epoch", "step", "time", "samples_per_s", "lr")
        )
        print(
            f"epoch {logs['epoch']}/{epochs}: {shown}, "
            f"{logs['samples_per_s']:,.0f} samples/s, {logs['time']:.2f} s",
            file=self.file if self.file is not None else sys.stdout,
            flush=True,
        )

    # ------------------------------------------------------------ checkpoints
    def state_dict(self, train_loader: Iterable[Any] | None = None) -> dict[str, Any]:
        """Everything a checkpoint holds (see the module doc)."""
        state: dict[str, Any] = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "trainer": {
                "step": self.step,
                "epoch": self.epoch,
                "batch": self._batch,
                "loss_sum": self._loss_sum,
                "samples": self._samples,
                "stop_training": self.stop_training,
                "rng": default_generator.get_state(),
                "epoch_rng": dict(self._epoch_rng),
                "metrics": [m.state_dict() for m in self.metrics],
            },
            "history": self.history.to_dict(),
        }
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        if self.callbacks:
            state["callbacks"] = [cb.state_dict() for cb in self.callbacks]
        if train_loader is not None and _has_state(train_loader):
            state["loader"] = train_loader.state_dict()  # type: ignore[attr-defined]  # checked by _has_state
        return state

    def load_state_dict(
        self, state: Mapping[str, Any], train_loader: Iterable[Any] | None = None
    ) -> None:
        """Restore what `state_dict` returned (the loader's position too, when the
        state has one and the loader takes it)."""
        try:
            trainer = state["trainer"]
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(state["scheduler"])
            if self.callbacks:
                saved = state.get("callbacks", [])
                if len(saved) != len(self.callbacks):
                    raise ValueError(
                        f"the checkpoint has {len(saved)} callback states, this "
                        f"trainer has {len(self.callbacks)} callbacks"
                    )
                for cb, cb_state in zip(self.callbacks, saved, strict=True):
                    cb.load_state_dict(cb_state)
            if len(trainer["metrics"]) != len(self.metrics):
                raise ValueError(
                    f"the checkpoint has {len(trainer['metrics'])} metric states, "
                    f"this trainer has {len(self.metrics)} metrics"
                )
            for m, m_state in zip(self.metrics, trainer["metrics"], strict=True):
                m.load_state_dict(m_state)
            self.history = History.from_dict(state["history"])
            self.step = int(trainer["step"])
            self.epoch = int(trainer["epoch"])
            self._batch = int(trainer["batch"])
            self._loss_sum = float(trainer["loss_sum"])
            self._samples = int(trainer["samples"])
            self.stop_training = bool(trainer["stop_training"])
            self._epoch_rng = dict(trainer["epoch_rng"])
            default_generator.set_state(dict(trainer["rng"]))
        except KeyError as e:
            raise CheckpointError(f"the checkpoint has no entry {e}") from e
        self._restored_loader = False
        if train_loader is not None and "loader" in state and _has_state(train_loader):
            train_loader.load_state_dict(state["loader"])  # type: ignore[attr-defined]  # checked by _has_state
            self._restored_loader = True

    def save_checkpoint(self, train_loader: Iterable[Any] | None = None) -> Path:
        """Write a checkpoint of the current step to checkpoint_dir."""
        if self.checkpoints is None:
            raise ValueError("this Trainer has no checkpoint_dir")
        return self.checkpoints.save(self.step, self.state_dict(train_loader))


def fit(
    model: Module,
    loss: LossFn,
    optimizer: Any,
    train_loader: Iterable[Any],
    val_loader: Iterable[Any] | None = None,
    epochs: int = 1,
    *,
    resume: bool | str | os.PathLike[str] | None = None,
    **trainer_options: Any,
) -> History:
    """`Trainer(model, loss, optimizer, **trainer_options).fit(train_loader,
    val_loader, epochs, resume=resume)`.

    >>> history = fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs=5,
    ...               checkpoint_dir="run/checkpoints")
    """
    trainer = Trainer(model, loss, optimizer, **trainer_options)
    return trainer.fit(train_loader, val_loader, epochs, resume=resume)
