"""safetensors files move between torch and actnet: torch's files load into the
same model built with actnet.nn and give torch's outputs; ours load in torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch

import actnet.tensor as at
from actnet import nn

TORCH_DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


def mlp(lib: Any) -> Any:
    return lib.Sequential(
        lib.Linear(6, 16), lib.ReLU(), lib.Linear(16, 16), lib.ReLU(), lib.Linear(16, 3)
    )


def convnet(lib: Any) -> Any:
    return lib.Sequential(
        lib.Conv2d(3, 4, 3, padding=1),
        lib.BatchNorm2d(4),
        lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Flatten(),
        lib.LayerNorm(64),
        lib.Linear(64, 5),
    )


MODELS = {"mlp": (mlp, (4, 6)), "convnet": (convnet, (2, 3, 8, 8))}


def _torch_model(build: Any) -> torch.nn.Module:
    torch.manual_seed(0)
    model: torch.nn.Module = build(torch.nn)
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape) + 0.5)
            elif name.endswith("num_batches_tracked"):
                b.fill_(7)
        for name, p in model.named_parameters():
            if "1.weight" in name or "5.weight" in name or "5.bias" in name:
                p.add_(torch.randn(p.shape) * 0.1)  # norms not at identity
    return model.eval()


def _ours(x: np.ndarray[Any, Any], model: Any) -> np.ndarray[Any, Any]:
    with at.no_grad():
        return np.asarray(model(at.tensor(x)))


def _theirs(x: np.ndarray[Any, Any], model: torch.nn.Module) -> np.ndarray[Any, Any]:
    with torch.no_grad():
        out: np.ndarray[Any, Any] = model(torch.from_numpy(x)).numpy()
    return out


@pytest.mark.parametrize("dtype", list(TORCH_DTYPES))
@pytest.mark.parametrize("kind", list(MODELS))
def test_a_torch_file_loads_and_gives_torchs_outputs(
    tmp_path: Path, kind: str, dtype: str
) -> None:
    build, shape = MODELS[kind]
    theirs = _torch_model(build)
    path = tmp_path / "torch.safetensors"
    saved = {
        k: v.to(TORCH_DTYPES[dtype]) if v.is_floating_point() else v
        for k, v in theirs.state_dict().items()
    }
    safetensors.torch.save_file(saved, path)
    loaded = nn.load_safetensors(path)
    assert set(loaded) == set(saved)
    for key, value in saved.items():
        ours = np.asarray(loaded[key])
        assert str(ours.dtype) == str(value.dtype).removeprefix("torch."), key
        if dtype == "bfloat16" and value.is_floating_point():  # compare the bits
            ours, value = ours.view(np.int16), value.view(torch.int16)
        np.testing.assert_array_equal(ours, value.numpy(), err_msg=key)
    # Both models read the same (rounded) values back at float32.
    theirs.load_state_dict(safetensors.torch.load_file(path))
    ours_model = build(nn).eval()
    ours_model.load_state_dict(loaded)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(_ours(x, ours_model), _theirs(x, theirs), atol=1e-5)


@pytest.mark.parametrize("dtype", list(TORCH_DTYPES))
@pytest.mark.parametrize("kind", list(MODELS))
def test_our_file_loads_in_torch(tmp_path: Path, kind: str, dtype: str) -> None:
    build, shape = MODELS[kind]
    ours = build(nn).eval()
    for name, b in ours.named_buffers():
        if name.endswith("running_var"):
            b.data = (at.rand(*b.shape) + 0.5).array
    ours.to(dtype)
    path = tmp_path / "ours.safetensors"
    nn.save_safetensors(ours, path, metadata={"format": "pt"})
    tensors = safetensors.torch.load_file(path)
    sd = ours.state_dict()
    assert set(tensors) == set(sd)
    for key, value in sd.items():
        theirs = tensors[key]
        host = np.asarray(value)
        assert str(theirs.dtype).removeprefix("torch.") == str(host.dtype), key
        if dtype == "bfloat16" and theirs.is_floating_point():
            np.testing.assert_array_equal(
                theirs.view(torch.int16).numpy(), host.view(np.int16), err_msg=key
            )
        else:
            np.testing.assert_array_equal(theirs.numpy(), host, err_msg=key)
    model = build(torch.nn).eval()
    model.load_state_dict(tensors)  # strict: same keys and shapes
    ours.float()
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(_ours(x, ours), _theirs(x, model), atol=1e-5)
