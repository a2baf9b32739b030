"""instance_norm against a NumPy oracle: values, gradients (finite differences,
double backward), the running statistics' update and the evaluation path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def instance_norm_reference(
    x: Any,
    mean: Any = None,
    var: Any = None,
    w: Any = None,
    b: Any = None,
    use_input_stats: bool = True,
    eps: float = 1e-5,
) -> Any:
    shape = (x.shape[1],) + (1,) * (x.ndim - 2)
    if use_input_stats:
        axes = tuple(range(2, x.ndim))
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
        rng.standard_normal(shape) * 2 + 1,
        rng.standard_normal(c),
        rng.random(c) + 0.5,
        rng.standard_normal(c),
        rng.standard_normal(c),
    ]


CASES = [
    Case(
        "(N, C, L), affine",
        _inputs((3, 2, 5)),
        lambda F, x, m, v, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, m, v, w, b: instance_norm_reference(x, w=w, b=b),
        differentiable=(0, 3, 4),
    ),
    Case(
        "(N, C, H, W), no affine, eps",
        _inputs((2, 3, 3, 4)),
        lambda F, x, m, v, w, b: F.instance_norm(x, eps=1e-3),
        lambda x, m, v, w, b: instance_norm_reference(x, eps=1e-3),
    ),
    Case(
        "(N, C, D, H, W), weight only",
        _inputs((2, 2, 2, 3, 2)),
        lambda F, x, m, v, w, b: F.instance_norm(x, None, None, w),
        lambda x, m, v, w, b: instance_norm_reference(x, w=w),
        differentiable=(0, 3),
    ),
    Case(
        "with running statistics given (they do not change the output)",
        _inputs((2, 3, 4)),
        lambda F, x, m, v, w, b: F.instance_norm(
            x, m.clone(), v.clone(), w, b, True, 0.2
        ),
        lambda x, m, v, w, b: instance_norm_reference(x, w=w, b=b),
        differentiable=(0, 3, 4),
    ),
    Case(
        "use_input_stats=False: the running statistics normalize",
        _inputs((2, 3, 2, 2)),
        lambda F, x, m, v, w, b: F.instance_norm(x, m, v, w, b, False),
        lambda x, m, v, w, b: instance_norm_reference(x, m, v, w, b, False),
        differentiable=(0, 3, 4),
    ),
    Case(
        "use_input_stats=False, (N, C)",
        _inputs((4, 3)),
        lambda F, x, m, v, w, b: F.instance_norm(x, m, v, use_input_stats=False),
        lambda x, m, v, w, b: instance_norm_reference(x, m, v, use_input_stats=False),
    ),
    Case(
        "non-contiguous input",
        _inputs((2, 4, 3)),
        lambda F, x, m, v, w, b: F.instance_norm(
            x.transpose(1, 2), None, None, w[:3], b[:3]
        ),
        lambda x, m, v, w, b: instance_norm_reference(
            x.transpose(0, 2, 1), w=w[:3], b=b[:3]
        ),
        differentiable=(0, 3, 4),
    ),
    Case(
        "double backward",
        _inputs((2, 2, 3)),
        lambda F, x, m, v, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, m, v, w, b: instance_norm_reference(x, w=w, b=b),
        differentiable=(0, 3, 4),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_instance_norm(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_instance_norm_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 2, 5), (2, 2, 3, 4), (1, 2, 2, 2, 3)])
def test_instance_norm_updates_the_running_statistics_in_place(
    shape: tuple[int, ...],
) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3 - 1
    mean0, var0 = rng.standard_normal(2), rng.random(2) + 0.5
    mean, var = at.tensor(mean0), at.tensor(var0)
    version = mean._version
    F.instance_norm(at.tensor(x), mean, var, momentum=0.3)
    # The mean over the batch of each instance's mean and unbiased variance.
    flat = x.reshape(shape[0], 2, -1)
    expected_mean = 0.7 * mean0 + 0.3 * flat.mean(axis=2).mean(axis=0)
    expected_var = 0.7 * var0 + 0.3 * flat.var(axis=2, ddof=1).mean(axis=0)
    np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), expected_var, rtol=1e-12)
    assert mean._version > version  # changed in place, as PyTorch's buffers are


def test_instance_norm_updates_only_the_statistic_given() -> None:
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    var = at.ones(3, dtype=at.float64)
    F.instance_norm(at.tensor(x), None, var, momentum=1.0)
    np.testing.assert_allclose(
        var.numpy(), x.var(axis=2, ddof=1).mean(axis=0), rtol=1e-12
    )


def test_instance_norm_without_input_stats_leaves_the_running_statistics() -> None:
    mean, var = at.zeros(2), at.ones(2)
    F.instance_norm(at.randn(3, 2, 4), mean, var, use_input_stats=False)
    assert mean.tolist() == [0.0, 0.0] and var.tolist() == [1.0, 1.0]


def test_instance_norm_running_statistics_take_no_gradient() -> None:
    x = at.randn(2, 3, 4, requires_grad=True)
    mean, var = at.zeros(3), at.ones(3)
    F.instance_norm(x, mean, var).sum().backward()
    assert not mean.requires_grad and not var.requires_grad
    assert x.grad is not None


def test_instance_norm_refuses_bad_arguments() -> None:
    x = at.randn(2, 3, 4)
    mean, var = at.zeros(3), at.ones(3)
    with pytest.raises(TypeError, match="instance_norm: input must be a Tensor"):
        F.instance_norm([1.0])  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(at.randn(2, 3, 1))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(at.randn(4, 3))
    with pytest.raises(ValueError, match="running_mean and running_var must be given"):
        F.instance_norm(x, mean, None, use_input_stats=False)
    with pytest.raises(ValueError, match=r"instance_norm: running_var must have shape"):
        F.instance_norm(x, mean, at.ones(6))
    with pytest.raises(ValueError, match=r"instance_norm: weight must have shape"):
        F.instance_norm(x, weight=at.ones(4))
    with pytest.raises(TypeError, match="instance_norm: bias has dtype"):
        F.instance_norm(x, bias=at.zeros(3, dtype=at.float64))
    with pytest.raises(TypeError, match="instance_norm: momentum must be a number"):
        F.instance_norm(x, mean, var, momentum=None)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="instance_norm: input must be"):
        F.instance_norm(at.randn(3), mean, var, use_input_stats=False)
