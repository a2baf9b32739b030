"""avg_pool2d: the mean of each window over (H, W)."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.neuron._windows import Fold, Window, make_window, pad, windows
from actnet.neuron.pooling._arguments import pool_arguments
from actnet.tensor import Function, Tensor, as_tensor


def _counts(
    size: int, kernel: int, stride: int, padding: int, out: int, include_pad: bool
) -> list[int]:
    """Per output position along one axis, how many elements its window averages:
    PyTorch's rule (padding counted if asked, never what ceil_mode adds)."""
    counts = []
    for o in range(out):
        start = o * stride - padding
        end = min(start + kernel, size + padding)
        if include_pad:
            counts.append(end - start)
        else:
            counts.append(min(end, size) - max(start, 0))
    return counts


class AvgPool2D(Function):
    """The sum of each window (a strided view, nothing copied) over its divisor.
    Linear: backward spreads grad / divisor over every window (Fold), needing
    nothing of the input."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, win: Window, divisor: NDArray | int) -> Tensor:
        view = windows(pad(x.array, win.pad_lo, win.pad_hi, 0.0), win)
        ctx.win, ctx.divisor = win, divisor
        return as_tensor(xp.sum(view, axis=(2, 3)) / divisor)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        win: Window = ctx.win
        divisor = ctx.divisor
        g = grad / (divisor if isinstance(divisor, int) else as_tensor(divisor))
        n, c, ho, wo = g.shape
        (kh, kw) = win.kernel
        # every window gets its output's gradient: columns (C, kh, kw, N, Ho, Wo)
        cols = g.transpose(0, 1).reshape(c, 1, 1, n, ho, wo)
        return Fold.apply(cols.expand(c, kh, kw, n, ho, wo), win), None, None


def avg_pool2d(
    input: Tensor,  # torch's names
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean over each kH x kW window of input (N, C, H, W) or (C, H, W)
    (torch.nn.functional.avg_pool2d). stride defaults to kernel_size; padding
    (at most half the kernel) is zeros, counted in the divisor when
    count_include_pad; divisor_override replaces the divisor.

    >>> avg_pool2d(at.tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2)
    tensor([[[[2.5000]]]])
    """
    op = "avg_pool2d"
    kernel, strides, pads = pool_arguments(input, kernel_size, stride, padding, op)
    if divisor_override is not None and (
        not isinstance(divisor_override, int)
        or isinstance(divisor_override, bool)
        or divisor_override == 0
    ):
        raise ValueError(
            f"{op}: divisor_override must be a nonzero int or None, got "
            f"{divisor_override!r}"
        )
    batched = input.ndim == 4
    x = input if batched else input.unsqueeze(0)
    size = x.shape[2:]
    win = make_window(size, kernel, strides, (1, 1), pads, pads, op, bool(ceil_mode))
    divisor: NDArray | int
    if divisor_override is not None:
        divisor = divisor_override
    else:
        rows, cols = (
            _counts(
                size[i],
                kernel[i],
                strides[i],
                pads[i],
                win.out[i],
                bool(count_include_pad),
            )
            for i in (0, 1)
        )
        divisor = xp.asarray(
            [[r * q for q in cols] for r in rows], dtype=x.dtype, device=x.device
        )
    out: Tensor = AvgPool2D.apply(x, win, divisor)
    return out if batched else out.squeeze(0)
