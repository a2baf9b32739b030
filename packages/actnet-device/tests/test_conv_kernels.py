"""The fused 2-d convolution and max pooling (conv2d and its input and weight
gradients, max_pool2d and its backward): the compiled kernels (`cpu`) against
the reference kernels (`reference`), both against float64 NumPy oracles, on odd
geometries and layouts; and their refusals."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from _helpers import get, put

from actnet.device import get_device, get_num_threads, set_num_threads
from actnet.device._compiled_conv import (
    _col2im,
    _im2col,
    _max_pool,
    _max_pool_backward,
    _transpose,
    offsets,
)

CPU = get_device("cpu")
REF = get_device("reference")
DEVICES = pytest.mark.parametrize("device", [CPU, REF], ids=["cpu", "reference"])

# (N, C, H, W, O, kernel, stride, padding ((top, bottom), (left, right)),
# dilation, groups): the digits CNN's two layers; strides, dilations and
# uneven padding; groups; one sample; a 1x1 kernel; a large one (threaded).
GEOMETRIES = [
    (64, 1, 8, 8, 16, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    (64, 16, 4, 4, 32, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    (2, 3, 7, 6, 4, (3, 2), (1, 1), ((1, 0), (2, 1)), (1, 2), 1),
    (3, 4, 9, 8, 6, (3, 3), (2, 3), ((1, 2), (0, 1)), (2, 1), 2),
    (1, 6, 5, 7, 9, (2, 3), (2, 1), ((0, 0), (1, 1)), (1, 1), 3),
    (5, 3, 6, 6, 4, (1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    (8, 16, 32, 32, 8, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
]


def _window_slices(
    i: int, j: int, out: tuple[int, int], stride: Any, dilation: Any
) -> tuple[slice, slice]:
    return (
        slice(
            i * dilation[0], i * dilation[0] + stride[0] * (out[0] - 1) + 1, stride[0]
        ),
        slice(
            j * dilation[1], j * dilation[1] + stride[1] * (out[1] - 1) + 1, stride[1]
        ),
    )


def conv_oracle(
    x: Any,
    w: Any,
    b: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    absolute: bool = False,
) -> np.ndarray[Any, Any]:
    """The convolution in float64, kernel offset by kernel offset (einsum);
    with `absolute`, of |x| and |w| (the scale of the terms each sum adds)."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    if absolute:
        x, w = np.abs(x), np.abs(w)
    (top, bottom), (left, right) = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, _, hp, wp = xp.shape
    o, cg, kh, kw = w.shape
    out = (
        (hp - dilation[0] * (kh - 1) - 1) // stride[0] + 1,
        (wp - dilation[1] * (kw - 1) - 1) // stride[1] + 1,
    )
    result = np.zeros((n, o, *out))
    og = o // groups
    for g in range(groups):
        xs = xp[:, g * cg : (g + 1) * cg]
        for i, j in itertools.product(range(kh), range(kw)):
            rows, cols = _window_slices(i, j, out, stride, dilation)
            patch = xs[:, :, rows, cols]
            result[:, g * og : (g + 1) * og] += np.einsum(
                "nchw,oc->nohw", patch, w[g * og : (g + 1) * og, :, i, j]
            )
    if b is not None:
        result += (np.abs(b) if absolute else b).astype(np.float64)[None, :, None, None]
    return result


def conv_grads_oracle(
    g: Any,
    x: Any,
    w: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    absolute: bool = False,
) -> tuple[np.ndarray[Any, Any], ...]:
    """(grad_x, grad_w, grad_b) of sum(g * conv(x, w, b)) in float64: each
    kernel offset's contribution by einsum (the adjoints of the forward's)."""
    x, w, g = (a.astype(np.float64) for a in (x, w, g))
    if absolute:
        x, w, g = np.abs(x), np.abs(w), np.abs(g)
    (top, bottom), (left, right) = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(w)
    o, cg, kh, kw = w.shape
    out = g.shape[2:]
    og = o // groups
    for grp in range(groups):
        xs = xp[:, grp * cg : (grp + 1) * cg]
        gs = g[:, grp * og : (grp + 1) * og]
        for i, j in itertools.product(range(kh), range(kw)):
            rows, cols = _window_slices(i, j, out, stride, dilation)
            target = gxp[:, grp * cg : (grp + 1) * cg, rows, cols]
            target += np.einsum(
                "nohw,oc->nchw", gs, w[grp * og : (grp + 1) * og, :, i, j]
            )
            gw[grp * og : (grp + 1) * og, :, i, j] = np.einsum(
                "nchw,nohw->oc", xs[:, :, rows, cols], gs
            )
    h, wd = x.shape[2:]
    gx = gxp[:, :, top : top + h, left : left + wd]
    return gx, gw, g.sum(axis=(0, 2, 3))


def _within(got: Any, want: Any, scale: Any, terms: int) -> None:
    """|got - want| within the float rounding of sums of `terms` terms of
    magnitude `scale` (the float64 oracle of the absolute values): float32
    `terms` ulps of the scale (the reference's own float32 products and sums),
    float64 1e-12 of it."""
    got = np.asarray(got, np.float64)
    bound = scale * (1e-12 if terms < 0 else terms * 2.0**-23) + 1e-300
    excess = np.abs(got - want) - bound
    assert excess.max(initial=0.0) <= 0, f"off by {excess.max():.3g} beyond the bound"


def _terms(dtype: Any, count: int) -> int:
    return -1 if np.dtype(dtype) == np.float64 else count + 1


def _data(shape: tuple[int, ...], dtype: Any, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(dtype)


def _geometry(case: Any) -> tuple[Any, ...]:
    n, c, h, w, o, kernel, stride, padding, dilation, groups = case
    x = (n, c, h, w)
    weight = (o, c // groups, *kernel)
    return x, weight, stride, padding, dilation, groups


@DEVICES
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GEOMETRIES, ids=str)
def test_conv2d_against_the_float64_oracle(device: Any, dtype: Any, case: Any) -> None:
    xs, ws, stride, padding, dilation, groups = _geometry(case)
    x, w, b = _data(xs, dtype, 0), _data(ws, dtype, 1), _data((ws[0],), dtype, 2)
    y = device.conv2d(
        put(x, device),
        put(w, device),
        put(b, device),
        stride,
        padding,
        dilation,
        groups,
    )
    want = conv_oracle(x, w, b, stride, padding, dilation, groups)
    scale = conv_oracle(x, w, b, stride, padding, dilation, groups, absolute=True)
    assert y.shape == want.shape and y.dtype == dtype
    depth = ws[1] * ws[2] * ws[3]
    _within(get(y), want, scale, _terms(dtype, depth))
    # no bias: the product alone
    y0 = device.conv2d(
        put(x, device), put(w, device), None, stride, padding, dilation, groups
    )
    _within(
        get(y0),
        want - b.astype(np.float64)[None, :, None, None],
        scale,
        _terms(dtype, depth),
    )


@DEVICES
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GEOMETRIES, ids=str)
def test_conv2d_backwards_against_the_float64_oracle(
    device: Any, dtype: Any, case: Any
) -> None:
    xs, ws, stride, padding, dilation, groups = _geometry(case)
    x, w = _data(xs, dtype, 3), _data(ws, dtype, 4)
    shape = conv_oracle(x, w, None, stride, padding, dilation, groups).shape
    g = _data(shape, dtype, 5)
    want = conv_grads_oracle(g, x, w, stride, padding, dilation, groups)
    scale = conv_grads_oracle(g, x, w, stride, padding, dilation, groups, True)
    gx = device.conv2d_backward_input(
        put(g, device), put(w, device), xs[2:], stride, padding, dilation, groups
    )
    gw, gb = device.conv2d_backward_weight(
        put(g, device), put(x, device), ws[2:], stride, padding, dilation, groups
    )
    assert gx.shape == xs and gw.shape == ws and gb is not None and gb.shape == (ws[0],)
    out_channels, per_group = ws[0] // groups, ws[2] * ws[3]
    positions = shape[0] * shape[2] * shape[3]
    _within(get(gx), want[0], scale[0], _terms(dtype, out_channels * per_group))
    _within(get(gw), want[1], scale[1], _terms(dtype, positions))
    # the bias's gradient: summed in float64, rounded once
    _within(get(gb), want[2], scale[2], _terms(dtype, 0))
    _, none = device.conv2d_backward_weight(
        put(g, device),
        put(x, device),
        ws[2:],
        stride,
        padding,
        dilation,
        groups,
        bias=False,
    )
    assert none is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GEOMETRIES, ids=str)
def test_compiled_equals_reference(dtype: Any, case: Any) -> None:
    """float64 to 1e-12 of the terms' scale; float32 within the reference's own
    float32 rounding (the same products, their columns in another order)."""
    xs, ws, stride, padding, dilation, groups = _geometry(case)
    x, w, b = _data(xs, dtype, 6), _data(ws, dtype, 7), _data((ws[0],), dtype, 8)
    results = []
    for dev in (CPU, REF):
        y = dev.conv2d(
            put(x, dev), put(w, dev), put(b, dev), stride, padding, dilation, groups
        )
        g = put(get(y), dev)
        gx = dev.conv2d_backward_input(
            g, put(w, dev), xs[2:], stride, padding, dilation, groups
        )
        gw, gb = dev.conv2d_backward_weight(
            g, put(x, dev), ws[2:], stride, padding, dilation, groups
        )
        assert gb is not None
        results.append([get(a) for a in (y, gx, gw, gb)])
    yy = results[1][0]
    scale_y = conv_oracle(x, w, b, stride, padding, dilation, groups, absolute=True)
    scales = (
        scale_y,
        *conv_grads_oracle(yy, x, w, stride, padding, dilation, groups, absolute=True),
    )
    terms = (ws[1] * ws[2] * ws[3], ws[0] * ws[2] * ws[3], yy.size // ws[0], 0)
    for got, want, scale, count in zip(*results, scales, terms, strict=True):
        _within(got, want.astype(np.float64), 2 * scale, _terms(dtype, count))


def pool_oracle(
    x: Any, kernel: Any, stride: Any, padding: Any, dilation: Any, out: Any
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Each window's first largest element inside x (NaN first), by loops."""
    n, c, h, w = x.shape
    values = np.zeros((n, c, *out), x.dtype)
    index = np.zeros((n, c, *out), np.int64)
    for a, b, oh, ow in itertools.product(
        range(n), range(c), range(out[0]), range(out[1])
    ):
        best, at = None, -1
        for i, j in itertools.product(range(kernel[0]), range(kernel[1])):
            hh = oh * stride[0] - padding[0] + i * dilation[0]
            ww = ow * stride[1] - padding[1] + j * dilation[1]
            if not (0 <= hh < h and 0 <= ww < w):
                continue
            v = x[a, b, hh, ww]
            if best is None or v > best or (np.isnan(v) and not np.isnan(best)):
                best, at = v, hh * w + ww
        values[a, b, oh, ow], index[a, b, oh, ow] = best, at
    return values, index


POOLS = [
    # (shape, kernel, stride, padding, dilation, ceil_mode): the digits CNN's
    # (planes last on cpu), and plane by plane with odd geometries
    ((64, 16, 8, 8), 2, None, 0, 1, False),
    ((8, 16, 7, 9), (3, 2), (2, 1), (1, 1), (1, 2), True),
    ((3, 2, 9, 7), (3, 2), (2, 1), (1, 1), (1, 2), True),
    ((2, 3, 7, 7), 3, 2, 1, 1, True),
    ((1, 2, 6, 5), (2, 3), (1, 2), (1, 1), (2, 1), False),
    ((2, 2, 5, 5), 3, 1, 1, 2, False),
]


def _pair(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


@DEVICES
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", POOLS, ids=str)
def test_max_pool2d_against_the_oracle(device: Any, dtype: Any, case: Any) -> None:
    """Values and indices exactly; NaN wins (the first), a window of -inf keeps
    its first element inside the input; the backward adds in output order."""
    shape, kernel, stride, padding, dilation, ceil_mode = case
    x = _data(shape, dtype, 9)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 1, 0] = np.nan
    x[-1, -1] = -np.inf
    x[0, 1, :, :2] = 3.0  # ties
    out, idx = device.max_pool2d(
        put(x, device), kernel, stride, padding, dilation, ceil_mode
    )
    k, p, d = _pair(kernel), _pair(padding), _pair(dilation)
    s = k if stride is None else _pair(stride)
    want, want_idx = pool_oracle(x, k, s, p, d, out.shape[2:])
    np.testing.assert_array_equal(get(out), want)
    np.testing.assert_array_equal(get(idx), want_idx)
    assert idx.dtype == np.int64
    g = _data(out.shape, dtype, 10)
    gx = device.max_pool2d_backward(put(g, device), idx, shape[2:])
    expected = np.zeros((shape[0] * shape[1], shape[2] * shape[3]), dtype)
    rows = np.repeat(np.arange(shape[0] * shape[1]), g[0, 0].size)
    np.add.at(expected, (rows, want_idx.reshape(-1)), g.reshape(-1))
    np.testing.assert_array_equal(get(gx), expected.reshape(shape))


@pytest.mark.parametrize("case", POOLS, ids=str)
def test_max_pool2d_compiled_equals_reference(case: Any) -> None:
    shape, kernel, stride, padding, dilation, ceil_mode = case
    x = _data(shape, np.float32, 11)
    got = [
        [
            get(b)
            for b in dev.max_pool2d(
                put(x, dev), kernel, stride, padding, dilation, ceil_mode
            )
        ]
        for dev in (CPU, REF)
    ]
    for a, b in zip(*got, strict=True):
        np.testing.assert_array_equal(a, b)


@DEVICES
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_a_window_with_nothing_inside(device: Any, dtype: Any) -> None:
    """PyTorch's answer where dilation carries a window past a 2x2 input:
    -inf, at the index its first positions along each axis make (6, outside
    the plane)."""
    for shape in ((1, 1, 2, 2), (2, 64, 2, 2)):  # plane by plane, planes last
        x = put(_data(shape, dtype, 20), device)
        out, idx = device.max_pool2d(x, 2, None, 1, 3)
        want = np.full((*shape[:2], 1, 1), -np.inf, dtype)
        np.testing.assert_array_equal(get(out), want)
        np.testing.assert_array_equal(get(idx), np.full(want.shape, 6))


def test_odd_layouts_take_the_reference_kernel() -> None:
    """A transposed input (not contiguous) gives exactly the reference's
    values on cpu."""
    x = _data((6, 5, 3, 2), np.float32, 12).transpose(3, 2, 1, 0)  # (2, 3, 5, 6)
    w = _data((4, 3, 3, 3), np.float32, 13)
    cpu_x = put(np.ascontiguousarray(x.transpose(3, 2, 1, 0)), CPU).permute(3, 2, 1, 0)
    ref_x = put(np.ascontiguousarray(x.transpose(3, 2, 1, 0)), REF).permute(3, 2, 1, 0)
    assert not cpu_x.is_contiguous
    got = CPU.conv2d(cpu_x, put(w, CPU), None, 1, 1)
    want = REF.conv2d(ref_x, put(w, REF), None, 1, 1)
    np.testing.assert_array_equal(get(got), get(want))
    out, idx = CPU.max_pool2d(cpu_x, 2)
    ref_out, ref_idx = REF.max_pool2d(ref_x, 2)
    np.testing.assert_array_equal(get(out), get(ref_out))
    np.testing.assert_array_equal(get(idx), get(ref_idx))


@DEVICES
def test_half_precision_takes_the_reference_kernels(device: Any) -> None:
    x = _data((2, 3, 5, 5), np.float16, 14)
    w = _data((4, 3, 3, 3), np.float16, 15)
    y = device.conv2d(put(x, device), put(w, device), None, 1, 1)
    assert y.dtype == np.float16
    want = conv_oracle(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    np.testing.assert_allclose(get(y).astype(np.float64), want, rtol=1e-2, atol=2e-2)
    out, _ = device.max_pool2d(put(x, device), 2)
    assert out.dtype == np.float16


def test_results_do_not_depend_on_the_thread_count() -> None:
    """The threaded kernels (large inputs) give the single thread's bits."""
    xs, ws, stride, padding, dilation, groups = _geometry(GEOMETRIES[-1])
    x, w = _data(xs, np.float32, 16), _data(ws, np.float32, 17)
    before = get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            set_num_threads(threads)
            y = CPU.conv2d(put(x), put(w), None, stride, padding, dilation, groups)
            gx = CPU.conv2d_backward_input(
                y, put(w), xs[2:], stride, padding, dilation, groups
            )
            gw, _ = CPU.conv2d_backward_weight(
                y, put(x), ws[2:], stride, padding, dilation, groups
            )
            out, idx = CPU.max_pool2d(gx, 2)
            back = CPU.max_pool2d_backward(out, idx, xs[2:])
            results.append([get(a) for a in (y, gx, gw, out, idx, back)])
    finally:
        set_num_threads(before)
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_kernels_run_as_plain_python() -> None:
    """Each kernel is a Python function first (prange is range)."""
    x = _data((2, 3, 4, 5), np.float64, 18)
    dims = np.array([3, 4, 5, 2, 3, 3, 4, 5])
    geometry = np.array([1, 1, 1, 1, 1, 1])
    xt = np.ascontiguousarray(x.transpose(1, 2, 3, 0))
    cols = np.empty((3, 3, 3, 4, 5, 2))
    _im2col(xt.reshape(-1), dims, geometry, cols.reshape(-1))
    w = _data((4, 3, 3, 3), np.float64, 19)
    product = np.einsum("ok,kpn->npo", w.reshape(4, -1), cols.reshape(27, 20, 2))
    want = conv_oracle(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    np.testing.assert_allclose(
        product.transpose(0, 2, 1).reshape(want.shape), want, rtol=1e-13, atol=1e-13
    )
    back = np.empty_like(xt)
    _col2im(cols.reshape(-1), dims, geometry, back.reshape(-1))
    # each input element comes back once per window that reads it
    ones = np.ones_like(cols)
    count = np.empty_like(xt)
    _col2im(ones.reshape(-1), dims, geometry, count.reshape(-1))
    np.testing.assert_allclose(back, xt * count, rtol=1e-13)
    t = np.empty((20, 6))
    _transpose(x.reshape(6, 20), np.empty(0), t)
    np.testing.assert_array_equal(t, x.reshape(6, 20).T)
    table, first, empty = offsets((2, 2), (2, 2), (1, 1), (1, 1), (4, 5), (3, 3))
    out, idx = np.empty((6, 9)), np.empty((6, 9), np.int64)
    _max_pool(x.reshape(6, 20), table, first, empty, out, idx)
    want_v, want_i = pool_oracle(x, (2, 2), (2, 2), (1, 1), (1, 1), (3, 3))
    np.testing.assert_array_equal(out, want_v.reshape(6, 9))
    np.testing.assert_array_equal(idx, want_i.reshape(6, 9))
    grad, bounds = np.empty((6, 20)), np.empty((6, 2), np.int64)
    _max_pool_backward(out, idx, grad, bounds)
    assert bounds[:, 0].min() >= 0 and bounds[:, 1].max() < 20


def test_refusals() -> None:
    x = put(np.zeros((2, 3, 5, 5), np.float32))
    w = put(np.zeros((4, 3, 3, 3), np.float32))
    with pytest.raises(TypeError, match="conv2d does not take int32"):
        CPU.conv2d(put(np.zeros((2, 3, 5, 5), np.int32)), w)
    with pytest.raises(ValueError, match=r"x must be 4-d \(N, C, H, W\)"):
        CPU.conv2d(put(np.zeros((3, 5, 5), np.float32)), w)
    with pytest.raises(TypeError, match="weight has dtype float64"):
        CPU.conv2d(x, put(np.zeros((4, 3, 3, 3))))
    with pytest.raises(ValueError, match="does not fit 3 input channels"):
        CPU.conv2d(x, put(np.zeros((4, 2, 3, 3), np.float32)))
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        CPU.conv2d(x, w, put(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="groups must be a positive int"):
        CPU.conv2d(x, w, None, 1, 0, 1, 0)
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        CPU.conv2d(x, w, None, (1, 1, 1))
    with pytest.raises(ValueError, match="dilation must be at least 1"):
        CPU.conv2d(x, w, None, 1, 0, 0)
    with pytest.raises(ValueError, match="no output"):
        CPU.conv2d(x, put(np.zeros((4, 3, 7, 7), np.float32)))
    with pytest.raises(ValueError, match=r"grad must have shape \(N, 4, 5, 5\)"):
        CPU.conv2d_backward_input(
            put(np.zeros((2, 4, 3, 3), np.float32)), w, (5, 5), 1, 1
        )
    with pytest.raises(ValueError, match=r"grad must have shape \(2, 4, 3, 3\)"):
        CPU.conv2d_backward_weight(put(np.zeros((2, 4, 5, 5), np.float32)), x, 3)
    with pytest.raises(TypeError, match="bias must be a bool"):
        grad = put(np.zeros((2, 4, 3, 3), np.float32))
        CPU.conv2d_backward_weight(grad, x, 3, bias=None)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match=r"padding .* must be at most half"):
        CPU.max_pool2d(x, 2, None, 2)
    with pytest.raises(ValueError, match="x is on reference"):
        CPU.max_pool2d(put(np.zeros((1, 1, 2, 2), np.float32), REF), 2)
    out, idx = CPU.max_pool2d(x, 2)
    with pytest.raises(ValueError, match="indices must be int64 of grad's shape"):
        CPU.max_pool2d_backward(out, out, (5, 5))
    bad = put(np.full(idx.shape, 25, np.int64))
    with pytest.raises(IndexError, match="index 25 is out of bounds"):
        CPU.max_pool2d_backward(out, bad, (5, 5))
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        REF.max_pool2d_backward(
            put(get(out), REF), put(np.full(idx.shape, -1), REF), (5, 5)
        )


@DEVICES
def test_empty_inputs(device: Any) -> None:
    """No samples (or no channels): empty results, zero weight gradients."""
    x = put(np.zeros((0, 3, 5, 5), np.float32), device)
    w = put(np.ones((4, 3, 3, 3), np.float32), device)
    b = put(np.ones(4, np.float32), device)
    y = device.conv2d(x, w, b, 1, 1)
    assert y.shape == (0, 4, 5, 5)
    assert device.conv2d_backward_input(y, w, (5, 5), 1, 1).shape == (0, 3, 5, 5)
    gw, gb = device.conv2d_backward_weight(y, x, 3, 1, 1)
    assert gb is not None
    np.testing.assert_array_equal(get(gw), np.zeros((4, 3, 3, 3), np.float32))
    np.testing.assert_array_equal(get(gb), np.zeros(4, np.float32))
    out, idx = device.max_pool2d(x, 2)
    assert out.shape == idx.shape == (0, 3, 2, 2)
    assert device.max_pool2d_backward(out, idx, (5, 5)).shape == (0, 3, 5, 5)
    no_channels = put(np.zeros((2, 0, 4, 4), np.float32), device)
    y0 = device.conv2d(
        no_channels, put(np.zeros((3, 0, 3, 3), np.float32), device), None, 1, 1
    )
    np.testing.assert_array_equal(get(y0), np.zeros((2, 3, 4, 4), np.float32))
