from __future__ import annotations

from typing import Any

import pytest
from harness import Case, check, check_float32
from test_conv_conv_transpose2d import conv_transpose_reference

import actnet.neuron as F
import actnet.tensor as at


def _normal(*shapes: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


CASES = [
    Case(
        "k=3 with bias",
        _normal((2, 3, 6), (3, 4, 3), (4,)),
        lambda F, x, w, b: F.conv_transpose1d(x, w, b),
        lambda x, w, b: conv_transpose_reference(x, w, b, (1,), (0,), (0,), 1, (1,)),
        differentiable=(0, 1, 2),
    ),
    Case(
        "stride 3, padding 1, output_padding 2, dilation 2",
        _normal((2, 2, 5), (2, 3, 3), (3,)),
        lambda F, x, w, b: F.conv_transpose1d(
            x, w, b, stride=3, padding=1, output_padding=2, dilation=2
        ),
        lambda x, w, b: conv_transpose_reference(x, w, b, (3,), (1,), (2,), 1, (2,)),
        differentiable=(0, 1, 2),
    ),
    Case(
        "groups=2, 1-tuples",
        _normal((1, 4, 4), (4, 3, 2)),
        lambda F, x, w: F.conv_transpose1d(
            x, w, stride=(2,), padding=(1,), output_padding=(1,), groups=2
        ),
        lambda x, w: conv_transpose_reference(x, w, None, (2,), (1,), (1,), 2, (1,)),
        differentiable=(0, 1),
    ),
    Case(
        "unbatched (C, L)",
        _normal((3, 5), (3, 2, 4), (2,)),
        lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1),
        lambda x, w, b: conv_transpose_reference(
            x[None], w, b, (2,), (1,), (0,), 1, (1,)
        )[0],
        differentiable=(0, 1, 2),
    ),
    Case(
        "double backward",
        _normal((2, 2, 3), (2, 2, 3), (2,)),
        lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=2, output_padding=1),
        lambda x, w, b: conv_transpose_reference(x, w, b, (2,), (0,), (1,), 1, (1,)),
        differentiable=(0, 1, 2),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose1d(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose1d_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


def test_conv_transpose1d_refuses_bad_arguments() -> None:
    # PyTorch runs conv_transpose1d as a 2-d convolution of height 1, and its
    # messages say so: so do ours
    x, w = at.randn(1, 4, 5), at.randn(4, 2, 3)
    with pytest.raises(
        RuntimeError,
        match=r"Expected 2D \(unbatched\) or 3D \(batched\) input to "
        r"conv_transpose1d, but got input of size: \[4, 5, 5, 5\]",
    ):
        F.conv_transpose1d(at.randn(4, 5, 5, 5), w)
    with pytest.raises(
        RuntimeError,
        match="output padding must be smaller than either stride or dilation, but "
        "got output_padding_height: 0 output_padding_width: 1 stride_height: 1 "
        "stride_width: 1 dilation_height: 1 dilation_width: 1",
    ):
        F.conv_transpose1d(x, w, output_padding=1)
    with pytest.raises(RuntimeError, match="dilation_height: 1, dilation_width: 0"):
        F.conv_transpose1d(x, w, dilation=0)
    with pytest.raises(
        RuntimeError,
        match=r"Given input size per channel: \(1 x 5\)\. Calculated output size per "
        r"channel: \(1 x -1\)\. Output size is too small",
    ):
        F.conv_transpose1d(x, w, padding=4)
    with pytest.raises(RuntimeError, match=r"but got input shape: \[1, 4, 1, 0\]"):
        F.conv_transpose1d(at.randn(1, 4, 0), w)
    with pytest.raises(
        RuntimeError,
        match=r"non-empty 2D or 4D weight tensor expected, but got: "
        r"\[4, 0, 1, 3\]",
    ):
        F.conv_transpose1d(x, at.randn(4, 0, 3))
    with pytest.raises(
        RuntimeError,
        match=r"weight of size \[3, 2, 3\], expected input\[1, 4, 5\] to have "
        "3 channels, but got 4 channels instead",
    ):
        F.conv_transpose1d(x, at.randn(3, 2, 3))
    with pytest.raises(TypeError, match="conv_transpose1d: stride must be an int or"):
        F.conv_transpose1d(x, w, stride=(1, 2))
    assert F.conv_transpose1d(x, w, stride=1, dilation=2, output_padding=1).shape == (
        1,
        2,
        10,
    )
