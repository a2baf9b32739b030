"""The Fourier transforms against numpy.fft (over one axis and several, padded
and cut, in every norm), their dtypes, scratch and refusals, and the
conformance kit's hold on them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from _helpers import CPU, assert_identical, get, put
from hypothesis import given, settings
from hypothesis import strategies as st

from actnet.device import Device, get_device
from actnet.device._numpy import NumPyBackend
from actnet.device._opset import FFT
from actnet.device.testing import check_conformance, standard_streams

NORMS = ["backward", "ortho", "forward"]
NUMPY_ND = {"fft": "fftn", "ifft": "ifftn", "rfft": "rfftn", "irfft": "irfftn"}
COMPLEX_INPUT = ("fft", "ifft", "irfft", "hfft")


def signal(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Any:
    values = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


def assert_close(got: Any, expected: Any) -> None:
    """Same dtype and shape; values to the precision's rounding (relative to
    the largest magnitude: an FFT's error is spread over every element)."""
    got = get(got)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    single = expected.dtype in (np.float32, np.complex64)
    tol = 1e-5 if single else 1e-12
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale)


def resolved(op: str, s: tuple[int, ...], axes: tuple[int, ...], shape: Any) -> Any:
    """`s` with -1 as the device reads it (the default length), for NumPy, whose
    irfftn reads -1 as the input's extent even on the halved axis."""
    out = []
    for i, (n, axis) in enumerate(zip(s, axes, strict=True)):
        if n == -1:
            n = shape[axis]
            if op == "irfft" and i == len(axes) - 1:
                n = 2 * (n - 1)
        out.append(n)
    return tuple(out)


@settings(max_examples=80)
@given(
    op=st.sampled_from(sorted(NUMPY_ND)),
    double=st.booleans(),
    norm=st.sampled_from(NORMS),
    data=st.data(),
)
def test_transforms_match_numpy(op: str, double: bool, norm: str, data: Any) -> None:
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    axes = axes[: data.draw(st.integers(1, len(axes)))]
    axes = tuple(a - len(shape) if data.draw(st.booleans()) else a for a in axes)
    s = data.draw(
        st.none() | st.tuples(*(st.sampled_from([-1, 1, 2, 3, 6]) for _ in axes))
    )
    if op in COMPLEX_INPUT:
        dtype = np.complex128 if double else np.complex64
    else:
        dtype = np.float64 if double else np.float32
    x = signal(np.random.default_rng(data.draw(st.integers(0, 99))), shape, dtype)
    lengths = None if s is None else resolved(op, s, axes, shape)
    if op == "irfft" and (lengths or (2 * (shape[axes[-1]] - 1),))[-1] < 1:
        with pytest.raises(ValueError, match="at least 1 point"):
            getattr(CPU, op)(put(x), s, axes, norm=norm)
        return
    expected = getattr(np.fft, NUMPY_ND[op])(x, s=lengths, axes=axes, norm=norm)
    assert_close(getattr(CPU, op)(put(x), s, axes, norm=norm), expected)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("op", ["hfft", "ihfft"])
def test_hermitian_transforms_match_numpy(op: str, norm: str) -> None:
    rng = np.random.default_rng(1)
    for dtype in (np.complex64, np.complex128):
        x = signal(rng, (3, 5, 4), dtype if op == "hfft" else dtype().real.dtype)
        for n, axis in ((None, -1), (7, 1), (2, 0), (9, -2)):
            expected = getattr(np.fft, op)(x, n, axis, norm=norm)
            assert_close(getattr(CPU, op)(put(x), n, axis, norm=norm), expected)


@pytest.mark.parametrize("device", ["cpu", "reference", "cpu:1", "no_float64"])
def test_precision_is_kept_on_every_device(device: str) -> None:
    """complex64 and float32 are transformed in single precision (NumPy >= 2.0's
    pocketfft): the results are numpy.fft's of the same single-precision input,
    bit for bit on the NumPy backends."""
    dev = get_device(device)
    rng = np.random.default_rng(2)
    pairs = [(np.complex64, np.float32), (np.complex128, np.float64)]
    for complex_dtype, real_dtype in pairs:
        if np.dtype(complex_dtype) not in dev.dtypes:
            continue
        z = signal(rng, (4, 6), complex_dtype)
        r = signal(rng, (4, 6), real_dtype)
        assert_identical(dev.fft(put(z, dev), None, (0, 1)), np.fft.fftn(z))
        assert_identical(dev.ifft(put(z, dev), 8, 0), np.fft.ifft(z, 8, 0))
        assert_identical(dev.rfft(put(r, dev)), np.fft.rfft(r))
        assert_identical(dev.irfft(put(z, dev), (5,), (0,)), np.fft.irfft(z, 5, 0))
        assert_identical(dev.hfft(put(z, dev)), np.fft.hfft(z))
        assert_identical(dev.ihfft(put(r, dev), 5), np.fft.ihfft(r, 5))


def test_the_kernel_tables() -> None:
    c64, c128 = np.dtype(np.complex64), np.dtype(np.complex128)
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    assert FFT["fft"] == FFT["ifft"] == {c64: c64, c128: c128}
    assert FFT["rfft"] == FFT["ihfft"] == {f32: c64, f64: c128}
    assert FFT["irfft"] == FFT["hfft"] == {c64: f32, c128: f64}


def fresh(name: str, backend: NumPyBackend | None = None) -> Device:
    """A device of its own, so other tests' buffers do not move its numbers."""
    return Device(name, backend or NumPyBackend())


def test_one_axis_writes_the_result_directly_and_several_use_arena_scratch() -> None:
    d = fresh("fft:scratch")
    x = put(signal(np.random.default_rng(3), (16, 32), np.complex64), d)
    result_bytes = 16 * 32 * 8
    d.reset_peak_memory_stats()
    before = d.memory_stats().used_bytes
    one = d.fft(x, None, 1)
    stats = d.memory_stats()
    assert stats.used_bytes - before == result_bytes
    assert stats.peak_bytes == stats.used_bytes  # no scratch: numpy.fft's out=
    del one
    d.reset_peak_memory_stats()
    both = d.fft(x, None, (0, 1))
    stats = d.memory_stats()
    assert stats.peak_bytes - stats.used_bytes >= result_bytes  # one intermediate
    assert not [b for b in d.memory_snapshot() if b.info == "scratch"]
    assert_identical(both, np.fft.fftn(get(x)))


def test_out_zero_sizes_and_views() -> None:
    z = signal(np.random.default_rng(4), (3, 4), np.complex128)
    out = CPU.alloc((3, 4), np.complex128)
    assert CPU.fft(put(z), out=out) is out
    assert_close(out, np.fft.fft(z))
    with pytest.raises(ValueError, match="fft: out has shape"):
        CPU.fft(put(z), 5, out=out)
    with pytest.raises(TypeError, match="irfft: out has dtype complex128"):
        CPU.irfft(put(z), 4, out=out)
    source = put(z)
    with pytest.raises(ValueError, match="shares memory"):
        CPU.fft(source, out=source)
    # A strided view in, padded from nothing, and nothing to transform.
    assert_close(CPU.fft(put(z).T[::-1], None, 0), np.fft.fft(z.T[::-1], axis=0))
    assert_identical(
        CPU.fft(put(np.zeros((2, 0), np.complex64)), 3), np.zeros((2, 3), np.complex64)
    )
    assert_identical(
        CPU.rfft(put(np.zeros((0, 4), np.float32))), np.zeros((0, 3), np.complex64)
    )


def test_inf_and_nan_run_quietly() -> None:
    x = np.array([1.0, np.inf, np.nan, 0.0], np.complex128)
    with np.errstate(all="raise"):
        assert_close(CPU.fft(put(x)), np.fft.fft(x))


def test_refusals_name_the_operator_and_the_argument() -> None:
    z = put(np.ones((3, 4), np.complex64))
    r = put(np.ones((3, 4), np.float32))
    with pytest.raises(TypeError, match="fft does not take float32"):
        CPU.fft(r)
    with pytest.raises(TypeError, match="rfft does not take complex64"):
        CPU.rfft(z)
    with pytest.raises(TypeError, match="irfft does not take float32"):
        CPU.irfft(r)
    with pytest.raises(TypeError, match="ihfft does not take float16"):
        CPU.ihfft(put(np.ones(4, np.float16)))
    with pytest.raises(ValueError, match="norm must be 'backward', 'ortho'"):
        CPU.fft(z, norm="none")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1 point, got 0"):
        CPU.fft(z, 0)
    with pytest.raises(ValueError, match="at least 1 point, got 0"):
        CPU.irfft(put(np.ones((3, 1), np.complex64)))  # 2 * (1 - 1) points
    with pytest.raises(ValueError, match="at least 1 point"):
        CPU.fft(put(np.ones((3, 0), np.complex64)))
    with pytest.raises(IndexError, match="out of range"):
        CPU.fft(z, None, 2)
    with pytest.raises(ValueError, match="repeats an axis"):
        CPU.fft(z, None, (1, -1))
    with pytest.raises(ValueError, match="2 lengths for 1 axes"):
        CPU.fft(z, (2, 2), 0)
    with pytest.raises(TypeError, match="s must hold ints"):
        CPU.fft(z, (2.0,), 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="axes must be an int"):
        CPU.fft(z, None, (True,))
    with pytest.raises(ValueError, match="at least one axis"):
        CPU.fft(z, None, ())
    with pytest.raises(ValueError, match="hfft: transforms one axis"):
        CPU.run("hfft", [z], axis=(0, 1))
    with pytest.raises(ValueError, match="is on cpu:1"):
        CPU.fft(put(np.ones(2, np.complex64), get_device("cpu:1")))
    with pytest.raises(TypeError, match="does not support dtype complex128"):
        get_device("no_float64").alloc((2,), np.complex128)


class _UnscaledFFT(NumPyBackend):
    """Forgets the norm: right in the default norm only, a typical kernel bug."""

    def fft_pass(
        self, name: str, x: Any, n: int, axis: int, norm: str, out: Any
    ) -> None:
        super().fft_pass(name, x, n, axis, "backward", out)


class _CopiedFFT(NumPyBackend):
    """numpy.fft's results copied into out, the path CuPy's backend takes."""

    fft_takes_out = False


def fft_streams(device: Device) -> list[Any]:
    return [s for s in standard_streams(device) if s.name == "fft"]


def test_the_kit_catches_a_wrong_transform() -> None:
    device = fresh("wrong-fft:0", _UnscaledFFT())
    with pytest.raises(AssertionError, match=r"\(made by (i?r?h?fft)\)"):
        check_conformance(device, fft_streams(device))


def test_the_copying_path_conforms() -> None:
    device = fresh("copied-fft:0", _CopiedFFT())
    [stream] = fft_streams(device)
    check_conformance(device, [stream])
