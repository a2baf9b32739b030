"""Run the neuron test cases against torch.nn.functional (PyTorch 2.13.0, CPU):
float64 values and gradients to 1e-7 relative, float32 to 1e-5."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

import actnet.neuron as F
import actnet.tensor as at

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness import Case  # the tests' harness, shared

torch.set_num_threads(2)


def _tensors(case: Case, dtype: str, library: Any) -> list[Any]:
    rng = np.random.default_rng(case.seed)
    out = []
    for i, v in enumerate(case.inputs(rng)):
        if isinstance(v, np.ndarray):
            if v.dtype.kind == "f":
                v = v.astype(dtype)
            grad = i in case.differentiable and v.dtype.kind == "f"
            if library is torch:
                out.append(torch.tensor(v, requires_grad=grad))
            else:
                out.append(at.tensor(v, requires_grad=grad))
        else:
            out.append(v)
    return out


def crosscheck_case(case: Case, dtype: str) -> None:
    rtol = 1e-7 if dtype == "float64" else 1e-5
    ours = _tensors(case, dtype, at)
    theirs = _tensors(case, dtype, torch)
    y = case.call(F, *ours)
    ty = case.call(torch.nn.functional, *theirs)
    np.testing.assert_allclose(
        y.detach().numpy(), ty.detach().numpy(), rtol=rtol, atol=rtol
    )
    if not any(isinstance(t, torch.Tensor) and t.requires_grad for t in theirs):
        return
    weights = np.random.default_rng(99).standard_normal(tuple(ty.shape)).astype(dtype)
    (y * at.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    for mine, peer in zip(ours, theirs, strict=True):
        if isinstance(peer, torch.Tensor) and peer.requires_grad:
            assert mine.grad is not None, f"{case}: no gradient"
            np.testing.assert_allclose(
                mine.grad.numpy(),
                peer.grad.numpy(),
                rtol=rtol,
                atol=rtol,
                err_msg=str(case),
            )
