"""The standard's Fourier transform extension, as `actnet.ndarray.fft`.

    import actnet.ndarray as xp
    x = xp.asarray([1.0, 2.0, 1.0, 0.0])
    spectrum = xp.fft.rfft(x)                    # complex64, 3 frequencies
    xp.fft.irfft(spectrum, n=4)                  # x again, float32
    xp.fft.fftshift(xp.fft.fftfreq(4))           # [-0.5, -0.25, 0.0, 0.25]

fft, ifft, fftn, ifftn, irfft, irfftn and hfft take complex input; rfft, rfftn
and ihfft real floating input (float16 is computed in float32). Results keep
the input's precision: complex64 with float32, complex128 with float64. Each
transform is one actnet-device operator (`Device.fft`, `rfft`, ...); the
shifts are `roll` and the frequencies `arange`. The standard leaves repeated
axes to the implementation: here they are a ValueError.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, Final, Literal

from actnet.device import Buffer, Device
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import (
    array_arg,
    int_arg,
    normalize_axes,
    normalize_axis,
)
from actnet.ndarray._array import DeviceLike, NDArray, _wrap
from actnet.ndarray._creation import device_of
from actnet.ndarray._manipulation import roll

__all__ = [
    "fft",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "ifft",
    "ifftn",
    "ifftshift",
    "ihfft",
    "irfft",
    "irfftn",
    "rfft",
    "rfftfreq",
    "rfftn",
]

Norm = Literal["backward", "ortho", "forward"]

_NORMS: Final = ("backward", "ortho", "forward")
_COMPLEX: Final = "complex floating-point"
_REAL: Final = "real floating-point"
_KINDS: Final[dict[str, tuple[dt.DType, ...]]] = {
    _COMPLEX: dt.COMPLEX_FLOATING,
    _REAL: dt.REAL_FLOATING,
    "floating-point": dt.FLOATING,
}


# ------------------------------------------------------------------ helpers
def _input(x: Any, op: str, kind: str) -> NDArray:
    """`x`, after checking it is an NDArray with a dtype of `kind`."""
    array = array_arg(x, op)
    if array.dtype not in _KINDS[kind]:
        raise TypeError(f"{op}: x must have a {kind} dtype, got {array.dtype}")
    return array


def _norm(norm: Any, op: str) -> None:
    if not isinstance(norm, str) or norm not in _NORMS:
        raise ValueError(
            f"{op}: norm must be 'backward', 'ortho' or 'forward', got {norm!r}"
        )


def _length(n: Any, op: str, argument: str) -> int:
    """A transform length: an int of at least 1."""
    length = int_arg(n, op, argument)
    if length < 1:
        raise ValueError(f"{op}: {argument} must be at least 1, got {length}")
    return length


def _signal(array: NDArray) -> Buffer:
    """The buffer a real transform reads: float16 as float32 (the device's
    transforms take the standard's floating dtypes)."""
    if array.dtype == dt.float16:
        return array.device.astype(array.buffer, dt.float32)
    return array.buffer


def _one_axis(
    x: Any, n: Any, axis: Any, norm: Any, op: str, kind: str
) -> tuple[NDArray, int | None, int]:
    """The checked arguments of a transform along one axis."""
    array = _input(x, op, kind)
    position = normalize_axis(axis, array.ndim, op)
    length = None if n is None else _length(n, op, "n")
    _norm(norm, op)
    return array, length, position


def _sequence(value: Any, op: str, argument: str) -> tuple[int, ...]:
    """A sequence of ints (a tuple or a list) as a tuple."""
    if not isinstance(value, tuple | list):
        raise TypeError(f"{op}: {argument} must be a sequence of ints, got {value!r}")
    return tuple(int_arg(v, op, argument) for v in value)


def _many_axes(
    x: Any, s: Any, axes: Any, norm: Any, op: str, kind: str
) -> tuple[NDArray, tuple[int, ...] | None, tuple[int, ...]]:
    """The checked arguments of a transform over several axes: `axes` distinct
    positions (all axes when None), `s` one length per axis (-1: the input's
    extent) or None."""
    array = _input(x, op, kind)
    _norm(norm, op)
    if axes is None:
        if s is not None:
            raise ValueError(
                f"{op}: s needs axes (the standard asks for both or neither), "
                f"got s={s!r}"
            )
        return array, None, tuple(range(array.ndim))
    positions = normalize_axes(_sequence(axes, op, "axes"), array.ndim, op, "axes")
    if s is None:
        return array, None, positions
    lengths = _sequence(s, op, "s")
    if len(lengths) != len(positions):
        raise ValueError(
            f"{op}: s {s!r} has {len(lengths)} lengths for {len(positions)} axes"
        )
    for length in lengths:
        if length != -1 and length < 1:
            raise ValueError(
                f"{op}: s must hold lengths of at least 1 (or -1), got {s!r}"
            )
    return array, lengths, positions


def _some_axis(positions: tuple[int, ...], op: str) -> None:
    if not positions:
        raise ValueError(f"{op}: needs at least one axis to transform")


# ------------------------------------------------------- along one axis
def fft(
    x: NDArray, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward"
) -> NDArray:
    """The discrete Fourier transform of complex x along `axis`, zero-padded or
    cut to n points; norm "backward" scales nothing, "ortho" by 1/sqrt(n),
    "forward" by 1/n.

    >>> xp.fft.fft(xp.asarray([1, 1j, -1, -1j]))     # [0, 4, 0, 0]
    """
    array, length, position = _one_axis(x, n, axis, norm, "fft", _COMPLEX)
    return _wrap(array.device.fft(array.buffer, length, position, norm=norm))


def ifft(
    x: NDArray, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward"
) -> NDArray:
    """The inverse of `fft` (norm "backward" scales by 1/n here)."""
    array, length, position = _one_axis(x, n, axis, norm, "ifft", _COMPLEX)
    return _wrap(array.device.ifft(array.buffer, length, position, norm=norm))


def rfft(
    x: NDArray, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward"
) -> NDArray:
    """The transform of real x along `axis`: its n // 2 + 1 non-negative
    frequencies, complex of x's precision."""
    array, length, position = _one_axis(x, n, axis, norm, "rfft", _REAL)
    return _wrap(array.device.rfft(_signal(array), length, position, norm=norm))


def irfft(
    x: NDArray, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward"
) -> NDArray:
    """The inverse of `rfft`: n real values (default 2 * (m - 1) for m input
    values along `axis`; an odd n needs saying), from x cut or padded to
    n // 2 + 1 values."""
    array, length, position = _one_axis(x, n, axis, norm, "irfft", _COMPLEX)
    return _wrap(array.device.irfft(array.buffer, length, position, norm=norm))


def hfft(
    x: NDArray, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward"
) -> NDArray:
    """The transform of a signal with Hermitian symmetry, given by its first
    half x: n real values (default 2 * (m - 1))."""
    array, length, position = _one_axis(x, n, axis, norm, "hfft", _COMPLEX)
    return _wrap(array.device.hfft(array.buffer, length, position, norm=norm))


def ihfft(
    x: NDArray, /, *, n: int | None = None, axis: int = -1, norm: Norm = "backward"
) -> NDArray:
    """The inverse of `hfft`: the n // 2 + 1 values of the half spectrum of
    real x."""
    array, length, position = _one_axis(x, n, axis, norm, "ihfft", _REAL)
    return _wrap(array.device.ihfft(_signal(array), length, position, norm=norm))


# ---------------------------------------------------------- over several axes
def fftn(
    x: NDArray,
    /,
    *,
    s: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    norm: Norm = "backward",
) -> NDArray:
    """The n-dimensional transform over `axes` (every axis when None), axis
    axes[i] zero-padded or cut to s[i] points (-1: as it is); the norm's n is
    the product of the lengths. No axes: x itself."""
    array, lengths, positions = _many_axes(x, s, axes, norm, "fftn", _COMPLEX)
    if not positions:
        return array
    return _wrap(array.device.fft(array.buffer, lengths, positions, norm=norm))


def ifftn(
    x: NDArray,
    /,
    *,
    s: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    norm: Norm = "backward",
) -> NDArray:
    """The inverse of `fftn`."""
    array, lengths, positions = _many_axes(x, s, axes, norm, "ifftn", _COMPLEX)
    if not positions:
        return array
    return _wrap(array.device.ifft(array.buffer, lengths, positions, norm=norm))


def rfftn(
    x: NDArray,
    /,
    *,
    s: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    norm: Norm = "backward",
) -> NDArray:
    """The n-dimensional transform of real x: the last of `axes` keeps its
    s[-1] // 2 + 1 non-negative frequencies."""
    array, lengths, positions = _many_axes(x, s, axes, norm, "rfftn", _REAL)
    _some_axis(positions, "rfftn")
    return _wrap(array.device.rfft(_signal(array), lengths, positions, norm=norm))


def irfftn(
    x: NDArray,
    /,
    *,
    s: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    norm: Norm = "backward",
) -> NDArray:
    """The inverse of `rfftn`, real: s gives the output's lengths (the last
    axis's default 2 * (m - 1), the others' their extents)."""
    array, lengths, positions = _many_axes(x, s, axes, norm, "irfftn", _COMPLEX)
    _some_axis(positions, "irfftn")
    return _wrap(array.device.irfft(array.buffer, lengths, positions, norm=norm))


# -------------------------------------------------- frequencies and shifts
def _frequencies(
    op: str, n: Any, d: Any, dtype: Any, device: DeviceLike | None
) -> tuple[int, float, dt.DType, Device]:
    """The checked arguments of fftfreq and rfftfreq."""
    count = _length(n, op, "n")
    if isinstance(d, builtins.bool) or not isinstance(d, int | float):
        raise TypeError(f"{op}: d must be a float, got {d!r}")
    if d == 0:
        raise ValueError(f"{op}: d (the sample spacing) must not be 0")
    target = dt.DEFAULT_FLOAT if dtype is None else dt.as_dtype(dtype)
    if target not in dt.REAL_FLOATING:
        raise TypeError(
            f"{op}: dtype must be a real floating-point dtype, got {target}"
        )
    return count, float(d), target, device_of(device)


def _scaled(
    dev: Device, parts: list[tuple[int, int]], scale: float, target: dt.DType
) -> NDArray:
    """The integers of the ranges `parts` times `scale`, as NumPy computes them
    (in float64 where the device holds it), in `target`."""
    work = dt.float64 if dev.supports(dt.float64) else target
    ranges = [dev.arange(start, stop, 1, dtype=work) for start, stop in parts]
    values = dev.multiply(dev.concatenate(ranges, 0), scale)
    return _wrap(values if work == target else dev.astype(values, target))


def fftfreq(
    n: int,
    /,
    *,
    d: float = 1.0,
    dtype: Any = None,
    device: DeviceLike | None = None,
) -> NDArray:
    """The sample frequencies of a transform of n points spaced d apart:
    [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n).

    >>> xp.fft.fftfreq(4)                            # [0.0, 0.25, -0.5, -0.25]
    """
    count, spacing, target, dev = _frequencies("fftfreq", n, d, dtype, device)
    parts = [(0, (count - 1) // 2 + 1), (-(count // 2), 0)]
    return _scaled(dev, parts, 1.0 / (count * spacing), target)


def rfftfreq(
    n: int,
    /,
    *,
    d: float = 1.0,
    dtype: Any = None,
    device: DeviceLike | None = None,
) -> NDArray:
    """The sample frequencies of `rfft` of n points spaced d apart:
    [0, 1, ..., n // 2] / (d * n)."""
    count, spacing, target, dev = _frequencies("rfftfreq", n, d, dtype, device)
    return _scaled(dev, [(0, count // 2 + 1)], 1.0 / (count * spacing), target)


def _shift(x: Any, axes: Any, op: str, direction: int) -> NDArray:
    array = _input(x, op, "floating-point")
    if axes is None:
        positions = tuple(range(array.ndim))
    elif isinstance(axes, int) and not isinstance(axes, builtins.bool):
        positions = normalize_axes(axes, array.ndim, op, "axes")
    else:
        positions = normalize_axes(_sequence(axes, op, "axes"), array.ndim, op, "axes")
    shifts = tuple(direction * (array.shape[a] // 2) for a in positions)
    return roll(array, shifts, axis=positions)


def fftshift(x: NDArray, /, *, axes: int | Sequence[int] | None = None) -> NDArray:
    """x rolled by half of each of `axes` (every axis when None): the zero
    frequency moves to the centre.

    >>> xp.fft.fftshift(xp.asarray([0.0, 1.0, 2.0, -2.0, -1.0]))  # [-2, -1, 0, 1, 2]
    """
    return _shift(x, axes, "fftshift", 1)


def ifftshift(x: NDArray, /, *, axes: int | Sequence[int] | None = None) -> NDArray:
    """The inverse of `fftshift` (they differ by one place on odd extents)."""
    return _shift(x, axes, "ifftshift", -1)
