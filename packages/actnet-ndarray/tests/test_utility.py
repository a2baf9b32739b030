"""Utility functions: all, any and diff; semantics against array_api_strict,
values against NumPy."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from _oracle import STANDARD, check, host, sample
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
# dtypes that promote with each other both by the standard's table and in NumPy
FAMILIES = [
    ["int8", "int16", "int32", "int64"],
    ["uint8", "uint16", "uint32", "uint64"],
    ["float32", "float64"],
    ["complex64", "complex128"],
    ["bool"],
]


@settings(max_examples=100)
@given(data=st.data())
def test_all_and_any(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    dtype = data.draw(st.sampled_from(STANDARD))
    a = sample(dtype, shape, seed=data.draw(st.integers(0, 3)))
    if a.dtype.kind == "f" and a.size:
        a.flat[0] = np.nan  # NaN is nonzero: it counts as true
    n = len(shape)
    axis = data.draw(
        st.none()
        | st.integers(-n - 1, n)
        | st.lists(st.integers(-n, max(n - 1, 0)), max_size=n).map(tuple)
    )
    if not shape and axis not in (None, ()):  # NumPy takes axis 0 of a 0-d array
        return
    keepdims = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["all", "any"]))
    fn = getattr(np, name)
    check(
        name,
        lambda v, axis, keepdims: fn(v, axis=axis, keepdims=keepdims),
        a,
        axis=axis,
        keepdims=keepdims,
    )


def test_all_and_any_of_nothing() -> None:
    assert bool(xp.all(xp.zeros((0,))))
    assert not bool(xp.any(xp.zeros((0,))))
    assert xp.any(xp.zeros((2, 0)), axis=1, keepdims=True).shape == (2, 1)
    assert xp.all(xp.asarray([1j, 0j])).dtype == xp.bool
    with pytest.raises(TypeError, match="all: x must be an NDArray"):
        xp.all([True])  # type: ignore[arg-type]


def edge(
    data: st.DataObject, family: list[str], shape: tuple[int, ...], axis: int
) -> Any:
    """None, or an array to join to x: x's shape but along `axis`."""
    if not data.draw(st.booleans()):
        return None
    extents = list(shape)
    extents[axis] = data.draw(st.integers(0, 3))
    return sample(data.draw(st.sampled_from(family)), tuple(extents), seed=5)


@settings(max_examples=150)
@given(data=st.data())
def test_diff(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))
    family = data.draw(st.sampled_from(FAMILIES))
    a = sample(
        data.draw(st.sampled_from(family)), shape, seed=data.draw(st.integers(0, 3))
    )
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim - 1, ndim))
    n = data.draw(st.integers(1, 6))  # NumPy's n=0 skips prepend, append and axis
    options: dict[str, Any] = {"axis": axis, "n": n}
    if -ndim <= axis < ndim:
        for name in ("prepend", "append"):
            options[name] = edge(data, family, shape, axis % ndim)

    def expected(v: Any, **kwargs: Any) -> Any:
        return np.diff(v, **{k: w for k, w in kwargs.items() if w is not None})

    check("diff", expected, a, **options)


def test_diff_values_and_errors() -> None:
    x = xp.asarray([[1, 3, 6], [2, 2, 9]], dtype=xp.uint8)
    np.testing.assert_array_equal(host(xp.diff(x, axis=0)), [[1, 255, 3]])  # wraps
    np.testing.assert_array_equal(host(xp.diff(x, n=2)), [[1], [7]])
    assert xp.diff(x, n=5).shape == (2, 0)
    assert xp.diff(x, n=0).shape == (2, 3)
    # The standard's extent is M + N1 + N2 - n, for n = 0 too (NumPy returns x)
    zeroth = xp.diff(x, n=0, prepend=xp.zeros((2, 1), dtype=xp.uint8))
    np.testing.assert_array_equal(host(zeroth), [[0, 1, 3, 6], [0, 2, 2, 9]])
    with pytest.raises(IndexError, match="axis 2 is out of range"):
        xp.diff(x, n=0, axis=2)
    joined = xp.diff(
        xp.asarray([1.0, 2.0]), prepend=xp.asarray([0.5]), append=xp.asarray([4.0])
    )
    np.testing.assert_array_equal(host(joined), [0.5, 1.0, 2.0])
    promoted = xp.diff(xp.asarray([1], dtype=xp.int8), append=xp.asarray([300]))
    assert promoted.dtype == xp.int64
    with pytest.raises(ValueError, match="n must be non-negative"):
        xp.diff(x, n=-1)
    with pytest.raises(TypeError, match="n must be an int"):
        xp.diff(x, n=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one axis"):
        xp.diff(xp.asarray(1.0))
    with pytest.raises(ValueError, match="prepend has shape"):
        xp.diff(x, prepend=xp.zeros((3, 1), dtype=xp.uint8))
    with pytest.raises(ValueError, match="append has shape"):
        xp.diff(x, append=xp.asarray(1, dtype=xp.uint8))  # no scalars: same ndim
    with pytest.raises(TypeError, match="x must have a numeric dtype"):
        xp.diff(xp.asarray([True, False]))
    with pytest.raises(TypeError, match="do not promote"):
        xp.diff(xp.asarray([1.0]), append=xp.asarray([1]))
    with pytest.raises(ValueError, match="cpu:1"):
        xp.diff(xp.asarray([1.0]), append=xp.asarray([1.0], device="cpu:1"))


def test_signatures_follow_the_standard() -> None:
    params = inspect.signature(xp.diff).parameters
    assert list(params) == ["x", "axis", "n", "prepend", "append"]
    assert params["x"].kind is inspect.Parameter.POSITIONAL_ONLY
    assert params["n"].kind is inspect.Parameter.KEYWORD_ONLY
    for name in ("all", "any"):
        params = inspect.signature(getattr(xp, name)).parameters
        assert params["axis"].kind is inspect.Parameter.KEYWORD_ONLY
