"""ConvTranspose1d and ConvTranspose2d against a NumPy transposed convolution
(each input element times the kernel, scattered into the output), gradients by
central differences, output_size, PyTorch's initialisation (fan-in from the
weight's second dim), repr, state-dict keys and bad arguments."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn


def _scatter_oracle(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    output_padding: tuple[int, ...],
    groups: int,
    dilation: tuple[int, ...],
) -> np.ndarray:
    """(N, C, *spatial) transposed convolution, one input element at a time."""
    batch, channels, *size = x.shape
    _, per_group, *kernel = w.shape
    out = [
        (m - 1) * s - 2 * p + d * (k - 1) + e + 1
        for m, s, p, d, k, e in zip(
            size, stride, padding, dilation, kernel, output_padding, strict=True
        )
    ]
    grid = [max(p + o, (m - 1) * s + d * (k - 1) + 1)
            for p, o, m, s, d, k in zip(padding, out, size, stride, dilation,
                                        kernel, strict=True)]  # fmt: skip
    full = np.zeros((batch, per_group * groups, *grid))
    per_input = channels // groups
    for c in range(channels):
        first = c // per_input * per_group
        for i in np.ndindex(*size):
            for j in np.ndindex(*kernel):
                target = tuple(
                    a * s + q * d
                    for a, s, q, d in zip(i, stride, j, dilation, strict=True)
                )
                index = (slice(None), slice(first, first + per_group), *target)
                full[index] += (
                    x[(slice(None), c, *i)][:, None] * w[(c, slice(None), *j)]
                )
    crop = tuple(slice(p, p + o) for p, o in zip(padding, out, strict=True))
    result = full[(slice(None), slice(None), *crop)]
    if b is not None:
        result = result + b.reshape((1, -1) + (1,) * len(size))
    return result


CASES: list[tuple[str, int, dict[str, Any], tuple[int, ...]]] = [
    ("1d", 1, {}, (2, 4, 5)),
    (
        "1d-args",
        1,
        {"stride": 3, "padding": 1, "output_padding": 2, "groups": 2, "dilation": 2},
        (2, 4, 4),
    ),
    ("2d", 2, {}, (2, 4, 3, 4)),
    ("2d-dcgan", 2, {"kernel_size": 4, "stride": 2, "padding": 1}, (1, 4, 3, 3)),
    (
        "2d-args",
        2,
        {
            "kernel_size": (3, 2),
            "stride": (2, 3),
            "padding": (1, 0),
            "output_padding": (1, 2),
            "groups": 2,
            "dilation": (1, 2),
            "bias": False,
        },
        (2, 4, 3, 3),
    ),
    ("2d-unbatched", 2, {"stride": 2, "output_padding": 1}, (4, 3, 3)),
]


@pytest.mark.parametrize(
    ("name", "dims", "kwargs", "shape"), CASES, ids=[c[0] for c in CASES]
)
def test_conv_transpose_matches_numpy_and_gradients(
    name: str, dims: int, kwargs: dict[str, Any], shape: tuple[int, ...]
) -> None:
    kwargs = dict(kwargs)
    kernel = kwargs.pop("kernel_size", 3)
    cls = nn.ConvTranspose1d if dims == 1 else nn.ConvTranspose2d
    conv = cls(4, 6, kernel, dtype=at.float64, **kwargs)
    x = np.random.default_rng(0).standard_normal(shape)
    batched = x if len(shape) == dims + 2 else x[None]
    expected = _scatter_oracle(
        batched,
        to_numpy(conv.weight),
        None if conv.bias is None else to_numpy(conv.bias),
        conv.stride,
        conv.padding,
        conv.output_padding,
        conv.groups,
        conv.dilation,
    )
    if len(shape) != dims + 2:
        expected = expected[0]
    out = conv(at.tensor(x))
    assert out.shape == expected.shape
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-10, atol=1e-12)
    check_module_grads(conv, [x[:1] if len(shape) == dims + 2 else x])


def test_parameters_follow_pytorchs_layout() -> None:
    conv = nn.ConvTranspose2d(6, 8, (3, 2), groups=2)
    assert conv.weight.shape == (6, 4, 3, 2)  # (in, out / groups, *kernel)
    assert conv.bias is not None and conv.bias.shape == (8,)
    assert conv.weight.dtype == at.float32
    assert conv.transposed and not nn.Conv2d(6, 8, 3).transposed
    assert list(conv.state_dict()) == ["weight", "bias"]
    assert list(nn.ConvTranspose1d(3, 6, 3, bias=False).state_dict()) == ["weight"]
    assert nn.ConvTranspose1d(3, 6, 5).weight.shape == (3, 6, 5)


def test_init_bounds_follow_the_weights_fan_in() -> None:
    # PyTorch computes fan_in from weight.shape[1] * prod(kernel): out_channels /
    # groups * kH * kW for a transposed convolution (here 8 * 9 = 72, where
    # in_channels / groups * 9 would give 576)
    conv = nn.ConvTranspose2d(64, 16, 3, groups=2, dtype=at.float64)
    bound = 1 / math.sqrt(16 // 2 * 9)
    w = to_numpy(conv.weight)
    assert w.shape == (64, 8, 3, 3)
    assert np.abs(w).max() <= bound
    # 4608 uniform draws: the largest within 0.5% of the bound (the chance it is
    # not is 0.995 ** 4608, about 1e-10) and the std within 3% of b/sqrt(3)
    # (over 4 standard errors of about 0.65%)
    assert np.abs(w).max() > 0.995 * bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.03
    big = nn.ConvTranspose2d(4, 3000, 1, dtype=at.float64)
    bias_bound = 1 / math.sqrt(3000)
    assert big.bias is not None
    bias = to_numpy(big.bias)
    assert np.abs(bias).max() <= bias_bound
    assert np.abs(bias).max() > 0.99 * bias_bound
    assert abs(bias.std() / (bias_bound / math.sqrt(3)) - 1) < 0.05
    conv.reset_parameters()  # draws again
    assert not np.array_equal(to_numpy(conv.weight), w)


def test_output_size_picks_the_output_padding() -> None:
    down = nn.Conv2d(3, 5, 3, stride=2, padding=1, dtype=at.float64)
    up = nn.ConvTranspose2d(5, 3, 3, stride=2, padding=1, dtype=at.float64)
    for size in ((7, 8), (8, 7), (8, 8), (7, 7)):
        x = at.randn(2, 3, *size, dtype=at.float64)
        h = down(x)
        assert up(h, output_size=size).shape == x.shape
        assert up(h, output_size=x.shape).shape == x.shape  # the whole shape
        assert up(h, output_size=list(size)).shape == x.shape
        assert up(h[0], output_size=x.shape[1:]).shape == x.shape[1:]
    # the same values as the output_padding it stands for
    h = at.randn(1, 5, 4, 4, dtype=at.float64)
    by_size = up(h, output_size=(8, 7))
    up.output_padding = (1, 0)
    np.testing.assert_array_equal(to_numpy(by_size), to_numpy(up(h)))
    assert nn.ConvTranspose1d(2, 2, 3, stride=3)(
        at.randn(2, 4), output_size=[12]
    ).shape == (2, 12)


def test_output_size_refusals_are_pytorchs() -> None:
    up = nn.ConvTranspose2d(4, 4, 3, stride=2)
    with pytest.raises(
        ValueError,
        match=r"requested an output size of \[9, 9\], but valid sizes range from "
        r"\[7, 7\] to \[8, 8\] \(for an input of \(3, 3\)\)",
    ):
        up(at.randn(1, 4, 3, 3), output_size=[9, 9])
    with pytest.raises(
        ValueError,
        match=r"ConvTranspose2D: for 3D input, output_size must have 2 or 3 "
        r"elements \(got 4\)",
    ):
        up(at.randn(4, 3, 3), output_size=[1, 4, 8, 7])
    with pytest.raises(TypeError, match="output_size must be a sequence of ints"):
        up(at.randn(1, 4, 3, 3), output_size=8)  # type: ignore[arg-type]  # on purpose


def test_repr() -> None:
    assert (
        repr(nn.ConvTranspose2d(3, 6, 3))
        == "ConvTranspose2d(3, 6, kernel_size=(3, 3), stride=(1, 1))"
    )
    assert repr(
        nn.ConvTranspose2d(
            4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False,
            dilation=2,
        )
    ) == (
        "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
        "dilation=(2, 2), output_padding=(1, 1), groups=2, bias=False)"
    )  # fmt: skip
    assert (
        repr(nn.ConvTranspose1d(3, 6, 3, output_padding=0, stride=2))
        == "ConvTranspose1d(3, 6, kernel_size=(3,), stride=(2,))"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"padding_mode": "reflect"}, ValueError, 'Only "zeros" padding mode'),
        ({"groups": 4}, ValueError, "in_channels must be divisible by groups"),
        ({"groups": 3, "in_channels": 3}, ValueError, "out_channels must be divisible"),
        ({"groups": 0}, ValueError, "groups must be a positive integer"),
        ({"padding": "same"}, TypeError, "padding must be an int or 2 ints"),
        ({"output_padding": -1}, ValueError, "output_padding must be at least 0"),
        ({"output_padding": (1, 2, 3)}, ValueError, "output_padding must be an int"),
        ({"stride": 0}, ValueError, "stride"),
        ({"kernel_size": (3, 3, 3)}, ValueError, "kernel_size"),
        ({"dilation": 1.5}, TypeError, "dilation"),
    ],
)
def test_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    args = {"in_channels": 6, "out_channels": 8, "kernel_size": 3, **kwargs}
    with pytest.raises(error, match=match):
        nn.ConvTranspose2d(**args)


def test_bad_inputs() -> None:
    # PyTorch builds the layer and refuses in forward, with the function's words
    with pytest.raises(
        RuntimeError, match="output padding must be smaller than either stride or"
    ):
        nn.ConvTranspose2d(2, 2, 3, output_padding=1)(at.ones(1, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"expected input.* to have 3 channels"):
        nn.ConvTranspose2d(3, 2, 3)(at.ones(1, 4, 5, 5))
    with pytest.raises(TypeError, match="ConvTranspose2d: input must be a Tensor"):
        nn.ConvTranspose2d(3, 2, 3)(np.ones((1, 3, 5, 5)))
