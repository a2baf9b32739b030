"""Reductions against NumPy: sum, prod, mean, var, max, min, any, all, argmax,
argmin and the cumulative sums and products, over every form of `axis`, with
`keepdims`, `dtype=`, `include_initial` and `out=`, and their refusals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from _helpers import BFLOAT16, CPU, assert_identical, put, rng_for, sample
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from actnet.device._dtypes import ALL
from actnet.device._opset import ARG_REDUCE, CUMULATIVE, REDUCE

AXES: list[Any] = [None, 0, 1, -1, -3, (0, 2), (2, 0), (-1, 1), (), (0, 1, 2)]
REDUCE_CASES = [(name, np.dtype(d)) for name in REDUCE for d in REDUCE[name]]


def numpy_reduce(
    name: str, x: np.ndarray[Any, Any], axis: Any, keepdims: bool, **kw: Any
) -> np.ndarray[Any, Any]:
    """NumPy's reduction in the device's dtype (sum, prod and mean accumulate in
    the dtype they are given; bfloat16's in float32, rounded once at the end, as
    PyTorch's)."""
    accumulates = name in ("sum", "prod", "mean", "var")
    if accumulates and x.dtype == BFLOAT16 and kw.get("dtype", x.dtype) == BFLOAT16:
        wide = {**kw, "dtype": np.float32} if "dtype" in kw else kw
        result = numpy_reduce(name, x.astype(np.float32), axis, keepdims, **wide)
        return result.astype(BFLOAT16)
    if name == "sum_of_squares":  # each square and the sum in float64, rounded once
        wide = x.astype(np.float64)
        return np.asarray(np.sum(wide * wide, axis=axis, keepdims=keepdims)).astype(
            x.dtype
        )
    with np.errstate(all="ignore"):
        if name in ("sum", "prod", "mean"):
            dtype = kw.get("dtype", x.dtype)
            return np.asarray(
                getattr(np, name)(x, axis=axis, keepdims=keepdims, dtype=dtype)
            )
        if name == "var":
            return np.asarray(
                np.var(x, axis=axis, keepdims=keepdims, ddof=kw.get("correction", 0))
            )
        return np.asarray(getattr(np, name)(x, axis=axis, keepdims=keepdims))


def reduction_data(name: str, dtype: np.dtype[Any], shape: Any) -> Any:
    rng = rng_for(name, str(dtype))
    floating = dtype.kind in "fc" or dtype == BFLOAT16
    if name in ("sum", "sum_of_squares", "prod", "mean", "var") and floating:
        # Finite: sum and prod of inf and -inf are invalid, and sum is loud.
        return sample(dtype, shape, rng, special=False, low=-2, high=2)
    if dtype.kind in "iu":
        return sample(dtype, shape, rng, special=False, low=0, high=5)
    return sample(dtype, shape, rng)


@pytest.mark.parametrize(("name", "dtype"), REDUCE_CASES, ids=str)
def test_reductions_match_numpy_over_every_axis(name: str, dtype: Any) -> None:
    x = reduction_data(name, dtype, (3, 4, 5))
    buf = put(x)
    for axis in AXES:
        for keepdims in (False, True):
            result = getattr(CPU, name)(buf, axis, keepdims)
            want = numpy_reduce(name, x, axis, keepdims)
            assert result.dtype == REDUCE[name][dtype] == want.dtype
            assert_identical(result, want)


@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reductions_of_a_0d_buffer(name: str) -> None:
    dtype = np.dtype(np.float32)
    x = np.array(1.5, dtype)
    for axis in (None, ()):
        assert_identical(
            getattr(CPU, name)(put(x), axis), numpy_reduce(name, x, axis, False)
        )


@settings(max_examples=40)
@given(
    x=hnp.arrays(
        st.sampled_from([np.float64, np.int32]),
        hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
        elements={"min_value": -100, "max_value": 100, "allow_subnormal": False},
    ),
    data=st.data(),
    name=st.sampled_from(["sum", "max", "min", "any", "all", "prod"]),
    keepdims=st.booleans(),
)
def test_reductions_over_random_axes(
    x: np.ndarray[Any, Any], data: Any, name: str, keepdims: bool
) -> None:
    axis = data.draw(
        st.none() | st.integers(-x.ndim, x.ndim - 1) | hnp.valid_tuple_axes(x.ndim)
    )
    assert_identical(
        getattr(CPU, name)(put(x), axis, keepdims),
        numpy_reduce(name, x, axis, keepdims),
    )


def test_sum_accumulates_in_the_dtype_it_is_given() -> None:
    x = np.full(300, 100, np.int8)
    assert_identical(CPU.sum(put(x)), np.sum(x, dtype=np.int8))  # wraps in int8
    assert_identical(CPU.sum(put(x), dtype=np.int64), np.int64(30_000))
    assert_identical(CPU.prod(put(x[:3]), dtype="int64"), np.int64(1_000_000))
    h = sample(np.float16, (50, 8), np.random.default_rng(1), special=False)
    for axis in (None, 0, (1,)):
        assert_identical(
            CPU.mean(put(h), axis, dtype=np.float32),
            np.mean(h, axis=axis, dtype=np.float32),
        )
        assert_identical(
            CPU.sum(put(h), axis, True, dtype=np.float64),
            np.sum(h, axis=axis, keepdims=True, dtype=np.float64),
        )


def test_dtype_is_only_for_sum_prod_and_mean() -> None:
    x = put(np.ones((2, 3)))
    for name in ("max", "min", "any", "all"):
        with pytest.raises(TypeError, match=f"{name} takes no dtype"):
            CPU._reduce(name, x, None, False, None, dtype=np.float32)
    with pytest.raises(TypeError, match="unexpected keyword"):
        CPU.var(x, dtype=np.float32)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="not a device data type"):
        CPU.sum(x, dtype=np.str_)


@pytest.mark.parametrize("correction", [0, 1, 2.5])
def test_var_with_correction(correction: float) -> None:
    rng = np.random.default_rng(4)
    for dtype in (np.float32, np.float64, np.complex64, np.complex128):
        x = sample(dtype, (4, 6), rng, special=False)
        for axis in (None, 0, -1):
            result = CPU.var(put(x), axis, correction=correction)
            assert_identical(result, np.var(x, axis=axis, ddof=correction))


def test_empty_extents_have_identities_except_max_and_min() -> None:
    x = np.zeros((0, 3), np.float32)
    assert_identical(CPU.sum(put(x)), np.float32(0))
    assert_identical(CPU.prod(put(x), 0), np.ones(3, np.float32))
    assert_identical(CPU.any(put(x), 0), np.zeros(3, bool))
    assert_identical(CPU.all(put(x)), np.True_)
    # The mean of nothing is NaN, quietly (mean is a quiet reduction).
    assert_identical(CPU.mean(put(x), 0), np.full(3, np.nan, np.float32))
    # Reducing the non-empty axis of an empty buffer is fine for max and min.
    assert_identical(CPU.max(put(x), 1), np.zeros(0, np.float32))
    for name in ("max", "min"):
        for axis in (None, 0, (0, 1), -2):
            with pytest.raises(ValueError, match=f"{name} of an empty extent"):
                getattr(CPU, name)(put(x), axis)


def test_argmax_and_argmin_of_empty_extents_are_refused() -> None:
    x = put(np.zeros((0, 3)))
    for name in ("argmax", "argmin"):
        with pytest.raises(ValueError, match=f"{name} of an empty buffer"):
            getattr(CPU, name)(x)
        with pytest.raises(ValueError, match=f"{name} over an empty axis"):
            getattr(CPU, name)(x, 0)
        assert_identical(getattr(CPU, name)(x, 1), np.zeros(0, np.int64))


@pytest.mark.parametrize("axis", [3, -4, (0, 3), (1, -4)])
def test_an_axis_out_of_range_is_refused(axis: Any) -> None:
    x = put(np.ones((2, 3, 4)))
    for name in ("sum", "max", "any", "var"):
        with pytest.raises(IndexError, match="out of range"):
            getattr(CPU, name)(x, axis)


def test_repeated_and_malformed_axes_are_refused() -> None:
    x = put(np.ones((2, 3, 4)))
    for axis in ((0, 0), (1, -2), (2, -1, 0)):
        with pytest.raises(ValueError, match="repeats an axis"):
            CPU.sum(x, axis)
    for axis in (1.0, True, (0, 1.5), "0", [0, 1]):
        with pytest.raises(TypeError, match="axis must be"):
            CPU.sum(x, axis)


def test_reductions_refuse_dtypes_outside_their_tables() -> None:
    for name, table in REDUCE.items():
        for dtype in [d for d in ALL if d not in table]:
            with pytest.raises(TypeError, match=name):
                getattr(CPU, name)(CPU.alloc((2, 2), dtype))
    for name, table in ARG_REDUCE.items():
        for dtype in [d for d in ALL if d not in table]:
            with pytest.raises(TypeError, match=name):
                getattr(CPU, name)(CPU.alloc((2, 2), dtype))


def test_reduction_out() -> None:
    x = sample(np.float64, (3, 4, 5), np.random.default_rng(5), special=False)
    out = CPU.alloc((3, 5), np.float64)
    assert CPU.sum(put(x), 1, out=out) is out
    assert_identical(out, np.sum(x, axis=1))
    owner = put(np.zeros((5, 6)))
    view = owner.T[::2]  # a strided (3, 5) view
    CPU.max(put(x), -2, out=view)
    want = np.zeros((5, 6))
    want.T[::2] = np.max(x, axis=-2)
    assert_identical(owner, want)
    keep = CPU.alloc((1, 4, 1), np.bool_)
    CPU.any(put(x > 0), (0, 2), True, out=keep)
    assert_identical(keep, np.any(x > 0, axis=(0, 2), keepdims=True))
    with pytest.raises(ValueError, match=r"sum: out has shape"):
        CPU.sum(put(x), 1, True, out=out)
    with pytest.raises(TypeError, match=r"mean: out has dtype float32"):
        CPU.mean(put(x), 1, out=CPU.alloc((3, 5), np.float32))
    with pytest.raises(TypeError, match=r"any: out has dtype"):
        CPU.any(put(x), 1, out=out)


# ------------------------------------------------------------ argmax, argmin
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.uint16])
def test_arg_reductions_match_numpy(name: str, dtype: Any) -> None:
    rng = np.random.default_rng(6)
    # Few distinct values: ties everywhere, so "the first" is tested.
    x = rng.integers(0, 4, (4, 5, 6)).astype(dtype)
    buf = put(x)
    for axis in (None, 0, 1, -1, -3):
        for keepdims in (False, True):
            result = getattr(CPU, name)(buf, axis, keepdims)
            want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
            assert_identical(result, np.asarray(want, np.int64))


def test_arg_reductions_find_the_first_nan_and_take_0d() -> None:
    x = np.array([[1.0, np.nan, 5.0, np.nan], [7.0, 2.0, 7.0, -np.inf]])
    for name in ("argmax", "argmin"):
        for axis in (None, 0, 1):
            want = getattr(np, name)(x, axis=axis)
            assert_identical(getattr(CPU, name)(put(x), axis), np.asarray(want, "i8"))
        assert_identical(getattr(CPU, name)(put(np.float32(3.0))), np.int64(0))


def test_arg_reduction_out_and_refusals() -> None:
    x = np.arange(12.0).reshape(3, 4)[::-1]
    out = CPU.alloc((1, 4), np.int64)
    assert CPU.argmax(put(x), 0, True, out=out) is out
    assert_identical(out, np.zeros((1, 4), np.int64))
    full = CPU.alloc((1, 1), np.int64)
    CPU.argmin(put(x), None, True, out=full)
    assert_identical(full, np.array([[8]]))  # the 0 of the flipped rows
    with pytest.raises(TypeError, match="argmax: out has dtype int32"):
        CPU.argmax(put(x), 0, out=CPU.alloc((4,), np.int32))
    with pytest.raises(IndexError, match="out of range"):
        CPU.argmax(put(x), 2)
    with pytest.raises(TypeError, match="argmin does not take bool"):
        CPU.argmin(put(x > 3))
    with pytest.raises(TypeError, match="argmax does not take complex64"):
        CPU.argmax(put(np.ones(2, np.complex64)))


# ---------------------------------------------------------------- cumulative
CUMULATIVE_CASES = [(n, np.dtype(d)) for n in CUMULATIVE for d in CUMULATIVE[n]]


@pytest.mark.parametrize(("name", "dtype"), CUMULATIVE_CASES, ids=str)
def test_cumulative_matches_numpy(name: str, dtype: Any) -> None:
    x = reduction_data("sum", dtype, (3, 4, 5))
    buf = put(x)
    for axis in (0, 1, -1):
        for include_initial in (False, True):
            result = getattr(CPU, name)(buf, axis, include_initial=include_initial)
            wide = np.float32 if dtype == BFLOAT16 else dtype  # then rounded once
            with np.errstate(all="ignore"):
                want = getattr(np, name)(
                    x.astype(wide),
                    axis=axis,
                    dtype=wide,
                    include_initial=include_initial,
                ).astype(dtype)
            assert_identical(result, want)


def test_cumulative_of_1d_needs_no_axis_and_nd_does() -> None:
    x = np.array([3, 1, 4, 1, 5], np.int32)
    assert_identical(CPU.cumulative_sum(put(x)), np.cumsum(x, dtype=np.int32))
    assert_identical(
        CPU.cumulative_prod(put(x), include_initial=True),
        np.array([1, 3, 3, 12, 12, 60], np.int32),
    )
    assert_identical(
        CPU.cumulative_sum(put(x), include_initial=True),
        np.array([0, 3, 4, 8, 9, 14], np.int32),
    )
    with pytest.raises(ValueError, match="axis is required for a 2-d buffer"):
        CPU.cumulative_sum(put(np.ones((2, 2))))
    with pytest.raises(ValueError, match="axis is required for a 0-d buffer"):
        CPU.cumulative_prod(put(np.float32(2)))
    with pytest.raises(IndexError, match="out of range"):
        CPU.cumulative_sum(put(x), 1)


def test_cumulative_dtype_out_and_empty() -> None:
    x = np.full((2, 200), 2, np.int8)
    assert_identical(
        CPU.cumulative_sum(put(x), 1, dtype=np.int64),
        np.cumsum(x, axis=1, dtype=np.int64),
    )
    out = CPU.alloc((3, 200), np.int32)
    result = CPU.cumulative_sum(put(x), 0, dtype="int32", include_initial=True, out=out)
    assert result is out
    assert_identical(
        out, np.cumulative_sum(x, axis=0, dtype=np.int32, include_initial=True)
    )
    with pytest.raises(ValueError, match="out has shape"):
        CPU.cumulative_sum(
            put(x), 0, include_initial=True, out=CPU.alloc((2, 200), "i1")
        )
    with pytest.raises(TypeError, match="out has dtype"):
        CPU.cumulative_sum(put(x), 0, out=CPU.alloc((2, 200), np.int16))
    empty = np.zeros((0, 3), np.float32)
    assert_identical(
        CPU.cumulative_sum(put(empty), 0, include_initial=True),
        np.zeros((1, 3), np.float32),
    )
    assert_identical(CPU.cumulative_prod(put(empty), 1), empty)


def test_cumulative_on_a_strided_view() -> None:
    x = np.arange(1.0, 25.0).reshape(4, 6)
    view = put(x).T[::-2]
    assert_identical(
        CPU.cumulative_prod(view, 1, include_initial=True),
        np.cumulative_prod(x.T[::-2], axis=1, include_initial=True),
    )
