"""History: columns, JSON round trip, validation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from actnet.util.history import History


def test_columns_fill_missing_with_none() -> None:
    h = History()
    h.log_epoch({"loss": 0.9, "accuracy": 0.7})
    h.log_epoch({"loss": 0.5, "val_loss": 0.6})
    assert h["loss"] == [0.9, 0.5]
    assert h["val_loss"] == [None, 0.6]
    assert h["accuracy"] == [0.7, None]
    assert len(h) == 2
    assert h.num_epochs == 2
    assert "loss" in h
    assert "nope" not in h
    with pytest.raises(KeyError, match="nope"):
        h["nope"]


def test_last_and_best() -> None:
    h = History()
    for v in (0.5, math.nan, 0.2, 0.4):
        h.log_epoch({"val_loss": v})
    h.log_epoch({"loss": 1.0})
    assert h.last("val_loss") == 0.4
    assert h.best("val_loss") == 0.2
    assert h.best("val_loss", "max") == 0.5
    assert h.best("missing") is None
    with pytest.raises(ValueError, match="mode"):
        h.best("val_loss", "median")


def test_numbers_are_converted_and_validated() -> None:
    h = History()
    h.log_step({"step": np.int64(3), "loss": np.float32(0.25)})
    assert h.steps["loss"] == [0.25]
    assert type(h.steps["loss"][0]) is float
    with pytest.raises(TypeError, match="number"):
        h.log_step({"loss": "high"})
    with pytest.raises(TypeError, match="number"):
        h.log_step({"flag": True})
    with pytest.raises(TypeError, match="mapping"):
        h.log_epoch([("loss", 1.0)])  # type: ignore[arg-type]  # the bad input


def test_json_round_trip(tmp_path: Path) -> None:
    h = History()
    h.log_epoch({"loss": 0.1 + 0.2, "epoch": 1})
    h.log_epoch({"loss": math.inf, "epoch": 2, "val_loss": math.nan})
    h.log_step({"step": 1, "loss": 1 / 3})
    path = h.save(tmp_path / "history.json")
    data = json.loads(path.read_text())
    assert data["format"] == "actnet-history"
    assert data["epochs"]["loss"][0] == 0.1 + 0.2  # floats written exactly
    back = History.load(path)
    assert back.epochs["loss"][:2] == [0.1 + 0.2, math.inf]
    assert back.steps == h.steps
    assert math.isnan(back.epochs["val_loss"][1])  # type: ignore[arg-type]  # a float
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_malformed_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "h.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not an actnet history"):
        History.load(bad)
    doc = History().to_dict()
    doc["epochs"] = {"a": [1.0], "b": [1.0, 2.0]}
    bad.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="differ in length"):
        History.load(bad)
    doc["epochs"] = {"a": ["x"]}
    bad.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="list of numbers"):
        History.load(bad)
    doc["version"] = 99
    bad.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="version"):
        History.load(bad)
