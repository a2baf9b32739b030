"""What a checkpoint of a training run holds, and resuming from one: the part of
`Trainer` that saves and restores its state.

A checkpoint holds the model, optimizer and scheduler states, the default generator
of actnet.device (seed and counter, which drives dropout and every other draw), the
generator state at the start of the epoch, the data-loader position, the running
sums of the epoch, the metric and callback states and the History, so that a
resumed run ends with exactly the weights of an uninterrupted one.

Resuming inside an epoch: a loader with `state_dict()` / `load_state_dict()`
(actnet.util.data.DataLoader) is put back at its position; any other re-iterable
loader is iterated again from the start of the epoch with the generator as it was
then, and the batches already trained on are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import actnet.tensor.distributed as dist
from actnet.device import default_generator
from actnet.nn import Module
from actnet.nn.parallel import DistributedDataParallel
from actnet.util.callbacks import Callback
from actnet.util.checkpoint import CheckpointError, CheckpointManager, load_checkpoint
from actnet.util.history import History
from actnet.util.metrics import Metric


class TrainerState:
    """Trainer's `state_dict`, `load_state_dict` and `save_checkpoint`, and the
    start of `fit`: from scratch, or from a checkpoint."""

    model: Module
    optimizer: Any
    scheduler: Any
    metrics: list[Metric]
    callbacks: list[Callback]
    checkpoints: CheckpointManager | None
    history: History
    step: int  # optimizer steps taken over the whole run
    epoch: int  # the epoch being trained (0-based)
    stop_training: bool
    resumed_from: Path | None
    _batch: int  # batches of the current epoch done
    _loss_sum: float  # sum over the epoch of batch loss * batch size
    _samples: int
    _epoch_rng: dict[str, Any]  # the generator's state at the epoch's start
    _restored_loader: bool  # load_state_dict put the loader in place

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
        """The epoch's batches still to train on (see "Resuming inside an epoch"
        in the module doc). The generator state after the skip is the checkpoint's."""
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

    # ------------------------------------------------------------ checkpoints
    def state_dict(self, train_loader: Iterable[Any] | None = None) -> dict[str, Any]:
        """Everything a checkpoint holds (see the module doc)."""
        state: dict[str, Any] = {
            "model": _unwrapped(self.model).state_dict(),
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
            _unwrapped(self.model).load_state_dict(state["model"])
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
        """Write a checkpoint of the current step to checkpoint_dir. In a
        distributed run (actnet.tensor.distributed), rank 0 writes it and every
        rank waits until it is written."""
        if self.checkpoints is None:
            raise ValueError("this Trainer has no checkpoint_dir")
        if not dist.is_initialized():
            return self.checkpoints.save(self.step, self.state_dict(train_loader))
        path = self.checkpoints.path_for(self.step)
        if dist.get_rank() == 0:
            path = self.checkpoints.save(self.step, self.state_dict(train_loader))
        dist.barrier()
        return path


def _unwrapped(model: Module) -> Module:
    """The model a checkpoint holds: a DistributedDataParallel's inner module, so
    that a run resumes on any number of processes."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def _has_state(obj: object) -> bool:
    return callable(getattr(obj, "state_dict", None)) and callable(
        getattr(obj, "load_state_dict", None)
    )
