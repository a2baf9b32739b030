from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def conv_transpose_reference(
    x: Any,
    w: Any,
    b: Any = None,
    stride: Sequence[int] = (1, 1),
    padding: Sequence[int] = (0, 0),
    output_padding: Sequence[int] = (0, 0),
    groups: int = 1,
    dilation: Sequence[int] = (1, 1),
) -> Any:
    """The definition, one input element at a time, for any number of spatial
    axes: x[n, c, i] times the kernel w[c, o] is added into the output at
    i * stride - padding + j * dilation for every kernel offset j; output_padding
    only lengthens the output (float64)."""
    batch, channels, *size = x.shape
    _, per_group, *kernel = w.shape
    per_input = channels // groups
    out = [
        (m - 1) * s - 2 * p + d * (k - 1) + e + 1
        for m, s, p, d, k, e in zip(
            size, stride, padding, dilation, kernel, output_padding, strict=True
        )
    ]
    # scatter into the uncropped grid, then drop `padding` from its start
    reach = [
        max(p + o, (m - 1) * s + d * (k - 1) + 1)
        for p, o, m, s, d, k in zip(
            padding, out, size, stride, dilation, kernel, strict=True
        )
    ]
    full = np.zeros((batch, per_group * groups, *reach))
    for n in range(batch):
        for c in range(channels):
            g = c // per_input
            for i in np.ndindex(*size):
                for j in np.ndindex(*kernel):
                    at_ = tuple(
                        a * s + q * d
                        for a, s, q, d in zip(i, stride, j, dilation, strict=True)
                    )
                    for o in range(per_group):
                        full[(n, g * per_group + o, *at_)] += (
                            x[(n, c, *i)] * w[(c, o, *j)]
                        )
    crop = tuple(slice(p, p + o) for p, o in zip(padding, out, strict=True))
    result = full[(slice(None), slice(None), *crop)]
    if b is not None:
        result = result + b.reshape((1, -1) + (1,) * len(size))
    return result


def _normal(*shapes: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


CASES = [
    Case(
        "3x3 with bias",
        _normal((2, 3, 4, 5), (3, 4, 3, 3), (4,)),
        lambda F, x, w, b: F.conv_transpose2d(x, w, b),
        lambda x, w, b: conv_transpose_reference(x, w, b),
        differentiable=(0, 1, 2),
    ),
    Case(
        "4x4, stride 2, padding 1 (doubles the size, DCGAN's)",
        _normal((2, 3, 3, 4), (3, 2, 4, 4), (2,)),
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
        lambda x, w, b: conv_transpose_reference(x, w, b, (2, 2), (1, 1)),
        differentiable=(0, 1, 2),
    ),
    Case(
        "stride 2, padding 1, output_padding 1",
        _normal((1, 2, 3, 3), (2, 3, 3, 3), (3,)),
        lambda F, x, w, b: F.conv_transpose2d(
            x, w, b, stride=2, padding=1, output_padding=1
        ),
        lambda x, w, b: conv_transpose_reference(x, w, b, (2, 2), (1, 1), (1, 1)),
        differentiable=(0, 1, 2),
    ),
    Case(
        "stride, padding, output_padding and dilation per axis",
        _normal((2, 2, 3, 4), (2, 3, 2, 3)),
        lambda F, x, w: F.conv_transpose2d(
            x, w, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2)
        ),
        lambda x, w: conv_transpose_reference(
            x, w, None, (2, 3), (1, 0), (1, 2), 1, (1, 2)
        ),
        differentiable=(0, 1),
    ),
    Case(
        "output_padding allowed by the dilation (stride 1)",
        _normal((1, 2, 4, 3), (2, 2, 3, 2), (2,)),
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, output_padding=1, dilation=2),
        lambda x, w, b: conv_transpose_reference(
            x, w, b, (1, 1), (0, 0), (1, 1), 1, (2, 2)
        ),
        differentiable=(0, 1, 2),
    ),
    Case(
        "output_padding past the windows' reach (padding 0: zeros, then the bias)",
        _normal((1, 2, 2, 3), (2, 2, 2, 2), (2,)),
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=3, output_padding=2),
        lambda x, w, b: conv_transpose_reference(x, w, b, (3, 3), (0, 0), (2, 2)),
        differentiable=(0, 1, 2),
    ),
    Case(
        "1x1 kernel, stride 2 (holes between the pixels)",
        _normal((2, 3, 3, 2), (3, 2, 1, 1)),
        lambda F, x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1),
        lambda x, w: conv_transpose_reference(x, w, None, (2, 2), (0, 0), (1, 1)),
        differentiable=(0, 1),
    ),
    Case(
        "padding crops more than a kernel's overlap",
        _normal((1, 2, 4, 5), (2, 3, 3, 3), (3,)),
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=(3, 2)),
        lambda x, w, b: conv_transpose_reference(x, w, b, (2, 2), (3, 2)),
        differentiable=(0, 1, 2),
    ),
    Case(
        "groups=2 with bias, stride 2",
        _normal((2, 4, 3, 3), (4, 3, 3, 3), (6,)),
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, groups=2),
        lambda x, w, b: conv_transpose_reference(x, w, b, (2, 2), (1, 1), (0, 0), 2),
        differentiable=(0, 1, 2),
    ),
    Case(
        "groups=3, two outputs per group, dilation 2",
        _normal((1, 3, 3, 4), (3, 2, 2, 3)),
        lambda F, x, w: F.conv_transpose2d(x, w, groups=3, dilation=2),
        lambda x, w: conv_transpose_reference(x, w, None, groups=3, dilation=(2, 2)),
        differentiable=(0, 1),
    ),
    Case(
        "unbatched (C, H, W)",
        _normal((3, 4, 4), (3, 2, 3, 3), (2,)),
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
        lambda x, w, b: conv_transpose_reference(x[None], w, b, (2, 2), (1, 1))[0],
        differentiable=(0, 1, 2),
    ),
    Case(
        "non-contiguous input and weight (transposed views)",
        _normal((2, 3, 5, 4), (3, 2, 3, 2)),
        lambda F, x, w: F.conv_transpose2d(
            x.transpose(2, 3), w.transpose(2, 3), stride=(1, 2)
        ),
        lambda x, w: conv_transpose_reference(
            x.transpose(0, 1, 3, 2), w.transpose(0, 1, 3, 2), stride=(1, 2)
        ),
        differentiable=(0, 1),
    ),
    Case(
        "double backward",
        _normal((1, 2, 3, 3), (2, 2, 2, 2), (2,)),
        lambda F, x, w, b: F.conv_transpose2d(
            x, w, b, stride=2, padding=1, output_padding=1
        ),
        lambda x, w, b: conv_transpose_reference(x, w, b, (2, 2), (1, 1), (1, 1)),
        differentiable=(0, 1, 2),
        double_backward=True,
    ),
    Case(
        "double backward, groups and dilation",
        _normal((1, 4, 3, 2), (4, 1, 2, 2)),
        lambda F, x, w: F.conv_transpose2d(x, w, groups=2, dilation=(2, 1), stride=2),
        lambda x, w: conv_transpose_reference(
            x, w, None, (2, 2), groups=2, dilation=(2, 1)
        ),
        differentiable=(0, 1),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose2d(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose2d_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


def test_conv_transpose2d_output_size_and_contiguity() -> None:
    # (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    y = F.conv_transpose2d(
        at.randn(2, 3, 5, 6),
        at.randn(3, 4, 3, 2),
        at.randn(4),
        stride=(2, 3),
        padding=(1, 2),
        output_padding=(1, 0),
        dilation=(1, 2),
    )
    assert y.shape == (2, 4, 4 * 2 - 2 + 2 + 1 + 1, 5 * 3 - 4 + 2 + 0 + 1)
    y.view(2, -1)  # a view needs the contiguous layout PyTorch gives


def test_conv_transpose2d_is_conv2d_input_gradient() -> None:
    """The definition from the other side: the transposed convolution of g is
    the gradient of <conv2d(x, w), g> with respect to x."""
    rng = np.random.default_rng(3)
    w = at.tensor(rng.standard_normal((4, 3, 3, 2)))  # conv2d's (O, C/g, kH, kW)
    x = at.tensor(rng.standard_normal((2, 6, 9, 8)), requires_grad=True)
    y = F.conv2d(x, w, stride=(2, 3), padding=(1, 0), dilation=(2, 1), groups=2)
    g = rng.standard_normal(y.shape)
    (y * at.tensor(g)).sum().backward()
    assert x.grad is not None
    # conv2d's output misses the input's last rows/columns that no window
    # reaches: output_padding gives them back
    rows = 9 - ((y.shape[2] - 1) * 2 - 2 + 2 * 2 + 1)
    cols = 8 - ((y.shape[3] - 1) * 3 + 1 + 1)
    z = F.conv_transpose2d(
        at.tensor(g),
        w,
        stride=(2, 3),
        padding=(1, 0),
        output_padding=(rows, cols),
        groups=2,
        dilation=(2, 1),
    )
    np.testing.assert_allclose(z.numpy(), x.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_empty_batch() -> None:
    w = at.randn(3, 2, 3, 3, requires_grad=True)
    y = F.conv_transpose2d(at.randn(0, 3, 4, 4), w, at.ones(2), stride=2)
    assert y.shape == (0, 2, 9, 9)
    y.sum().backward()
    assert w.grad is not None
    assert np.all(w.grad.numpy() == 0)


def test_conv_transpose2d_computes_only_the_asked_gradients() -> None:
    x = at.randn(1, 2, 3, 3, requires_grad=True)
    w = at.randn(2, 2, 2, 2)
    F.conv_transpose2d(x, w, at.randn(2), stride=2).sum().backward()
    assert x.grad is not None and w.grad is None
    # sum of the output: every input pixel reaches each output channel through
    # every kernel tap once
    expected = np.broadcast_to(w.numpy().sum((1, 2, 3))[None, :, None, None], x.shape)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_conv_transpose2d_refuses_bad_arguments() -> None:
    x, w = at.randn(1, 4, 5, 5), at.randn(4, 2, 3, 3)
    with pytest.raises(TypeError, match="conv_transpose2d: input must be a Tensor"):
        F.conv_transpose2d(np.ones((1, 4, 5, 5)), w)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(
        TypeError, match="conv_transpose2d: weight must have a floating"
    ):
        F.conv_transpose2d(x, at.ones(4, 2, 3, 3, dtype=at.int64))
    with pytest.raises(
        RuntimeError,
        match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to "
        r"conv_transpose2d, but got input of size: \[4, 5\]",
    ):
        F.conv_transpose2d(at.randn(4, 5), w)
    with pytest.raises(RuntimeError, match="conv_transpose2d: weight must be 4-d"):
        F.conv_transpose2d(x, at.randn(4, 2, 3))
    with pytest.raises(TypeError, match="conv_transpose2d: weight has dtype float64"):
        F.conv_transpose2d(x, w.double())
    with pytest.raises(
        RuntimeError,
        match=r"output padding must be smaller than either stride or dilation, but "
        r"got output_padding_height: 1 output_padding_width: 1 stride_height: 1 "
        r"stride_width: 1 dilation_height: 1 dilation_width: 1",
    ):
        F.conv_transpose2d(x, w, output_padding=1)
    with pytest.raises(
        RuntimeError,
        match="output_padding_height: 1 output_padding_width: 1 stride_height: 2 "
        "stride_width: 1",
    ):
        F.conv_transpose2d(x, w, stride=(2, 1), output_padding=1)
    with pytest.raises(
        RuntimeError,
        match=r"Given groups=3, expected weight to be divisible by 3 at dimension 0, "
        r"but got weight of size \[4, 2, 3, 3\] instead",
    ):
        F.conv_transpose2d(x, w, groups=3)
    with pytest.raises(
        RuntimeError,
        match=r"Given transposed=1, weight of size \[3, 2, 3, 3\], expected "
        r"input\[1, 4, 5, 5\] to have 3 channels, but got 4 channels instead",
    ):
        F.conv_transpose2d(x, at.randn(3, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"input\[1, 4, 5, 5\] to have 3 channels"):
        F.conv_transpose2d(at.randn(4, 5, 5), at.randn(3, 2, 3, 3))
    with pytest.raises(
        RuntimeError,
        match=r"expected bias to be 1-dimensional with 4 elements, but got bias of "
        r"size \[2\] instead",
    ):
        F.conv_transpose2d(x, w, at.randn(2), groups=2)
    with pytest.raises(RuntimeError, match="non-positive groups is not supported"):
        F.conv_transpose2d(x, w, groups=0)
    with pytest.raises(TypeError, match="conv_transpose2d: groups must be an int"):
        F.conv_transpose2d(x, w, groups=1.5)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(
        RuntimeError, match="expected weight to be at least 1 at dimension 0"
    ):
        F.conv_transpose2d(at.randn(1, 0, 3, 3), at.randn(0, 2, 2, 2))
    with pytest.raises(
        RuntimeError,
        match=r"non-empty 2D or 4D weight tensor expected, but got: \[4, 0, 3, 3\]",
    ):
        F.conv_transpose2d(x, at.randn(4, 0, 3, 3))
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        F.conv_transpose2d(x, w, stride=0)
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        F.conv_transpose2d(x, w, padding=(0, -1))
    with pytest.raises(RuntimeError, match="negative output_padding is not supported"):
        F.conv_transpose2d(x, w, stride=2, output_padding=-1)
    with pytest.raises(
        RuntimeError,
        match="dilation should be greater than zero, but got dilation_height: 2, "
        "dilation_width: 0",
    ):
        F.conv_transpose2d(x, w, dilation=(2, 0))
    with pytest.raises(
        TypeError, match="conv_transpose2d: stride must be an int or a tuple of 2"
    ):
        F.conv_transpose2d(x, w, stride=(1, 2, 3))
    with pytest.raises(
        TypeError, match="conv_transpose2d: padding must be an int or a tuple"
    ):
        F.conv_transpose2d(x, w, padding="same")
    with pytest.raises(
        RuntimeError,
        match=r"Only zero batch or zero channel inputs are supported, but got input "
        r"shape: \[1, 4, 0, 5\]",
    ):
        F.conv_transpose2d(at.randn(1, 4, 0, 5), w)
    with pytest.raises(
        RuntimeError,
        match=r"Given input size per channel: \(5 x 5\)\. Calculated output size per "
        r"channel: \(-1 x -1\)\. Output size is too small",
    ):
        F.conv_transpose2d(x, w, padding=4)
    with pytest.raises(
        RuntimeError, match=r"\(1 x 1\)\. Calculated output size per channel: \(2 x 0\)"
    ):
        F.conv_transpose2d(
            at.randn(1, 1, 1, 1), at.randn(1, 1, 2, 2), stride=2, padding=(0, 1)
        )
