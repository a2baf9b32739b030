"""What the layer tests share: float64 gradients of a module's output with respect
to its inputs and parameters, checked against central differences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import actnet.tensor as at
from actnet import nn


def to_numpy(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _value(
    module: nn.Module, arrays: Sequence[np.ndarray], weight: np.ndarray
) -> float:
    out = module(*(at.tensor(a) for a in arrays))
    out = out[0] if isinstance(out, tuple) else out
    return float(np.sum(to_numpy(out) * weight))


def check_module_grads(
    module: nn.Module,
    arrays: Sequence[np.ndarray],
    wrt: Sequence[int] = (0,),
    eps: float = 1e-6,
    tol: float = 1e-6,
    seed: int = 0,
) -> None:
    """Backward of sum(out * w), w random, against central differences for the
    inputs at `wrt` and every parameter: float64, so eps = 1e-6 leaves a
    truncation and rounding error near 1e-9, far below tol."""
    arrays = [np.array(a) for a in arrays]
    for p in module.parameters():
        p.grad = None
    inputs = [at.tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
    out = module(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    weight = np.random.default_rng(seed).standard_normal(out.shape)
    (out * at.tensor(weight)).sum().backward()
    for i in wrt:
        numeric = np.zeros_like(arrays[i])
        for idx in np.ndindex(arrays[i].shape):
            saved = arrays[i][idx]
            arrays[i][idx] = saved + eps
            up = _value(module, arrays, weight)
            arrays[i][idx] = saved - eps
            down = _value(module, arrays, weight)
            arrays[i][idx] = saved
            numeric[idx] = (up - down) / (2 * eps)
        grad = inputs[i].grad
        assert grad is not None, f"input {i} has no grad"
        np.testing.assert_allclose(to_numpy(grad), numeric, rtol=tol, atol=tol)
    for name, p in module.named_parameters():
        values = to_numpy(p).copy()
        numeric = np.zeros_like(values)
        for idx in np.ndindex(values.shape):
            for sign in (1, -1):
                changed = values.copy()
                changed[idx] += sign * eps
                with at.no_grad():
                    p.copy_(at.tensor(changed))
                numeric[idx] += sign * _value(module, arrays, weight) / (2 * eps)
        with at.no_grad():
            p.copy_(at.tensor(values))
        assert p.grad is not None, f"{name} has no grad"
        np.testing.assert_allclose(
            to_numpy(p.grad), numeric, rtol=tol, atol=tol, err_msg=name
        )
