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

Progress (`progress=`): a tqdm bar per epoch, one line per epoch, or nothing
(see `_progress.py`). Callbacks (`Callback`, `EarlyStopping`) are in
`actnet.util.callbacks`.

Checkpoints (`checkpoint_dir=`) are written every `checkpoint_every` steps and at
the end of every epoch (see `actnet.util.checkpoint` for the format); they hold
all the state of the run (see `_trainer_state.py`). `fit(..., resume=True)`
continues from the newest intact checkpoint so that an interrupted run ends with
exactly the weights of an uninterrupted one, also when it stopped inside an epoch.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import actnet.tensor as at
import actnet.tensor.distributed as dist
from actnet.device import Device, default_generator, get_device
from actnet.nn import Module
from actnet.nn.parallel import DistributedDataParallel
from actnet.tensor import Tensor
from actnet.util._progress import (
    PROGRESS,
    REFRESH_S,
    epoch_bar,
    epoch_postfix,
    print_epoch,
    progress_mode,
    step_postfix,
)
from actnet.util._trainer_state import TrainerState
from actnet.util.callbacks import Callback, EarlyStopping
from actnet.util.checkpoint import CheckpointManager
from actnet.util.history import History
from actnet.util.memory_timeline import record_memory_timeline
from actnet.util.metrics import Metric, get_metric

__all__ = ["Callback", "EarlyStopping", "Trainer", "fit"]


LossFn = Callable[[Any, Any], Tensor]


def _batch_size(t: Tensor) -> int:
    return t.shape[0] if t.ndim else 1


def _check_loader(loader: object, name: str) -> None:
    if isinstance(loader, Iterator) or not isinstance(loader, Iterable):
        raise TypeError(
            f"{name} must be a re-iterable of (input, target) batches (a DataLoader "
            f"or a list), got {type(loader).__name__}"
        )


class Trainer(TrainerState):
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
        accumulate_grad_batches: step the optimizer once every k batches (and at
            the end of an epoch), each batch's loss divided by k, so k batches of
            n train as one of k * n; a DistributedDataParallel model syncs only on
            the group's last batch (no_sync before). A checkpoint due inside a
            group is written at its end.
        compile: run the steps as a captured step (actnet.tensor.compile): for
            each batch shape, the first step eager, the second recorded, then
            replayed (the same results, without Python dispatch). The memory
            log then also counts the recording's planned range.
        memory_timeline, memory_timeline_step: a directory where the memory
            timeline of step `memory_timeline_step` of the run (default 1, which
            also shows the optimizer's state being made; 2 is a step as every
            later one runs) is written, as memory_timeline.png and
            memory_timeline.json (see actnet.util.memory_timeline; that step
            runs several times slower while it is recorded). With a
            distributed model, rank 0 records it.
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
        compile: bool = False,  # torch.compile's word, as an option
        accumulate_grad_batches: int = 1,
        memory_timeline: str | os.PathLike[str] | None = None,
        memory_timeline_step: int = 1,
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
        if progress not in PROGRESS:
            raise ValueError(f"progress must be one of {PROGRESS}, got {progress!r}")
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
        if type(compile) is not bool:
            raise TypeError(f"compile must be a bool, got {type(compile).__name__}")
        k = accumulate_grad_batches
        if type(k) is not int or k < 1:
            raise ValueError(f"accumulate_grad_batches must be an int >= 1, got {k!r}")
        if k > 1 and compile:
            raise ValueError(
                "accumulate_grad_batches > 1 with compile=True is not built: a "
                "captured step steps the optimizer every batch; use compile=False"
            )
        self.accumulate_grad_batches = k
        if type(memory_timeline_step) is not int or memory_timeline_step < 1:
            raise ValueError(
                "memory_timeline_step must be an int >= 1, got "
                f"{memory_timeline_step!r}"
            )
        self.memory_timeline = (
            None if memory_timeline is None else Path(memory_timeline)
        )
        self.memory_timeline_step = memory_timeline_step
        self._accumulated = 0  # batches whose gradients wait for the optimizer
        self._checkpoint_due = False  # checkpoint_every fell inside a group
        # The captured step (actnet.tensor.compile): the model's mode is an
        # argument, so train and eval steps are recorded apart.
        self._compiled = at.compile(self._step) if compile else None

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
        """One optimizer step on batch (x, y); returns (output, loss), detached.
        With `compile=True`, a replay of the recorded step from the third batch
        of each shape on (see actnet.tensor.compile)."""
        if self._compiled is not None:
            return self._compiled(x, y, self.model.training)
        return self._step(x, y, self.model.training)

    def _accumulate(
        self, x: Tensor, y: Tensor, epoch_batches: int | None
    ) -> tuple[Tensor, Tensor, bool]:
        """One batch of a group of accumulate_grad_batches: (output, loss, whether
        the optimizer stepped)."""
        k = self.accumulate_grad_batches
        first = self._accumulated == 0
        last = self._accumulated == k - 1 or (
            epoch_batches is not None and self._batch + 1 == epoch_batches
        )
        if first:
            self.optimizer.zero_grad(set_to_none=True)
        sync = last or not isinstance(self.model, DistributedDataParallel)
        with contextlib.nullcontext() if sync else self.model.no_sync():
            output = self.model(x)
            loss = self.loss_fn(output, y)
            (loss / k).backward()
        self._accumulated += 1
        if last:
            self.optimizer.step()
            self._accumulated = 0
        return output.detach(), loss.detach(), last

    def _train_batch(
        self, x: Tensor, y: Tensor, epoch_batches: int | None
    ) -> tuple[Tensor, Tensor, bool]:
        """One batch: (output, loss, whether the optimizer stepped)."""
        if self.accumulate_grad_batches > 1:
            return self._accumulate(x, y, epoch_batches)
        output, loss = self.train_step(x, y)
        return output, loss, True

    def _record_batch(
        self, x: Tensor, y: Tensor, epoch_batches: int | None
    ) -> tuple[Tensor, Tensor, bool]:
        """`_train_batch`, its memory timeline written to `memory_timeline`."""
        folder = self.memory_timeline
        if folder is None or (dist.is_initialized() and dist.get_rank() != 0):
            return self._train_batch(x, y, epoch_batches)
        with record_memory_timeline(self.device) as rec:
            result = self._train_batch(x, y, epoch_batches)
        assert rec.timeline is not None  # set as the block ended
        folder.mkdir(parents=True, exist_ok=True)
        rec.timeline.to_json(folder / "memory_timeline.json")
        rec.timeline.plot(folder / "memory_timeline.png")
        return result

    def _step(self, x: Tensor, y: Tensor, training: bool) -> tuple[Tensor, Tensor]:
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
        if dist.is_initialized() and dist.get_rank() != 0:
            self.progress = "none"  # one rank shows the progress (rank 0)
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
        epoch_batches = len(train_loader) if isinstance(train_loader, Sized) else None
        started = time.perf_counter()
        epoch_samples = 0
        next_refresh = started + REFRESH_S
        memory_used = 0
        try:
            for batch in batches:
                t0 = time.perf_counter()
                x, y = self._split(batch)
                if log_memory:
                    allocator.reset_peak()
                if (
                    self.step + 1 == self.memory_timeline_step
                    and self.memory_timeline is not None
                ):
                    output, loss, stepped = self._record_batch(x, y, epoch_batches)
                else:
                    output, loss, stepped = self._train_batch(x, y, epoch_batches)
                loss_value = float(loss)
                n = _batch_size(y)
                self._loss_sum += loss_value * n
                self._samples += n
                epoch_samples += n
                for m in self.metrics:
                    m.update(output, y)
                self.step += 1
                self._batch += 1
                if (
                    stepped
                    and self.scheduler is not None
                    and self.scheduler_interval == "step"
                ):
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
                        next_refresh = t1 + REFRESH_S
                        bar.set_postfix_str(
                            step_postfix(
                                self._loss_sum / max(self._samples, 1),
                                self.metrics,
                                epoch_samples / (t1 - started),
                                memory_used if log_memory else None,
                            ),
                            refresh=False,
                        )
                if every is not None and self.step % every == 0:
                    self._checkpoint_due = True
                if self._checkpoint_due and not self._accumulated:
                    self._checkpoint_due = False
                    self.save_checkpoint(train_loader)
                if self.stop_training:
                    break
            if self._accumulated:  # an epoch's last, partial group
                self.optimizer.step()
                self._accumulated = 0
            elapsed = time.perf_counter() - started
            logs = self._end_epoch(
                train_loader, val_loader, epochs, elapsed, epoch_samples
            )
            if bar is not None:
                # the epoch's totals and validation values stay on the bar's line
                bar.set_postfix_str(
                    epoch_postfix(logs, memory_used if log_memory else None)
                )
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
        loss_sum, samples_seen = self._loss_sum, self._samples
        if dist.is_initialized():  # the epoch's loss over every rank's share
            totals = at.tensor([loss_sum, float(samples_seen)], dtype=at.float64)
            dist.all_reduce(totals)
            loss_sum, samples_seen = float(totals[0]), int(totals[1])
        logs: dict[str, Any] = {
            "epoch": self.epoch + 1,
            "step": self.step,
            "loss": loss_sum / samples_seen if samples_seen else math.nan,
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
        if progress_mode(self.progress, self.file) == "epoch":
            print_epoch(logs, epochs, self.file)
        self.epoch += 1
        self._begin_epoch_sums()
        if self.checkpoints is not None:
            self.save_checkpoint(train_loader)
        return logs

    # --------------------------------------------------------------- progress
    def _bar(self, loader: Iterable[Any], epochs: int) -> Any:
        """The epoch's tqdm bar, or None when progress is not "bar"."""
        if progress_mode(self.progress, self.file) != "bar":
            return None
        total = len(loader) if isinstance(loader, Sized) else None
        return epoch_bar(total, self._batch, self.epoch, epochs, self.file)


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
