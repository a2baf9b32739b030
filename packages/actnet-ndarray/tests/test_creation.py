"""Creation functions where the standard's test suite found gaps: asarray of
nested sequences holding 0-d arrays, eye with a diagonal far outside the matrix,
and from_dlpack's copy= and device= semantics. array_api_strict is the oracle
for shapes, dtypes and errors, NumPy for values."""

from __future__ import annotations

import itertools
from typing import Any

import array_api_strict as strict
import numpy as np
import pytest
from _oracle import API_VERSION, STANDARD, compatible, host, sample, strict_dtype

import actnet.ndarray as xp
from actnet.device import get_device


# ------------------------------------------------------- asarray of 0-d arrays
@pytest.mark.parametrize(("left", "right"), list(itertools.product(STANDARD, repeat=2)))
def test_asarray_of_nested_0d_arrays_promotes_their_dtypes(
    left: str, right: str
) -> None:
    a, b = sample(left, (), seed=1), sample(right, (), seed=2)
    nested = [[xp.asarray(a), xp.asarray(b)]]
    with strict.ArrayAPIStrictFlags(api_version=API_VERSION):
        try:
            promoted = strict.result_type(strict.asarray(a), strict.asarray(b))
        except TypeError as exc:  # the table has no entry: neither has asarray
            with pytest.raises(TypeError) as ours:
                xp.asarray(nested)
            assert compatible(ours.value, exc)
            return
        # nested two deep: array_api_strict refuses arrays one level deep
        theirs = strict.asarray([[strict.asarray(a), strict.asarray(b)]])
    got = xp.asarray(nested)
    # the standard's table (array_api_strict's asarray promotes as NumPy does
    # here, which agrees where the table has an entry)
    assert got.dtype == strict_dtype(promoted) == strict_dtype(theirs.dtype)
    assert got.shape == theirs.shape == (1, 2)
    np.testing.assert_array_equal(host(got), np.array([[a, b]]).astype(got.dtype))


def test_asarray_of_0d_arrays_one_level_deep_and_with_a_dtype() -> None:
    x = xp.asarray(3, dtype=xp.uint8)
    got = xp.asarray([x, x])
    assert got.dtype == xp.uint8 and got.shape == (2,)
    with strict.ArrayAPIStrictFlags(api_version=API_VERSION):
        theirs = strict.asarray(
            [[strict.asarray(3, dtype=strict.uint8)]], dtype=strict.int16
        )
    ours = xp.asarray([[x]], dtype=xp.int16)
    assert ours.dtype == strict_dtype(theirs.dtype) and ours.shape == theirs.shape
    np.testing.assert_array_equal(host(ours), [[3]])
    # what linalg.outer's test in the suite builds: products of elements
    v = xp.asarray([1, 2, 3], dtype=xp.int8)
    table = xp.asarray([[v[i] * v[j] for j in range(3)] for i in range(3)])
    np.testing.assert_array_equal(host(table), np.outer([1, 2, 3], [1, 2, 3]))
    assert table.dtype == xp.int8


@pytest.mark.parametrize(
    ("obj", "dtype", "error"),
    [
        ([[xp.asarray(1, dtype=xp.uint8), 3]], xp.uint8, None),  # weak scalar
        ([[xp.asarray(1, dtype=xp.uint8), 300]], None, OverflowError),
        ([[xp.asarray(1, dtype=xp.int8), 1.5]], None, TypeError),
        ([[xp.asarray(1.0), 2]], xp.float32, None),
        ([xp.asarray([1, 2]), xp.asarray([3, 4])], None, TypeError),  # use stack
    ],
)
def test_asarray_python_scalars_beside_0d_arrays_are_weak(
    obj: Any, dtype: Any, error: type[Exception] | None
) -> None:
    if error is not None:
        with pytest.raises(error):
            xp.asarray(obj)
        return
    got = xp.asarray(obj)
    assert got.dtype == dtype and got.shape == (1, 2)


# ------------------------------------------------------------------------ eye
@pytest.mark.parametrize(
    "k", [2**63, -(2**63) - 1, 2**70, -(2**70), 3, -2, 4, -3, 0, 1]
)
@pytest.mark.parametrize(("n_rows", "n_cols"), [(0, None), (2, None), (2, 4), (3, 1)])
def test_eye_takes_any_diagonal(n_rows: int, n_cols: int | None, k: int) -> None:
    with strict.ArrayAPIStrictFlags(api_version=API_VERSION):
        theirs = strict.eye(n_rows, n_cols, k=k, dtype=strict.float32)
    ours = xp.eye(n_rows, n_cols, k=k)  # float32 is actnet's default
    assert ours.shape == theirs.shape
    assert ours.dtype == strict_dtype(theirs.dtype)
    cols = n_rows if n_cols is None else n_cols
    want = [[float(j - i == k) for j in range(cols)] for i in range(n_rows)]
    np.testing.assert_array_equal(host(ours), np.array(want).reshape(n_rows, cols))


# ----------------------------------------------------------------- from_dlpack
def test_from_dlpack_of_an_ndarray_copies_only_when_asked_or_moved() -> None:
    x = xp.asarray([1.0, 2.0])
    assert xp.from_dlpack(x) is x  # copy=None: no copy where none is needed
    assert xp.from_dlpack(x, copy=False) is x
    assert xp.from_dlpack(x, copy=False, device=x.device) is x
    copied = xp.from_dlpack(x, copy=True)
    assert copied is not x and copied.buffer is not x.buffer
    np.testing.assert_array_equal(host(copied), [1.0, 2.0])
    for copy in (None, True):
        moved = xp.from_dlpack(x, device="cpu:1", copy=copy)
        assert moved.device is get_device("cpu:1")
        np.testing.assert_array_equal(host(moved), [1.0, 2.0])
    with pytest.raises(BufferError, match="cpu:0, not cpu:1"):
        xp.from_dlpack(x, device="cpu:1", copy=False)


def test_from_dlpack_of_a_foreign_producer_copies_into_the_arena() -> None:
    a = np.arange(6, dtype=np.int16).reshape(2, 3)
    for copy in (None, True):
        y = xp.from_dlpack(a, copy=copy)
        assert y.dtype == xp.int16 and y.device is get_device("cpu")
        a[0, 0] = 7  # a copy: y keeps the values it was made with
        np.testing.assert_array_equal(host(y)[0, 0], 0)
        a[0, 0] = 0
    assert xp.from_dlpack(a, device="cpu:1").device is get_device("cpu:1")
    # No array of actnet shows a producer's memory: copy=False cannot be kept.
    # The standard's text asks for a BufferError (and, in its list of errors,
    # a ValueError): the error is both.
    with pytest.raises(BufferError, match="copy=False") as refused:
        xp.from_dlpack(a, copy=False)
    assert isinstance(refused.value, ValueError)
    with pytest.raises(TypeError, match="does not implement __dlpack__"):
        xp.from_dlpack([1, 2])
