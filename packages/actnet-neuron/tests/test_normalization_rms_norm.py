from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def rms_norm_reference(x: Any, k: int, w: Any = None, eps: float | None = None) -> Any:
    axes = tuple(range(x.ndim - k, x.ndim))
    if eps is None:
        eps = float(np.finfo(x.dtype).eps)
    y = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return y if w is None else y * w


def _normal(*shapes: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


CASES = [
    Case(
        "last axis with weight, eps of the dtype",
        _normal((3, 5), (5,)),
        lambda F, x, w: F.rms_norm(x, (5,), w),
        lambda x, w: rms_norm_reference(x, 1, w),
        differentiable=(0, 1),
    ),
    Case(
        "two trailing axes, eps given",
        _normal((2, 3, 4), (3, 4)),
        lambda F, x, w: F.rms_norm(x, [3, 4], w, eps=1e-3),
        lambda x, w: rms_norm_reference(x, 2, w, 1e-3),
        differentiable=(0, 1),
    ),
    Case(
        "no weight",
        _normal((4, 6)),
        lambda F, x: F.rms_norm(x, (6,), eps=1e-6),
        lambda x: rms_norm_reference(x, 1, eps=1e-6),
    ),
    Case(
        "non-contiguous input, double backward",
        _normal((3, 4), (3,)),
        lambda F, x, w: F.rms_norm(x.T, (3,), w, 1e-5),
        lambda x, w: rms_norm_reference(x.T, 1, w, 1e-5),
        differentiable=(0, 1),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rms_norm(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rms_norm_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


def test_rms_norm_refuses_bad_arguments() -> None:
    x = at.randn(2, 3)
    with pytest.raises(TypeError, match="rms_norm: input must have a floating dtype"):
        F.rms_norm(at.tensor([[1, 2]]), (2,))
    with pytest.raises(ValueError, match=r"rms_norm: normalized_shape=\[2\] must be"):
        F.rms_norm(x, 2)
    with pytest.raises(ValueError, match=r"rms_norm: weight must have shape \(3,\)"):
        F.rms_norm(x, (3,), at.randn(3, 1))


def test_rms_norm_takes_an_int_normalized_shape() -> None:
    x = at.randn(2, 5)
    np.testing.assert_array_equal(F.rms_norm(x, 5).numpy(), F.rms_norm(x, (5,)).numpy())
