"""History: what a training run logged, per epoch and per step, saved as JSON.

Both logs are columns (name -> list of values, one per row, None where a row
did not log that name), so `history["val_loss"]` is the curve to plot, as in
Keras' `History.history`.

    >>> h = History()
    >>> h.log_epoch({"loss": 0.9, "accuracy": 0.7})
    >>> h.log_epoch({"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6})
    >>> h["val_loss"]
    [None, 0.6]
    >>> h.save("history.json"); History.load("history.json") == h
    True

The JSON file: {"format": "actnet-history", "version": 1, "epochs": {name: [...]},
"steps": {name: [...]}}. NaN and infinities are written as JSON's NaN/Infinity
extension (what Python's json module reads back).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from actnet.nn.utils import write_atomic

__all__ = ["History"]

_FORMAT: Final = "actnet-history"
_VERSION: Final = 1
Value = float | int | None


def _check_row(values: Mapping[str, Any], what: str) -> dict[str, Value]:
    if not isinstance(values, Mapping):
        raise TypeError(f"{what} values must be a mapping, got {type(values).__name__}")
    row: dict[str, Value] = {}
    for name, value in values.items():
        if not isinstance(name, str):
            raise TypeError(f"{what} names must be str, got {name!r}")
        if value is None or isinstance(value, bool):
            raise TypeError(f"{what} value {name!r} must be a number, got {value!r}")
        if isinstance(value, int):
            row[name] = value
            continue
        try:
            row[name] = float(value)
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"{what} value {name!r} must be a number, got {type(value).__name__}"
            ) from e
    return row


def _append(columns: dict[str, list[Value]], rows: int, row: dict[str, Value]) -> None:
    for name in row:
        if name not in columns:
            columns[name] = [None] * rows
    for name, column in columns.items():
        column.append(row.get(name))


def _check_columns(value: Any, what: str) -> dict[str, list[Value]]:
    if not isinstance(value, dict):
        # the file's content is wrong, not an argument's type
        raise ValueError(f"history: {what} must be a dict of lists")  # noqa: TRY004
    lengths = set()
    out: dict[str, list[Value]] = {}
    for name, column in value.items():
        if not isinstance(column, list) or not all(
            v is None or (isinstance(v, int | float) and not isinstance(v, bool))
            for v in column
        ):
            raise ValueError(f"history: {what}[{name!r}] must be a list of numbers")
        lengths.add(len(column))
        out[name] = list(column)
    if len(lengths) > 1:
        raise ValueError(f"history: the columns of {what} differ in length")
    return out


class History:
    """Per-epoch and per-step logs of a training run."""

    def __init__(self) -> None:
        self.epochs: dict[str, list[Value]] = {}
        self.steps: dict[str, list[Value]] = {}
        self._epoch_rows = 0
        self._step_rows = 0

    # ----------------------------------------------------------------- logging
    def log_epoch(self, values: Mapping[str, Any]) -> None:
        """Append one epoch's values (loss, accuracy, val_loss, lr, ...)."""
        _append(self.epochs, self._epoch_rows, _check_row(values, "epoch"))
        self._epoch_rows += 1

    def log_step(self, values: Mapping[str, Any]) -> None:
        """Append one step's values (loss, time, memory, ...)."""
        _append(self.steps, self._step_rows, _check_row(values, "step"))
        self._step_rows += 1

    @property
    def num_epochs(self) -> int:
        return self._epoch_rows

    @property
    def num_steps(self) -> int:
        return self._step_rows

    def __len__(self) -> int:
        return self._epoch_rows

    def __getitem__(self, name: str) -> list[Value]:
        """The per-epoch column `name`."""
        try:
            return self.epochs[name]
        except KeyError:
            raise KeyError(
                f"no epoch value {name!r} in this history; it has {sorted(self.epochs)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.epochs

    def last(self, name: str) -> Value:
        """The latest non-None per-epoch value of `name` (None when there is none)."""
        for value in reversed(self.epochs.get(name, [])):
            if value is not None:
                return value
        return None

    def best(self, name: str, mode: str = "min") -> Value:
        """The smallest (mode "min") or largest ("max") per-epoch value of `name`,
        NaN ignored."""
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        values = [
            v for v in self.epochs.get(name, []) if v is not None and not math.isnan(v)
        ]
        if not values:
            return None
        return min(values) if mode == "min" else max(values)

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "epochs": {k: list(v) for k, v in self.epochs.items()},
            "steps": {k: list(v) for k, v in self.steps.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ValueError("not an actnet history (its 'format' is missing or wrong)")
        if data.get("version") != _VERSION:
            raise ValueError(
                f"history version {data.get('version')!r}; this actnet reads "
                f"version {_VERSION}"
            )
        h = cls()
        h.epochs = _check_columns(data.get("epochs"), "epochs")
        h.steps = _check_columns(data.get("steps"), "steps")
        h._epoch_rows = len(next(iter(h.epochs.values()), []))
        h._step_rows = len(next(iter(h.steps.values()), []))
        return h

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the history as JSON, atomically (see `write_atomic`)."""
        target = Path(path)
        write_atomic(target, json.dumps(self.to_dict(), indent=1).encode())
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> History:
        with open(path, "rb") as f:
            return cls.from_dict(json.load(f))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"History(epochs={self._epoch_rows}, steps={self._step_rows}, "
            f"names={sorted(self.epochs)})"
        )
