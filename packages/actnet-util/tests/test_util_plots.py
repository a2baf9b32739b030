"""PNG plots of a History: files written, valid PNGs, of the expected content."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from actnet.util.history import History
from actnet.util.plots import plot_accuracy, plot_loss, plot_memory, save_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _history() -> History:
    h = History()
    step = 0
    for epoch in range(1, 4):
        for _ in range(5):
            step += 1
            h.log_step(
                {
                    "step": step,
                    "loss": 2.0 / step,
                    "memory_used": 1024 * 1024 * (1 + step % 2),
                    "memory_peak": 3 * 1024 * 1024,
                }
            )
        h.log_epoch(
            {
                "epoch": epoch,
                "step": step,
                "loss": 1.0 / epoch,
                "accuracy": 0.5 + 0.1 * epoch,
                "val_loss": 1.5 / epoch,
                "val_accuracy": 0.4 + 0.1 * epoch,
            }
        )
    return h


def test_save_plots_writes_three_pngs(tmp_path: Path) -> None:
    paths = save_plots(_history(), tmp_path / "out")
    assert [p.name for p in paths] == ["loss.png", "accuracy.png", "memory.png"]
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        image = matplotlib.image.imread(p)
        assert image.shape[0] > 100
        assert image.shape[1] > 100
        # something is drawn: not a single colour
        assert np.unique(image.reshape(-1, image.shape[-1]), axis=0).shape[0] > 10
    assert sorted(x.name for x in (tmp_path / "out").iterdir()) == [
        "accuracy.png",
        "loss.png",
        "memory.png",
    ]


def test_only_what_the_history_has(tmp_path: Path) -> None:
    h = History()
    h.log_epoch({"loss": 1.0})
    assert [p.name for p in save_plots(h, tmp_path)] == ["loss.png"]
    assert save_plots(History(), tmp_path / "empty") == []


def test_single_plots_and_nan_values(tmp_path: Path) -> None:
    h = _history()
    h.log_step({"step": 16, "loss": float("nan"), "memory_used": 0})
    for fn, name in ((plot_loss, "l.png"), (plot_accuracy, "a.png")):
        assert fn(h, tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)
    assert plot_memory(h, tmp_path / "m.png").stat().st_size > 1000


def test_history_type_checked(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="History"):
        save_plots({"loss": [1.0]}, tmp_path)  # type: ignore[arg-type]  # bad input
