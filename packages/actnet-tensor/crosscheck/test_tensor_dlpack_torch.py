"""Tensors through DLPack with PyTorch 2.13.0, both ways: torch.from_dlpack and
torch.as_tensor of an actnet tensor, at.from_dlpack of a torch tensor."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import actnet.tensor as at


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_both_ways(dtype: str) -> None:
    host = (np.arange(6) % 3).astype(dtype).reshape(2, 3)
    t = at.tensor(host)
    for theirs in (torch.from_dlpack(t), torch.as_tensor(t)):
        np.testing.assert_array_equal(theirs.numpy(), host)
        assert str(theirs.dtype).removeprefix("torch.") == dtype
    back = at.from_dlpack(torch.from_numpy(host.copy()))
    assert back.dtype == t.dtype
    np.testing.assert_array_equal(np.asarray(back), host)


def test_torch_cannot_write_through_an_export() -> None:
    """torch ignores DLPack's read-only flag: what it gets is never memory an
    actnet tensor reads again."""
    t = at.arange(4.0)
    torch.from_dlpack(t).add_(10)
    torch.as_tensor(t).mul_(0)
    moved = torch.from_dlpack(t.__dlpack__(copy=False))  # the storage itself
    moved.fill_(-1)
    np.testing.assert_array_equal(np.asarray(t), [0.0, 1.0, 2.0, 3.0])


def test_a_torch_tensor_changed_later_does_not_change_the_import() -> None:
    source = torch.arange(3.0)
    ours = at.from_dlpack(source)
    source.add_(1)
    np.testing.assert_array_equal(np.asarray(ours), [0.0, 1.0, 2.0])


def test_a_tensor_that_requires_grad_is_refused_as_torch_refuses_it() -> None:
    w = at.ones(2, requires_grad=True)
    with pytest.raises(BufferError, match="detach"):
        torch.from_dlpack(w)
    with pytest.raises(BufferError):
        torch.from_dlpack(torch.ones(2, requires_grad=True))
