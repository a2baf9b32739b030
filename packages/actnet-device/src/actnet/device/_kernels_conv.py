"""Reference kernels of the fused 2-d convolution and max pooling, written once
against an array module.

A convolution is im2col and one matrix product per group, as the composition it
replaces (actnet.neuron's ConvolutionND): the columns of the padded input are
laid out (C, kH, kW, N, Ho, Wo), the product (O/G, K) @ (K, N * Ho * Wo) runs in
the input's dtype (BLAS for float32 and float64), and its (O, N, ...) result is
written to (N, O, ...) with the bias added (one rounding). The input's gradient
is the transposed product scattered back onto the input (col2im: one strided add
per kernel offset, in kernel order); the weight's, the product of the gradient
with the columns again (recomputed, not kept from forward); the bias's, the
gradient summed in float64 and rounded once.

Max pooling takes, in each window, the first largest element inside the input
(padding never wins; NaN beats every number, the first NaN staying), and returns
its flat index h * W + w; its backward adds each gradient at its index, in
output order (`ufunc_at` semantics: repeated indices one after another).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

Array = Any  # a numpy.ndarray or cupy.ndarray
Pair = tuple[int, int]

_F64: Final = np.dtype(np.float64)


def reach(size: int, out: int, kernel: int, stride: int, dilation: int, lo: int) -> int:
    """The padding after an axis that the windows actually read."""
    return max((out - 1) * stride + dilation * (kernel - 1) + 1 - lo - size, 0)


def offset_slice(i: int, dilation: int, stride: int, out: int) -> slice:
    """The positions of a padded axis that kernel offset i reads, one per output."""
    return slice(i * dilation, i * dilation + stride * (out - 1) + 1, stride)


def first_inside(starts: Array, dilation: int) -> Array:
    """Per window start (an integer array), the first position start + i *
    dilation that is not before 0."""
    return starts + ((-starts).clip(0) + dilation - 1) // dilation * dilation


class ConvKernels:
    """conv2d (forward, input and weight gradients), max_pool2d and its backward.
    Geometry comes as pairs (height, width): stride, padding before, dilation;
    the outputs' shapes say the rest."""

    xp: Any
    scratch: Callable[[tuple[int, ...], np.dtype[Any]], Any]

    def _padded(self, x: Array, lo: Pair, hi: Pair, value: float) -> Any:
        """x (N, C, H, W) in scratch padded by lo and hi with `value` (a holder
        whose `native` is the array), or None when there is no padding."""
        if not any(lo) and not any(hi):
            return None
        n, c, h, w = x.shape
        held = self.scratch((n, c, lo[0] + h + hi[0], lo[1] + w + hi[1]), x.dtype)
        held.native.fill(value)
        held.native[:, :, lo[0] : lo[0] + h, lo[1] : lo[1] + w] = x
        return held

    def _columns(
        self,
        x: Array,
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        out: Pair,
    ) -> Any:
        """The im2col columns of x: a holder of (C, kH, kW, N, Ho, Wo)."""
        n, c, h, w = x.shape
        hi = (
            reach(h, out[0], kernel[0], stride[0], dilation[0], padding[0]),
            reach(w, out[1], kernel[1], stride[1], dilation[1], padding[1]),
        )
        held = self._padded(x, padding, hi, 0.0)
        src = x if held is None else held.native
        cols = self.scratch((c, kernel[0], kernel[1], n, *out), x.dtype)
        for i in range(kernel[0]):
            rows = offset_slice(i, dilation[0], stride[0], out[0])
            for j in range(kernel[1]):
                columns = offset_slice(j, dilation[1], stride[1], out[1])
                window = src[:, :, rows, columns]
                self.xp.copyto(cols.native[:, i, j], window.transpose(1, 0, 2, 3))
        return cols

    def _grad_rows(self, grad: Array) -> Any:
        """grad (N, O, Ho, Wo) as a holder of (O, N, Ho, Wo): seen as (G, O/G,
        N * Ho * Wo), the layout of the forward's product."""
        n, o = grad.shape[:2]
        held = self.scratch((o, n, *grad.shape[2:]), grad.dtype)
        self.xp.copyto(held.native, grad.transpose(1, 0, 2, 3))
        return held

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
        """out (N, O, Ho, Wo) = the cross-correlation of x (N, C, H, W) with
        weight (O, C/G, kH, kW), plus bias (O,)."""
        xp = self.xp
        n = x.shape[0]
        o, per_group, kh, kw = weight.shape
        size = out.shape[2:]
        cols = self._columns(x, (kh, kw), stride, padding, dilation, size)
        depth = per_group * kh * kw
        m = n * size[0] * size[1]
        product = self.scratch((groups, o // groups, m), x.dtype)
        xp.matmul(
            weight.reshape(groups, o // groups, depth),
            cols.native.reshape(groups, depth, m),
            out=product.native,
        )
        result = product.native.reshape(o, n, *size).transpose(1, 0, 2, 3)
        if bias is None:
            xp.copyto(out, result)
        else:
            xp.add(result, bias.reshape(o, 1, 1), out=out)

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
        """out (N, C, H, W) = the gradient of conv2d's input: weight^T @ grad
        per group, added back onto the input grid at every kernel offset in
        turn (kH, then kW)."""
        xp = self.xp
        n, c, h, w = out.shape
        o, per_group, kh, kw = weight.shape
        size = grad.shape[2:]
        depth = per_group * kh * kw
        g = self._grad_rows(grad)
        cols = self.scratch((groups, depth, n * size[0] * size[1]), grad.dtype)
        wt = weight.reshape(groups, o // groups, depth).transpose(0, 2, 1)
        m = n * size[0] * size[1]
        xp.matmul(wt, g.native.reshape(groups, o // groups, m), out=cols.native)
        del g
        lo = padding
        hi = (
            reach(h, size[0], kh, stride[0], dilation[0], lo[0]),
            reach(w, size[1], kw, stride[1], dilation[1], lo[1]),
        )
        padded = any(lo) or any(hi)
        grid_held = None
        if padded:
            grid_shape = (n, c, lo[0] + h + hi[0], lo[1] + w + hi[1])
            grid_held = self.scratch(grid_shape, out.dtype)
            grid = grid_held.native
        else:
            grid = out
        grid.fill(0)
        blocks = cols.native.reshape(c, kh, kw, n, *size)
        for i in range(kh):
            rows = offset_slice(i, dilation[0], stride[0], size[0])
            for j in range(kw):
                columns = offset_slice(j, dilation[1], stride[1], size[1])
                target = grid[:, :, rows, columns]
                xp.add(target, blocks[:, i, j].transpose(1, 0, 2, 3), out=target)
        if padded:
            xp.copyto(out, grid[:, :, lo[0] : lo[0] + h, lo[1] : lo[1] + w])

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
        """grad_weight (O, C/G, kH, kW) = grad @ columns^T per group; grad_bias
        (O,), when given, the sum of grad over N, Ho and Wo in float64."""
        xp = self.xp
        o, per_group, kh, kw = grad_weight.shape
        size = grad.shape[2:]
        depth = per_group * kh * kw
        g = self._grad_rows(grad)
        m = grad.shape[0] * size[0] * size[1]
        rows = g.native.reshape(groups, o // groups, m)
        cols = self._columns(x, (kh, kw), stride, padding, dilation, size)
        xp.matmul(
            rows,
            cols.native.reshape(groups, depth, m).transpose(0, 2, 1),
            out=grad_weight.reshape(groups, o // groups, depth),
        )
        if grad_bias is not None:
            sums = self.scratch((o,), _F64)
            xp.sum(g.native.reshape(o, m), axis=1, dtype=_F64, out=sums.native)
            xp.copyto(grad_bias, sums.native, casting="unsafe")

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
        """out (N, C, Ho, Wo): each window's first largest element inside x;
        indices (int64): its flat index h * W + w."""
        xp = self.xp
        n, c, h, w = x.shape
        size = out.shape[2:]
        hi = (
            reach(h, size[0], kernel[0], stride[0], dilation[0], padding[0]),
            reach(w, size[1], kernel[1], stride[1], dilation[1], padding[1]),
        )
        held = self._padded(x, padding, hi, -np.inf)
        src = x if held is None else held.native
        k = kernel[0] * kernel[1]
        values = self.scratch((k, n, c, *size), x.dtype)
        for i in range(kernel[0]):
            rows = offset_slice(i, dilation[0], stride[0], size[0])
            for j in range(kernel[1]):
                columns = offset_slice(j, dilation[1], stride[1], size[1])
                xp.copyto(values.native[i * kernel[1] + j], src[:, :, rows, columns])
        # argmax: the first largest, the first NaN; padding (-inf) may win only
        # where the whole window is -inf, fixed below.
        arg = xp.argmax(values.native, axis=0)
        xp.copyto(out, xp.take_along_axis(values.native, arg[None], axis=0)[0])
        starts_h = xp.arange(size[0]).reshape(-1, 1) * stride[0] - padding[0]
        starts_w = xp.arange(size[1]) * stride[1] - padding[1]
        ki = arg // kernel[1]
        r = starts_h + ki * dilation[0]
        col = starts_w + (arg - ki * kernel[1]) * dilation[1]
        inside = (r >= 0) & (r < h) & (col >= 0) & (col < w)
        # a window of nothing but -inf keeps its first element inside x
        first_h = first_inside(starts_h, dilation[0])
        first_w = first_inside(starts_w, dilation[1])
        xp.copyto(indices, xp.where(inside, r * w + col, first_h * w + first_w))

    def max_pool2d_backward(
        self, grad: Array, indices: Array, out: Array
    ) -> tuple[int, int]:
        """out (N, C, H, W) = zeros with grad (N, C, Ho, Wo) added at indices,
        in output order. Returns the least and the largest index (0, 0 for
        none): out is written only when all lie in [0, H * W)."""
        xp = self.xp
        n, c, h, w = out.shape
        planes, per_plane = n * c, indices.size // max(n * c, 1)
        out.fill(0)
        if indices.size == 0:
            return 0, 0
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= h * w:
            return low, high
        flat = indices.reshape(planes, per_plane) + (
            xp.arange(planes, dtype=indices.dtype).reshape(-1, 1) * (h * w)
        )
        xp.add.at(out.reshape(-1), flat.reshape(-1), grad.reshape(-1))
        return low, high
