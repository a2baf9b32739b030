from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape."""
    n = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (n - 1) * s >= size + p:
        n -= 1
    return n


def max_pool2d_reference(
    x: Any, k: Any, s: Any = None, p: Any = 0, d: Any = 1, ceil_mode: bool = False
) -> tuple[Any, Any]:
    """Values and flat indices, window by window: PyTorch's loop (the first
    maximum wins; a window starts from its first element inside the input)."""
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
    (kh, kw), (ph, pw), (dh, dw) = pair(k), pair(p), pair(d)
    sh, sw = pair(k if s is None else s)
    n, c, height, width = x.shape
    ho = pool_out(height, kh, sh, ph, dh, ceil_mode)
    wo = pool_out(width, kw, sw, pw, dw, ceil_mode)
    values = np.empty((n, c, ho, wo))
    indices = np.empty((n, c, ho, wo), dtype=np.int64)
    for oh in range(ho):
        for ow in range(wo):
            rows = [oh * sh - ph + i * dh for i in range(kh)]
            cols = [ow * sw - pw + j * dw for j in range(kw)]
            flat = [
                r * width + q
                for r in rows
                if 0 <= r < height
                for q in cols
                if 0 <= q < width
            ]
            window = x.reshape(n, c, -1)[:, :, flat]
            best = np.argmax(window, axis=-1)
            values[:, :, oh, ow] = np.take_along_axis(window, best[..., None], -1)[
                ..., 0
            ]
            indices[:, :, oh, ow] = np.asarray(flat)[best]
    return values, indices


def _ref(*args: Any, **kwargs: Any) -> Any:
    return lambda x: max_pool2d_reference(x, *args, **kwargs)[0]


def _normal(shape: tuple[int, ...]) -> Any:
    return lambda rng: [rng.standard_normal(shape)]


def _all_but_one_minus_inf(rng: np.random.Generator) -> list[Any]:
    x = np.full((1, 2, 5, 5), -np.inf)
    x[:, :, 4, 4] = rng.standard_normal(2)
    return [x]


CASES = [
    Case(
        "2x2, stride defaults to the kernel",
        _normal((2, 3, 6, 6)),
        lambda F, x: F.max_pool2d(x, 2),
        _ref(2),
    ),
    Case(
        "3x3, stride 2, padding 1 (overlapping windows)",
        _normal((1, 2, 7, 7)),
        lambda F, x: F.max_pool2d(x, 3, stride=2, padding=1),
        _ref(3, 2, 1),
    ),
    Case(
        "per-axis kernel, stride, padding, dilation, ceil_mode",
        _normal((2, 2, 7, 9)),
        lambda F, x: F.max_pool2d(x, (2, 3), (1, 2), (1, 1), (2, 1), ceil_mode=True),
        _ref((2, 3), (1, 2), (1, 1), (2, 1), True),
    ),
    Case(
        "ceil_mode keeps the last partial window",
        _normal((1, 2, 5, 6)),
        lambda F, x: F.max_pool2d(x, 2, ceil_mode=True),
        _ref(2, ceil_mode=True),
    ),
    Case(
        "unbatched (C, H, W), stride=()",
        _normal((3, 4, 6)),
        lambda F, x: F.max_pool2d(x, (2, 3), stride=()),
        lambda x: max_pool2d_reference(x[None], (2, 3))[0][0],
    ),
    Case(
        "non-contiguous input",
        _normal((2, 2, 6, 5)),
        lambda F, x: F.max_pool2d(x.transpose(2, 3), 2, stride=1),
        lambda x: max_pool2d_reference(x.transpose(0, 1, 3, 2), 2, 1)[0],
    ),
    Case(
        "return_indices: the flat h * W + w of each maximum",
        _normal((2, 3, 6, 7)),
        lambda F, x: F.max_pool2d(x, 3, 2, 1, 2, True, return_indices=True)[1],
        lambda x: max_pool2d_reference(x, 3, 2, 1, 2, True)[1],
        differentiable=(),
        rtol=0,
        atol=0,
        tags={"indices"},
    ),
    Case(
        "indices of windows of -inf stay inside the input",
        _all_but_one_minus_inf,
        lambda F, x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)[1],
        lambda x: max_pool2d_reference(x, 3, 2, 1, ceil_mode=True)[1],
        differentiable=(),
        rtol=0,
        atol=0,
        tags={"indices"},
    ),
    Case(
        "double backward",
        _normal((1, 2, 4, 4)),
        lambda F, x: F.max_pool2d(x, 2, 1),
        _ref(2, 1),
        double_backward=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_max_pool2d(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", [c for c in CASES if "indices" not in c.tags], ids=str)
def test_max_pool2d_float32(case: Case) -> None:
    check_float32(case, F)


def test_max_pool2d_returns_values_and_int64_indices() -> None:
    x = at.tensor([[[[1.0, 5.0, 2.0], [4.0, 3.0, 0.0]]]], requires_grad=True)
    values, indices = F.max_pool2d(x, 2, stride=1, return_indices=True)
    assert values.tolist() == [[[[5.0, 5.0]]]]
    assert indices.dtype == at.int64 and indices.tolist() == [[[[1, 1]]]]
    values.sum().backward()
    assert x.grad is not None
    assert x.grad.tolist() == [[[[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]]]


def test_max_pool2d_refuses_bad_arguments() -> None:
    x = at.randn(1, 2, 5, 5)
    with pytest.raises(TypeError, match="max_pool2d: input must be a Tensor"):
        F.max_pool2d(np.ones((1, 2, 5, 5)), 2)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="max_pool2d: input must be 3-d"):
        F.max_pool2d(at.randn(5, 5), 2)
    with pytest.raises(ValueError, match=r"padding .* at most half of kernel_size"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(TypeError, match="max_pool2d: kernel_size must be an int"):
        F.max_pool2d(x, (2, 2, 2))
    with pytest.raises(ValueError, match="max_pool2d: dilation must be at least 1"):
        F.max_pool2d(x, 2, dilation=0)
    with pytest.raises(ValueError, match="max_pool2d: stride must be at least 1"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match="smaller than the kernel"):
        F.max_pool2d(x, 6)


@pytest.mark.parametrize("dtype", [at.float16, at.float32, at.float64])
def test_max_pool2d_window_with_nothing_inside(dtype: Any) -> None:
    """Dilation can carry a window past the input: PyTorch gives -inf and the
    index its first positions make (6 for this 2 x 2 input)."""
    x = at.randn(1, 1, 2, 2).to(dtype)
    values, indices = F.max_pool2d(x, 2, padding=1, dilation=3, return_indices=True)
    assert values.tolist() == [[[[-np.inf]]]]
    assert indices.tolist() == [[[[6]]]]
