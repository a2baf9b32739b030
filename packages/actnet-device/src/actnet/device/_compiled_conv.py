"""Compiled kernels of the 2-d convolution and max pooling (the `cpu` device).

The convolutions keep the batch last: x (N, C, H, W) is transposed to (C, H,
W, N) and im2col writes the columns (C, kH, kW, Ho, Wo, N) in runs of Wo * N
elements (Wo windows of a row, all samples), with padding, stride and dilation
by index: no padded copy, and contiguous copies where the reference's layout
would copy a few elements at a time. The products are the device's matmul
(one-thread BLAS calls under `_compiled_matmul`'s thread policy), in the
orientations BLAS runs fastest for these shapes (the output's rows the long
side): the forward (Ho * Wo * N, O) = columns^T @ weight^T, whose transpose to
(N, O, Ho * Wo) adds the bias; the gradients from grad transposed to (Ho * Wo *
N, O): the weight's as columns @ grad, the input's as weight^T @ grad^T, which
col2im adds onto the input, each element's terms in the reference's order
(kernel row, then column). Each result element is the dot product the
reference computes, over the same terms in BLAS's order: the two agree to the
rounding of that sum. The bias's gradient is summed in float64, vectorized.

Max pooling scans each window in kernel order over the elements inside the
input only, keeping the first largest (the first NaN), which is the reference's
argmax over the -inf-padded window, without a branch on the data (whether an
element wins is as unpredictable as the data). With many planes (N * C) it
runs with the planes last, transposed in and out, its inner loop vectorized
over them; else plane by plane. Its backward adds in output order, as
`ufunc_at` does. Both are exact.

The loops index views with counters from 0: numba wraps negative indices, and
an index it cannot prove non-negative (an offset plus a counter) costs a
check at every access, which kept these copies from vectorizing (5x slower).
The transposes run in 16 x 16 tiles, and the temporaries of one call share one
scratch allocation: at the digits CNN's sizes (the benchmark these kernels were
written for) an allocation, or a loop over a few elements, costs as much as
the arithmetic. Inputs of a million elements or more run on the threads.

Other dtypes and layouts (not C-contiguous NumPy float32/float64), and empty
inputs, take the reference kernels.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from actnet.device._compiled_activations import COMPILED_DTYPES
from actnet.device._jit import KernelScope
from actnet.device._kernels_conv import Array, ConvKernels, Pair, first_inside
from actnet.device._threads import get_num_threads

_INDEX_LIMIT: Final = np.iinfo(np.int64).max

prange = range  # numba's prange once compiled with parallel=True (see _jit)


@functools.lru_cache(maxsize=256)
def offsets(
    kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, size: Pair, out: Pair
) -> tuple[Array, Array, Array]:
    """(table, first, empty) for windows over an (H, W) = `size` plane: table
    (kH * kW, Ho * Wo) the flat index h * W + w each kernel offset reads for
    each output, -1 where that lies in the padding; first (Ho * Wo,) each
    window's first position inside the plane along each axis, as h * W + w
    (its first element, where it has one; else PyTorch's index, which may lie
    outside the plane); empty (Ho * Wo,) whether a window has no element
    inside. Cached: a layer's geometry repeats every step. Read-only."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    starts_h = np.arange(out[0]) * sh - ph
    starts_w = np.arange(out[1]) * sw - pw
    h = starts_h[None, :, None] + (np.arange(kh) * dh)[:, None, None]  # (kH, Ho, 1)
    w = starts_w[None, None, :] + (np.arange(kw) * dw)[:, None, None]  # (kW, 1, Wo)
    inside = ((h >= 0) & (h < size[0]))[:, None] & ((w >= 0) & (w < size[1]))[None]
    flat = h[:, None] * size[1] + w[None, :]  # (kH, kW, Ho, Wo)
    table = np.where(inside, flat, -1).reshape(kh * kw, -1).astype(np.int64)
    empty = ~inside.reshape(kh * kw, -1).any(axis=0)
    first_h = first_inside(starts_h, dh)[:, None]
    first_w = first_inside(starts_w, dw)[None, :]
    first = (first_h * size[1] + first_w).reshape(-1).astype(np.int64)
    for a in (table, first, empty):
        a.flags.writeable = False
    return table, first, empty


def _valid(out: int, offset: int, stride: int, size: int) -> tuple[int, int]:
    """The outputs o in [lo, hi) whose position o * stride + offset lies in
    [0, size) (lo == hi for none)."""
    lo = 0 if offset >= 0 else (stride - 1 - offset) // stride
    last = size - 1 - offset
    hi = 0 if last < 0 else min(out, last // stride + 1)
    return lo, max(lo, hi)


def _im2col(xt: Array, dims: Array, geometry: Array, cols: Array) -> None:
    """cols (C, kH, kW, Ho, Wo, N) = xt (C, H, W, N) at every window position,
    0 in the padding (both flat). dims: (C, H, W, N, kH, kW, Ho, Wo); geometry:
    (sh, sw, ph, pw, dh, dw). Batch last: for a stride of 1 along W, each
    output row is one run of (Wo * N) elements in both."""
    c, h, w, n = dims[0], dims[1], dims[2], dims[3]
    kh, kw, ho, wo = dims[4], dims[5], dims[6], dims[7]
    sh, sw, ph, pw = geometry[0], geometry[1], geometry[2], geometry[3]
    dh, dw = geometry[4], geometry[5]
    width = wo * n
    for r in prange(c * kh * kw):
        ci = r // (kh * kw)
        i = (r // kw) % kh
        j = r % kw
        off_w = j * dw - pw
        lo, hi = _valid(wo, off_w, sw, w)
        for oh in range(ho):
            hh = oh * sh - ph + i * dh
            row = cols[(r * ho + oh) * width : (r * ho + oh + 1) * width]
            if hh < 0 or hh >= h:
                lo_z, hi_z = width, width
            else:
                lo_z, hi_z = lo * n, hi * n
            for k in range(lo_z):
                row[k] = 0
            tail = row[hi_z:]
            for k in range(tail.size):
                tail[k] = 0
            if lo_z == width:
                continue
            src = xt[(ci * h + hh) * w * n : (ci * h + hh + 1) * w * n]
            if sw == 1:
                s = src[(lo + off_w) * n : (hi + off_w) * n]
                d = row[lo * n : hi * n]
                for k in range(s.size):
                    d[k] = s[k]
            else:
                for ow in range(lo, hi):
                    s = src[(ow * sw + off_w) * n : (ow * sw + off_w + 1) * n]
                    d = row[ow * n : (ow + 1) * n]
                    for k in range(n):
                        d[k] = s[k]


def _col2im(cols: Array, dims: Array, geometry: Array, xt: Array) -> None:
    """xt (C, H, W, N) = 0 plus cols (C, kH, kW, Ho, Wo, N) added at each
    kernel offset in turn (kH, then kW): per element the reference's order.
    Flat; dims and geometry as _im2col's."""
    c, h, w, n = dims[0], dims[1], dims[2], dims[3]
    kh, kw, ho, wo = dims[4], dims[5], dims[6], dims[7]
    sh, sw, ph, pw = geometry[0], geometry[1], geometry[2], geometry[3]
    dh, dw = geometry[4], geometry[5]
    width = wo * n
    for ci in prange(c):
        plane = xt[ci * h * w * n : (ci + 1) * h * w * n]
        for k in range(plane.size):
            plane[k] = 0
        for i in range(kh):
            for j in range(kw):
                r = (ci * kh + i) * kw + j
                off_w = j * dw - pw
                lo, hi = _valid(wo, off_w, sw, w)
                for oh in range(ho):
                    hh = oh * sh - ph + i * dh
                    if hh < 0 or hh >= h:
                        continue
                    src = cols[(r * ho + oh) * width : (r * ho + oh + 1) * width]
                    row = plane[hh * w * n : (hh + 1) * w * n]
                    if sw == 1:
                        s = src[lo * n : hi * n]
                        d = row[(lo + off_w) * n : (hi + off_w) * n]
                        for k in range(s.size):
                            d[k] += s[k]
                    else:
                        for ow in range(lo, hi):
                            s = src[ow * n : (ow + 1) * n]
                            d = row[(ow * sw + off_w) * n : (ow * sw + off_w + 1) * n]
                            for k in range(n):
                                d[k] += s[k]


def _transpose(src: Array, add: Array, dst: Array) -> None:
    """dst (cols, rows) = src (rows, cols) transposed, plus add[c] on dst row
    c when `add` is not empty (one rounding, as the reference's add; without,
    a plain copy). In TILE x TILE tiles, whose fixed size lets the compiler
    unroll them, each read along the longer side of src (the other order
    runs into cache-set conflicts at power-of-two strides, 2-10x slower)."""
    rows, cols = src.shape
    has_add = add.size > 0
    wide = rows <= cols
    for i0 in prange((rows + TILE - 1) // TILE):
        r0 = i0 * TILE
        r1 = min(r0 + TILE, rows)
        for c0 in range(0, cols, TILE):
            c1 = min(c0 + TILE, cols)
            s = src[r0:r1, c0:c1]
            d = dst[c0:c1, r0:r1]
            a = add[c0:c1] if has_add else add
            if r1 - r0 < TILE or c1 - c0 < TILE:
                for i in range(r1 - r0):
                    for j in range(c1 - c0):
                        d[j, i] = s[i, j] + a[j] if has_add else s[i, j]
            elif wide and has_add:
                for i in range(TILE):
                    for j in range(TILE):
                        d[j, i] = s[i, j] + a[j]
            elif wide:
                for i in range(TILE):
                    for j in range(TILE):
                        d[j, i] = s[i, j]
            elif has_add:
                for j in range(TILE):
                    for i in range(TILE):
                        d[j, i] = s[i, j] + a[j]
            else:
                for j in range(TILE):
                    for i in range(TILE):
                        d[j, i] = s[i, j]


def _channel_sums(grad: Array, sums: Array) -> None:
    """sums[o] = grad (N, O, P) summed over N and P in float64, rounded once
    on the store (compiled reassociated: vectorized, in another order than
    the reference's)."""
    n, o, p = grad.shape
    for k in range(o):
        s = 0.0
        for b in range(n):
            row = grad[b, k]
            for q in range(p):
                s += np.float64(row[q])
        sums[k] = s


def _max_pool(
    x: Array, table: Array, first: Array, empty: Array, out: Array, indices: Array
) -> None:
    """out, indices (planes, P): each window's first largest element inside x
    (planes, H * W) (the first NaN) and its index; -inf and `first` for a
    window with nothing inside. Branch-free: the running index is updated by
    arithmetic and the value read back through it, since whether each element
    wins is as unpredictable as the data (as a branch, mispredicted: 3x slower
    on fresh activations than on data seen before)."""
    kk, p = table.shape
    last = x.shape[1] - 1
    for r in prange(x.shape[0]):
        plane = x[r]
        at = indices[r]
        for q in range(p):
            at[q] = first[q]
        for t in range(kk):
            for q in range(p):
                o = table[t, q]
                k = max(o, 0)
                a = at[q]
                v = plane[k]
                b = plane[min(max(a, 0), last)]
                wins = (v > b) | (np.isnan(v) & (not np.isnan(b)))
                take = (o >= 0) & wins
                at[q] = a + np.int64(take) * (k - a)
        best = out[r]
        for q in range(p):
            v = plane[min(max(at[q], 0), last)]
            best[q] = -np.inf if empty[q] else v


def _max_pool_planes_last(
    xt: Array, table: Array, first: Array, empty: Array, out: Array, indices: Array
) -> None:
    """_max_pool with the planes last: xt (H * W, planes) in, out and indices
    (P, planes) out. The loop over the planes is innermost and branch-free, so
    it vectorizes."""
    kk, p = table.shape
    planes = xt.shape[1]
    last = xt.shape[0] - 1
    for q in prange(p):
        best = out[q]
        at = indices[q]
        start = first[q]
        src = xt[min(max(start, 0), last)]
        for r in range(planes):
            best[r] = src[r]
            at[r] = start
        if empty[q]:
            for r in range(planes):
                best[r] = -np.inf
            continue
        for t in range(kk):
            o = table[t, q]
            if o < 0:
                continue
            src = xt[o]
            for r in range(planes):
                v = src[r]
                b = best[r]
                take = (v > b) | (np.isnan(v) & (not np.isnan(b)))
                best[r] = v if take else b
                at[r] = o if take else at[r]


def _max_pool_backward(grad: Array, indices: Array, out: Array, bounds: Array) -> None:
    """out (planes, H * W) = 0 plus grad (planes, P) at indices, in order;
    bounds (planes, 2) each plane's least and largest index (only those in
    range are added)."""
    planes, p = grad.shape
    hw = out.shape[1]
    for r in prange(planes):
        dst = out[r]
        g = grad[r]
        at = indices[r]
        for k in range(hw):
            dst[k] = 0
        low = _INDEX_LIMIT
        high = -_INDEX_LIMIT
        for q in range(p):
            k = at[q]
            low = min(low, k)
            high = max(high, k)
            if 0 <= k < hw:
                dst[k] += g[q]
        bounds[r, 0] = low
        bounds[r, 1] = high


def _contiguous(*arrays: Array | None) -> bool:
    """Whether every array given is a C-contiguous NumPy float32/float64 array
    of the first's dtype."""
    first = arrays[0]
    if not isinstance(first, np.ndarray) or first.dtype not in COMPILED_DTYPES:
        return False
    for a in arrays:
        if a is None:
            continue
        if not isinstance(a, np.ndarray) or a.dtype != first.dtype:
            return False
        if not a.flags.c_contiguous:
            return False
    return True


# Numbers of elements from which a kernel runs on the threads: well above the
# activations' PARALLEL_MIN, since these loops are short and cheap per element
# (waking a thread cost more than the whole of a digits CNN layer's loop).
PARALLEL_MIN: Final = 1 << 20
# The transposes' tiles: TILE x TILE elements, unrolled.
TILE: Final = 16
# Max pooling runs with the planes last (transposed in and out) from this many
# planes (N * C): its inner loop then vectorizes over them.
PLANES_LAST_MIN: Final = 64


# _valid, compiled for the kernels that call it.
_SCOPE: Final = KernelScope(globals(), {_valid: {}})


def _kernel(fn: Callable[..., Any], n: int, **options: bool) -> Any:
    """fn compiled, parallel when n elements make it worth waking the threads."""
    parallel = n >= PARALLEL_MIN and get_num_threads() > 1
    return _SCOPE.compiled(fn, parallel=parallel, **options)


_NO_ADD: Final = {t: np.empty(0, t) for t in (*COMPILED_DTYPES, np.dtype(np.int64))}
# Each temporary of a workspace starts at a multiple of ALIGN elements (64
# bytes of float32: whole cache lines, whole vectors).
ALIGN: Final = 16


@functools.lru_cache(maxsize=256)
def _constants(*values: int) -> Array:
    """The dims and geometry the kernels take, as a read-only int64 array
    (cached: a layer's repeat every step)."""
    out = np.array(values, np.int64)
    out.flags.writeable = False
    return out


class ConvCompiled(ConvKernels):
    """The compiled forms of ConvKernels' methods (see the module's docstring)."""

    matmul: Callable[[Array, Array, Array], None]  # the backend's (thread policy)

    def _workspace(
        self, dtype: np.dtype[Any], *shapes: tuple[int, ...]
    ) -> tuple[Any, list[Array]]:
        """One scratch allocation carved into arrays of `shapes` (the holder
        keeps them): an allocation costs more than these kernels' small loops."""
        sizes = [math.prod(shape) for shape in shapes]
        starts = [0]
        for size in sizes:
            starts.append(starts[-1] + -(-size // ALIGN) * ALIGN)
        held = self.scratch((starts[-1],), dtype)
        flat = held.native
        views = [
            flat[start : start + size].reshape(shape)
            for start, size, shape in zip(starts, sizes, shapes, strict=False)
        ]
        return held, views

    def _transpose_into(self, a: Array, out: Array, add: Array | None = None) -> None:
        """out (C, R) = a (R, C) transposed, plus add (C,) per row of out."""
        extra = _NO_ADD[a.dtype] if add is None else add
        _kernel(_transpose, a.size)(a, extra, out)

    def _columns_into(
        self, x: Array, xt: Array, dims: Array, geometry: Array, cols: Array
    ) -> None:
        """cols (C, kH, kW, Ho, Wo, N) = x's columns, batch last; xt (C * H * W,
        N) takes x batch last first (unused when N is 1: x is that already)."""
        n = x.shape[0]
        if n == 1:
            source = x.reshape(-1)
        else:
            self._transpose_into(x.reshape(n, -1), xt)
            source = xt.reshape(-1)
        _kernel(_im2col, cols.size)(source, dims, geometry, cols.reshape(-1))

    def conv2d(
        self,
        x: Array,
        weight: Array,
        bias: Array | None,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        groups: int,
        out: Array,
    ) -> None:
        if not _contiguous(x, weight, bias, out) or not x.size or not out.size:
            super().conv2d(x, weight, bias, stride, padding, dilation, groups, out)
            return
        n, c, h, w = x.shape
        o, per_group, kh, kw = weight.shape
        ho, wo = out.shape[2], out.shape[3]
        m = ho * wo * n
        depth, og = per_group * kh * kw, o // groups
        held, (xt, cols, product, add) = self._workspace(
            x.dtype,
            (c * h * w, n) if n > 1 else (0,),
            (groups, depth, m),
            (m, o),
            (n, o) if bias is not None else (0,),
        )
        dims = _constants(c, h, w, n, kh, kw, ho, wo)
        self._columns_into(x, xt, dims, _constants(*stride, *padding, *dilation), cols)
        # (Ho * Wo * N, O) = columns^T @ weight^T: BLAS runs this orientation
        # faster than weight @ columns (134 against 158 us for the digits
        # CNN's second layer)
        flat_w = weight.reshape(groups, og, depth)
        for g in range(groups):
            part = product[:, g * og : (g + 1) * og]
            self.matmul(cols[g].T, flat_w[g].T, part)
        # (Ho * Wo, N * O) -> (N * O, Ho * Wo), the bias added on the way
        if bias is not None:
            add[...] = bias
        self._transpose_into(
            product.reshape(ho * wo, n * o),
            out.reshape(n * o, ho * wo),
            None if bias is None else add.reshape(-1),
        )
        del held

    def conv2d_backward_input(
        self,
        grad: Array,
        weight: Array,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        groups: int,
        out: Array,
    ) -> None:
        if not _contiguous(grad, weight, out) or not grad.size or not out.size:
            super().conv2d_backward_input(
                grad, weight, stride, padding, dilation, groups, out
            )
            return
        n, c, h, w = out.shape
        o, per_group, kh, kw = weight.shape
        ho, wo = grad.shape[2], grad.shape[3]
        m = ho * wo * n
        depth, og = per_group * kh * kw, o // groups
        xt_shape = (c * h * w, n) if n > 1 else (0,)
        shapes = ((ho * wo, n * o), (groups, depth, m), xt_shape)
        held, (rows, cols, xt) = self._workspace(grad.dtype, *shapes)
        # grad as (Ho * Wo * N, O): the layout of the forward's product
        self._transpose_into(grad.reshape(n * o, ho * wo), rows)
        flat_rows = rows.reshape(m, o)
        flat_w = weight.reshape(groups, og, depth)
        for g in range(groups):
            part = flat_rows[:, g * og : (g + 1) * og]
            self.matmul(flat_w[g].T, part.T, cols[g])
        dims = _constants(c, h, w, n, kh, kw, ho, wo)
        geometry = _constants(*stride, *padding, *dilation)
        kernel = _kernel(_col2im, cols.size)
        if n == 1:
            kernel(cols.reshape(-1), dims, geometry, out.reshape(-1))
        else:
            kernel(cols.reshape(-1), dims, geometry, xt.reshape(-1))
            self._transpose_into(xt, out.reshape(n, -1))
        del held

    def conv2d_backward_weight(
        self,
        grad: Array,
        x: Array,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        groups: int,
        grad_weight: Array,
        grad_bias: Array | None,
    ) -> None:
        if not _contiguous(grad, x, grad_weight, grad_bias) or not grad.size:
            super().conv2d_backward_weight(
                grad, x, stride, padding, dilation, groups, grad_weight, grad_bias
            )
            return
        n, c, h, w = x.shape
        o, per_group, kh, kw = grad_weight.shape
        ho, wo = grad.shape[2], grad.shape[3]
        m = ho * wo * n
        depth, og = per_group * kh * kw, o // groups
        held, (xt, cols, rows, product) = self._workspace(
            grad.dtype,
            (c * h * w, n) if n > 1 else (0,),
            (groups, depth, m),
            (ho * wo, n * o),
            (groups, depth, og),
        )
        dims = _constants(c, h, w, n, kh, kw, ho, wo)
        self._columns_into(x, xt, dims, _constants(*stride, *padding, *dilation), cols)
        self._transpose_into(grad.reshape(n * o, ho * wo), rows)
        flat_rows = rows.reshape(m, o)
        # grad_weight^T (depth, O/G) = columns @ GT per group: BLAS runs this
        # orientation faster than grad @ columns^T (104 against 180 us)
        for g in range(groups):
            part = flat_rows[:, g * og : (g + 1) * og]
            self.matmul(cols[g], part, product[g])
        flat_w = grad_weight.reshape(groups, og, depth)
        for g in range(groups):
            self._transpose_into(product[g], flat_w[g])
        del held
        if grad_bias is not None:
            kernel = _kernel(_channel_sums, grad.size, reassociate=True)
            kernel(grad.reshape(n, o, -1), grad_bias)

    def max_pool2d(
        self,
        x: Array,
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        out: Array,
        indices: Array,
    ) -> None:
        if not _contiguous(x, out) or not indices.flags.c_contiguous or not x.size:
            super().max_pool2d(x, kernel, stride, padding, dilation, out, indices)
            return
        n, c, h, w = x.shape
        planes, size = n * c, (out.shape[2], out.shape[3])
        table, first, empty = offsets(kernel, stride, padding, dilation, (h, w), size)
        x2, out2, indices2 = (a.reshape(planes, -1) for a in (x, out, indices))
        p = size[0] * size[1]
        if planes < PLANES_LAST_MIN:
            _kernel(_max_pool, x.size)(x2, table, first, empty, out2, indices2)
            return
        # planes last: x transposed in, the results transposed out
        held, (xt, out_t) = self._workspace(x.dtype, (h * w, planes), (p, planes))
        index_held = self.scratch((p, planes), indices.dtype)
        self._transpose_into(x2, xt)
        kernel_fn = _kernel(_max_pool_planes_last, x.size)
        kernel_fn(xt, table, first, empty, out_t, index_held.native)
        self._transpose_into(out_t, out2)
        self._transpose_into(index_held.native, indices2)
        del held, index_held

    def max_pool2d_backward(
        self, grad: Array, indices: Array, out: Array
    ) -> tuple[int, int]:
        if not _contiguous(grad, out) or not indices.flags.c_contiguous:
            return super().max_pool2d_backward(grad, indices, out)
        n, c = out.shape[:2]
        planes = n * c
        if grad.size == 0:
            out.fill(0)
            return 0, 0
        held = self.scratch((planes, 2), indices.dtype)
        bounds = held.native
        kernel = _kernel(_max_pool_backward, out.size)
        grad2, indices2, out2 = (a.reshape(planes, -1) for a in (grad, indices, out))
        kernel(grad2, indices2, out2, bounds)
        return int(bounds[:, 0].min()), int(bounds[:, 1].max())
