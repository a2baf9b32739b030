"""DLPack round trips with PyTorch 2.13.0 (the crosscheck session installs it)."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch

import actnet.ndarray as xp
from actnet.device import get_device


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "int64", "int8", "bool", "complex64"]
)
def test_actnet_to_torch_and_back(dtype: str) -> None:
    host = (np.arange(12) % 3).astype(dtype).reshape(3, 4)
    x = xp.asarray(host)
    t = torch.from_dlpack(x)
    np.testing.assert_array_equal(t.numpy(), host)
    back = xp.from_dlpack(t)
    np.testing.assert_array_equal(np.asarray(back), host)
    assert back.dtype == x.dtype


def test_torch_view_of_a_transposed_array() -> None:
    x = xp.asarray(np.arange(6.0).reshape(2, 3)).mT
    t = torch.from_dlpack(x)
    assert t.shape == (3, 2)
    np.testing.assert_array_equal(t.numpy(), np.arange(6.0).reshape(2, 3).T)


def test_a_torch_view_outlives_the_array_and_arena_reuse() -> None:
    dev = get_device("cpu:5")
    x = xp.asarray(np.full(32, 3.0, np.float32), device=dev)
    t = torch.from_dlpack(x)
    del x
    gc.collect()
    for _ in range(5):
        xp.zeros(32, device=dev) + 1.0  # would land in a freed block
    assert torch.all(t == 3.0)
    del t
    gc.collect()
    assert dev.memory_stats().used_bytes == 0


def test_torch_writes_never_reach_an_actnet_array() -> None:
    """torch ignores DLPack's read-only flag, so an export is never memory an
    actnet array reads again: a copy, or with copy=False the storage the array
    hands over (it moves to a copy itself)."""
    x = xp.asarray(np.arange(4.0))
    torch.from_dlpack(x).add_(10)  # a copy
    handed = torch.from_dlpack(x.__dlpack__(copy=False))  # the storage itself
    handed.fill_(-1)
    np.testing.assert_array_equal(np.asarray(x), np.arange(4.0))
    x[0] = 5.0  # nor does the export see later writes to x
    assert handed.tolist() == [-1.0] * 4
