"""load_checkpoint given a file that torch.save wrote (a user's model.pt where a
checkpoint folder belongs) says what the file is and how to convert it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from actnet.util import CheckpointError, load_checkpoint


@pytest.mark.parametrize("zipped", [True, False])
def test_a_torch_save_file_is_named_not_called_missing(
    tmp_path: Path, zipped: bool
) -> None:
    path = tmp_path / "model.pt"
    state = torch.nn.Linear(3, 2).state_dict()
    torch.save(state, path, _use_new_zipfile_serialization=zipped)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message.startswith(
        f"checkpoint {path} is a file, not an actnet checkpoint folder: "
        f"{str(path)!r} is a PyTorch checkpoint written by torch.save"
    )
    target = str(tmp_path / "model.safetensors")
    assert f"safetensors.torch.save_file(torch.load({str(path)!r}), {target!r})" in (
        message
    )
    assert os.listdir(tmp_path) == ["model.pt"]
