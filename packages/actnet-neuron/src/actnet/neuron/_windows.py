"""Sliding windows over the trailing (spatial) axes, for convolution and pooling.

`Window` is the geometry of one call (kernel, stride, dilation, padding, input
and output sizes). `windows` is a zero-copy strided view of every window of a
padded array; `Unfold` (im2col) copies the windows out as columns and `Fold`
(col2im) adds columns back onto the input grid. Unfold and Fold are each other's
adjoint, so each is the other's backward, to any order.

Columns are laid out (C, *kernel, N, *out) for an input (N, C, *size): a
convolution then contracts (C/groups * kernel) with one matrix product over all
of N * out at once (one large GEMM instead of N small ones).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from actnet.ndarray import NDArray, buffer_of, from_buffer
from actnet.tensor import Function, Tensor, as_tensor


def int_tuple(value: Any, n: int, op: str, argument: str) -> tuple[int, ...]:
    """An int, or n ints (a 1-sequence is repeated), as a tuple of n ints."""
    items = tuple(value) if isinstance(value, tuple | list) else (value,)
    if len(items) == 1:
        items = items * n
    if len(items) != n or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in items
    ):
        raise TypeError(
            f"{op}: {argument} must be an int or a tuple of {n} ints, got {value!r}"
        )
    return items


@dataclass(frozen=True)
class Window:
    """The geometry of windows over the last len(kernel) axes. pad_hi is the
    padding after the input that the windows actually reach (ceil_mode may need
    more than asked, an unreached remainder needs none)."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_lo: tuple[int, ...]
    pad_hi: tuple[int, ...]
    size: tuple[int, ...]
    out: tuple[int, ...]

    @property
    def padded(self) -> tuple[int, ...]:
        return tuple(
            lo + n + hi
            for lo, n, hi in zip(self.pad_lo, self.size, self.pad_hi, strict=True)
        )


def out_size(
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    lo: int,
    hi: int,
    ceil_mode: bool,
) -> int:
    """The number of windows along one axis (PyTorch's pooling_output_shape, and
    a convolution's size, whose padding may differ before and after)."""
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


def make_window(
    size: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    pad_lo: tuple[int, ...],
    pad_hi: tuple[int, ...],
    op: str,
    ceil_mode: bool = False,
) -> Window:
    for name, values, low in (
        ("kernel_size", kernel, 1),
        ("stride", stride, 1),
        ("dilation", dilation, 1),
        ("padding", pad_lo, 0),
        ("padding", pad_hi, 0),
    ):
        if any(v < low for v in values):
            raise ValueError(f"{op}: {name} must be at least {low}, got {values}")
    out = []
    reach = []
    for n, k, s, d, lo, hi in zip(
        size, kernel, stride, dilation, pad_lo, pad_hi, strict=True
    ):
        m = out_size(n, k, s, d, lo, hi, ceil_mode)
        if m < 1:
            raise ValueError(
                f"{op}: the input's size {size} with padding {pad_lo} is smaller "
                f"than the kernel {kernel} with dilation {dilation}: no output"
            )
        out.append(m)
        reach.append(max((m - 1) * s + d * (k - 1) + 1 - lo - n, 0))
    return Window(kernel, stride, dilation, pad_lo, tuple(reach), size, tuple(out))


def pad(
    data: NDArray, lo: tuple[int, ...], hi: tuple[int, ...], value: float
) -> NDArray:
    """data with its last len(lo) axes padded by `value` (itself when none)."""
    if not any(lo) and not any(hi):
        return data
    buf = buffer_of(data)
    dev = buf.device
    n = len(lo)
    lead = buf.shape[: buf.ndim - n]
    inner = buf.shape[buf.ndim - n :]
    shape = (*lead, *(a + m + b for a, m, b in zip(lo, inner, hi, strict=True)))
    out = dev.full(shape, value, buf.dtype)
    key = (Ellipsis, *(slice(a, a + m) for a, m in zip(lo, inner, strict=True)))
    dev.copy(buf, out=out[key])
    return from_buffer(out)


def windows(padded: NDArray, win: Window) -> NDArray:
    """A zero-copy view (*lead, *kernel, *out) of every window of an input already
    padded by (win.pad_lo, win.pad_hi)."""
    buf = buffer_of(padded)
    n = len(win.kernel)
    lead = buf.ndim - n
    strides = buf.strides
    spatial = strides[lead:]
    shape = (*buf.shape[:lead], *win.kernel, *win.out)
    view_strides = (
        *strides[:lead],
        *(s * d for s, d in zip(spatial, win.dilation, strict=True)),
        *(s * t for s, t in zip(spatial, win.stride, strict=True)),
    )
    return from_buffer(buf.as_strided(shape, view_strides, buf.offset))


def columns(data: NDArray, win: Window) -> NDArray:
    """The windows of an input (N, C, *size) as contiguous columns (C, *kernel, N,
    *out): im2col."""
    view = buffer_of(windows(pad(data, win.pad_lo, win.pad_hi, 0.0), win))
    n = len(win.kernel)
    order = (1, *range(2, 2 + n), 0, *range(2 + n, 2 + 2 * n))
    return from_buffer(view.device.copy(view.transpose(order)))


def fold(cols: NDArray, win: Window) -> NDArray:
    """Columns (C, *kernel, N, *out) added back onto the input grid (N, C, *size),
    overlapping windows accumulating: col2im, one strided add per kernel offset."""
    buf = buffer_of(cols)
    dev = buf.device
    n = len(win.kernel)
    channels, batch = buf.shape[0], buf.shape[1 + n]
    grid = dev.full((batch, channels, *win.padded), 0, buf.dtype)
    for offset in itertools.product(*(range(k) for k in win.kernel)):
        key = (
            Ellipsis,
            *(
                slice(o * d, o * d + s * (m - 1) + 1, s)
                for o, d, s, m in zip(
                    offset, win.dilation, win.stride, win.out, strict=True
                )
            ),
        )
        target = grid[key]
        # (C, N, *out) at this kernel offset, seen as (N, C, *out)
        source = buf[(slice(None), *offset)].swapaxes(0, 1)
        dev.add(target, source, out=target)
    if not any(win.pad_lo) and not any(win.pad_hi):
        return from_buffer(grid)
    crop = (
        Ellipsis,
        *(slice(lo, lo + m) for lo, m in zip(win.pad_lo, win.size, strict=True)),
    )
    return from_buffer(dev.copy(grid[crop]))


class Unfold(Function):
    """Input (N, C, *size) -> columns (C, *kernel, N, *out) (im2col). Linear: its
    backward is Fold, whose backward is Unfold again."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, win: Window) -> Tensor:
        ctx.win = win
        return as_tensor(columns(x.array, win))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return Fold.apply(grad, ctx.win), None


class Fold(Function):
    """Columns (C, *kernel, N, *out) -> input grid (N, C, *size), summing where
    windows overlap (col2im). Its backward is Unfold."""

    @staticmethod
    def forward(ctx: Any, cols: Tensor, win: Window) -> Tensor:
        ctx.win = win
        return as_tensor(fold(cols.array, win))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return Unfold.apply(grad, ctx.win), None
