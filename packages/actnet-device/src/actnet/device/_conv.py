"""Fused 2-d convolution and max pooling of a Device, forward and backward.

Inputs are (N, C, H, W). Geometry follows `torch.nn.functional.conv2d` and
`max_pool2d`: stride, dilation and kernel sizes are an int or a pair (height,
width); a convolution's padding is an int, a pair, or a pair of (before, after)
pairs (an odd total of padding="same" pads one more after); max pooling pads
both sides alike, by at most half the kernel, and may keep a last partial window
(`ceil_mode`). The backwards take what PyTorch's native ones take: the input's
size (not the input) for the input's gradient, the input for the weight's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._buffer import Buffer
from actnet.device._core import DeviceCore
from actnet.device._opset import OPS

Pair = tuple[int, int]


def _pair(op: str, name: str, value: Any, low: int) -> Pair:
    """An int, or a sequence of one or two ints, as a pair; each at least low."""
    # the usual cases, checked at once
    if type(value) is int and value >= low:
        return value, value
    if type(value) is tuple and len(value) == 2:
        a, b = value
        if type(a) is int and type(b) is int and a >= low and b >= low:
            return a, b
    items = tuple(value) if isinstance(value, tuple | list) else (value,)
    if len(items) == 1:
        items = items * 2
    if len(items) != 2 or not all(type(i) is int for i in items):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if items[0] < low or items[1] < low:
        raise ValueError(f"{op}: {name} must be at least {low}, got {value!r}")
    return items[0], items[1]


def _padding(op: str, value: Any) -> tuple[Pair, Pair]:
    """A convolution's padding as (before, after), each a pair (height, width)."""
    if isinstance(value, tuple | list) and any(
        isinstance(v, tuple | list) for v in value
    ):
        if len(value) != 2:
            raise TypeError(
                f"{op}: padding must be an int, a pair of ints or a pair of "
                f"(before, after) pairs, got {value!r}"
            )
        h = _pair(op, "padding", value[0], 0)
        w = _pair(op, "padding", value[1], 0)
        return (h[0], w[0]), (h[1], w[1])
    both = _pair(op, "padding", value, 0)
    return both, both


def out_length(
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    lo: int,
    hi: int,
    ceil_mode: bool = False,
) -> int:
    """The number of windows along one axis (PyTorch's pooling_output_shape;
    a convolution's, whose padding may differ before and after); 0 for none."""
    span = size + lo + hi - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    if not ceil_mode:
        return span // stride + 1
    n = -(-span // stride) + 1
    # the last window must start inside the input or the padding before it
    if (n - 1) * stride >= size + lo:
        n -= 1
    return n


class ConvOps(DeviceCore):
    """The fused convolution and max pooling of a Device."""

    def _image(self, op: str, name: str, b: Buffer) -> Any:
        """b's array, checked to be 4-d (N, C, H, W)."""
        arr = self._own(b, op, name)
        if arr.ndim != 4:
            raise ValueError(
                f"{op}: {name} must be 4-d (N, C, H, W), got shape {arr.shape}"
            )
        return arr

    def _conv_geometry(
        self, op: str, stride: Any, padding: Any, dilation: Any, groups: Any
    ) -> tuple[Pair, tuple[Pair, Pair], Pair, int]:
        if type(groups) is not int or groups < 1:
            raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
        return (
            _pair(op, "stride", stride, 1),
            _padding(op, padding),
            _pair(op, "dilation", dilation, 1),
            groups,
        )

    def _conv_out(
        self,
        op: str,
        size: Pair,
        kernel: Pair,
        stride: Pair,
        pads: tuple[Pair, Pair],
        dilation: Pair,
    ) -> Pair:
        lo, hi = pads
        out = tuple(
            out_length(size[a], kernel[a], stride[a], dilation[a], lo[a], hi[a])
            for a in (0, 1)
        )
        if out[0] < 1 or out[1] < 1:
            raise ValueError(
                f"{op}: the input's size {size} with padding {pads} is smaller "
                f"than the kernel {kernel} with dilation {dilation}: no output"
            )
        return out[0], out[1]

    def _weight(
        self, op: str, weight: Buffer, dtype: np.dtype[Any], channels: int, groups: int
    ) -> Any:
        w = self._image(op, "weight", weight)
        if w.dtype != dtype:
            raise TypeError(f"{op}: weight has dtype {w.dtype}, expected {dtype}")
        if channels != w.shape[1] * groups or w.shape[0] % groups:
            raise ValueError(
                f"{op}: weight of shape {w.shape} with groups={groups} does not fit "
                f"{channels} input channels (out_channels must divide by groups)"
            )
        return w

    def conv2d(
        self,
        x: Buffer,
        weight: Buffer,
        bias: Buffer | None = None,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
    ) -> Buffer:
        """The cross-correlation of x (N, C, H, W) with weight (O, C/groups,
        kH, kW), plus bias (O,): (N, O, Ho, Wo) (`torch.nn.functional.conv2d`,
        padding by numbers). One product per group in x's dtype (BLAS for
        float32 and float64), the bias added once.

        >>> y = cpu.conv2d(x, w, b, padding=1)  # x (64, 16, 4, 4), w (32, 16, 3, 3)
        >>> y.shape
        (64, 32, 4, 4)
        """
        op = "conv2d"
        s, pads, d, g = self._conv_geometry(op, stride, padding, dilation, groups)
        arr = self._image(op, "x", x)
        dtype = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        w = self._weight(op, weight, dtype, arr.shape[1], g)
        b = None
        if bias is not None:
            b = self._own(bias, op, "bias")
            if b.shape != (w.shape[0],) or b.dtype != dtype:
                raise ValueError(
                    f"{op}: bias must have shape ({w.shape[0]},) and dtype {dtype}, "
                    f"got {b.shape} and {b.dtype}"
                )
        size = self._conv_out(op, arr.shape[2:], w.shape[2:], s, pads, d)
        out = self._empty((arr.shape[0], w.shape[0], *size), dtype)
        kernel = self._backend.conv2d
        self._call(OPS[op].quiet, kernel, arr, w, b, s, pads[0], d, g, out.native)
        return out

    def conv2d_backward_input(
        self,
        grad: Buffer,
        weight: Buffer,
        input_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
    ) -> Buffer:
        """The gradient of conv2d's input (N, C, H, W), (H, W) = `input_size`,
        from grad (N, O, Ho, Wo) and the weight: the transposed product scattered
        back onto the input (col2im), overlapping windows summed in kernel order.

        >>> gx = cpu.conv2d_backward_input(g, w, (4, 4), padding=1)
        """
        op = "conv2d_backward_input"
        s, pads, d, g = self._conv_geometry(op, stride, padding, dilation, groups)
        ga = self._image(op, "grad", grad)
        dtype = self._result_dtype(op, OPS[op].dtypes, ga.dtype)
        w = self._own(weight, op, "weight")
        if w.ndim != 4:
            raise ValueError(f"{op}: weight must be 4-d, got shape {w.shape}")
        w = self._weight(op, weight, dtype, w.shape[1] * g, g)
        size = _pair(op, "input_size", input_size, 1)
        out_size = self._conv_out(op, size, w.shape[2:], s, pads, d)
        if ga.shape[1:] != (w.shape[0], *out_size):
            raise ValueError(
                f"{op}: grad must have shape (N, {w.shape[0]}, {out_size[0]}, "
                f"{out_size[1]}), got {ga.shape}"
            )
        out = self._empty((ga.shape[0], w.shape[1] * g, *size), dtype)
        kernel = self._backend.conv2d_backward_input
        self._call(OPS[op].quiet, kernel, ga, w, s, pads[0], d, g, out.native)
        return out

    def conv2d_backward_weight(
        self,
        grad: Buffer,
        x: Buffer,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> tuple[Buffer, Buffer | None]:
        """(grad_weight, grad_bias) of conv2d from grad (N, O, Ho, Wo) and the
        input x: grad_weight (O, C/groups, kH, kW) the product of grad with x's
        columns (made again), grad_bias (O,) grad summed over N, Ho and Wo in
        float64 (None unless `bias`).

        >>> gw, gb = cpu.conv2d_backward_weight(g, x, 3, padding=1)
        """
        op = "conv2d_backward_weight"
        s, pads, d, g = self._conv_geometry(op, stride, padding, dilation, groups)
        if type(bias) is not bool:
            raise TypeError(f"{op}: bias must be a bool, got {bias!r}")
        ga = self._image(op, "grad", grad)
        arr = self._image(op, "x", x)
        dtype = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        if ga.dtype != dtype:
            raise TypeError(f"{op}: grad has dtype {ga.dtype}, x has {dtype}")
        kernel = _pair(op, "kernel_size", kernel_size, 1)
        channels, out_channels = arr.shape[1], ga.shape[1]
        if channels % g or out_channels % g:
            raise ValueError(
                f"{op}: x's {channels} channels and grad's {out_channels} must "
                f"both divide by groups={g}"
            )
        out_size = self._conv_out(op, arr.shape[2:], kernel, s, pads, d)
        if ga.shape != (arr.shape[0], out_channels, *out_size):
            raise ValueError(
                f"{op}: grad must have shape ({arr.shape[0]}, {out_channels}, "
                f"{out_size[0]}, {out_size[1]}), got {ga.shape}"
            )
        grad_w = self._empty((out_channels, channels // g, *kernel), dtype)
        grad_b = self._empty((out_channels,), dtype) if bias else None
        self._call(
            OPS[op].quiet,
            self._backend.conv2d_backward_weight,
            ga,
            arr,
            s,
            pads[0],
            d,
            g,
            grad_w.native,
            None if grad_b is None else grad_b.native,
        )
        return grad_w, grad_b

    def max_pool2d(
        self,
        x: Buffer,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        ceil_mode: bool = False,
    ) -> tuple[Buffer, Buffer]:
        """(out, indices): the largest element of each window of x (N, C, H,
        W) and its flat index h * W + w (int64), as `torch.nn.functional.
        max_pool2d(..., return_indices=True)`. stride defaults to the kernel;
        padding (at most half the kernel) never wins; ties go to the first
        element, NaN to the first NaN.

        >>> out, idx = cpu.max_pool2d(x, 2)  # x (64, 16, 8, 8)
        >>> out.shape, idx.dtype
        ((64, 16, 4, 4), dtype('int64'))
        """
        op = "max_pool2d"
        kernel = _pair(op, "kernel_size", kernel_size, 1)
        s = kernel if stride is None else _pair(op, "stride", stride, 1)
        pad = _pair(op, "padding", padding, 0)
        d = _pair(op, "dilation", dilation, 1)
        if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
            raise ValueError(
                f"{op}: padding {pad} must be at most half of kernel_size {kernel}"
            )
        arr = self._image(op, "x", x)
        dtype = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        ceil = bool(ceil_mode)
        size = tuple(
            out_length(arr.shape[2 + a], kernel[a], s[a], d[a], pad[a], pad[a], ceil)
            for a in (0, 1)
        )
        if size[0] < 1 or size[1] < 1:
            raise ValueError(
                f"{op}: the input's size {arr.shape[2:]} with padding {pad} is "
                f"smaller than the kernel {kernel} with dilation {d}: no output"
            )
        out = self._empty((*arr.shape[:2], *size), dtype)
        indices = self._empty(out.shape, dt.int64)
        kernel_fn = self._backend.max_pool2d
        natives = (out.native, indices.native)
        self._call(OPS[op].quiet, kernel_fn, arr, kernel, s, pad, d, *natives)
        return out, indices

    def max_pool2d_backward(
        self, grad: Buffer, indices: Buffer, input_size: Any
    ) -> Buffer:
        """The gradient of max_pool2d's input (N, C, H, W), (H, W) =
        `input_size`: zeros with grad (N, C, Ho, Wo) added at `indices` (the
        forward's, or any int64 flat indices of grad's shape; repeated ones add
        up). An index outside [0, H * W) raises IndexError.

        >>> gx = cpu.max_pool2d_backward(g, idx, (8, 8))
        """
        op = "max_pool2d_backward"
        ga = self._image(op, "grad", grad)
        dtype = self._result_dtype(op, OPS[op].dtypes, ga.dtype)
        idx = self._own(indices, op, "indices")
        if idx.shape != ga.shape or idx.dtype != dt.int64:
            raise ValueError(
                f"{op}: indices must be int64 of grad's shape {ga.shape}, got "
                f"{idx.dtype} of shape {idx.shape}"
            )
        size = _pair(op, "input_size", input_size, 1)
        out = self._empty((*ga.shape[:2], *size), dtype)
        bounds = self._backend.max_pool2d_backward(ga, idx, out.native)
        self._check_kernel_result(
            bounds, lambda b: _check_indices(op, b, size[0] * size[1])
        )
        return out


def _check_indices(op: str, bounds: tuple[int, int], limit: int) -> None:
    low, high = bounds
    if low < 0 or high >= limit:
        bad = low if low < 0 else high
        raise IndexError(
            f"{op}: index {bad} is out of bounds for an input of {limit} elements"
        )
