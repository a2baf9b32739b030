"""Searching functions: argmax, argmin, count_nonzero, nonzero, searchsorted and
where; semantics against array_api_strict, values against NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from _oracle import REAL, STANDARD, check, host, sample
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@settings(max_examples=80)
@given(data=st.data())
def test_argmax_and_argmin(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    dtype = data.draw(st.sampled_from(STANDARD))
    a = sample(dtype, shape, seed=data.draw(st.integers(0, 5)))  # ties are common
    axis = data.draw(st.none() | st.integers(-len(shape) - 1, len(shape)))
    if not shape and axis is not None:  # NumPy accepts axis 0 and -1 for 0-d arrays
        return
    keepdims = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["argmax", "argmin"]))
    fn = getattr(np, name)
    check(
        name,
        lambda v, axis, keepdims: fn(v, axis=axis, keepdims=keepdims),
        a,
        axis=axis,
        keepdims=keepdims,
    )


def test_argmax_picks_the_first_of_ties_and_refuses_empty() -> None:
    x = xp.asarray([[1, 3, 3], [2, 2, 0]])
    np.testing.assert_array_equal(host(xp.argmax(x, axis=1)), [1, 0])
    np.testing.assert_array_equal(host(xp.argmin(x, axis=1, keepdims=True)), [[0], [2]])
    assert int(xp.argmax(x)) == 1
    with pytest.raises(ValueError, match="no elements"):
        xp.argmax(xp.zeros((0, 3)), axis=0)
    assert xp.argmax(xp.zeros((0, 3)), axis=1).shape == (0,)
    with pytest.raises(TypeError, match="real numeric"):
        xp.argmin(xp.asarray([True, False]))


@settings(max_examples=60)
@given(data=st.data())
def test_count_nonzero(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    a = sample(data.draw(st.sampled_from(STANDARD)), shape)
    n = len(shape)
    axis = data.draw(
        st.none()
        | st.integers(-n - 1, n)
        | st.lists(st.integers(-n, max(n - 1, 0)), max_size=n).map(tuple)
    )
    if not shape and axis is not None:  # NumPy accepts axis 0 for 0-d arrays
        return
    keepdims = data.draw(st.booleans())
    check(
        "count_nonzero",
        lambda v, axis, keepdims: np.count_nonzero(v, axis=axis, keepdims=keepdims),
        a,
        axis=axis,
        keepdims=keepdims,
    )


def test_count_nonzero_counts_nan_and_complex() -> None:
    x = xp.asarray([0.0, float("nan"), -0.0, 2.0])
    assert int(xp.count_nonzero(x)) == 2
    z = xp.asarray([0j, 1j, 0j])
    assert int(xp.count_nonzero(z)) == 1
    assert xp.count_nonzero(z).dtype == xp.int64


@settings(max_examples=50)
@given(data=st.data())
def test_nonzero(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    a = sample(data.draw(st.sampled_from(STANDARD)), shape)
    check("nonzero", np.nonzero, a)


PROMOTES = {
    (np.dtype(a), np.dtype(b))
    for a in REAL
    for b in REAL
    if np.dtype(a).kind == np.dtype(b).kind
    or ({np.dtype(a).kind, np.dtype(b).kind} == {"i", "u"} and "uint64" not in (a, b))
}


@settings(max_examples=80)
@given(data=st.data())
def test_searchsorted(data: st.DataObject) -> None:
    d1 = data.draw(st.sampled_from(REAL))
    d2 = data.draw(st.sampled_from([d1, *REAL]))
    base = np.asarray(data.draw(st.lists(st.integers(0, 9), min_size=0, max_size=8)))
    x1 = np.sort(base).astype(d1)
    x2 = data.draw(
        hnp.arrays(d2, data.draw(shapes), elements=st.integers(0, 10).map(float))
    )
    side = data.draw(st.sampled_from(["left", "right"]))
    if (np.dtype(d1), np.dtype(d2)) not in PROMOTES:  # NumPy would still compare
        with pytest.raises(TypeError, match="do not promote"):
            xp.searchsorted(xp.asarray(x1), xp.asarray(x2))
        return
    use_sorter = data.draw(st.booleans())
    if use_sorter:  # x1 out of order, with the indices that sort it
        x1 = np.asarray(data.draw(st.permutations(list(x1))), dtype=d1)
        sorter = np.argsort(x1, kind="stable")
        check("searchsorted", numpy_searchsorted, x1, x2, side=side, sorter=sorter)
    else:
        check("searchsorted", numpy_searchsorted, x1, x2, side=side)


def numpy_searchsorted(a: Any, b: Any, side: Any, sorter: Any = None) -> Any:
    # NumPy compares mixed dtypes as they are; the table's promotion first
    common = np.result_type(a, b)
    return np.searchsorted(a.astype(common), b.astype(common), side=side, sorter=sorter)


def test_searchsorted_errors() -> None:
    x1 = xp.asarray([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="1-d"):
        xp.searchsorted(xp.zeros((2, 2)), x1)
    with pytest.raises(ValueError, match="side"):
        xp.searchsorted(x1, x1, side="middle")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="real numeric"):
        xp.searchsorted(x1, xp.asarray([1j]))
    with pytest.raises(TypeError, match="do not promote"):
        xp.searchsorted(x1, xp.asarray([1]))
    with pytest.raises(ValueError, match="sorter has shape"):
        xp.searchsorted(x1, x1, sorter=xp.asarray([0, 1]))
    with pytest.raises(TypeError, match="x2 must be an NDArray"):
        xp.searchsorted(x1, 2.0)  # type: ignore[arg-type]


OPERANDS = [
    "bool",
    "int8",
    "uint8",
    "int64",
    "float32",
    "float64",
    "complex64",
    True,
    3,
    -2.5,
    1j,
]


@settings(max_examples=100)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
    left=st.sampled_from(OPERANDS),
    right=st.sampled_from(OPERANDS),
)
def test_where(shapes: Any, left: Any, right: Any) -> None:
    (sc, s1, s2), _ = shapes
    cond = sample("bool", sc, seed=1)
    x1 = sample(left, s1, seed=2) if isinstance(left, str) else left
    x2 = sample(right, s2, seed=3) if isinstance(right, str) else right

    def expected(c: Any, a: Any, b: Any) -> Any:
        return np.where(c, a, b)  # the values; the dtype comes from the oracle

    got = check("where", expected, cond, x1, x2)
    if got is not None and isinstance(left, str) and isinstance(right, int | float):
        assert got.dtype == np.dtype(left)  # a Python scalar is weak


def test_where_errors() -> None:
    x = xp.asarray([1.0, 2.0])
    with pytest.raises(TypeError, match="condition must be bool"):
        xp.where(x, x, x)
    with pytest.raises(TypeError, match="condition must be an NDArray"):
        xp.where([True, False], x, x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="at least one"):
        xp.where(x > 1, 1.0, 2.0)
    with pytest.raises(TypeError, match="x2 must be an NDArray or a Python scalar"):
        xp.where(x > 1, x, "a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cpu:1"):
        xp.where(x > 1, x, xp.zeros(2, device="cpu:1"))
    with pytest.raises(OverflowError):
        xp.where(x > 1, xp.asarray([1, 2], dtype=xp.int8), 300)
