"""The fft extension (`xp.fft`): semantics (shapes, dtypes, errors) against
array_api_strict's fft, values against numpy.fft (NumPy >= 2.0 transforms
single precision in single precision, as the device does), over
hypothesis-generated signals, axes, lengths and norms."""

from __future__ import annotations

import inspect
import math
from typing import Any

import array_api_strict as strict
import numpy as np
import pytest
from _oracle import API_VERSION, ORACLE_ERRORS, _mirror, compare, compatible, host
from hypothesis import given, settings
from hypothesis import strategies as st

import actnet.ndarray as xp

COMPLEX = ["complex64", "complex128"]
REAL = ["float32", "float64"]
NORMS = ["backward", "ortho", "forward"]
# name: the dtypes its input must have
ONE_AXIS = {
    "fft": COMPLEX,
    "ifft": COMPLEX,
    "rfft": REAL,
    "irfft": COMPLEX,
    "hfft": COMPLEX,
    "ihfft": REAL,
}
MANY_AXES = {"fftn": COMPLEX, "ifftn": COMPLEX, "rfftn": REAL, "irfftn": COMPLEX}


def call(namespace: Any, name: str, args: tuple[Any, ...], kwargs: Any) -> Any:
    """namespace.fft.<name>(...) with NumPy arrays made the namespace's."""
    fn = getattr(namespace.fft, name)
    return fn(*_mirror(args, namespace.asarray), **_mirror(kwargs, namespace.asarray))


def both(name: str, *args: Any, **kwargs: Any) -> Any:
    """Our result, compared with array_api_strict's in shape and dtype; None when
    array_api_strict raises, after checking ours raises a compatible error."""
    try:
        with strict.ArrayAPIStrictFlags(api_version=API_VERSION):
            theirs = call(strict, name, args, kwargs)
    except ORACLE_ERRORS as exc:
        with pytest.raises(Exception) as ours:
            call(xp, name, args, kwargs)
        assert compatible(ours.value, exc), (
            f"{name}: raised {ours.type.__name__}: {ours.value}; array_api_strict "
            f"raised {type(exc).__name__}: {exc}"
        )
        return None
    ours = call(xp, name, args, kwargs)
    compare(ours, theirs, None, name)
    return ours


def assert_close(ours: Any, expected: Any) -> None:
    """Values to the precision's rounding, relative to the largest magnitude (an
    FFT spreads its error over every element)."""
    got = host(ours)
    single = got.dtype in (np.float32, np.complex64)
    tol = 1e-5 if single else 1e-12
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale)


def signal(data: st.DataObject, shape: tuple[int, ...], dtype: str) -> Any:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    values = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return np.asarray(values, dtype=dtype)


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


def draw_dtype(data: st.DataObject, allowed: list[str]) -> str:
    """Mostly a dtype the function takes; sometimes one it refuses."""
    return data.draw(
        st.sampled_from(allowed) | st.sampled_from([*COMPLEX, *REAL, "int32"])
    )


# ------------------------------------------------------------- along one axis
@settings(max_examples=150)
@given(name=st.sampled_from(sorted(ONE_AXIS)), shape=shapes, data=st.data())
def test_one_axis_transforms(name: str, shape: tuple[int, ...], data: Any) -> None:
    dtype = draw_dtype(data, ONE_AXIS[name])
    x = signal(data, shape, dtype)
    ndim = len(shape)
    kwargs: dict[str, Any] = {}
    if data.draw(st.booleans()):
        kwargs["axis"] = data.draw(st.integers(-ndim - 1, ndim))  # some out of range
    if data.draw(st.booleans()):
        kwargs["n"] = data.draw(st.integers(-1, 9))
    if data.draw(st.booleans()):
        kwargs["norm"] = data.draw(st.sampled_from([*NORMS, "none"]))
    ours = both(name, x, **kwargs)
    if ours is not None:
        assert_close(ours, getattr(np.fft, name)(x, **kwargs))


INVERSE = {"fft": "ifft", "ifft": "fft", "rfft": "irfft", "ihfft": "hfft"}


@settings(max_examples=30)
@given(name=st.sampled_from(sorted(INVERSE)), data=st.data())
def test_round_trips(name: str, data: Any) -> None:
    """ifft(fft(x)) == x and the like, with the same n, axis and norm."""
    x = signal(data, data.draw(shapes), ONE_AXIS[name][data.draw(st.integers(0, 1))])
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    norm = data.draw(st.sampled_from(NORMS))
    n = x.shape[axis]
    there = getattr(xp.fft, name)(xp.asarray(x), axis=axis, norm=norm)
    back = getattr(xp.fft, INVERSE[name])(there, n=n, axis=axis, norm=norm)
    assert back.dtype == xp.asarray(x).dtype
    assert_close(back, x)


# ------------------------------------------------------ over several axes
@settings(max_examples=150)
@given(name=st.sampled_from(sorted(MANY_AXES)), shape=shapes, data=st.data())
def test_many_axes_transforms(name: str, shape: tuple[int, ...], data: Any) -> None:
    dtype = draw_dtype(data, MANY_AXES[name])
    x = signal(data, shape, dtype)
    ndim = len(shape)
    kwargs: dict[str, Any] = {}
    if data.draw(st.booleans()):
        positions = data.draw(
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
        )
        kwargs["axes"] = [
            a - ndim if data.draw(st.booleans()) else a for a in positions
        ]
        if data.draw(st.booleans()):
            lengths = [data.draw(st.sampled_from([-1, 1, 2, 3, 7])) for _ in positions]
            if name == "irfftn" and lengths[-1] == -1:
                lengths[-1] = 4  # -1 differs from NumPy there: see the test below
            kwargs["s"] = tuple(lengths)
    if data.draw(st.booleans()):
        kwargs["norm"] = data.draw(st.sampled_from(NORMS))
    ours = both(name, x, **kwargs)
    if ours is not None:
        assert_close(ours, getattr(np.fft, name)(x, **kwargs))


def test_irfftn_reads_minus_one_as_the_default_length() -> None:
    """s[i] = -1 uses every input element (the standard's words): on the halved
    axis that is 2 * (m - 1) output points, where NumPy gives m."""
    x = xp.ones((3, 5), dtype=xp.complex64)
    assert xp.fft.irfftn(x, s=(-1, -1), axes=(0, 1)).shape == (3, 8)
    assert xp.fft.irfftn(x, s=(-1, 9), axes=(0, 1)).shape == (3, 9)


def test_many_axes_edge_cases() -> None:
    x = xp.ones((2, 3), dtype=xp.complex128)
    assert xp.fft.fftn(x, axes=()) is x  # nothing to transform
    scalar = xp.asarray(1j)
    assert xp.fft.ifftn(scalar) is scalar  # a 0-d array has no axes
    for name in ("rfftn", "irfftn"):
        arg = x if name == "irfftn" else xp.real(x)
        with pytest.raises(ValueError, match=f"{name}: needs at least one axis"):
            getattr(xp.fft, name)(arg, axes=[])
    with pytest.raises(ValueError, match="fftn: s needs axes"):
        xp.fft.fftn(x, s=(2, 2))
    with pytest.raises(ValueError, match=r"ifftn: axes .* repeats an axis"):
        xp.fft.ifftn(x, axes=(1, -1))
    with pytest.raises(ValueError, match="2 lengths for 1 axes"):
        xp.fft.fftn(x, s=(2, 2), axes=(0,))
    with pytest.raises(ValueError, match=r"at least 1 \(or -1\)"):
        xp.fft.fftn(x, s=(0,), axes=(0,))
    with pytest.raises(TypeError, match="axes must be a sequence of ints"):
        xp.fft.fftn(x, axes=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="s must be an int"):
        xp.fft.fftn(x, s=(2.5,), axes=(0,))  # type: ignore[arg-type]


# -------------------------------------------------------------- refusals
def test_errors_name_the_argument() -> None:
    z = xp.ones((4,), dtype=xp.complex64)
    with pytest.raises(TypeError, match="fft: x must have a complex floating-point"):
        xp.fft.fft(xp.ones(4))
    with pytest.raises(TypeError, match="rfft: x must have a real floating-point"):
        xp.fft.rfft(z)
    with pytest.raises(TypeError, match="hfft: x must be an NDArray"):
        xp.fft.hfft(np.ones(4, np.complex64))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ifft: n must be at least 1, got 0"):
        xp.fft.ifft(z, n=0)
    with pytest.raises(TypeError, match="n must be an int"):
        xp.fft.fft(z, n=4.0)  # type: ignore[arg-type]
    with pytest.raises(IndexError, match="fft: axis 1 is out of range"):
        xp.fft.fft(z, axis=1)
    with pytest.raises(ValueError, match="norm must be 'backward', 'ortho'"):
        xp.fft.fft(z, norm="unitary")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"irfft: .* at least 1 point, got 0"):
        xp.fft.irfft(xp.ones((1,), dtype=xp.complex64))
    with pytest.raises(TypeError, match="fftshift: x must have a floating-point"):
        xp.fft.fftshift(xp.asarray([1, 2, 3]))


def test_float16_is_transformed_in_float32() -> None:
    x = np.asarray([1.0, -2.0, 0.5, 3.0, 0.25], np.float16)
    result = xp.fft.rfft(xp.asarray(x))
    assert result.dtype == xp.complex64
    assert_close(result, np.fft.rfft(x.astype(np.float32)))
    assert xp.fft.ihfft(xp.asarray(x), n=4).dtype == xp.complex64


# ---------------------------------------------------- frequencies and shifts
@settings(max_examples=80)
@given(
    name=st.sampled_from(["fftfreq", "rfftfreq"]),
    n=st.integers(1, 40),
    d=st.none() | st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3),
    dtype=st.sampled_from([None, "float32", "float64"]),
)
def test_frequencies(name: str, n: int, d: float | None, dtype: str | None) -> None:
    """Exactly NumPy's values (computed in float64, then rounded) on the device,
    in the namespace's default float (float32; array_api_strict's is float64)
    when no dtype is asked for."""
    kwargs: dict[str, Any] = {} if d is None else {"d": d}
    with strict.ArrayAPIStrictFlags(api_version=API_VERSION):
        theirs = getattr(strict.fft, name)(
            n, **kwargs, dtype=getattr(strict, dtype or "float32")
        )
    ours = getattr(xp.fft, name)(
        n, **kwargs, dtype=None if dtype is None else getattr(xp, dtype)
    )
    default = xp.__array_namespace_info__().default_dtypes()["real floating"]
    assert ours.dtype == (default if dtype is None else getattr(xp, dtype))
    expected = getattr(np.fft, name)(n, **kwargs).astype(ours.dtype)
    compare(ours, theirs, expected, name)


def test_frequencies_arguments() -> None:
    np.testing.assert_array_equal(host(xp.fft.fftfreq(4)), [0.0, 0.25, -0.5, -0.25])
    freq = xp.fft.rfftfreq(5, d=0.5, dtype=xp.float64, device="cpu:1")
    assert (freq.device.name, freq.dtype) == ("cpu:1", xp.float64)
    np.testing.assert_array_equal(host(freq), [0.0, 0.4, 0.8])
    small = xp.fft.fftfreq(3, dtype=xp.float32, device="no_float64")
    np.testing.assert_array_equal(host(small), np.fft.fftfreq(3).astype(np.float32))
    with pytest.raises(TypeError, match="fftfreq: dtype must be a real floating"):
        xp.fft.fftfreq(4, dtype=xp.complex64)
    with pytest.raises(ValueError, match="rfftfreq: n must be at least 1, got 0"):
        xp.fft.rfftfreq(0)
    with pytest.raises(ValueError, match=r"d \(the sample spacing\) must not be 0"):
        xp.fft.fftfreq(4, d=0.0)
    with pytest.raises(TypeError, match="d must be a float"):
        xp.fft.fftfreq(4, d="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="does not support dtype float64"):
        xp.fft.fftfreq(4, dtype=xp.float64, device="no_float64")


@settings(max_examples=80)
@given(
    name=st.sampled_from(["fftshift", "ifftshift"]),
    shape=shapes,
    dtype=st.sampled_from([*REAL, *COMPLEX]),
    data=st.data(),
)
def test_shifts(name: str, shape: tuple[int, ...], dtype: str, data: Any) -> None:
    x = signal(data, shape, dtype)
    ndim = len(shape)
    axes = data.draw(
        st.none()
        | st.integers(-ndim, ndim - 1)
        | st.lists(st.integers(-ndim, ndim - 1), max_size=ndim).filter(
            lambda a: len({v % ndim for v in a}) == len(a)
        )
    )
    ours = both(name, x, axes=axes)
    assert ours is not None
    np.testing.assert_array_equal(host(ours), getattr(np.fft, name)(x, axes=axes))


def test_shifts_undo_each_other_and_refuse_repeats() -> None:
    x = xp.reshape(xp.arange(15, dtype=xp.float32), (3, 5))
    back = xp.fft.ifftshift(xp.fft.fftshift(x))
    np.testing.assert_array_equal(host(back), host(x))
    with pytest.raises(ValueError, match=r"fftshift: axes .* repeats an axis"):
        xp.fft.fftshift(x, axes=(0, -2))
    with pytest.raises(IndexError, match="out of range"):
        xp.fft.ifftshift(x, axes=2)


# -------------------------------------------------------------- the module
def test_the_extension_is_the_standards() -> None:
    assert xp.fft is __import__("actnet.ndarray.fft").ndarray.fft
    assert "fft" in xp.__all__
    assert sorted(xp.fft.__all__) == sorted(strict.fft.__all__)
    for name in strict.fft.__all__:
        ours = inspect.signature(getattr(xp.fft, name)).parameters
        theirs = inspect.signature(getattr(strict.fft, name)).parameters
        assert [(p.name, p.kind) for p in ours.values()] == [
            (p.name, p.kind) for p in theirs.values()
        ], name
        defaults = [p.default for p in theirs.values()]
        assert [p.default for p in ours.values()] == defaults, name


def test_transforms_run_on_the_arrays_device() -> None:
    z = xp.asarray(np.arange(8.0) + 1j, device="cpu:1")
    result = xp.fft.fftn(z, axes=(0,))
    assert result.device.name == "cpu:1"
    assert math.isclose(float(xp.real(result[0])), 28.0)
