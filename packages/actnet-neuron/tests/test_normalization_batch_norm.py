from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def batch_norm_reference(
    x: Any,
    mean: Any,
    var: Any,
    w: Any = None,
    b: Any = None,
    training: bool = False,
    eps: float = 1e-5,
) -> Any:
    shape = (x.shape[1],) + (1,) * (x.ndim - 2)
    if training:
        axes = (0, *range(2, x.ndim))
        mu = x.mean(axis=axes, keepdims=True)
        sigma2 = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    else:
        mu, sigma2 = mean.reshape(shape), var.reshape(shape)
    y = (x - mu) / np.sqrt(sigma2 + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def _inputs(shape: tuple[int, ...]) -> Any:
    """x, running mean, running var (positive), weight, bias."""
    c = shape[1]
    return lambda rng: [
        rng.standard_normal(shape),
        rng.standard_normal(c),
        rng.random(c) + 0.5,
        rng.standard_normal(c),
        rng.standard_normal(c),
    ]


CASES = [
    Case(
        "training, (N, C, H, W), affine",
        _inputs((3, 2, 2, 3)),
        lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b, training=True),
        lambda x, m, v, w, b: batch_norm_reference(x, m, v, w, b, True),
        differentiable=(0, 3, 4),
    ),
    Case(
        "training, (N, C), no running statistics",
        _inputs((5, 3)),
        lambda F, x, m, v, w, b: F.batch_norm(x, None, None, w, b, True, 0.1, 1e-3),
        lambda x, m, v, w, b: batch_norm_reference(x, m, v, w, b, True, 1e-3),
        differentiable=(0, 3, 4),
    ),
    Case(
        "evaluation: the running statistics normalize",
        _inputs((4, 3, 5)),
        lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b),
        lambda x, m, v, w, b: batch_norm_reference(x, m, v, w, b),
        differentiable=(0, 3, 4),
    ),
    Case(
        "evaluation without affine",
        _inputs((2, 3, 2, 2)),
        lambda F, x, m, v, w, b: F.batch_norm(x, m, v, eps=1e-2),
        lambda x, m, v, w, b: batch_norm_reference(x, m, v, eps=1e-2),
    ),
    Case(
        "training, non-contiguous input",
        _inputs((3, 4, 2)),
        lambda F, x, m, v, w, b: F.batch_norm(
            x.transpose(1, 2), None, None, w[:2], b[:2], True
        ),
        lambda x, m, v, w, b: batch_norm_reference(
            x.transpose(0, 2, 1), m, v, w[:2], b[:2], True
        ),
        differentiable=(0, 3, 4),
    ),
    Case(
        "training, double backward",
        _inputs((3, 2, 2)),
        lambda F, x, m, v, w, b: F.batch_norm(x, m, v, w, b, True),
        lambda x, m, v, w, b: batch_norm_reference(x, m, v, w, b, True),
        differentiable=(0, 3, 4),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_batch_norm(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_batch_norm_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 5)])
def test_batch_norm_training_updates_the_running_statistics_in_place(
    shape: tuple[int, ...],
) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    mean0, var0 = rng.standard_normal(3), rng.random(3) + 0.5
    mean, var = at.tensor(mean0), at.tensor(var0)
    version = mean._version
    F.batch_norm(at.tensor(x), mean, var, training=True, momentum=0.3)
    axes = (0, *range(2, x.ndim))
    count = x.size // 3
    expected_mean = 0.7 * mean0 + 0.3 * x.mean(axis=axes)
    expected_var = 0.7 * var0 + 0.3 * x.var(axis=axes) * count / (count - 1)
    np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), expected_var, rtol=1e-12)
    assert mean._version > version  # changed in place, as PyTorch's buffers are


def test_batch_norm_evaluation_leaves_the_running_statistics() -> None:
    mean, var = at.zeros(2), at.ones(2)
    F.batch_norm(at.randn(4, 2), mean, var)
    assert mean.tolist() == [0.0, 0.0] and var.tolist() == [1.0, 1.0]


def test_batch_norm_refuses_bad_arguments() -> None:
    x = at.randn(4, 3)
    mean, var = at.zeros(3), at.ones(3)
    with pytest.raises(TypeError, match="batch_norm: input must be a Tensor"):
        F.batch_norm([1.0], mean, var)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="running_mean and running_var must be given"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(at.randn(1, 3), mean, var, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: running_var must have shape"):
        F.batch_norm(x, mean, at.ones(4))
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\)"):
        F.batch_norm(x, mean, var, at.ones(3, 1))
    with pytest.raises(TypeError, match="batch_norm: momentum must be a number"):
        F.batch_norm(x, mean, var, training=True, momentum=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_norm: input must be"):
        F.batch_norm(at.randn(3), mean, var)
