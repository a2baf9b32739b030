"""clip_grad_norm_ / clip_grad_value_ against torch.nn.utils (PyTorch 2.13.0)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.utils import clip_grad_norm_, clip_grad_value_

torch.set_num_threads(2)


def _grads(scale: float, dtype: Any) -> list[np.ndarray | None]:
    rng = np.random.default_rng(7)
    out: list[np.ndarray | None] = [
        (scale * rng.standard_normal(s)).astype(dtype)
        for s in [(32, 16), (16,), (3, 5)]
    ]
    out.insert(1, None)  # a parameter without a gradient
    return out


def _both(grads: list[np.ndarray | None]) -> tuple[list[Parameter], list[Any]]:
    ours, theirs = [], []
    for g in grads:
        zeros = np.zeros((2,), np.float32) if g is None else np.zeros_like(g)
        p = Parameter(at.tensor(zeros))
        q = torch.nn.Parameter(torch.tensor(zeros))
        if g is not None:
            p.grad = at.tensor(g)
            q.grad = torch.tensor(g)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, 0.0, math.inf, -math.inf])
@pytest.mark.parametrize(("scale", "max_norm"), [(1.0, 0.5), (1e-3, 1.0), (10.0, 3.0)])
def test_norm_and_clipped_gradients_match_torch(
    dtype: Any, norm_type: float, scale: float, max_norm: float
) -> None:
    ours, theirs = _both(_grads(scale, dtype))
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.dtype == np.dtype(str(expected.dtype)[6:])
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(float(total), float(expected), rtol=rtol)
    for p, q in zip(ours, theirs, strict=True):
        if q.grad is None:
            assert p.grad is None
        else:
            assert p.grad is not None
            np.testing.assert_allclose(
                p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=rtol * 1e-3
            )


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_nonfinite_like_torch(bad: float) -> None:
    grads: list[np.ndarray | None] = [np.array([bad, 1.0], np.float32)]
    ours, theirs = _both(grads)
    with pytest.raises(RuntimeError) as expected:
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as got:
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert str(got.value) == str(expected.value)
    total = clip_grad_norm_(ours, 1.0)
    expected_total = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_array_equal(float(total), float(expected_total))
    assert ours[0].grad is not None and theirs[0].grad is not None
    np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())


def test_clip_grad_value_matches_torch() -> None:
    ours, theirs = _both(_grads(2.0, np.float32))
    clip_grad_value_(ours, 1.25)
    torch.nn.utils.clip_grad_value_(theirs, 1.25)
    for p, q in zip(ours, theirs, strict=True):
        if q.grad is not None:
            assert p.grad is not None
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
