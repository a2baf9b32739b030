"""PNG plots of a training History: loss curves, accuracy curves, memory in use.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, so no global
backend switch and no window), written atomically. What each plot reads from the
History (the names `Trainer` logs):

- loss.png: per-step "loss" against "step", and the per-epoch "loss" and
  "val_loss" at the step where each epoch ended (epoch column "step").
- accuracy.png: every per-epoch column whose name ends in "accuracy", by epoch.
- memory.png: per-step "memory_used" and "memory_peak" (bytes, drawn in MiB).

    >>> save_plots(history, "runs/digits")      # the files it wrote
    [PosixPath('runs/digits/loss.png'), PosixPath('runs/digits/accuracy.png'), ...]
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from actnet.nn.utils import write_atomic
from actnet.util.history import History, Value

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_accuracy", "plot_loss", "plot_memory", "save_plots"]

_MIB = 1024.0 * 1024.0


def _figure(ncols: int = 1) -> tuple[Figure, list[Axes]]:
    # matplotlib is imported here, on first use, because importing it costs about
    # half a second and most users of actnet.util (data loading, checkpoints) never
    # draw; this is not about an import cycle.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4 * ncols, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _write(fig: Figure, path: str | os.PathLike[str]) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    target = Path(path)
    write_atomic(target, buffer.getvalue())
    return target


def _points(
    xs: Sequence[Value], ys: Sequence[Value]
) -> tuple[list[float], list[float]]:
    """The (x, y) pairs where both are numbers (None and NaN dropped)."""
    px, py = [], []
    for x, y in zip(xs, ys, strict=True):
        if x is None or y is None or math.isnan(y):
            continue
        px.append(float(x))
        py.append(float(y))
    return px, py


def _log_scale_if_positive(ax: Axes, *series: list[float]) -> None:
    values = [v for s in series for v in s]
    if values and min(values) > 0:
        ax.set_yscale("log")


def plot_loss(history: History, path: str | os.PathLike[str]) -> Path:
    """Training loss per step, and train/validation loss per epoch, by step."""
    fig, (ax,) = _figure()
    drawn: list[list[float]] = []
    steps = history.steps
    if "loss" in steps:
        xs = steps.get("step") or list(range(1, history.num_steps + 1))
        x, y = _points(xs, steps["loss"])
        ax.plot(x, y, color="tab:blue", alpha=0.35, linewidth=0.8, label="step loss")
        drawn.append(y)
    epochs = history.epochs
    at_step = epochs.get("step") or list(range(1, history.num_epochs + 1))
    for name, color in (("loss", "tab:blue"), ("val_loss", "tab:orange")):
        if name in epochs:
            x, y = _points(at_step, epochs[name])
            label = "train loss (epoch)" if name == "loss" else "validation loss"
            ax.plot(x, y, "o-", color=color, markersize=3, label=label)
            drawn.append(y)
    _log_scale_if_positive(ax, *drawn)
    ax.set_xlabel("step" if "step" in epochs or "step" in steps else "epoch")
    ax.set_ylabel("loss")
    ax.set_title("loss")
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend()
    return _write(fig, path)


def plot_accuracy(history: History, path: str | os.PathLike[str]) -> Path:
    """Every per-epoch "...accuracy" column, in percent, by epoch."""
    fig, (ax,) = _figure()
    epochs = history.epochs
    xs = epochs.get("epoch") or list(range(1, history.num_epochs + 1))
    names = [name for name in epochs if name.endswith("accuracy")]
    for name in names:
        x, y = _points(xs, epochs[name])
        ax.plot(x, [100.0 * v for v in y], "o-", markersize=3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("accuracy")
    ax.grid(True, alpha=0.3)
    if names:
        ax.legend()
    return _write(fig, path)


def plot_memory(history: History, path: str | os.PathLike[str]) -> Path:
    """Device memory in use after each step, and the peak within it, in MiB."""
    fig, (ax,) = _figure()
    steps = history.steps
    xs: Sequence[Value] = steps.get("step") or list(range(1, history.num_steps + 1))
    shown = False
    for name, label in (
        ("memory_peak", "peak within the step"),
        ("memory_used", "in use after the step"),
    ):
        if name in steps:
            x, y = _points(xs, steps[name])
            ax.plot(x, [v / _MIB for v in y], linewidth=1.0, label=label)
            shown = True
    ax.set_xlabel("step")
    ax.set_ylabel("device memory (MiB)")
    ax.set_title("memory")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if shown:
        ax.legend()
    return _write(fig, path)


def save_plots(history: History, directory: str | os.PathLike[str]) -> list[Path]:
    """loss.png, accuracy.png and memory.png in `directory`, each when the history
    has something to draw in it; returns the paths written."""
    if not isinstance(history, History):
        raise TypeError(f"history must be a History, got {type(history).__name__}")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if "loss" in history.steps or "loss" in history.epochs:
        written.append(plot_loss(history, folder / "loss.png"))
    if any(name.endswith("accuracy") for name in history.epochs):
        written.append(plot_accuracy(history, folder / "accuracy.png"))
    if "memory_used" in history.steps or "memory_peak" in history.steps:
        written.append(plot_memory(history, folder / "memory.png"))
    return written
