from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def conv2d_reference(
    x: Any,
    w: Any,
    b: Any = None,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0)),
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
) -> Any:
    """The definition, one kernel offset at a time: padding given as (before,
    after) per spatial axis."""
    x = np.pad(x, ((0, 0), (0, 0), *padding))
    n, _, height, width = x.shape
    out_channels, per_group, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    ho = (height - dh * (kh - 1) - 1) // sh + 1
    wo = (width - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, out_channels, ho, wo))
    og = out_channels // groups
    for g in range(groups):
        xs = x[:, g * per_group : (g + 1) * per_group]
        ws = w[g * og : (g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xs[
                    :,
                    :,
                    i * dh : i * dh + sh * (ho - 1) + 1 : sh,
                    j * dw : j * dw + sw * (wo - 1) + 1 : sw,
                ]
                out[:, g * og : (g + 1) * og] += np.einsum(
                    "nchw,oc->nohw", patch, ws[:, :, i, j]
                )
    if b is not None:
        out += b[None, :, None, None]
    return out


def _normal(*shapes: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


CASES = [
    Case(
        "3x3 with bias",
        _normal((2, 3, 6, 5), (4, 3, 3, 3), (4,)),
        lambda F, x, w, b: F.conv2d(x, w, b),
        lambda x, w, b: conv2d_reference(x, w, b),
        differentiable=(0, 1, 2),
    ),
    Case(
        "stride, padding and dilation per axis",
        _normal((1, 2, 7, 8), (3, 2, 2, 3)),
        lambda F, x, w: F.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
        lambda x, w: conv2d_reference(x, w, None, (2, 1), ((1, 1), (2, 2)), (2, 1)),
        differentiable=(0, 1),
    ),
    Case(
        "groups=2 with bias, stride 2",
        _normal((2, 4, 5, 5), (6, 2, 3, 3), (6,)),
        lambda F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
        lambda x, w, b: conv2d_reference(x, w, b, (2, 2), ((1, 1), (1, 1)), (1, 1), 2),
        differentiable=(0, 1, 2),
    ),
    Case(
        "depthwise (groups = channels)",
        _normal((1, 3, 5, 4), (3, 1, 3, 2)),
        lambda F, x, w: F.conv2d(x, w, groups=3),
        lambda x, w: conv2d_reference(x, w, groups=3),
        differentiable=(0, 1),
    ),
    Case(
        "padding='same', even kernel, dilation (one more after)",
        _normal((1, 3, 5, 6), (2, 3, 2, 4), (2,)),
        lambda F, x, w, b: F.conv2d(x, w, b, padding="same", dilation=(1, 2)),
        lambda x, w, b: conv2d_reference(x, w, b, (1, 1), ((0, 1), (3, 3)), (1, 2)),
        differentiable=(0, 1, 2),
    ),
    Case(
        "padding='valid', 1x1 kernel",
        _normal((2, 3, 4, 4), (5, 3, 1, 1)),
        lambda F, x, w: F.conv2d(x, w, padding="valid"),
        lambda x, w: conv2d_reference(x, w),
        differentiable=(0, 1),
    ),
    Case(
        "unbatched (C, H, W)",
        _normal((3, 5, 5), (2, 3, 3, 3), (2,)),
        lambda F, x, w, b: F.conv2d(x, w, b, padding=1),
        lambda x, w, b: conv2d_reference(x[None], w, b, (1, 1), ((1, 1), (1, 1)))[0],
        differentiable=(0, 1, 2),
    ),
    Case(
        "non-contiguous input and weight (transposed views)",
        _normal((2, 3, 6, 5), (2, 3, 2, 3)),
        lambda F, x, w: F.conv2d(x.transpose(2, 3), w.transpose(2, 3), stride=(1, 2)),
        lambda x, w: conv2d_reference(
            x.transpose(0, 1, 3, 2), w.transpose(0, 1, 3, 2), stride=(1, 2)
        ),
        differentiable=(0, 1),
    ),
    Case(
        "double backward",
        _normal((1, 2, 4, 4), (2, 2, 2, 2), (2,)),
        lambda F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
        lambda x, w, b: conv2d_reference(x, w, b, (2, 2), ((1, 1), (1, 1))),
        differentiable=(0, 1, 2),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_float32(case: Case) -> None:
    check_float32(case, F, rtol=1e-5, atol=1e-5)


def test_conv2d_output_is_contiguous() -> None:
    y = F.conv2d(at.randn(2, 3, 5, 5), at.randn(4, 3, 3, 3), at.randn(4))
    assert y.shape == (2, 4, 3, 3)
    y.view(2, -1)  # a view needs the contiguous layout PyTorch gives


def test_conv2d_refuses_bad_arguments() -> None:
    x, w = at.randn(1, 4, 5, 5), at.randn(2, 4, 3, 3)
    with pytest.raises(TypeError, match="conv2d: input must be a Tensor"):
        F.conv2d(np.ones((1, 4, 5, 5)), w)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match=r"conv2d: input must be 3-d .* or 4-d"):
        F.conv2d(at.randn(4, 5), w)
    with pytest.raises(ValueError, match="conv2d: weight must be 4-d"):
        F.conv2d(x, at.randn(2, 4, 3))
    with pytest.raises(ValueError, match="input has 4 channels"):
        F.conv2d(x, at.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"out_channels .* divisible by groups=2"):
        F.conv2d(x, at.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="groups must be a positive int"):
        F.conv2d(x, w, groups=0)
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        F.conv2d(x, w, at.randn(3))
    with pytest.raises(TypeError, match="conv2d: weight has dtype float64"):
        F.conv2d(x, w.double())
    with pytest.raises(ValueError, match="padding must be 'valid', 'same'"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(TypeError, match="conv2d: stride must be an int or a tuple"):
        F.conv2d(x, w, stride=(1, 2, 3))
    with pytest.raises(ValueError, match="conv2d: stride must be at least 1"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="conv2d: padding must be at least 0"):
        F.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match="smaller than the kernel"):
        F.conv2d(x, at.randn(2, 4, 6, 6))


@pytest.mark.parametrize("groups", [1, 2])
def test_the_fused_backward_equals_the_composition(groups: int) -> None:
    """Eager backward runs the device's conv2d_backward_* operators; under
    create_graph the differentiable composition runs instead: the same
    gradients (float64, to the rounding of their sums)."""
    rng = np.random.default_rng(0)
    x = at.tensor(rng.standard_normal((3, 4, 7, 6)), requires_grad=True)
    w = at.tensor(rng.standard_normal((6, 4 // groups, 3, 2)), requires_grad=True)
    b = at.tensor(rng.standard_normal(6), requires_grad=True)
    g = at.tensor(rng.standard_normal((3, 6, 4, 6)))

    def out() -> at.Tensor:
        geometry = {"stride": (2, 1), "padding": (1, 1), "dilation": (1, 2)}
        return F.conv2d(x, w, b, groups=groups, **geometry)

    fused = at.grad((out() * g).sum(), (x, w, b))
    composed = at.grad((out() * g).sum(), (x, w, b), create_graph=True)
    for a, c in zip(fused, composed, strict=True):
        assert a is not None and c is not None
        np.testing.assert_allclose(
            a.numpy(), c.detach().numpy(), rtol=1e-12, atol=1e-12
        )
