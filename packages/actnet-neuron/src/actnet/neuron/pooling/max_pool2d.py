"""max_pool2d: the largest value of each window over (H, W).

float16, float32 and float64 inputs take the device's fused operators (MaxPool2D):
`max_pool2d` finds each window's maximum and its index in one call (compiled on
cpu), and `max_pool2d_backward` adds the gradient at the indices; under
create_graph that backward is a Function whose own backward is `gather` at the
same indices, so any order works. Other dtypes use the composition: the argmax
of every window found without a graph (over a strided view of the input padded
with -inf), the output `gather` of the input at those indices (its backward is
a scatter-add into them, differentiable again). Either way backward keeps only
the int64 indices, one per output element.
"""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.device import Buffer
from actnet.ndarray import NDArray, from_buffer
from actnet.neuron._windows import Window, int_tuple, make_window, pad, windows
from actnet.neuron.activation.gelu import contiguous
from actnet.neuron.pooling._arguments import pool_arguments
from actnet.tensor import Function, Tensor, as_tensor, gather, is_grad_enabled

Pair = tuple[int, int]

# The dtypes the device's max_pool2d takes (compiled on cpu for float32 and
# float64); bfloat16 keeps the composition below.
_FUSED_DTYPES = (xp.float16, xp.float32, xp.float64)


class MaxPool2D(Function):
    """Max pooling of x (N, C, H, W) by the device's `max_pool2d`; the output,
    and with `with_indices` the int64 indices too (they get no gradient).
    Backward keeps the indices only."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        ceil_mode: bool,
        with_indices: bool,
    ) -> Tensor | tuple[Tensor, Tensor]:
        xb = contiguous(x)
        out, indices = xb.device.max_pool2d(
            xb, kernel, stride, padding, dilation, ceil_mode
        )
        ctx.indices, ctx.size = indices, x.shape[2:]
        result = as_tensor(from_buffer(out))
        if not with_indices:
            return result
        index = as_tensor(from_buffer(indices))
        ctx.mark_non_differentiable(index)
        return result, index

    @staticmethod
    def backward(ctx: Any, grad: Tensor, *_: Any) -> tuple[Tensor | None, ...]:
        nones = (None,) * 6
        if is_grad_enabled():
            grad_x: Tensor = MaxPool2DBackward.apply(grad, ctx.indices, ctx.size)
            return grad_x, *nones
        g = contiguous(grad)
        buf = g.device.max_pool2d_backward(g, ctx.indices, ctx.size)
        return as_tensor(from_buffer(buf)), *nones


class MaxPool2DBackward(Function):
    """max_pool2d's input gradient (N, C, H, W) from grad (N, C, Ho, Wo) and
    the forward's indices: `max_pool2d_backward`. Linear in grad; its own
    backward gathers at the same indices, which is differentiable again."""

    @staticmethod
    def forward(ctx: Any, grad: Tensor, indices: Buffer, size: Pair) -> Tensor:
        ctx.indices = indices
        g = contiguous(grad)
        return as_tensor(from_buffer(g.device.max_pool2d_backward(g, indices, size)))

    @staticmethod
    def backward(ctx: Any, gg: Tensor) -> tuple[Tensor, None, None]:
        n, c, ho, wo = ctx.indices.shape
        index = as_tensor(from_buffer(ctx.indices.reshape((n, c, ho * wo))))
        flat = gg.reshape(n, c, -1)
        return gather(flat, 2, index).reshape(n, c, ho, wo), None, None


def _first_inside(start: int, dilation: int) -> int:
    """The first position start, start + dilation, ... that is not before 0."""
    return start if start >= 0 else start - (start // dilation) * dilation


def argmax_indices(data: NDArray, win: Window) -> NDArray:
    """For input (N, C, H, W): the flat index (h * W + w) of the largest element
    of every window, (N, C, Ho, Wo) int64. As in PyTorch, ties go to the first in
    the window, and a window of nothing but -inf keeps its first element inside
    the input."""
    n, c, height, width = data.shape
    kw = win.kernel[1]
    (sh, sw), (dh, dw) = win.stride, win.dilation
    (ph, pw), (ho, wo) = win.pad_lo, win.out
    view = windows(pad(data, win.pad_lo, win.pad_hi, -xp.inf), win)
    # (N, C, kh, kw, Ho, Wo) -> (N, C, Ho, Wo, kh * kw): a copy, kernel last
    flat = xp.reshape(xp.permute_dims(view, (0, 1, 4, 5, 2, 3)), (n, c, ho, wo, -1))
    arg = xp.argmax(flat, axis=-1)
    device = data.device
    starts_h = [o * sh - ph for o in range(ho)]
    starts_w = [o * sw - pw for o in range(wo)]
    row0 = xp.reshape(xp.asarray(starts_h, dtype=xp.int64, device=device), (ho, 1))
    col0 = xp.asarray(starts_w, dtype=xp.int64, device=device)
    ki = xp.floor_divide(arg, kw)
    rows = row0 + ki * dh
    cols = col0 + (arg - ki * kw) * dw
    if not any(win.pad_lo) and not any(win.pad_hi):
        return rows * width + cols
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    first_h = [_first_inside(s, dh) for s in starts_h]
    first_w = [_first_inside(s, dw) for s in starts_w]
    first = xp.asarray(
        [[h * width + w for w in first_w] for h in first_h],
        dtype=xp.int64,
        device=device,
    )
    return xp.where(inside, rows * width + cols, first)


def max_pool2d(
    input: Tensor,  # torch's names
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The maximum over each kH x kW window of input (N, C, H, W) or (C, H, W)
    (torch.nn.functional.max_pool2d). stride defaults to kernel_size; padding
    (at most half the kernel) counts as -inf; with ceil_mode the last partial
    window is kept. With return_indices, also the flat h * W + w index of each
    maximum (int64), as max_unpool2d takes it.

    >>> max_pool2d(at.tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2)
    tensor([[[[4.]]]])
    """
    op = "max_pool2d"
    kernel, strides, pads = pool_arguments(input, kernel_size, stride, padding, op)
    dilations = int_tuple(dilation, 2, op, "dilation")
    batched = input.ndim == 4
    x = input if batched else input.unsqueeze(0)
    n, c, height, width = x.shape
    win = make_window(
        (height, width), kernel, strides, dilations, pads, pads, op, bool(ceil_mode)
    )
    if x.dtype in _FUSED_DTYPES:
        result = MaxPool2D.apply(
            x, kernel, strides, pads, dilations, bool(ceil_mode), return_indices
        )
        out, indices = result if return_indices else (result, None)
        if not batched:
            out = out.squeeze(0)
            indices = None if indices is None else indices.squeeze(0)
        return (out, indices) if return_indices else out
    index = argmax_indices(x.array, win)
    flat_index = as_tensor(xp.reshape(index, (n, c, -1)))
    out = gather(x.reshape(n, c, height * width), 2, flat_index)
    out = out.reshape(n, c, *win.out)
    indices = as_tensor(index)
    if not batched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out
