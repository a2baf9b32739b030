"""Callbacks of `Trainer.fit`: `Callback` (the hooks to override) and
`EarlyStopping`.

    >>> trainer = Trainer(model, loss, opt, callbacks=[EarlyStopping(patience=3)])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from actnet.tensor import Tensor

# The hooks are called with the Trainer; trainer.py imports this module, not the
# other way round, so the name is imported for the annotations only.
if TYPE_CHECKING:
    from actnet.util.trainer import Trainer

__all__ = ["Callback", "EarlyStopping"]


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
