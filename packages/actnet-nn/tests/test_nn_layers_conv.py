"""Conv1d and Conv2d against a NumPy convolution (explicit windows), every
padding mode and 'same'/'valid', gradients by central differences, init
bounds, repr, state-dict keys and bad arguments."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn

_NP_MODE = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


def _conv_oracle(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
    groups: int,
    mode: str,
) -> np.ndarray:
    """(N, C, *spatial) cross-correlation by explicit loops over output positions."""
    n, c = x.shape[:2]
    x = np.pad(x, ((0, 0), (0, 0), *pads), mode=_NP_MODE[mode])  # type: ignore[call-overload]
    kernel = w.shape[2:]
    spatial = x.shape[2:]
    out_shape = tuple(
        (s - d * (k - 1) - 1) // st + 1
        for s, k, d, st in zip(spatial, kernel, dilation, stride, strict=True)
    )
    out_c = w.shape[0]
    per_in, per_out = c // groups, out_c // groups
    out = np.zeros((n, out_c, *out_shape))
    for pos in np.ndindex(*out_shape):
        window_index = tuple(
            slice(p * st, p * st + d * (k - 1) + 1, d)
            for p, st, d, k in zip(pos, stride, dilation, kernel, strict=True)
        )
        for g in range(groups):
            window = x[
                (slice(None), slice(g * per_in, (g + 1) * per_in), *window_index)
            ]
            weights = w[g * per_out : (g + 1) * per_out]
            axes = tuple(range(1, window.ndim))
            out[(slice(None), slice(g * per_out, (g + 1) * per_out), *pos)] = (
                np.tensordot(window, weights, axes=(axes, axes))
            )
    if b is not None:
        out += b.reshape((1, -1) + (1,) * len(kernel))
    return out


def _same_pads(
    kernel: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[int, int], ...]:
    # PyTorch puts the odd element of the total padding d*(k-1) after
    return tuple(
        (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
        for k, d in zip(kernel, dilation, strict=True)
    )


CASES: list[tuple[str, int, dict[str, Any], tuple[int, ...]]] = [
    ("1d", 1, {}, (2, 4, 9)),
    (
        "1d-args",
        1,
        {"stride": 2, "padding": 2, "dilation": 2, "groups": 2, "bias": False},
        (2, 4, 11),
    ),
    ("1d-same", 1, {"padding": "same", "dilation": 2}, (2, 4, 9)),
    ("1d-reflect", 1, {"padding": 2, "padding_mode": "reflect"}, (2, 4, 9)),
    ("2d", 2, {}, (2, 4, 6, 7)),
    (
        "2d-args",
        2,
        {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2},
        (2, 4, 8, 7),
    ),
    (
        "2d-same-even-kernel",
        2,
        {"padding": "same", "kernel_size": (2, 4)},
        (1, 4, 5, 6),
    ),
    ("2d-valid", 2, {"padding": "valid"}, (1, 4, 5, 6)),
    ("2d-circular", 2, {"padding": 1, "padding_mode": "circular"}, (2, 4, 5, 6)),
    ("2d-replicate", 2, {"padding": (2, 1), "padding_mode": "replicate"}, (1, 4, 5, 6)),
    (
        "2d-reflect-same",
        2,
        {"padding": "same", "padding_mode": "reflect"},
        (1, 4, 5, 6),
    ),
]


@pytest.mark.parametrize(
    ("name", "dims", "kwargs", "shape"), CASES, ids=[c[0] for c in CASES]
)
def test_conv_matches_numpy_and_gradients(
    name: str, dims: int, kwargs: dict[str, Any], shape: tuple[int, ...]
) -> None:
    kwargs = dict(kwargs)
    kernel = kwargs.pop("kernel_size", 3)
    cls = nn.Conv1d if dims == 1 else nn.Conv2d
    conv = cls(4, 6, kernel, dtype=at.float64, **kwargs)
    x = np.random.default_rng(0).standard_normal(shape)
    ks = conv.kernel_size
    if conv.padding == "same":
        pads = _same_pads(ks, conv.dilation)
    elif conv.padding == "valid":
        pads = ((0, 0),) * dims
    else:
        pads = tuple((p, p) for p in conv.padding)
    expected = _conv_oracle(
        x,
        to_numpy(conv.weight),
        None if conv.bias is None else to_numpy(conv.bias),
        conv.stride,
        pads,
        conv.dilation,
        conv.groups,
        conv.padding_mode,
    )
    out = conv(at.tensor(x))
    assert out.shape == expected.shape
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-10, atol=1e-12)
    check_module_grads(conv, [x[:1]])


def test_unbatched_input_gives_unbatched_output() -> None:
    conv = nn.Conv1d(3, 2, 3, dtype=at.float64)
    x = np.random.default_rng(1).standard_normal((3, 7))
    np.testing.assert_allclose(
        to_numpy(conv(at.tensor(x))), to_numpy(conv(at.tensor(x[None])))[0], atol=1e-14
    )


def test_init_bounds_follow_fan_in() -> None:
    conv = nn.Conv2d(16, 64, 3, groups=4, dtype=at.float64)
    bound = 1 / math.sqrt(16 // 4 * 9)  # fan_in = in_channels / groups * k * k
    w = to_numpy(conv.weight)
    assert w.shape == (64, 4, 3, 3)
    assert np.abs(w).max() <= bound
    # 2304 uniform draws: the std estimate is within 3% of b/sqrt(3) with a
    # margin of over 3 standard errors (about 0.9% each)
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.03
    assert conv.bias is not None and np.abs(to_numpy(conv.bias)).max() <= bound


def test_repr_and_state_dict_keys() -> None:
    assert repr(nn.Conv2d(3, 6, 3)) == "Conv2d(3, 6, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(
        nn.Conv2d(
            4,
            6,
            (3, 2),
            stride=2,
            padding=1,
            dilation=2,
            groups=2,
            bias=False,
            padding_mode="circular",
        )
    ) == (
        "Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), "
        "dilation=(2, 2), groups=2, bias=False, padding_mode=circular)"
    )
    assert (
        repr(nn.Conv1d(3, 6, 3, padding="same"))
        == "Conv1d(3, 6, kernel_size=(3,), stride=(1,), padding=same)"
    )
    assert list(nn.Conv1d(3, 6, 3).state_dict()) == ["weight", "bias"]
    assert list(nn.Conv1d(3, 6, 3, bias=False).state_dict()) == ["weight"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"groups": 4}, ValueError, "divisible"),
        ({"groups": 0}, ValueError, "groups"),
        ({"padding": "full"}, ValueError, "padding"),
        ({"padding": "same", "stride": 2}, ValueError, "strided"),
        ({"padding_mode": "mirror"}, ValueError, "padding_mode"),
        ({"stride": 0}, ValueError, "stride"),
        ({"kernel_size": (3, 3, 3)}, ValueError, "kernel_size"),
        ({"dilation": 1.5}, TypeError, "dilation"),
    ],
)
def test_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    args = {"in_channels": 6, "out_channels": 6, "kernel_size": 3, **kwargs}
    with pytest.raises(error, match=match):
        nn.Conv2d(**args)


def test_bad_inputs() -> None:
    with pytest.raises((ValueError, RuntimeError)):
        nn.Conv2d(3, 2, 3)(at.ones(1, 4, 5, 5))  # wrong channel count
    with pytest.raises(ValueError, match="padding_mode='reflect'"):
        nn.Conv1d(1, 1, 3, padding=4, padding_mode="reflect")(at.ones(1, 1, 3))
