"""Statistical functions: sum, prod, max, min, mean, var, std, cumulative_sum and
cumulative_prod; semantics (shapes, dtypes, errors) against array_api_strict,
values against NumPy."""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import array_api_strict as strict
import numpy as np
import pytest
from _oracle import (
    API_VERSION,
    ORACLE_ERRORS,
    STANDARD,
    _mirror,
    compare,
    compatible,
    host,
    sample,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
FLOATING = ["float32", "float64", "complex64", "complex128"]


def call(namespace: Any, name: str, args: tuple[Any, ...], kwargs: Any) -> Any:
    """namespace.<name>(*args, **kwargs) with NumPy arrays made the namespace's
    arrays, and a dtype given by name made the namespace's dtype."""
    options = {
        k: getattr(namespace, v) if k == "dtype" and isinstance(v, str) else v
        for k, v in kwargs.items()
    }
    fn = getattr(namespace, name)
    return fn(*_mirror(args, namespace.asarray), **_mirror(options, namespace.asarray))


def both(name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any] | None:
    """(ours, array_api_strict's) results; None when array_api_strict raises, after
    checking that ours raises a compatible error."""
    try:
        with (
            strict.ArrayAPIStrictFlags(api_version=API_VERSION),
            warnings.catch_warnings(),  # NumPy warns on empty means, ...
            np.errstate(all="ignore"),
        ):
            warnings.simplefilter("ignore")
            theirs = call(strict, name, args, kwargs)
    except ORACLE_ERRORS as exc:
        with pytest.raises(Exception) as ours:
            call(xp, name, args, kwargs)
        assert compatible(ours.value, exc), (
            f"{name}: raised {ours.type.__name__}: {ours.value}; array_api_strict "
            f"raised {type(exc).__name__}: {exc}"
        )
        return None
    return call(xp, name, args, kwargs), theirs


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs) with NumPy's warnings off (empty means, ddof > N)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def axes(data: st.DataObject, ndim: int) -> Any:
    """None, an int or a tuple of ints: mostly valid axes, some out of range or
    repeated."""
    return data.draw(
        st.none()
        | st.integers(-ndim - 1, ndim)
        | st.lists(st.integers(-ndim, max(ndim - 1, 0)), max_size=ndim).map(tuple)
    )


def assert_close(ours: xp.NDArray, expected: Any) -> None:
    tolerance = 1e-5 if ours.dtype in (xp.float32, xp.complex64) else 1e-12
    np.testing.assert_allclose(host(ours), expected, rtol=tolerance, atol=tolerance)


def test_signatures_follow_the_standard() -> None:
    for name in ("sum", "prod", "max", "min", "mean", "std", "var"):
        params = inspect.signature(getattr(xp, name)).parameters
        kinds = [p.kind for p in params.values()]
        assert kinds[0] is inspect.Parameter.POSITIONAL_ONLY
        assert all(k is inspect.Parameter.KEYWORD_ONLY for k in kinds[1:]), name
    params = inspect.signature(xp.cumulative_sum).parameters
    assert list(params) == ["x", "axis", "dtype", "include_initial"]


@settings(max_examples=120)
@given(data=st.data())
def test_sum_and_prod(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    dtype = data.draw(st.sampled_from(STANDARD))
    a = sample(dtype, shape, seed=data.draw(st.integers(0, 3)))
    axis = axes(data, len(shape))
    if not shape and axis not in (None, ()):  # NumPy takes axis 0 of a 0-d array
        return
    keepdims = data.draw(st.booleans())
    kind = np.dtype(dtype).kind
    widest = {"i": "int64", "u": "uint64", "f": "float64", "c": "complex128"}
    wanted = data.draw(st.sampled_from([None, widest.get(kind)]))
    name = data.draw(st.sampled_from(["sum", "prod"]))
    result = both(name, a, axis=axis, dtype=wanted, keepdims=keepdims)
    if result is None:
        return
    ours, theirs = result
    compare(ours, theirs, None, name)
    expected = getattr(np, name)(a, axis=axis, dtype=ours.dtype, keepdims=keepdims)
    np.testing.assert_array_equal(host(ours), expected)


def test_sum_dtype_defaults_follow_the_signedness() -> None:
    assert xp.sum(xp.asarray([1, 2], dtype=xp.int8)).dtype == xp.int64
    assert xp.prod(xp.asarray([1, 2], dtype=xp.uint16)).dtype == xp.uint64
    assert xp.sum(xp.asarray([1.0], dtype=xp.float32)).dtype == xp.float32
    assert xp.sum(xp.asarray([1.0], dtype=xp.float16)).dtype == xp.float16
    assert xp.prod(xp.asarray([1j])).dtype == xp.complex64
    # `dtype` is the accumulator: no wrap-around in int8
    big = xp.asarray([100, 100], dtype=xp.int8)
    assert int(xp.sum(big, dtype=xp.int16)) == 200
    assert float(xp.sum(xp.asarray([1, 2]), dtype=xp.float32)) == 3.0
    assert int(xp.sum(xp.zeros((0, 3)), axis=0).shape[0]) == 3
    assert float(xp.prod(xp.zeros((0,)))) == 1.0


def test_sum_errors_name_the_argument() -> None:
    with pytest.raises(TypeError, match="sum: x must have a numeric dtype"):
        xp.sum(xp.asarray([True]))
    with pytest.raises(TypeError, match="sum: x must be an NDArray"):
        xp.sum([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot accumulate complex"):
        xp.sum(xp.asarray([1j]), dtype=xp.float64)
    with pytest.raises(IndexError, match="axis 2 is out of range"):
        xp.prod(xp.ones((2, 2)), axis=2)
    with pytest.raises(ValueError, match="repeats an axis"):
        xp.sum(xp.ones((2, 2)), axis=(0, -2))
    with pytest.raises(TypeError, match="keepdims must be a bool"):
        xp.sum(xp.ones(2), keepdims=None)  # type: ignore[arg-type]


@settings(max_examples=100)
@given(data=st.data())
def test_max_and_min(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    dtype = data.draw(st.sampled_from(STANDARD))
    a = sample(dtype, shape, seed=data.draw(st.integers(0, 3)))
    axis = axes(data, len(shape))
    if not shape and axis not in (None, ()):
        return
    keepdims = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["max", "min"]))
    result = both(name, a, axis=axis, keepdims=keepdims)
    if result is not None:
        ours, theirs = result
        compare(ours, theirs, getattr(np, name)(a, axis=axis, keepdims=keepdims), name)


def test_max_min_propagate_nan_and_refuse_empty() -> None:
    x = xp.asarray([[1.0, float("nan")], [3.0, 2.0]])
    np.testing.assert_array_equal(host(xp.max(x, axis=1)), [np.nan, 3.0])
    np.testing.assert_array_equal(host(xp.min(x, axis=0)), [1.0, np.nan])
    with pytest.raises(ValueError, match="max: the array has no elements"):
        xp.max(xp.zeros((2, 0)), axis=1)
    with pytest.raises(ValueError, match="min: the array has no elements"):
        xp.min(xp.zeros((0,)))
    assert xp.max(xp.zeros((2, 0)), axis=0).shape == (0,)
    with pytest.raises(TypeError, match="real numeric"):
        xp.max(xp.asarray([1j]))


@settings(max_examples=120)
@given(data=st.data())
def test_mean_var_std(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    dtype = data.draw(st.sampled_from([*FLOATING, "int32", "bool"]))
    a = sample(dtype, shape, seed=data.draw(st.integers(0, 3)))
    axis = axes(data, len(shape))
    if not shape and axis not in (None, ()):
        return
    keepdims = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["mean", "var", "std"]))
    options: dict[str, Any] = {"axis": axis, "keepdims": keepdims}
    if name != "mean":
        options["correction"] = data.draw(st.sampled_from([0, 1, 0.5, 2.0]))
    result = both(name, a, **options)
    if result is None:
        return
    ours, theirs = result
    compare(ours, theirs, None, name)
    numpy_options = dict(options)
    if "correction" in numpy_options:
        numpy_options["ddof"] = numpy_options.pop("correction")
    expected = quiet(getattr(np, name), a, **numpy_options)
    if name != "mean":  # the standard: NaN where N - correction <= 0 (NumPy: inf)
        if axis is None:
            reduced: tuple[int, ...] = tuple(range(a.ndim))
        else:
            reduced = axis if isinstance(axis, tuple) else (axis,)
        count = math.prod(a.shape[i] for i in reduced)
        if count - options["correction"] <= 0:
            expected = np.full_like(expected, np.nan)
    assert_close(ours, expected)


def test_var_std_values_and_errors() -> None:
    x = xp.asarray([1.0, 2.0, 3.0, 4.0])
    assert float(xp.var(x, correction=1)) == pytest.approx(5 / 3)
    assert float(xp.std(x)) == pytest.approx(np.std([1, 2, 3, 4]))
    assert xp.isnan(xp.mean(xp.zeros((0,))))  # the mean of nothing is NaN, quietly
    assert xp.isnan(xp.var(xp.ones(1), correction=1))
    with pytest.raises(TypeError, match="var: x must have a real floating-point"):
        xp.var(xp.asarray([1j]))
    with pytest.raises(TypeError, match="mean: x must have a floating-point"):
        xp.mean(xp.asarray([1, 2]))
    with pytest.raises(TypeError, match="correction must be an int or a float"):
        xp.std(x, correction=True)
    # a transposed (non-contiguous) view reduces like its values
    m = xp.reshape(xp.arange(6.0), (2, 3)).mT
    np.testing.assert_allclose(host(xp.mean(m, axis=1)), [1.5, 2.5, 3.5])


@settings(max_examples=100)
@given(data=st.data())
def test_cumulative_sum_and_prod(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4, min_side=0))
    dtype = data.draw(st.sampled_from(STANDARD))
    a = sample(dtype, shape, seed=data.draw(st.integers(0, 3)))
    ndim = len(shape)
    axis = data.draw(st.none() | st.integers(-ndim - 1, ndim))
    include_initial = data.draw(st.booleans())
    kind = np.dtype(dtype).kind
    widest = {"i": "int64", "u": "uint64", "f": "float64", "c": "complex128"}
    wanted = data.draw(st.sampled_from([None, widest.get(kind)]))
    name = data.draw(st.sampled_from(["cumulative_sum", "cumulative_prod"]))
    result = both(name, a, axis=axis, dtype=wanted, include_initial=include_initial)
    if result is None:
        return
    ours, theirs = result
    compare(ours, theirs, None, name)
    a_axis = 0 if axis is None else axis % ndim
    numpy_fn = np.cumsum if name == "cumulative_sum" else np.cumprod
    expected = numpy_fn(a, axis=a_axis, dtype=ours.dtype)
    if include_initial:  # the empty sum (0) or product (1) first
        edge = list(a.shape)
        edge[a_axis] = 1
        first = np.full(edge, name == "cumulative_prod", dtype=ours.dtype)
        expected = np.concatenate([first, expected], axis=a_axis)
    np.testing.assert_array_equal(host(ours), expected)


def test_cumulative_values_and_errors() -> None:
    x = xp.asarray([[1, 2, 3], [4, 5, 6]], dtype=xp.int8)
    result = xp.cumulative_sum(x, axis=1, include_initial=True)
    assert result.dtype == xp.int64
    np.testing.assert_array_equal(host(result), [[0, 1, 3, 6], [0, 4, 9, 15]])
    np.testing.assert_array_equal(
        host(xp.cumulative_prod(xp.asarray([2.0, 3.0]), include_initial=True)),
        [1.0, 2.0, 6.0],
    )
    with pytest.raises(ValueError, match="axis is required"):
        xp.cumulative_sum(x)
    with pytest.raises(ValueError, match="at least one axis"):
        xp.cumulative_prod(xp.asarray(2.0))
    with pytest.raises(TypeError, match="numeric"):
        xp.cumulative_sum(xp.asarray([True, False]))
    with pytest.raises(TypeError, match="include_initial must be a bool"):
        xp.cumulative_sum(xp.asarray([1]), include_initial=1)  # type: ignore[arg-type]


def test_results_stay_on_the_input_device() -> None:
    x = xp.asarray([[1.0, 2.0], [3.0, 4.0]], device="cpu:1")
    for fn in (xp.sum, xp.prod, xp.max, xp.min, xp.mean, xp.var, xp.std):
        assert fn(x, axis=0).device.name == "cpu:1"
    assert xp.cumulative_sum(x, axis=0).device.name == "cpu:1"
