"""Shared helpers of the operator and Buffer tests: sample data per dtype, and
exact NumPy comparisons (NaN-aware, signed zeros distinguished)."""

from __future__ import annotations

import zlib
from typing import Any

import ml_dtypes
import numpy as np

from actnet.device import Buffer, Device, get_device

CPU: Device = get_device("cpu")
BFLOAT16 = np.dtype(ml_dtypes.bfloat16)


def rng_for(*key: Any) -> np.random.Generator:
    """A generator seeded by `key` alone (str hashes vary between runs)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def put(x: Any, device: Device = CPU) -> Buffer:
    """A NumPy array (or scalar) as a buffer on `device`."""
    return device.from_host(np.asarray(x))


def get(buf: Buffer) -> np.ndarray[Any, Any]:
    return buf.device.to_host(buf)


def assert_identical(got: Any, expected: Any) -> None:
    """Same dtype, shape and values; NaN equals NaN, and -0.0 differs from 0.0."""
    got = get(got) if isinstance(got, Buffer) else np.asarray(got)
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if got.dtype.kind in "fc" or got.dtype == BFLOAT16:
        g = got.astype(np.complex128 if got.dtype.kind == "c" else np.float64)
        e = expected.astype(g.dtype)
        parts = (
            [(g.real, e.real), (g.imag, e.imag)] if g.dtype.kind == "c" else [(g, e)]
        )
        for a, b in parts:
            both_nan = np.isnan(a) & np.isnan(b)
            same = (a == b) & (np.signbit(a) == np.signbit(b))
            bad = ~(both_nan | same)
            assert not bad.any(), (
                f"{int(bad.sum())} of {a.size} differ; first at "
                f"{np.argwhere(bad)[0].tolist()}: {a[bad][0]!r} != {b[bad][0]!r}"
            )
    else:
        np.testing.assert_array_equal(got, expected, strict=True)


def sample(
    dtype: Any,
    shape: tuple[int, ...],
    rng: np.random.Generator,
    *,
    special: bool = True,
    low: float = -50.0,
    high: float = 50.0,
) -> np.ndarray[Any, Any]:
    """Values of `dtype` spread over [low, high] (integers: the whole range when
    `special`), with the IEEE specials (+-0, +-inf, nan, tiny, huge) mixed in for
    floating dtypes when `special`."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = (info.min, info.max) if special else (max(low, info.min), high)
        return rng.integers(int(lo), int(hi), size=shape, endpoint=True, dtype=dtype)
    real = dtype if dtype.kind == "f" else np.dtype(dtype.char.lower())
    if dtype == BFLOAT16:
        real = BFLOAT16
    values = rng.uniform(low, high, n)
    # Integers and halves too, so rounding and ties are exercised.
    values[::5] = np.round(values[::5])
    values[1::7] = np.round(values[1::7] * 2) / 2
    if special:
        info = np.finfo(real if real != BFLOAT16 else np.float32)
        extras = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5]
        extras += [float(info.tiny), -float(info.max), float(info.max) / 2]
        values[: min(n, len(extras))] = extras[: min(n, len(extras))]
        rng.shuffle(values)
    out = values.astype(real)
    if dtype.kind == "c":
        imag = rng.uniform(low, high, n).astype(real)
        if special:
            imag[::3] = 0.0
        out = out + 1j * imag.astype(out.dtype)
        out = out.astype(dtype)
    return out.reshape(shape)
