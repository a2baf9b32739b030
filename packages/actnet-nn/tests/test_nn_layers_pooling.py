"""MaxPool2d and AvgPool2d against NumPy windows, with gradients, repr and bad
arguments."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + p:  # the last window must start inside
        out -= 1
    return out


def _pool_oracle(
    x: np.ndarray,
    k: Any,
    s: Any,
    p: Any,
    d: Any,
    ceil: bool,
    kind: str,
    include_pad: bool = True,
    divisor: int | None = None,
) -> np.ndarray:
    k, s, p, d = _pair(k), _pair(s), _pair(p), _pair(d)
    h, w = x.shape[-2:]
    oh = _out_size(h, k[0], s[0], p[0], d[0], ceil)
    ow = _out_size(w, k[1], s[1], p[1], d[1], ceil)
    out = np.zeros((*x.shape[:-2], oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = [i * s[0] - p[0] + a * d[0] for a in range(k[0])]
            cols = [j * s[1] - p[1] + b * d[1] for b in range(k[1])]
            inside_r = [r for r in rows if 0 <= r < h]
            inside_c = [c for c in cols if 0 <= c < w]
            window = x[..., inside_r, :][..., inside_c]
            if kind == "max":
                out[..., i, j] = window.max(axis=(-2, -1))
                continue
            if divisor is not None:
                count = divisor
            elif include_pad:
                # padded positions count, positions past the padding do not
                r_end = min(i * s[0] - p[0] + k[0], h + p[0])
                c_end = min(j * s[1] - p[1] + k[1], w + p[1])
                count = (r_end - (i * s[0] - p[0])) * (c_end - (j * s[1] - p[1]))
            else:
                count = len(inside_r) * len(inside_c)
            out[..., i, j] = window.sum(axis=(-2, -1)) / count
    return out


MAX_CASES: list[dict[str, Any]] = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {
        "kernel_size": (3, 2),
        "stride": (2, 1),
        "padding": 1,
        "dilation": (1, 2),
        "ceil_mode": True,
    },
]


@pytest.mark.parametrize("kwargs", MAX_CASES, ids=str)
def test_max_pool_matches_numpy(kwargs: dict[str, Any]) -> None:
    pool = nn.MaxPool2d(**kwargs)
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
    k = kwargs["kernel_size"]
    expected = _pool_oracle(
        x,
        k,
        kwargs.get("stride", k),
        kwargs.get("padding", 0),
        kwargs.get("dilation", 1),
        kwargs.get("ceil_mode", False),
        "max",
    )
    np.testing.assert_allclose(to_numpy(pool(at.tensor(x))), expected, rtol=1e-12)
    check_module_grads(pool, [x[:1, :1]])


def test_max_pool_return_indices() -> None:
    x = np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 8.0]]]])
    out, idx = nn.MaxPool2d(2, return_indices=True)(at.tensor(x))
    np.testing.assert_array_equal(to_numpy(out), [[[[5.0, 9.0]]]])
    np.testing.assert_array_equal(to_numpy(idx), [[[[1, 6]]]])  # flat h * W + w


AVG_CASES: list[dict[str, Any]] = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {
        "kernel_size": 3,
        "stride": 2,
        "padding": 1,
        "count_include_pad": False,
        "ceil_mode": True,
    },
    {"kernel_size": (2, 3), "divisor_override": 4},
]


@pytest.mark.parametrize("kwargs", AVG_CASES, ids=str)
def test_avg_pool_matches_numpy(kwargs: dict[str, Any]) -> None:
    pool = nn.AvgPool2d(**kwargs)
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 8))
    k = kwargs["kernel_size"]
    expected = _pool_oracle(
        x,
        k,
        kwargs.get("stride", k),
        kwargs.get("padding", 0),
        1,
        kwargs.get("ceil_mode", False),
        "avg",
        kwargs.get("count_include_pad", True),
        kwargs.get("divisor_override"),
    )
    np.testing.assert_allclose(to_numpy(pool(at.tensor(x))), expected, rtol=1e-12)
    check_module_grads(pool, [x[:1, :1]])


def test_repr_text() -> None:
    assert (
        repr(nn.MaxPool2d(2))
        == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.MaxPool2d((3, 2), stride=1)) == (
        "MaxPool2d(kernel_size=(3, 2), stride=1, padding=0, dilation=1, "
        "ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: nn.MaxPool2d(0), ValueError),
        (lambda: nn.MaxPool2d(2.0), TypeError),
        (lambda: nn.AvgPool2d(2, ceil_mode="no"), TypeError),
        (lambda: nn.MaxPool2d(2, padding=2)(at.ones(1, 1, 4, 4)), ValueError),
    ],
)
def test_bad_arguments(make: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        make()
