from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32
from test_pooling_max_pool2d import pool_out

import actnet.neuron as F
import actnet.tensor as at


def avg_pool2d_reference(
    x: Any,
    k: Any,
    s: Any = None,
    p: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Any:
    """Window by window, with PyTorch's divisor rule."""
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
    (kh, kw), (ph, pw) = pair(k), pair(p)
    sh, sw = pair(k if s is None else s)
    n, c, height, width = x.shape
    ho = pool_out(height, kh, sh, ph, 1, ceil_mode)
    wo = pool_out(width, kw, sw, pw, 1, ceil_mode)
    out = np.empty((n, c, ho, wo))
    for oh in range(ho):
        for ow in range(wo):
            h0, w0 = oh * sh - ph, ow * sw - pw
            h1, w1 = min(h0 + kh, height + ph), min(w0 + kw, width + pw)
            pool_size = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, height), min(w1, width)
            total = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3))
            if divisor_override is not None:
                divisor = divisor_override
            elif count_include_pad:
                divisor = pool_size
            else:
                divisor = (h1 - h0) * (w1 - w0)
            out[:, :, oh, ow] = total / divisor
    return out


def _ref(*args: Any, **kwargs: Any) -> Any:
    return lambda x: avg_pool2d_reference(x, *args, **kwargs)


def _normal(shape: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(shape)]


CASES = [
    Case(
        "2x2, stride defaults to the kernel",
        _normal((2, 3, 6, 6)),
        lambda F, x: F.avg_pool2d(x, 2),
        _ref(2),
    ),
    Case(
        "3x3, stride 2, padding 1, padding counted",
        _normal((1, 2, 7, 6)),
        lambda F, x: F.avg_pool2d(x, 3, 2, 1),
        _ref(3, 2, 1),
    ),
    Case(
        "padding not counted (count_include_pad=False)",
        _normal((1, 2, 7, 6)),
        lambda F, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        _ref(3, 2, 1, count_include_pad=False),
    ),
    Case(
        "ceil_mode: the partial window's divisor counts no ceil padding",
        _normal((2, 2, 5, 7)),
        lambda F, x: F.avg_pool2d(x, (2, 3), (2, 2), (1, 1), ceil_mode=True),
        _ref((2, 3), (2, 2), (1, 1), True),
    ),
    Case(
        "ceil_mode without counting padding",
        _normal((1, 2, 6, 5)),
        lambda F, x: F.avg_pool2d(x, 3, 2, 1, True, False),
        _ref(3, 2, 1, True, False),
    ),
    Case(
        "divisor_override",
        _normal((1, 2, 5, 5)),
        lambda F, x: F.avg_pool2d(x, 2, 1, 1, divisor_override=3),
        _ref(2, 1, 1, divisor_override=3),
    ),
    Case(
        "unbatched (C, H, W)",
        _normal((3, 4, 6)),
        lambda F, x: F.avg_pool2d(x, (2, 3), stride=(1, 2)),
        lambda x: avg_pool2d_reference(x[None], (2, 3), (1, 2))[0],
    ),
    Case(
        "non-contiguous input",
        _normal((2, 2, 6, 5)),
        lambda F, x: F.avg_pool2d(x.transpose(2, 3), 2, stride=1),
        lambda x: avg_pool2d_reference(x.transpose(0, 1, 3, 2), 2, 1),
    ),
    Case(
        "double backward",
        _normal((1, 2, 4, 5)),
        lambda F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
        _ref(3, 2, 1, True),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_avg_pool2d(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_avg_pool2d_float32(case: Case) -> None:
    check_float32(case, F)


def test_avg_pool2d_refuses_bad_arguments() -> None:
    x = at.randn(1, 2, 5, 5)
    with pytest.raises(TypeError, match="avg_pool2d: input must be a Tensor"):
        F.avg_pool2d([[1.0]], 2)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="avg_pool2d: input must be 3-d"):
        F.avg_pool2d(at.randn(1, 1, 1, 5, 5), 2)
    with pytest.raises(ValueError, match=r"padding .* at most half of kernel_size"):
        F.avg_pool2d(x, 2, padding=(0, 2))
    with pytest.raises(ValueError, match="divisor_override must be a nonzero int"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(TypeError, match="avg_pool2d: stride must be an int"):
        F.avg_pool2d(x, 2, stride=1.5)
