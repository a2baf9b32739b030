from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32
from test_conv_conv2d import conv2d_reference

import actnet.neuron as F
import actnet.tensor as at


def conv1d_reference(
    x: Any,
    w: Any,
    b: Any = None,
    stride: int = 1,
    padding: tuple[int, int] = (0, 0),
    dilation: int = 1,
    groups: int = 1,
) -> Any:
    """conv2d's reference over a height of 1."""
    out = conv2d_reference(
        x[:, :, None],
        w[:, :, None],
        b,
        (1, stride),
        ((0, 0), padding),
        (1, dilation),
        groups,
    )
    return out[:, :, 0]


def _normal(*shapes: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


CASES = [
    Case(
        "kernel 3 with bias",
        _normal((2, 3, 9), (4, 3, 3), (4,)),
        lambda F, x, w, b: F.conv1d(x, w, b),
        lambda x, w, b: conv1d_reference(x, w, b),
        differentiable=(0, 1, 2),
    ),
    Case(
        "stride, padding, dilation, groups",
        _normal((2, 4, 11), (6, 2, 3), (6,)),
        lambda F, x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2),
        lambda x, w, b: conv1d_reference(x, w, b, 2, (2, 2), 2, 2),
        differentiable=(0, 1, 2),
    ),
    Case(
        "padding='same' with an even kernel (tuple arguments)",
        _normal((1, 2, 7), (3, 2, 4)),
        lambda F, x, w: F.conv1d(x, w, padding="same", dilation=(1,)),
        lambda x, w: conv1d_reference(x, w, padding=(1, 2)),
        differentiable=(0, 1),
    ),
    Case(
        "unbatched (C, L)",
        _normal((3, 8), (2, 3, 2)),
        lambda F, x, w: F.conv1d(x, w, stride=(3,)),
        lambda x, w: conv1d_reference(x[None], w, stride=3)[0],
        differentiable=(0, 1),
    ),
    Case(
        "non-contiguous input (a transposed (N, L, C) tensor)",
        _normal((2, 7, 3), (2, 3, 3)),
        lambda F, x, w: F.conv1d(x.transpose(1, 2), w, padding=1),
        lambda x, w: conv1d_reference(x.transpose(0, 2, 1), w, padding=(1, 1)),
        differentiable=(0, 1),
    ),
    Case(
        "double backward",
        _normal((1, 2, 5), (2, 2, 2), (2,)),
        lambda F, x, w, b: F.conv1d(x, w, b, padding=1),
        lambda x, w, b: conv1d_reference(x, w, b, padding=(1, 1)),
        differentiable=(0, 1, 2),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv1d(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv1d_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


def test_conv1d_refuses_bad_arguments() -> None:
    x, w = at.randn(2, 3, 8), at.randn(4, 3, 3)
    with pytest.raises(TypeError, match="conv1d: weight must be a Tensor"):
        F.conv1d(x, np.ones((4, 3, 3)))  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match=r"conv1d: input must be 2-d .* or 3-d"):
        F.conv1d(at.randn(1, 2, 3, 8), w)
    with pytest.raises(ValueError, match="conv1d: weight must be 3-d"):
        F.conv1d(x, at.randn(4, 3, 3, 3))
    with pytest.raises(
        TypeError, match="conv1d: padding must be an int or a tuple of 1"
    ):
        F.conv1d(x, w, padding=(1, 1))
    with pytest.raises(TypeError, match="conv1d: input must have a floating dtype"):
        F.conv1d(at.tensor(np.ones((2, 3, 8), dtype=np.int64)), w)
