"""Tensor.stride() and torch.backends' switches, against torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at

VIEWS: list[tuple[str, Callable[[Any], Any]]] = [
    ("contiguous", lambda t: t),
    ("t()", lambda t: t.reshape(6, 4).t()),
    ("permute", lambda t: t.permute(2, 0, 1)),
    ("slices", lambda t: t[1:, ::2, 1:3]),
    ("expand", lambda t: t[:, :1].expand(2, 5, 4)),
    ("select", lambda t: t.select(1, 2)),
    ("unsqueeze", lambda t: t.unsqueeze(1)),
    ("0-d", lambda t: t[0, 0, 0]),
]


@pytest.mark.parametrize(("name", "view"), VIEWS, ids=[v[0] for v in VIEWS])
def test_stride_of_views_as_torch(name: str, view: Callable[[Any], Any]) -> None:
    values = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = view(at.tensor(values)), view(torch.tensor(values))
    assert ours.stride() == theirs.stride()
    for d in range(-ours.ndim, ours.ndim):
        assert ours.stride(d) == theirs.stride(d)


def test_stride_refuses_a_dim_out_of_range() -> None:
    with pytest.raises(IndexError, match="dimension out of range"):
        at.ones(2, 3).stride(2)


def test_backends_answer_as_torch_without_cudnn_or_mps() -> None:
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(at.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    assert at.backends.cudnn.is_available() is torch.backends.cudnn.is_available()
    assert at.backends.cudnn.version() == torch.backends.cudnn.version()
    assert at.backends.mps.is_available() is torch.backends.mps.is_available()
    assert at.backends.mps.is_built() is torch.backends.mps.is_built()
    at.backends.cudnn.benchmark = True  # a script's switch, kept
    try:
        assert at.backends.cudnn.benchmark is True
    finally:
        at.backends.cudnn.benchmark = False
