"""ConvolutionND: the Function behind conv1d and conv2d, and their shared checks."""

from __future__ import annotations

import math
from typing import Any

import actnet.ndarray as xp
from actnet.ndarray import from_buffer
from actnet.neuron._checks import check_tensor
from actnet.neuron._windows import Fold, Unfold, Window, columns, int_tuple, make_window
from actnet.neuron.activation.gelu import contiguous
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled

# The dtypes whose 2-d convolutions take the device's fused operators (compiled
# on cpu); others (and 1-d and 3-d) keep the composition below.
_FUSED_DTYPES = (xp.float32, xp.float64)


def _fused(x: Tensor, win: Window) -> bool:
    """Whether ConvolutionND runs x through the device's conv2d operators: 2-d,
    a fused dtype, and windows that cover the padded input as the device counts
    them (a transposed convolution's backward may leave a remainder after the
    last window, which the device would count as more windows)."""
    if len(win.kernel) != 2 or x.dtype not in _FUSED_DTYPES:
        return False
    for axis in (0, 1):
        span = win.size[axis] + win.pad_lo[axis] + win.pad_hi[axis]
        reach = win.dilation[axis] * (win.kernel[axis] - 1) + 1
        if (span - reach) // win.stride[axis] + 1 != win.out[axis]:
            return False
    return True


def _pads(win: Window) -> tuple[tuple[int, int], tuple[int, int]]:
    """The window's padding as the device takes it: (before, after) per axis."""
    return (win.pad_lo[0], win.pad_hi[0]), (win.pad_lo[1], win.pad_hi[1])


class ConvolutionND(Function):
    """Cross-correlation of an input (N, C, *size) with a weight (O, C/groups,
    *kernel), plus a bias (O,).

    Forward: the im2col columns (C, *kernel, N, *out) of the padded input, then
    per group one matrix product (O/g, K) @ (K, N * out). Backward keeps the input
    (for the weight's gradient) and the weight (for the input's), each only when
    the other gradient is asked for, and recomputes the columns there: as in
    PyTorch, one more im2col instead of holding columns kernel-volume times the
    input's size from forward to backward. The gradients are written with
    differentiable operations (Fold, Unfold, matmul), so double backward works.

    In eager mode a 2-d float32 or float64 convolution is the device's fused
    `conv2d` (im2col, product and bias in one call; compiled on cpu), and its
    backward `conv2d_backward_input` and `conv2d_backward_weight` (the bias's
    gradient with the weight's); under create_graph the backward is the
    composition, so that it can be differentiated again.
    """

    contracts = True  # selective checkpointing's dots_saveable keeps its output

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        weight: Tensor,
        bias: Tensor | None,
        win: Window,
        groups: int,
    ) -> Tensor:
        needs = ctx.needs_input_grad
        ctx.save_for_backward(x if needs[1] else None, weight if needs[0] else None)
        ctx.win, ctx.groups, ctx.weight_shape = win, groups, weight.shape
        ctx.fused, ctx.dtype = _fused(x, win), x.dtype
        if ctx.fused:
            xb = contiguous(x)
            b = None if bias is None else contiguous(bias)
            out_buf = xb.device.conv2d(
                xb, contiguous(weight), b, win.stride, _pads(win), win.dilation, groups
            )
            return as_tensor(from_buffer(out_buf))
        batch = x.shape[0]
        out_channels = weight.shape[0]
        depth = weight.shape[1] * math.prod(win.kernel)
        cols = xp.reshape(columns(x.array, win), (groups, depth, -1))
        w = xp.reshape(weight.array, (groups, out_channels // groups, depth))
        # (G, O/G, N * out) is (O, N, *out): N back in front while adding the bias
        # (or copying), so the result is contiguous like PyTorch's
        product = xp.reshape(w @ cols, (out_channels, batch, *win.out))
        swapped = xp.permute_dims(product, (1, 0, *range(2, product.ndim)))
        if bias is None:
            out = xp.asarray(swapped, copy=True)
        else:
            shape = (out_channels,) + (1,) * len(win.out)
            out = swapped + xp.reshape(bias.array, shape)
        return as_tensor(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        win: Window = ctx.win
        groups: int = ctx.groups
        if ctx.fused and not is_grad_enabled() and grad.dtype == ctx.dtype:
            return ConvolutionND._fused_backward(ctx, grad, x, weight)
        out_channels, per_group, *kernel = ctx.weight_shape
        depth = per_group * math.prod(kernel)
        batch = grad.shape[0]
        # (N, O, *out) -> (G, O/G, N * out): the layout of the forward's product
        g = grad.transpose(0, 1).reshape(groups, out_channels // groups, -1)
        grad_x = grad_w = grad_b = None
        needs = ctx.needs_input_grad
        if needs[0]:
            w = weight.reshape(groups, out_channels // groups, depth)
            cols = w.transpose(1, 2) @ g
            shape = (per_group * groups, *kernel, batch, *win.out)
            grad_x = Fold.apply(cols.reshape(shape), win)
        if needs[1]:
            cols = Unfold.apply(x, win).reshape(groups, depth, -1)
            grad_w = (g @ cols.transpose(1, 2)).reshape(ctx.weight_shape)
        if needs[2]:
            grad_b = grad.sum((0, *range(2, grad.ndim)))
        return grad_x, grad_w, grad_b, None, None

    @staticmethod
    def _fused_backward(
        ctx: Any, grad: Tensor, x: Tensor | None, weight: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        """The gradients from the device's fused conv2d backwards."""
        win: Window = ctx.win
        g = contiguous(grad)
        dev = g.device
        geometry = (win.stride, _pads(win), win.dilation, ctx.groups)
        needs = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if needs[0]:
            assert weight is not None  # saved when the input needs a gradient
            w = contiguous(weight)
            buf = dev.conv2d_backward_input(g, w, win.size, *geometry)
            grad_x = as_tensor(from_buffer(buf))
        if needs[1]:
            assert x is not None  # saved when the weight needs a gradient
            xb = contiguous(x)
            gw, gb = dev.conv2d_backward_weight(
                g, xb, win.kernel, *geometry, bias=needs[2]
            )
            grad_w = as_tensor(from_buffer(gw))
            grad_b = None if gb is None else as_tensor(from_buffer(gb))
        elif needs[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


def _padding(
    padding: Any,
    n: int,
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    op: str,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The padding before and after each spatial axis."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * n, (0,) * n
        if padding != "same":
            raise ValueError(
                f"{op}: padding must be 'valid', 'same', an int or a tuple of ints, "
                f"got {padding!r}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{op}: padding='same' is not supported for strided convolutions "
                f"(stride={stride})"
            )
        # PyTorch's choice: an odd total puts the extra element after the input
        total = tuple(d * (k - 1) for d, k in zip(dilation, kernel, strict=True))
        lo = tuple(t // 2 for t in total)
        return lo, tuple(t - a for t, a in zip(total, lo, strict=True))
    pad = int_tuple(padding, n, op, "padding")
    return pad, pad


def convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    n: int,
    op: str,
) -> Tensor:  # torch's names
    """Check the arguments of conv{n}d and apply ConvolutionND."""
    check_tensor(input, op, "input", kinds="f")
    check_tensor(weight, op, "weight", kinds="f")
    if bias is not None:
        check_tensor(bias, op, "bias", kinds="f")
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(
            f"{op}: input must be {n + 1}-d (C, *size) or {n + 2}-d (N, C, *size), "
            f"got shape {input.shape}"
        )
    if weight.ndim != n + 2:
        raise ValueError(
            f"{op}: weight must be {n + 2}-d (out_channels, in_channels / groups, "
            f"*kernel), got shape {weight.shape}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(
                f"{op}: {name} has dtype {t.dtype}, input has {input.dtype}; "
                "they must match"
            )
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    channels = input.shape[-n - 1]
    out_channels = weight.shape[0]
    if channels != weight.shape[1] * groups:
        raise ValueError(
            f"{op}: input has {channels} channels, but weight of shape "
            f"{weight.shape} with groups={groups} expects {weight.shape[1] * groups}"
        )
    if out_channels % groups:
        raise ValueError(
            f"{op}: out_channels (weight.shape[0] = {out_channels}) must be divisible "
            f"by groups={groups}"
        )
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(
            f"{op}: bias must have shape ({out_channels},), got {bias.shape}"
        )
    kernel = weight.shape[2:]
    strides = int_tuple(stride, n, op, "stride")
    dilations = int_tuple(dilation, n, op, "dilation")
    lo, hi = _padding(padding, n, kernel, dilations, strides, op)
    batched = input.ndim == n + 2
    x = input if batched else input.unsqueeze(0)
    win = make_window(x.shape[2:], kernel, strides, dilations, lo, hi, op)
    out: Tensor = ConvolutionND.apply(x, weight, bias, win, groups)
    return out if batched else out.squeeze(0)
