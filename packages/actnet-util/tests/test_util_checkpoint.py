"""Checkpoint files: round trip, atomic writes, corruption refused, the manager."""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

import actnet.tensor as at
from actnet.util.checkpoint import (
    MANIFEST,
    CheckpointError,
    CheckpointManager,
    CheckpointWarning,
    load_checkpoint,
    save_checkpoint,
    verify_checkpoint,
    write_atomic,
)


def _state(scale: float = 1.0) -> dict[str, object]:
    w = np.arange(6, dtype=np.float32).reshape(2, 3) * scale
    return {
        "model": {"fc.weight": at.tensor(w), "fc.bias": at.tensor([0.5, -1.5])},
        "optimizer": {
            "state": {0: {"momentum_buffer": at.tensor(w * 2)}, 1: {}},
            "param_groups": [{"lr": 0.1, "params": [0, 1], "nesterov": False}],
        },
        "trainer": {
            "step": 7,
            "rng": {"seed": 3, "counter": 2**40 + 1},
            "pair": (1, "a", None),
            "loss_sum": 0.1 + 0.2,
            "indices": np.array([3, 1, 2], np.int64),
        },
    }


def test_round_trip_is_exact(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "ck", _state())
    back = load_checkpoint(path)
    model = back["model"]
    np.testing.assert_array_equal(
        model["fc.weight"].numpy(), np.arange(6, dtype=np.float32).reshape(2, 3)
    )
    assert model["fc.weight"].dtype == np.float32
    opt = back["optimizer"]
    assert set(opt["state"]) == {0, 1}  # int keys come back as ints
    np.testing.assert_array_equal(
        opt["state"][0]["momentum_buffer"].numpy(),
        2 * np.arange(6, dtype=np.float32).reshape(2, 3),
    )
    assert opt["param_groups"] == [{"lr": 0.1, "params": [0, 1], "nesterov": False}]
    trainer = back["trainer"]
    assert trainer["pair"] == (1, "a", None)
    assert trainer["loss_sum"] == 0.1 + 0.2
    assert trainer["rng"] == {"seed": 3, "counter": 2**40 + 1}
    np.testing.assert_array_equal(trainer["indices"], [3, 1, 2])


def test_layout_and_model_file_is_plain_safetensors(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "ck", _state())
    names = sorted(p.name for p in path.iterdir())
    assert names == [
        MANIFEST,
        "model.safetensors",
        "optimizer.safetensors",
        "state.json",
        "trainer.safetensors",
    ]
    tensors = safetensors.numpy.load_file(str(path / "model.safetensors"))
    assert sorted(tensors) == ["fc.bias", "fc.weight"]
    manifest = json.loads((path / MANIFEST).read_text())
    assert set(manifest["files"]) == set(names) - {MANIFEST}
    assert not (tmp_path / "ck.tmp").exists()


def test_zero_dim_and_dtypes_keep_their_shape(tmp_path: Path) -> None:
    state = {
        "opt": {
            "step": at.tensor(3.0),  # Adam's step counter is a 0-d tensor
            "count": np.array(7, np.int64),
            "half": at.tensor([1.5, 2.5], dtype=at.float16),
            "flags": np.array([True, False]),
        }
    }
    back = load_checkpoint(save_checkpoint(tmp_path / "ck", state))["opt"]
    assert back["step"].shape == ()
    assert back["step"].item() == 3.0
    assert back["count"].shape == ()
    assert back["count"] == 7
    assert back["half"].dtype == np.float16
    np.testing.assert_array_equal(back["flags"], [True, False])


def test_requires_grad_and_no_pickle(tmp_path: Path) -> None:
    state = {"p": {"w": at.tensor([1.0, 2.0], requires_grad=True)}}
    back = load_checkpoint(save_checkpoint(tmp_path / "ck", state))
    assert back["p"]["w"].requires_grad
    with pytest.raises(TypeError, match="cannot store"):
        save_checkpoint(tmp_path / "bad", {"x": {"f": object()}})
    with pytest.raises(ValueError, match="entry names"):
        save_checkpoint(tmp_path / "bad", {"state": {}})


def test_overwrite_replaces(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "ck", _state(1.0))
    save_checkpoint(tmp_path / "ck", _state(3.0))
    w = load_checkpoint(tmp_path / "ck")["model"]["fc.weight"].numpy()
    assert w[0, 1] == 3.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "no-manifest"])
def test_corruption_is_refused(tmp_path: Path, damage: str) -> None:
    path = save_checkpoint(tmp_path / "ck", _state())
    target = path / "model.safetensors"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:-7])
    elif damage == "flip":
        data = bytearray(target.read_bytes())
        data[-1] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "delete":
        target.unlink()
    else:
        (path / MANIFEST).unlink()
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)
    with pytest.raises(CheckpointError):
        verify_checkpoint(path)


def test_missing_and_foreign_checkpoints(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / MANIFEST).write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(tmp_path / "x")
    (tmp_path / "x" / MANIFEST).write_text(json.dumps({"format": "other"}))
    with pytest.raises(CheckpointError, match="not an actnet manifest"):
        load_checkpoint(tmp_path / "x")


def test_a_file_is_no_checkpoint_and_a_torch_save_file_says_so(
    tmp_path: Path,
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(text)
    assert (
        str(info.value)
        == f"checkpoint {text} is a file, not an actnet checkpoint folder"
    )
    # torch.save's layout, made by hand (crosscheck/ writes a real one)
    pt = tmp_path / "model.pt"
    with zipfile.ZipFile(pt, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(CheckpointError) as info:
        verify_checkpoint(pt)
    message = str(info.value)
    assert message.startswith(f"checkpoint {pt} is a file, not an actnet checkpoint")
    assert "PyTorch checkpoint written by torch.save" in message
    target = str(tmp_path / "model.safetensors")
    assert (
        f"`safetensors.torch.save_file(torch.load({str(pt)!r}), {target!r})`" in message
    )
    assert sorted(os.listdir(tmp_path)) == before  # nothing written


def test_manager_keeps_the_newest(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path, keep=2)
    for step in (5, 10, 15):
        manager.save(step, _state(float(step)))
    assert [p.name for p in manager.checkpoints()] == ["step-000010", "step-000015"]
    assert manager.latest() == tmp_path / "step-000015"
    everything = CheckpointManager(tmp_path / "all", keep=None)
    for step in range(4):
        everything.save(step, {"t": {"step": step}})
    assert len(everything.checkpoints()) == 4
    with pytest.raises(ValueError, match="keep"):
        CheckpointManager(tmp_path, keep=0)
    assert CheckpointManager(tmp_path / "none").latest() is None


def test_latest_skips_a_corrupted_newest(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path, keep=3)
    manager.save(1, _state(1.0))
    newest = manager.save(2, _state(2.0))
    (newest / "model.safetensors").write_bytes(b"garbage")
    with pytest.warns(CheckpointWarning, match="step-000002"):
        good = manager.latest()
    assert good == tmp_path / "step-000001"
    assert load_checkpoint(good)["model"]["fc.weight"].numpy()[0, 1] == 1.0
    with pytest.raises(CheckpointError, match="step-000002"):
        load_checkpoint(newest)


def test_half_written_checkpoint_is_ignored_and_cleaned(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    manager.save(1, _state())
    # what a crash in the middle of save(2) leaves: a .tmp folder without manifest
    half = tmp_path / "step-000002.tmp"
    half.mkdir()
    (half / "model.safetensors").write_bytes(b"partial")
    aside = tmp_path / ".step-000001.replaced"  # a crash while replacing step 1
    aside.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert manager.latest() == tmp_path / "step-000001"
    manager.save(3, _state())
    assert not half.exists()
    assert not aside.exists()


def test_write_atomic(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["f.json"]
