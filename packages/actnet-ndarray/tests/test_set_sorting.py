"""unique_* and sort/argsort: semantics against array_api_strict, values against
NumPy; NaNs are distinct in unique, and sorts are stable in both directions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from _oracle import REAL, STANDARD, check, host, sample
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)
UNIQUE_DTYPES = STANDARD  # complex too: sorted by real part, then imaginary


def with_nans(a: np.ndarray[Any, Any], data: st.DataObject) -> np.ndarray[Any, Any]:
    """a, with a few NaNs put in when it is floating (real or complex)."""
    if a.dtype.kind not in "fc" or not a.size or not data.draw(st.booleans()):
        return a
    b = a.copy().reshape(-1)
    for i in data.draw(st.lists(st.integers(0, b.size - 1), max_size=3)):
        b[i] = np.nan
    return b.reshape(a.shape)


def numpy_unique(a: np.ndarray[Any, Any]) -> tuple[Any, Any, Any, Any]:
    values, first, inverse, counts = np.unique(
        a,
        return_index=True,
        return_inverse=True,
        return_counts=True,
        equal_nan=False,
    )
    return values, first, inverse.reshape(a.shape), counts


@settings(max_examples=80)
@given(data=st.data())
def test_unique_functions(data: st.DataObject) -> None:
    a = sample(
        data.draw(st.sampled_from(UNIQUE_DTYPES)),
        data.draw(shapes),
        seed=data.draw(st.integers(0, 3)),
    )
    a = with_nans(a, data)
    values, first, inverse, counts = numpy_unique(a)
    check("unique_all", lambda v: (values, first, inverse, counts), a)
    check("unique_counts", lambda v: (values, counts), a)
    check("unique_inverse", lambda v: (values, inverse), a)
    check("unique_values", lambda v: values, a)


def test_unique_results_are_namedtuples_with_the_standards_fields() -> None:
    x = xp.asarray([[2.0, float("nan")], [2.0, float("nan")]])
    result = xp.unique_all(x)
    assert result._fields == ("values", "indices", "inverse_indices", "counts")
    assert xp.unique_counts(x)._fields == ("values", "counts")
    assert xp.unique_inverse(x)._fields == ("values", "inverse_indices")
    np.testing.assert_array_equal(host(result.counts), [2, 1, 1])  # NaNs distinct
    assert result.inverse_indices.shape == (2, 2)
    assert result.indices.dtype == xp.int64
    with pytest.raises(TypeError, match="x must be an NDArray"):
        xp.unique_values(np.zeros(3))  # type: ignore[arg-type]


@settings(max_examples=100)
@given(data=st.data())
def test_sort_and_argsort(data: st.DataObject) -> None:
    shape = data.draw(shapes)
    dtype = data.draw(st.sampled_from(["bool", *REAL, "complex64"]))
    a = sample(dtype, shape, seed=data.draw(st.integers(0, 5)))  # many ties
    n = len(shape)
    axis = data.draw(st.integers(-n - 1, n))
    if not n:  # NumPy sorts a 0-d array along axis -1; the standard has no axis
        with pytest.raises((ValueError, TypeError)):
            xp.sort(xp.asarray(a), axis=axis)
        return
    descending = data.draw(st.booleans())
    stable = data.draw(st.booleans())
    kwargs: dict[str, Any] = {"axis": axis, "descending": descending, "stable": stable}

    def expected_order(v: Any, axis: int, descending: bool, stable: bool) -> Any:
        if not descending:
            return np.argsort(v, axis=axis, kind="stable")
        # stable descending: ties keep their original order
        flipped = np.argsort(np.flip(v, axis), axis=axis, kind="stable")
        return v.shape[axis] - 1 - np.flip(flipped, axis)

    def expected_values(v: Any, axis: int, descending: bool, stable: bool) -> Any:
        return np.take_along_axis(v, expected_order(v, axis, descending, stable), axis)

    check("argsort", expected_order, a, **kwargs)
    check("sort", expected_values, a, **kwargs)


def test_sorting_puts_nans_last_when_ascending() -> None:
    x = xp.asarray([3.0, float("nan"), 1.0, 2.0])
    np.testing.assert_array_equal(host(xp.sort(x)), [1.0, 2.0, 3.0, np.nan])
    np.testing.assert_array_equal(host(xp.argsort(x)), [2, 3, 0, 1])


def test_sort_of_a_view() -> None:
    a = sample("int32", (4, 5), seed=3)
    x = xp.asarray(a).mT[::-1]
    np.testing.assert_array_equal(host(xp.sort(x, axis=0)), np.sort(a.T[::-1], axis=0))
