"""clip_grad_norm_ / clip_grad_value_ against NumPy norms."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

import actnet.tensor as at
from actnet import nn
from actnet.nn import Parameter
from actnet.nn.utils import clip_grad_norm_, clip_grad_value_


def _params(scale: float, seed: int = 0) -> tuple[list[Parameter], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    grads = [
        (scale * rng.standard_normal(s)).astype(np.float64) for s in [(4, 3), (5,)]
    ]
    params = [Parameter(at.tensor(np.zeros_like(g))) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = at.tensor(g)
    return params, grads


def _norm(grads: list[np.ndarray], p: float) -> float:
    flat = np.concatenate([g.ravel() for g in grads])
    if p == math.inf:
        return float(np.abs(flat).max())
    return float((np.abs(flat) ** p).sum() ** (1 / p))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf])
@pytest.mark.parametrize("scale", [0.01, 10.0])
def test_total_norm_and_scaling(norm_type: float, scale: float) -> None:
    params, grads = _params(scale)
    total = clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    expected = _norm(grads, norm_type)
    assert total.shape == ()
    np.testing.assert_allclose(float(total), expected, rtol=1e-12)
    coef = min(1.0 / (expected + 1e-6), 1.0)
    for p, g in zip(params, grads, strict=True):
        assert p.grad is not None
        np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-12)


def test_zero_norm_is_taken_over_the_per_tensor_norms() -> None:
    # As in PyTorch: the total is the norm of the gradients' norms, so for order 0
    # it counts the gradients that have a nonzero element.
    p, q, r = (Parameter(at.tensor([0.0, 0.0, 0.0])) for _ in range(3))
    p.grad = at.tensor([0.0, 2.0, -3.0])
    q.grad = at.tensor([0.0, 0.0, 5.0])
    r.grad = at.tensor([0.0, 0.0, 0.0])
    assert float(clip_grad_norm_([p, q, r], max_norm=10.0, norm_type=0)) == 2.0
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 2.0, -3.0])


def test_minus_inf_norm_is_the_smallest_per_tensor_minimum() -> None:
    p, q = (Parameter(at.tensor([0.0, 0.0])) for _ in range(2))
    p.grad = at.tensor([-4.0, 2.0])
    q.grad = at.tensor([3.0, -5.0])
    assert float(clip_grad_norm_([p, q], 10.0, norm_type=-math.inf)) == 2.0


def test_clipping_is_in_place_and_skips_missing_gradients() -> None:
    a = Parameter(at.tensor([0.0, 0.0]))
    b = Parameter(at.tensor([0.0]))
    a.grad = at.tensor([3.0, 4.0])
    grad = a.grad
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert float(total) == pytest.approx(5.0)
    assert a.grad is grad
    assert b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.8], rtol=1e-6)


def test_float32_gradients_and_the_module_path() -> None:
    a = Parameter(at.tensor([0.0, 0.0]))
    a.grad = at.tensor([30.0, 40.0])
    total = nn.utils.clip_grad_norm_([a], max_norm=5.0)
    assert total.dtype == np.float32
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0], rtol=1e-6)


def test_no_gradients_gives_zero() -> None:
    total = clip_grad_norm_([Parameter(at.tensor([1.0]))], max_norm=1.0)
    assert float(total) == 0.0


def test_empty_generator_warns() -> None:
    def nothing() -> Iterator[Parameter]:
        yield from ()

    with pytest.warns(UserWarning, match="empty generator"):
        clip_grad_norm_(nothing(), max_norm=1.0)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_nonfinite_norm(bad: float) -> None:
    p = Parameter(at.tensor([0.0, 0.0]))
    p.grad = at.tensor([bad, 1.0])
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        clip_grad_norm_(p, max_norm=1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(p, max_norm=1.0)
    assert not math.isfinite(float(total))


def test_foreach_true_is_refused_on_cpu() -> None:
    params, _ = _params(1.0)
    with pytest.raises(RuntimeError, match="can't use the foreach API on cpu"):
        clip_grad_norm_(params, 1.0, foreach=True)
    clip_grad_norm_(params, 1.0, foreach=False)


def test_clip_grad_value() -> None:
    params, grads = _params(3.0)
    clip_grad_value_(params, clip_value=1.5)
    for p, g in zip(params, grads, strict=True):
        assert p.grad is not None
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -1.5, 1.5))
