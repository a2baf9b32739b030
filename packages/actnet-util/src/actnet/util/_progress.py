"""What `Trainer.fit` shows (`progress=`): a tqdm bar per epoch with loss, metrics,
throughput and device memory ("bar"), one line per epoch ("epoch": what CI logs
want, no carriage-return spam), or nothing ("none"); "auto" is "bar" when the
output is a terminal, else "epoch"."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, TextIO

from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints

from actnet.util.metrics import Metric

PROGRESS: Final = ("auto", "bar", "epoch", "none")
REFRESH_S: Final = 0.2  # how often the bar's numbers are reformatted
_MIB: Final = 1024.0 * 1024.0
# Epoch logs that the bar and the epoch line show in their own words, or not at all.
_NOT_SHOWN: Final = ("epoch", "step", "time", "samples_per_s", "lr")


def progress_mode(progress: str, file: TextIO | None) -> str:
    """ "bar", "epoch" or "none": `progress` with "auto" resolved (the bar goes to
    `file`, default sys.stderr)."""
    if progress != "auto":
        return progress
    stream = file if file is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return "bar" if isatty is not None and isatty() else "epoch"


def epoch_bar(
    total: int | None, initial: int, epoch: int, epochs: int, file: TextIO | None
) -> Any:
    """The tqdm bar of epoch `epoch` (0-based), `initial` batches already done."""
    return tqdm(
        total=total,
        initial=initial,
        desc=f"epoch {epoch + 1}/{epochs}",
        file=file,
        leave=True,
        dynamic_ncols=True,
        unit="step",
    )


def step_postfix(
    loss: float,
    metrics: Sequence[Metric],
    samples_per_s: float,
    memory_used: int | None,
) -> str:
    """The bar's numbers during an epoch (memory_used None: not logged)."""
    parts = [f"loss={loss:.4f}"]
    for m in metrics:
        parts.append(f"{m.name}={m.compute():.4f}")
    parts.append(f"{samples_per_s:,.0f} samples/s")
    if memory_used is not None:
        parts.append(f"mem={memory_used / _MIB:.1f}MiB")
    return ", ".join(parts)


def epoch_postfix(logs: Mapping[str, Any], memory_used: int | None) -> str:
    """The bar's numbers at the end of an epoch: its totals and validation."""
    parts = [f"{k}={v:.4f}" for k, v in _shown(logs)]
    parts.append(f"{logs['samples_per_s']:,.0f} samples/s")
    if memory_used is not None:
        parts.append(f"mem={memory_used / _MIB:.1f}MiB")
    return ", ".join(parts)


def print_epoch(logs: Mapping[str, Any], epochs: int, file: TextIO | None) -> None:
    """The line of one epoch (to `file`, default sys.stdout)."""
    shown = ", ".join(f"{k} {v:.4f}" for k, v in _shown(logs))
    print(
        f"epoch {logs['epoch']}/{epochs}: {shown}, "
        f"{logs['samples_per_s']:,.0f} samples/s, {logs['time']:.2f} s",
        file=file if file is not None else sys.stdout,
        flush=True,
    )


def _shown(logs: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    return ((k, v) for k, v in logs.items() if k not in _NOT_SHOWN)
