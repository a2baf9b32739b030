"""ConvolutionND: the Function behind conv1d and conv2d, and their shared checks."""

from __future__ import annotations

import math
from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.neuron._windows import Fold, Unfold, Window, columns, int_tuple, make_window
from actnet.tensor import Function, Tensor, as_tensor


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
        needs = ctx.needs_input_grad
        ctx.save_for_backward(x if needs[1] else None, weight if needs[0] else None)
        ctx.win, ctx.groups, ctx.weight_shape = win, groups, weight.shape
        return as_tensor(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        win: Window = ctx.win
        groups: int = ctx.groups
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
