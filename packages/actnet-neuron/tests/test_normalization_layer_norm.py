from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def layer_norm_reference(
    x: Any, k: int, w: Any = None, b: Any = None, eps: float = 1e-5
) -> Any:
    """Normalize over the last k axes (biased variance)."""
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def _normal(*shapes: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


CASES = [
    Case(
        "last axis with weight and bias",
        _normal((3, 5), (5,), (5,)),
        lambda F, x, w, b: F.layer_norm(x, (5,), w, b),
        lambda x, w, b: layer_norm_reference(x, 1, w, b),
        differentiable=(0, 1, 2),
    ),
    Case(
        "two trailing axes, a list normalized_shape",
        _normal((2, 3, 4), (3, 4), (3, 4)),
        lambda F, x, w, b: F.layer_norm(x, [3, 4], w, b),
        lambda x, w, b: layer_norm_reference(x, 2, w, b),
        differentiable=(0, 1, 2),
    ),
    Case(
        "no affine, eps",
        _normal((4, 6)),
        lambda F, x: F.layer_norm(x, (6,), eps=1e-2),
        lambda x: layer_norm_reference(x, 1, eps=1e-2),
    ),
    Case(
        "weight only",
        _normal((2, 2, 5), (5,)),
        lambda F, x, w: F.layer_norm(x, (5,), w),
        lambda x, w: layer_norm_reference(x, 1, w),
        differentiable=(0, 1),
    ),
    Case(
        "bias only, whole input normalized",
        _normal((3, 4), (3, 4)),
        lambda F, x, b: F.layer_norm(x, (3, 4), None, b),
        lambda x, b: layer_norm_reference(x, 2, None, b),
        differentiable=(0, 1),
    ),
    Case(
        "non-contiguous input",
        _normal((3, 5), (3,), (3,)),
        lambda F, x, w, b: F.layer_norm(x.T, (3,), w, b),
        lambda x, w, b: layer_norm_reference(x.T, 1, w, b),
        differentiable=(0, 1, 2),
    ),
    Case(
        "double backward (recomputed moments under create_graph)",
        _normal((2, 4), (4,), (4,)),
        lambda F, x, w, b: F.layer_norm(x, (4,), w, b),
        lambda x, w, b: layer_norm_reference(x, 1, w, b),
        differentiable=(0, 1, 2),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_layer_norm(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_layer_norm_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


def test_layer_norm_computes_only_the_gradients_asked_for() -> None:
    x = at.randn(3, 4)
    w = at.randn(4, requires_grad=True)
    b = at.randn(4)
    F.layer_norm(x, (4,), w, b).sum().backward()
    assert w.grad is not None and x.grad is None and b.grad is None


def test_layer_norm_refuses_bad_arguments() -> None:
    x = at.randn(2, 3)
    with pytest.raises(TypeError, match="layer_norm: input must be a Tensor"):
        F.layer_norm(np.ones((2, 3)), (3,))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match=r"normalized_shape=\[2\] must be the last"):
        F.layer_norm(x, (2,))
    with pytest.raises(ValueError, match="must be the last dimensions"):
        F.layer_norm(x, (1, 2, 3))
    with pytest.raises(TypeError, match="normalized_shape must be an int or"):
        F.layer_norm(x, 3.0)
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(3,\)"):
        F.layer_norm(x, (3,), at.randn(2))
    with pytest.raises(TypeError, match="layer_norm: bias has dtype float64"):
        F.layer_norm(x, (3,), None, at.randn(3).double())


def test_layer_norm_takes_an_int_normalized_shape() -> None:
    # nn.LayerNorm's convenience; torch.nn.functional.layer_norm wants a sequence
    x = at.randn(2, 5)
    np.testing.assert_array_equal(
        F.layer_norm(x, 5).numpy(), F.layer_norm(x, (5,)).numpy()
    )
