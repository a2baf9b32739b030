"""Files that torch.save wrote: load_safetensors says what they are and how to
convert them, and the conversion it gives, run as written, makes a file whose
weights load into the same model built with actnet.nn."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch

import actnet.tensor as at
from actnet import nn

FORMATS: dict[str, dict[str, Any]] = {
    "zip": {},  # torch.save's format since PyTorch 1.6
    "legacy": {"_use_new_zipfile_serialization": False},
}
KINDS = {
    "zip": "a PyTorch checkpoint written by torch.save (a zip archive of pickles)",
    "legacy": "a PyTorch checkpoint written by torch.save (its legacy pickle)",
}


def mlp(lib: Any) -> Any:
    return lib.Sequential(lib.Linear(5, 8), lib.LayerNorm(8), lib.Linear(8, 3))


def _conversion(message: str) -> str:
    """The `safetensors.torch.save_file(...)` call the message names."""
    (code,) = re.findall(r"`(safetensors\.torch\.save_file\(.*?\))`", message)
    return code


@pytest.mark.parametrize("form", list(FORMATS))
def test_a_torch_save_file_is_named_and_its_conversion_loads(
    tmp_path: Path, form: str
) -> None:
    torch.manual_seed(0)
    reference = mlp(torch.nn)
    path = tmp_path / "model.pt"
    torch.save(reference.state_dict(), path, **FORMATS[form])
    with pytest.raises(nn.SafetensorsError) as info:
        nn.load_safetensors(path)
    message = str(info.value)
    assert message.startswith(f"{str(path)!r} is {KINDS[form]}, not a safetensors")
    assert "header too large" not in message
    assert os.listdir(tmp_path) == ["model.pt"]  # the failed load wrote nothing
    # The conversion, run as the message writes it:
    code = _conversion(message)
    exec(code, {"torch": torch, "safetensors": safetensors})  # noqa: S102  # our own message's code
    converted = tmp_path / "model.safetensors"
    assert f"`load_safetensors({str(converted)!r})`" in message
    model = mlp(nn)
    model.load_state_dict(nn.load_safetensors(converted))
    for key, value in reference.state_dict().items():
        assert np.array_equal(np.asarray(model.state_dict()[key]), value.numpy())
    x = torch.randn(4, 5)
    expected = reference(x).detach().numpy()
    out = model(at.tensor(x.numpy())).detach()
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_pickle_protocol_of_the_legacy_format_is_named(
    tmp_path: Path, protocol: int
) -> None:
    # (torch.load itself reads back only protocol 2 under weights_only=True.)
    path = tmp_path / "model.pt"
    legacy = {"_use_new_zipfile_serialization": False, "pickle_protocol": protocol}
    torch.save(mlp(torch.nn).state_dict(), path, **legacy)
    with pytest.raises(nn.SafetensorsError, match="its legacy pickle"):
        nn.load_safetensors(path)


def test_a_whole_pickled_model_is_named_too(tmp_path: Path) -> None:
    path = tmp_path / "whole.pth"
    torch.save(mlp(torch.nn), path)
    message = nn.torch_file_message(path)
    assert message is not None
    assert message.startswith(f"{str(path)!r} is {KINDS['zip']}")
    assert "save its `state_dict()`" in message


def test_a_safetensors_file_torch_wrote_is_not_taken_for_a_pickle(
    tmp_path: Path,
) -> None:
    path = tmp_path / "model.safetensors"
    safetensors.torch.save_file(mlp(torch.nn).state_dict(), path)
    assert nn.torch_file_message(path) is None
    assert set(nn.load_safetensors(path)) == set(mlp(nn).state_dict())
