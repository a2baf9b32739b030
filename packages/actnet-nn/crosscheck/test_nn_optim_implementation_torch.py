"""The optimizers take PyTorch's implementation switches (foreach, fused,
capturable, differentiable: build-nanoGPT passes `fused=`), as torch 2.13.0's
signatures have them, and refuse what torch refuses; the steps are the same
with any choice (actnet's update is one fused pass however it is asked)."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn

NAMES = ["SGD", "Adam", "AdamW"]


@pytest.mark.parametrize("name", NAMES)
def test_the_switches_are_in_the_signature(name: str) -> None:
    ours = inspect.signature(getattr(nn.optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    for switch in ("foreach", "fused", "differentiable", "capturable"):
        assert (switch in ours) == (switch in theirs), switch
        if switch in ours:
            assert ours[switch].default == theirs[switch].default
            assert ours[switch].kind == theirs[switch].kind


def _steps(lib: Any, name: str, **switches: Any) -> list[float]:
    w = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    p = lib.tensor(w, requires_grad=True)
    opt = getattr(lib.optim, name)([p], lr=0.1, **switches)
    for _ in range(3):
        opt.zero_grad()
        ((p * p).sum() + p.sum()).backward()
        opt.step()
    return [float(v) for v in p.detach().reshape(-1).tolist()]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "switches", [{"foreach": True}, {"fused": True}, {"foreach": False, "fused": False}]
)
def test_any_switch_gives_torchs_steps(name: str, switches: dict[str, Any]) -> None:
    ours = _steps(at, name, **switches)
    theirs = _steps(torch, name, **switches)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_fused_and_foreach_together_are_refused(name: str) -> None:
    for lib in (at, torch):
        p = lib.zeros(2, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="cannot be `True` together"):
            getattr(lib.optim, name)([p], lr=0.1, fused=True, foreach=True)


def test_a_differentiable_step_is_refused() -> None:
    p = at.zeros(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="differentiable"):
        nn.optim.Adam([p], differentiable=True)
