"""Discrete Fourier transforms: fft, ifft, rfft, irfft over one or more axes, and
hfft, ihfft over one (numpy.fft's and cupy.fft's semantics, the array API's
fft extension)."""

from __future__ import annotations

from typing import Final, Literal

from actnet.device._buffer import Buffer
from actnet.device._checks import check_axis
from actnet.device._core import DeviceCore
from actnet.device._opset import OPS

Norm = Literal["backward", "ortho", "forward"]
Lengths = int | tuple[int | None, ...] | None
Axes = int | tuple[int, ...] | None

_NORMS: Final = ("backward", "ortho", "forward")


def fft_axes(op: str, axes: Axes, ndim: int) -> tuple[int, ...]:
    """`axes` (an int, a tuple of ints, or None for every axis) as distinct
    positions in [0, ndim), in the order given: the order matters to rfft and
    irfft, whose halved axis is the last."""
    if axes is None:
        return tuple(range(ndim))
    items = axes if isinstance(axes, tuple) else (axes,)
    for a in items:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(
                f"{op}: axes must be an int or a tuple of ints, got {axes!r}"
            )
    result = tuple(check_axis(a, ndim) for a in items)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: axes {axes!r} repeats an axis")
    return result


def fft_lengths(
    op: str, s: Lengths, axes: tuple[int, ...], shape: tuple[int, ...]
) -> tuple[int, ...]:
    """The logical transform length along each of `axes`: `s` (an int, or a tuple
    with one entry per axis), where None or -1 is the default, the input's
    extent; for irfft and hfft (whose input is a half spectrum) the last axis's
    default is 2 * (extent - 1). Each must be at least 1."""
    items = (s,) if s is None or isinstance(s, int) else s
    if not isinstance(items, tuple):
        raise TypeError(f"{op}: s must be an int or a tuple of ints, got {s!r}")
    if s is None:
        items = (None,) * len(axes)
    if len(items) != len(axes):
        raise ValueError(
            f"{op}: s {s!r} has {len(items)} lengths for {len(axes)} axes {axes}"
        )
    lengths = []
    for i, (n, axis) in enumerate(zip(items, axes, strict=True)):
        if n is not None and (not isinstance(n, int) or isinstance(n, bool)):
            raise TypeError(f"{op}: s must hold ints, got {s!r}")
        if n is None or n == -1:
            n = shape[axis]
            if op in ("irfft", "hfft") and i == len(axes) - 1:
                n = 2 * (n - 1)
        if n < 1:
            raise ValueError(
                f"{op}: the transform along axis {axis} needs at least 1 point, "
                f"got {n} (input shape {shape})"
            )
        lengths.append(n)
    return tuple(lengths)


class FFTOps(DeviceCore):
    """The Fourier transforms of a Device."""

    def _fft(
        self,
        op: str,
        x: Buffer,
        s: Lengths,
        axes: Axes,
        norm: str,
        out: Buffer | None,
    ) -> Buffer:
        arr = self._own(x, op)
        result = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        if norm not in _NORMS:
            raise ValueError(
                f"{op}: norm must be 'backward', 'ortho' or 'forward', got {norm!r}"
            )
        positions = fft_axes(op, axes, arr.ndim)
        if not positions:
            raise ValueError(f"{op}: needs at least one axis to transform")
        if op in ("hfft", "ihfft") and len(positions) != 1:
            raise ValueError(f"{op}: transforms one axis, got axes {axes!r}")
        lengths = fft_lengths(op, s, positions, arr.shape)
        shape = list(arr.shape)
        for axis, n in zip(positions, lengths, strict=True):
            shape[axis] = n
        if op in ("rfft", "ihfft"):  # the half spectrum of a real signal
            shape[positions[-1]] = lengths[-1] // 2 + 1
        out = self._output(op, out, tuple(shape), result)
        self._check_no_overlap(op, out, x)
        if out.native.size == 0:
            return out
        if arr.size == 0:  # zero-padded nothing: the transform of zeros
            self._backend.full(result.type(0), out.native)
            return out
        token = self._backend.begin_quiet()  # inf and NaN in, NaN out: the answer
        try:
            self._backend.fft(op, arr, lengths, positions, norm, out.native)
        finally:
            self._backend.end_quiet(token)
        return out

    def fft(
        self,
        x: Buffer,
        s: Lengths = None,
        axes: Axes = -1,
        *,
        norm: Norm = "backward",
        out: Buffer | None = None,
    ) -> Buffer:
        """The discrete Fourier transform of complex x over `axes` (an int, a
        tuple, or None for all), each zero-padded or cut to its length in `s`
        (None or -1: as it is). norm "backward" scales nothing, "ortho" by
        1/sqrt(n), "forward" by 1/n, n the product of the lengths."""
        return self._fft("fft", x, s, axes, norm, out)

    def ifft(
        self,
        x: Buffer,
        s: Lengths = None,
        axes: Axes = -1,
        *,
        norm: Norm = "backward",
        out: Buffer | None = None,
    ) -> Buffer:
        """The inverse of `fft`: norm "backward" scales by 1/n, "forward" not."""
        return self._fft("ifft", x, s, axes, norm, out)

    def rfft(
        self,
        x: Buffer,
        s: Lengths = None,
        axes: Axes = -1,
        *,
        norm: Norm = "backward",
        out: Buffer | None = None,
    ) -> Buffer:
        """The transform of real x: the last of `axes` keeps its n // 2 + 1
        non-negative frequencies, complex of x's precision."""
        return self._fft("rfft", x, s, axes, norm, out)

    def irfft(
        self,
        x: Buffer,
        s: Lengths = None,
        axes: Axes = -1,
        *,
        norm: Norm = "backward",
        out: Buffer | None = None,
    ) -> Buffer:
        """The inverse of `rfft`, real of x's precision: `s` gives the output's
        lengths (the last one's default 2 * (extent - 1)); the input's last axis
        is cut or padded to s[-1] // 2 + 1."""
        return self._fft("irfft", x, s, axes, norm, out)

    def hfft(
        self,
        x: Buffer,
        n: int | None = None,
        axis: int = -1,
        *,
        norm: Norm = "backward",
        out: Buffer | None = None,
    ) -> Buffer:
        """The transform of a signal with Hermitian symmetry given by its half x:
        n real values (default 2 * (extent - 1)) along `axis`."""
        return self._fft("hfft", x, n, axis, norm, out)

    def ihfft(
        self,
        x: Buffer,
        n: int | None = None,
        axis: int = -1,
        *,
        norm: Norm = "backward",
        out: Buffer | None = None,
    ) -> Buffer:
        """The inverse of `hfft`: the n // 2 + 1 values of the half spectrum of
        real x, complex of x's precision."""
        return self._fft("ihfft", x, n, axis, norm, out)
