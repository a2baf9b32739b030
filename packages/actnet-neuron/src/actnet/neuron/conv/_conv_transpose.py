"""ConvTransposeND: the Function behind conv_transpose1d and conv_transpose2d,
and their shared checks.

A transposed convolution is the gradient of a convolution with respect to its
input. Seen from the convolution it is the adjoint of, its output (N, O, *out)
is that convolution's input grid and its input (N, C, *size) that
convolution's output: one `Window` describes both, with `size` the transposed
convolution's output and `out` its input.
"""

from __future__ import annotations

import math
from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.neuron._windows import Unfold, Window, fold, int_tuple
from actnet.neuron.conv._convolution import ConvolutionND
from actnet.tensor import Function, Tensor, as_tensor


class ConvTransposeND(Function):
    """Transposed convolution of an input (N, C, *size) with a weight (C, O/groups,
    *kernel), plus a bias (O,): every input element times the kernel, added into
    the output at stride steps (PyTorch's conv_transpose).

    Forward is a convolution's input gradient: per group one matrix product
    (O/g * kernel, C/g) @ (C/g, N * size) gives the columns (O, *kernel, N,
    *size), which col2im (`fold`) adds onto the output grid. Backward is the convolution
    itself: the input's gradient is the convolution of the output's gradient
    with the same weight (ConvolutionND), the weight's gradient the input
    against the im2col columns of the output's gradient. Both are written with
    differentiable operations, so double backward works.
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
        batch, channels = x.shape[0], x.shape[1]
        per_group, *kernel = weight.shape[1:]
        out_channels = per_group * groups
        depth = per_group * math.prod(kernel)
        # (N, C, *size) -> (G, C/G, N * size), the layout the columns need
        data = xp.permute_dims(x.array, (1, 0, *range(2, x.ndim)))
        data = xp.reshape(data, (groups, channels // groups, -1))
        w = xp.reshape(weight.array, (groups, channels // groups, depth))
        cols = xp.matrix_transpose(w) @ data
        out = fold(xp.reshape(cols, (out_channels, *kernel, batch, *win.out)), win)
        if bias is not None:
            out = out + xp.reshape(bias.array, (out_channels,) + (1,) * len(kernel))
        needs = ctx.needs_input_grad
        ctx.save_for_backward(x if needs[1] else None, weight if needs[0] else None)
        ctx.win, ctx.groups, ctx.weight_shape = win, groups, weight.shape
        return as_tensor(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        win: Window = ctx.win
        groups: int = ctx.groups
        channels, per_group, *kernel = ctx.weight_shape
        depth = per_group * math.prod(kernel)
        grad_x = grad_w = grad_b = None
        needs = ctx.needs_input_grad
        if needs[0]:
            # the weight (C, O/G, *kernel) read as a convolution's (out, in/G, ...)
            grad_x = ConvolutionND.apply(grad, weight, None, win, groups)
        if needs[1]:
            cols = Unfold.apply(grad, win).reshape(groups, depth, -1)
            data = x.transpose(0, 1).reshape(groups, channels // groups, -1)
            grad_w = (data @ cols.transpose(1, 2)).reshape(ctx.weight_shape)
        if needs[2]:
            grad_b = grad.sum((0, *range(2, grad.ndim)))
        return grad_x, grad_w, grad_b, None, None


def _as_2d(values: tuple[int, ...], fill: int) -> tuple[int, ...]:
    """1-d values as the 2-d ones PyTorch's messages show (it runs conv_transpose1d
    as a 2-d convolution of height 1)."""
    return (fill, *values) if len(values) == 1 else values


def _torch_shape(shape: tuple[int, ...], n: int) -> list[int]:
    """A batched input's or a weight's shape as the messages of PyTorch's 2-d
    kernel show it."""
    return [*shape[:2], 1, *shape[2:]] if n == 1 else list(shape)


def _pairs(name: str, values: tuple[int, ...], fill: int, sep: str = "") -> str:
    height, width = _as_2d(values, fill)
    return f"{name}_height: {height}{sep} {name}_width: {width}"


def _check_geometry(
    op: str,
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    output_padding: tuple[int, ...],
    dilation: tuple[int, ...],
) -> None:
    """PyTorch's refusals of the strides, paddings and dilations, in its words
    (after the function's name)."""
    if any(s < 1 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError(f"{op}: negative output_padding is not supported")
    if any(d < 1 for d in dilation):
        raise RuntimeError(
            f"{op}: dilation should be greater than zero, but got "
            + _pairs("dilation", dilation, 1, sep=",")
        )
    if any(
        p >= s and p >= d
        for p, s, d in zip(output_padding, stride, dilation, strict=True)
    ):
        raise RuntimeError(
            f"{op}: output padding must be smaller than either stride or dilation, "
            f"but got {_pairs('output_padding', output_padding, 0)} "
            f"{_pairs('stride', stride, 1)} {_pairs('dilation', dilation, 1)}"
        )


def _check_shapes(
    op: str, n: int, input: Tensor, weight: Tensor, bias: Tensor | None, groups: int
) -> None:
    """PyTorch's refusals of the input's, weight's and bias's shapes and of groups
    (its check_shape_forward), in its words (after the function's name)."""
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {op}, "
            f"but got input of size: {list(input.shape)}"
        )
    if weight.ndim != n + 2:
        raise RuntimeError(
            f"{op}: weight must be {n + 2}-d (in_channels, out_channels / groups, "
            f"*kernel), got shape {list(weight.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(
                f"{op}: {name} has dtype {t.dtype}, input has {input.dtype}; "
                "they must match"
            )
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported")
    shape = list(weight.shape)
    if weight.shape[0] < 1:
        raise RuntimeError(
            f"{op}: Given groups={groups}, expected weight to be at least 1 at "
            f"dimension 0, but got weight of size {shape} instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"{op}: Given groups={groups}, expected weight to be divisible by "
            f"{groups} at dimension 0, but got weight of size {shape} instead"
        )
    if math.prod(weight.shape) == 0:
        raise RuntimeError(
            f"{op}: non-empty 2D or 4D weight tensor expected, but got: "
            f"{_torch_shape(weight.shape, n)}"
        )
    channels = input.shape[-n - 1]
    if channels != weight.shape[0]:
        batched = input.shape if input.ndim == n + 2 else (1, *input.shape)
        raise RuntimeError(
            f"{op}: Given transposed=1, weight of size {shape}, expected "
            f"input{list(batched)} to have {weight.shape[0]} channels, "
            f"but got {channels} channels instead"
        )
    out_channels = weight.shape[1] * groups
    if bias is not None and bias.shape != (out_channels,):
        raise RuntimeError(
            f"{op}: Given transposed=1, weight of size {shape}, expected bias "
            f"to be 1-dimensional with {out_channels} elements, but got bias of size "
            f"{list(bias.shape)} instead"
        )


def conv_transpose(
    input: Tensor,  # torch's names
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
    n: int,
    op: str,
) -> Tensor:
    """Check the arguments of conv_transpose{n}d and apply ConvTransposeND."""
    check_tensor(input, op, "input", kinds="f")
    check_tensor(weight, op, "weight", kinds="f")
    if bias is not None:
        check_tensor(bias, op, "bias", kinds="f")
    _check_shapes(op, n, input, weight, bias, groups)
    strides = int_tuple(stride, n, op, "stride")
    pads = int_tuple(padding, n, op, "padding")
    extra = int_tuple(output_padding, n, op, "output_padding")
    dilations = int_tuple(dilation, n, op, "dilation")
    _check_geometry(op, strides, pads, extra, dilations)
    batched = input.ndim == n + 2
    x = input if batched else input.unsqueeze(0)
    size = x.shape[2:]
    if any(s == 0 for s in size):
        raise RuntimeError(
            f"{op}: Only zero batch or zero channel inputs are supported, but got "
            f"input shape: {_torch_shape(x.shape, n)}"
        )
    kernel = weight.shape[2:]
    out = tuple(
        (m - 1) * s - 2 * p + d * (k - 1) + e + 1
        for m, s, p, d, k, e in zip(
            size, strides, pads, dilations, kernel, extra, strict=True
        )
    )
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"{op}: Given input size per channel: "
            f"({' x '.join(map(str, _as_2d(size, 1)))}). Calculated output size per "
            f"channel: ({' x '.join(map(str, _as_2d(out, 1)))}). Output size is too "
            "small"
        )
    # the convolution this one is the adjoint of: input `out` padded by `pads`
    # before, its windows reaching `hi` after it, giving `size` windows
    hi = tuple(
        max((m - 1) * s + d * (k - 1) + 1 - p - o, 0)
        for m, s, d, k, p, o in zip(
            size, strides, dilations, kernel, pads, out, strict=True
        )
    )
    win = Window(kernel, strides, dilations, pads, hi, out, size)
    result: Tensor = ConvTransposeND.apply(x, weight, bias, win, groups)
    return result if batched else result.squeeze(0)
