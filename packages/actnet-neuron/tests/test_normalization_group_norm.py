from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def group_norm_reference(
    x: Any, groups: int, w: Any = None, b: Any = None, eps: float = 1e-5
) -> Any:
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    mean = g.mean(axis=2, keepdims=True)
    var = ((g - mean) ** 2).mean(axis=2, keepdims=True)
    y = ((g - mean) / np.sqrt(var + eps)).reshape(x.shape)
    shape = (c,) + (1,) * (x.ndim - 2)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def _normal(*shapes: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


CASES = [
    Case(
        "2 groups of 2 channels, weight and bias",
        _normal((2, 4, 3, 3), (4,), (4,)),
        lambda F, x, w, b: F.group_norm(x, 2, w, b),
        lambda x, w, b: group_norm_reference(x, 2, w, b),
        differentiable=(0, 1, 2),
    ),
    Case(
        "one group (layer norm over C, H, W)",
        _normal((2, 3, 2, 3)),
        lambda F, x: F.group_norm(x, 1),
        lambda x: group_norm_reference(x, 1),
    ),
    Case(
        "a group per channel (instance norm), eps",
        _normal((2, 3, 5), (3,), (3,)),
        lambda F, x, w, b: F.group_norm(x, 3, w, b, eps=1e-3),
        lambda x, w, b: group_norm_reference(x, 3, w, b, 1e-3),
        differentiable=(0, 1, 2),
    ),
    Case(
        "2-d input (N, C)",
        _normal((3, 6), (6,)),
        lambda F, x, w: F.group_norm(x, 2, w),
        lambda x, w: group_norm_reference(x, 2, w),
        differentiable=(0, 1),
    ),
    Case(
        "non-contiguous input",
        _normal((2, 5, 4), (4,), (4,)),
        lambda F, x, w, b: F.group_norm(x.transpose(1, 2), 2, w, b),
        lambda x, w, b: group_norm_reference(x.transpose(0, 2, 1), 2, w, b),
        differentiable=(0, 1, 2),
    ),
    Case(
        "double backward",
        _normal((1, 4, 3), (4,), (4,)),
        lambda F, x, w, b: F.group_norm(x, 2, w, b),
        lambda x, w, b: group_norm_reference(x, 2, w, b),
        differentiable=(0, 1, 2),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_group_norm(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_group_norm_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


def test_group_norm_refuses_bad_arguments() -> None:
    x = at.randn(2, 4, 3)
    with pytest.raises(TypeError, match="group_norm: input must be a Tensor"):
        F.group_norm(None, 2)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(
        ValueError, match=r"4 channels .* not divisible by num_groups=3"
    ):
        F.group_norm(x, 3)
    with pytest.raises(ValueError, match="num_groups must be a positive int"):
        F.group_norm(x, 0)
    with pytest.raises(ValueError, match="group_norm: input must be"):
        F.group_norm(at.randn(4), 2)
    with pytest.raises(ValueError, match=r"group_norm: bias must have shape \(4,\)"):
        F.group_norm(x, 2, at.randn(4), at.randn(2))
