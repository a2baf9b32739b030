"""`at.save` / `at.load` beside torch 2.13's torch.save / torch.load: a file
torch.save wrote is refused with its conversion, torch.load cannot read
actnet's format, and a state dict (and a checkpoint with an optimizer) saved by
actnet loads into an actnet model with the values of the torch model it was
copied from."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn


def _torch_model() -> torch.nn.Sequential:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(5, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 3),
    )
    model.train()
    model(torch.randn(16, 5))  # running statistics and num_batches_tracked move
    return model


def _actnet_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def _host(t: torch.Tensor) -> np.ndarray[Any, Any]:
    if t.dtype == torch.bfloat16:
        return t.detach().view(torch.int16).numpy().view(at.bfloat16)
    return t.detach().numpy()


def _copied(model: torch.nn.Module) -> nn.Module:
    """An actnet model holding the torch model's values."""
    ours = _actnet_model()
    if next(model.parameters()).dtype == torch.bfloat16:
        ours = ours.bfloat16()
    ours.load_state_dict(
        {k: at.tensor(_host(v)) for k, v in model.state_dict().items()}
    )
    return ours


def _assert_same_state(ours: dict[str, at.Tensor], theirs: dict[str, Any]) -> None:
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        got = np.asarray(ours[key].detach())
        expected = _host(value)
        assert got.dtype == expected.dtype, key
        assert got.shape == expected.shape, key
        np.testing.assert_array_equal(
            got.reshape(-1).view(np.uint8), expected.reshape(-1).view(np.uint8)
        )


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_a_saved_state_dict_loads_with_torchs_values(
    tmp_path: Path, dtype: torch.dtype
) -> None:
    theirs = _torch_model().to(dtype)
    path = tmp_path / "model.pt"
    at.save(_copied(theirs).state_dict(), path)
    fresh = _actnet_model()
    if dtype == torch.bfloat16:
        fresh = fresh.bfloat16()
    loaded = at.load(path)  # weights_only=True
    assert type(loaded) is OrderedDict
    fresh.load_state_dict(loaded)
    _assert_same_state(fresh.state_dict(), theirs.state_dict())
    # and the model computes what torch's does
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    fresh.eval()
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x).to(dtype)).float().numpy()
    got = np.asarray(fresh(at.tensor(x).to(fresh[0].weight.dtype)).detach().float())
    np.testing.assert_allclose(
        got,
        expected,
        rtol=1e-2 if dtype != torch.float32 else 1e-5,
        atol=1e-2 if dtype != torch.float32 else 1e-6,
    )


def test_a_checkpoint_with_an_optimizer_round_trips(tmp_path: Path) -> None:
    theirs = _torch_model()
    ours = _copied(theirs)
    optimizer = nn.optim.Adam(ours.parameters(), lr=1e-2)
    loss = ours(at.randn(16, 5)).square().mean()
    loss.backward()
    optimizer.step()
    checkpoint = {
        "epoch": 3,
        "model": ours.state_dict(),
        "optimizer": optimizer.state_dict(),
    }
    at.save(checkpoint, tmp_path / "checkpoint.pt")

    back = at.load(tmp_path / "checkpoint.pt")
    assert back["epoch"] == 3
    model = _actnet_model()
    model.load_state_dict(back["model"])
    restored = nn.optim.Adam(model.parameters(), lr=1.0)
    restored.load_state_dict(back["optimizer"])
    assert restored.param_groups[0]["lr"] == 1e-2
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(
            np.asarray(model.state_dict()[key]), np.asarray(value), err_msg=key
        )
    for p, q in zip(ours.parameters(), model.parameters(), strict=True):
        for name, value in optimizer.state[p].items():
            np.testing.assert_array_equal(
                np.asarray(restored.state[q][name]), np.asarray(value), err_msg=name
            )


def test_a_whole_model_needs_weights_only_false(tmp_path: Path) -> None:
    ours = _copied(_torch_model())
    at.save(ours, tmp_path / "whole.pt")
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL actnet\.nn\."):
        at.load(tmp_path / "whole.pt")
    back = at.load(tmp_path / "whole.pt", weights_only=False)
    assert isinstance(back, nn.Sequential)
    assert isinstance(back[0].weight, nn.Parameter) and back[0].weight.requires_grad
    _assert_same_state(back.state_dict(), _torch_model().state_dict())


@pytest.mark.parametrize("zip_format", [True, False])
def test_a_torch_save_file_is_refused_with_the_conversion(
    tmp_path: Path, zip_format: bool
) -> None:
    path = tmp_path / "model.pt"
    torch.save(
        _torch_model().state_dict(), path, _use_new_zipfile_serialization=zip_format
    )
    with pytest.raises(pickle.UnpicklingError) as caught:
        at.load(path)
    message = str(caught.value)
    assert "written by torch.save" in message
    out = str(tmp_path / "model.safetensors")
    assert (
        f"`safetensors.torch.save_file(torch.load({str(path)!r}), {out!r})`" in message
    )
    assert f"`actnet.nn.load_safetensors({out!r})`" in message


def test_the_conversion_the_message_gives_works(tmp_path: Path) -> None:
    safetensors_torch = pytest.importorskip("safetensors.torch")
    theirs = _torch_model()
    path = tmp_path / "model.pt"
    torch.save(theirs.state_dict(), path)
    out = tmp_path / "model.safetensors"
    safetensors_torch.save_file(torch.load(path), out)
    ours = _actnet_model()
    ours.load_state_dict(nn.load_safetensors(out))
    _assert_same_state(ours.state_dict(), theirs.state_dict())


def test_torch_load_cannot_read_actnets_format(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    at.save({"w": at.ones(2)}, path)
    for weights_only in (True, False):
        with pytest.raises(Exception):  # noqa: B017  torch's own errors, by format
            torch.load(path, weights_only=weights_only)
