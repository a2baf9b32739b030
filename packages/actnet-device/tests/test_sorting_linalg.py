"""Sorting, searching, sets and linear algebra against NumPy (and against plain
Python for stability), with their refusals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from _helpers import BFLOAT16, CPU, assert_identical, get, put, sample
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from actnet.device import get_device
from actnet.device._opset import LINALG

SORT_DTYPES = [
    np.bool_,
    np.int8,
    np.uint16,
    np.int64,
    np.float16,
    np.float32,
    np.float64,
]


def stable_order(row: list[Any], descending: bool) -> list[int]:
    """Python's sort (stable, also with reverse=True) as the oracle of argsort."""
    return sorted(range(len(row)), key=row.__getitem__, reverse=descending)


# ----------------------------------------------------------------------- sort
@pytest.mark.parametrize("dtype", SORT_DTYPES, ids=str)
def test_sort_matches_numpy(dtype: Any) -> None:
    x = sample(dtype, (4, 5, 6), np.random.default_rng(1))
    for axis in (0, 1, -1):
        ascending = np.sort(x, axis=axis, kind="stable")
        assert_identical(CPU.sort(put(x), axis), ascending)
        # Descending: the ascending order reversed (NaNs first).
        assert_identical(
            CPU.sort(put(x), axis, descending=True), np.flip(ascending, axis)
        )
        assert_identical(
            CPU.argsort(put(x), axis), np.argsort(x, axis=axis, kind="stable")
        )


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", [np.int32, np.float32, np.bool_, np.uint8])
def test_argsort_is_stable_with_ties(descending: bool, dtype: Any) -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, (5, 40)).astype(dtype)  # many ties
    result = get(CPU.argsort(put(x), -1, descending=descending))
    for row, order in zip(x.tolist(), result, strict=True):
        assert order.tolist() == stable_order(row, descending)
    columns = get(CPU.argsort(put(x), 0, descending=descending))
    for j in range(x.shape[1]):
        assert columns[:, j].tolist() == stable_order(x[:, j].tolist(), descending)
    values = get(CPU.sort(put(x), -1, descending=descending))
    assert_identical(values, np.take_along_axis(x, result, -1))


@settings(max_examples=30)
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
        elements=st.sampled_from([0.0, -0.0, 1.0, -2.5, 3.0, np.inf, -np.inf]),
    ),
    descending=st.booleans(),
    data=st.data(),
)
def test_sort_random_with_ties(
    x: np.ndarray[Any, Any], descending: bool, data: Any
) -> None:
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    order = get(CPU.argsort(put(x), axis, descending=descending))
    moved = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    got = np.moveaxis(order, axis, -1).reshape(-1, x.shape[axis])
    for row, o in zip(moved.tolist(), got, strict=True):
        assert o.tolist() == stable_order(row, descending)


def test_sort_nans_go_last_ascending_and_first_descending() -> None:
    x = np.array([2.0, np.nan, -1.0, np.nan, 0.5])
    assert_identical(CPU.sort(put(x)), np.array([-1.0, 0.5, 2.0, np.nan, np.nan]))
    assert_identical(
        CPU.sort(put(x), descending=True), np.array([np.nan, np.nan, 2.0, 0.5, -1.0])
    )
    assert_identical(CPU.argsort(put(x), descending=True), np.array([1, 3, 0, 4, 2]))


def test_sort_out_and_refusals() -> None:
    x = put(np.array([[3, 1, 2], [0, 5, 4]], np.int32))
    out = CPU.alloc((2, 3), np.int32)
    assert CPU.sort(x, out=out) is out
    assert_identical(out, np.array([[1, 2, 3], [0, 4, 5]], np.int32))
    idx = CPU.alloc((2, 3), np.int64)
    assert CPU.argsort(x, 0, descending=True, out=idx) is idx
    assert_identical(idx, np.array([[0, 1, 1], [1, 0, 0]]))
    with pytest.raises(TypeError, match="argsort: out has dtype int32"):
        CPU.argsort(x, out=out)
    with pytest.raises(ValueError, match="shares memory"):
        CPU.sort(x, out=x)
    with pytest.raises(ValueError, match="0-d"):
        CPU.sort(put(np.float32(1)))
    with pytest.raises(IndexError, match="out of range"):
        CPU.sort(x, 2)
    for dtype in (np.complex64,):  # (bfloat16 sorts: test_bfloat16.py)
        for name in ("sort", "argsort"):
            with pytest.raises(TypeError, match=f"{name} does not take"):
                getattr(CPU, name)(CPU.alloc((3,), dtype))


# --------------------------------------------------------------- searchsorted
@pytest.mark.parametrize("dtype", [np.int16, np.uint32, np.float32, np.float64])
def test_searchsorted_matches_numpy_on_both_sides(dtype: Any) -> None:
    rng = np.random.default_rng(3)
    haystack = np.sort(rng.integers(0, 10, 30)).astype(dtype)  # with repeats
    values = rng.integers(-1, 12, (4, 5)).astype(dtype)
    for side in ("left", "right"):
        result = CPU.searchsorted(put(haystack), put(values), side=side)
        assert_identical(result, np.searchsorted(haystack, values, side=side))
    assert_identical(
        CPU.searchsorted(put(haystack), put(np.array(5, dtype))),
        np.searchsorted(haystack, np.array(5, dtype)).astype(np.int64),
    )


def test_searchsorted_refusals_and_out() -> None:
    s = put(np.array([1.0, 2.0, 3.0]))
    out = CPU.alloc((2,), np.int64)
    assert CPU.searchsorted(s, put(np.array([2.0, 9.0])), side="right", out=out) is out
    assert_identical(out, np.array([2, 3]))
    with pytest.raises(ValueError, match="sorted_1d must be 1-d"):
        CPU.searchsorted(put(np.ones((2, 2))), s)
    with pytest.raises(TypeError, match="dtypes float64 and float32 differ"):
        CPU.searchsorted(s, put(np.ones(2, np.float32)))
    with pytest.raises(ValueError, match="side must be 'left' or 'right'"):
        CPU.searchsorted(s, s, side="middle")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="searchsorted does not take bool"):
        CPU.searchsorted(put(np.array([False, True])), put(np.array([True])))


# -------------------------------------------------------------------- nonzero
@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.float64, np.complex64])
def test_nonzero_matches_numpy(dtype: Any) -> None:
    x = sample(
        dtype, (3, 4, 5), np.random.default_rng(4), special=False, low=-1, high=1
    )
    x = np.where(np.random.default_rng(5).random(x.shape) < 0.5, x, 0).astype(dtype)
    for shape in ((3, 4, 5), (60,), (0, 2)):
        y = x.reshape(shape) if shape != (0, 2) else np.zeros((0, 2), dtype)
        result = CPU.nonzero(put(y))
        want = np.nonzero(y)
        assert len(result) == len(want)
        for got, w in zip(result, want, strict=True):
            assert_identical(got, w.astype(np.int64))


def test_nonzero_of_a_view_and_of_0d() -> None:
    x = np.arange(12).reshape(3, 4) % 3
    result = CPU.nonzero(put(x).T[::-1])
    for got, w in zip(result, np.nonzero(x.T[::-1]), strict=True):
        assert_identical(got, w)
    with pytest.raises(ValueError, match="0-d"):
        CPU.nonzero(put(np.float32(1)))


# --------------------------------------------------------------------- unique
@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint64, np.float32])
def test_unique_matches_numpy(dtype: Any) -> None:
    x = np.random.default_rng(6).integers(0, 5, (3, 4, 5)).astype(dtype)
    values, first, inverse, counts = CPU.unique(put(x))
    want = np.unique(
        x.ravel(), return_index=True, return_inverse=True, return_counts=True
    )
    assert_identical(values, want[0])
    assert_identical(first, want[1].astype(np.int64))
    assert_identical(counts, want[3].astype(np.int64))
    assert inverse.shape == x.shape  # shaped like x
    assert_identical(inverse, want[2].reshape(x.shape).astype(np.int64))
    # The definitions, independently of NumPy.
    v, f, i, c = (get(b) for b in (values, first, inverse, counts))
    assert_identical(v[i], x)
    for k, value in enumerate(v):
        hits = np.flatnonzero(x.ravel() == value)
        assert f[k] == hits[0] and c[k] == hits.size
    assert np.all(v[:-1] < v[1:])


def test_unique_keeps_every_nan_distinct() -> None:
    x = np.array([[np.nan, 1.0], [1.0, np.nan]])
    values, first, inverse, counts = CPU.unique(put(x))
    assert_identical(values, np.array([1.0, np.nan, np.nan]))
    assert_identical(counts, np.array([2, 1, 1]))
    assert_identical(first, np.array([1, 0, 3]))
    assert_identical(inverse, np.array([[1, 0], [0, 2]]))


def test_unique_of_0d_and_empty_and_refusals() -> None:
    values, first, inverse, counts = CPU.unique(put(np.int32(7)))
    assert_identical(values, np.array([7], np.int32))
    assert_identical(inverse, np.array(0))
    values, first, inverse, counts = CPU.unique(put(np.zeros((0, 3))))
    assert values.shape == first.shape == counts.shape == (0,)
    assert inverse.shape == (0, 3)
    with pytest.raises(TypeError, match="unique does not take bfloat16"):
        CPU.unique(put(np.ones(2, BFLOAT16)))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_unique_of_complex_values_sorts_them_and_keeps_nans_distinct(
    dtype: Any,
) -> None:
    x = np.array([1 + 1j, np.nan, 1 + 1j, 0, complex(np.nan, 1), 1 - 1j], dtype)
    values, first, inverse, counts = CPU.unique(put(x))
    # lexicographic order (real part, then imaginary), NaNs last, each distinct
    want = np.array([0, 1 - 1j, 1 + 1j, np.nan, complex(np.nan, 1)], dtype)
    assert_identical(values, want)
    assert_identical(counts, np.array([1, 1, 2, 1, 1]))
    assert_identical(first, np.array([3, 5, 0, 1, 4]))
    assert_identical(get(values)[get(inverse)], x)


# --------------------------------------------------------------- linear algebra
def matrices(dtype: Any, shape: tuple[int, ...], seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def hermitian_pd(dtype: Any, shape: tuple[int, ...]) -> Any:
    a = matrices(dtype, shape, 1)
    n = shape[-1]
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dtype)


LINALG_DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def assert_close(got: Any, want: Any) -> None:
    got = get(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    rtol = 1e-5 if want.dtype in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", LINALG_DTYPES, ids=str)
def test_linalg_matches_numpy_linalg(dtype: Any) -> None:
    la = np.linalg
    for shape in ((4, 4), (2, 3, 3)):
        a = matrices(dtype, shape) + 4 * np.eye(shape[-1], dtype=dtype)
        b = matrices(dtype, (*shape[:-1], 2), 2)
        assert_close(CPU.solve(put(a), put(b)), la.solve(a, b))
        assert_close(CPU.inv(put(a)), la.inv(a))
        assert_close(CPU.det(put(a)), la.det(a))
        sign, logabs = CPU.slogdet(put(a))
        want = la.slogdet(a)
        assert_close(sign, want.sign)
        assert_close(logabs, want.logabsdet)
        h = hermitian_pd(dtype, shape)
        lower = CPU.cholesky(put(h))
        assert_close(lower, la.cholesky(h))
        assert_close(CPU.cholesky(put(h), upper=True), la.cholesky(h, upper=True))
        w, v = CPU.eigh(put(h))
        assert_close(w, la.eigh(h).eigenvalues)
        assert_close(v, la.eigh(h).eigenvectors)
        # Independent checks of the definitions.
        x = get(CPU.solve(put(a), put(b)))
        np.testing.assert_allclose(a @ x, b, rtol=1e-4, atol=1e-4)
        low = get(lower)
        assert np.allclose(np.triu(low, 1), 0)
        np.testing.assert_allclose(
            low @ np.conj(np.swapaxes(low, -1, -2)), h, rtol=1e-4, atol=1e-4
        )


def test_solve_takes_a_vector_right_hand_side() -> None:
    a = matrices(np.float64, (3, 3)) + 3 * np.eye(3)
    b = np.array([1.0, 2.0, 3.0])
    result = CPU.solve(put(a), put(b))
    assert result.shape == (3,)
    assert_close(result, np.linalg.solve(a, b))


@pytest.mark.parametrize("dtype", LINALG_DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_qr_svd_and_svdvals_match_numpy(dtype: Any, shape: Any) -> None:
    a = matrices(dtype, shape, 3)
    for mode in ("reduced", "complete"):
        q, r = CPU.qr(put(a), mode=mode)
        want = np.linalg.qr(a, mode=mode)
        assert_close(q, want.Q)
        assert_close(r, want.R)
        np.testing.assert_allclose(get(q) @ get(r), a, rtol=1e-4, atol=1e-4)
    for full in (True, False):
        u, s, vh = CPU.svd(put(a), full_matrices=full)
        want = np.linalg.svd(a, full_matrices=full)
        assert_close(u, want.U)
        assert_close(s, want.S)
        assert_close(vh, want.Vh)
    values = CPU.svdvals(put(a))
    assert_close(values, np.linalg.svd(a, compute_uv=False))
    assert np.all(np.diff(get(values), axis=-1) <= 0)  # descending


def test_linalg_refuses_non_square_matrices() -> None:
    a = put(np.ones((2, 3)))
    for name in ("inv", "det", "slogdet", "cholesky", "eigh"):
        with pytest.raises(ValueError, match=f"{name}: needs square matrices"):
            getattr(CPU, name)(a)
    with pytest.raises(ValueError, match="solve: needs square"):
        CPU.solve(a, put(np.ones(2)))
    for name in ("inv", "det", "qr", "svdvals"):
        with pytest.raises(ValueError, match="needs a stack of matrices"):
            getattr(CPU, name)(put(np.ones(3)))


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.int64, np.bool_, BFLOAT16])
def test_linalg_refuses_other_dtypes(dtype: Any) -> None:
    a = CPU.alloc((3, 3), dtype)
    for name in LINALG:
        args = [a, a] if name == "solve" else [a]
        with pytest.raises(TypeError, match=f"{name} does not take"):
            getattr(CPU, name)(*args)


def test_linalg_refusals_of_values() -> None:
    singular = put(np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(ValueError, match="solve: Singular matrix"):
        CPU.solve(singular, put(np.ones(2)))
    with pytest.raises(ValueError, match="inv"):
        CPU.inv(singular)
    assert get(CPU.det(singular)) == 0.0
    with pytest.raises(ValueError, match="cholesky"):
        CPU.cholesky(put(np.array([[1.0, 2.0], [2.0, 1.0]])))  # not positive
    with pytest.raises(TypeError, match="solve: dtypes float64 and float32 differ"):
        CPU.solve(put(np.eye(2)), put(np.ones(2, np.float32)))
    with pytest.raises(ValueError, match="qr: mode must be"):
        CPU.qr(put(np.eye(2)), mode="r")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cpu:1"):
        CPU.inv(put(np.eye(2), get_device("cpu:1")))


def test_linalg_runs_on_views_and_float32_devices() -> None:
    a = matrices(np.float64, (4, 4), 7) + 4 * np.eye(4)
    view = put(a).T
    assert_close(CPU.inv(view), np.linalg.inv(a.T))
    dev = get_device("no_float64")
    a32 = a.astype(np.float32)
    result = dev.inv(put(a32, dev))
    assert result.device is dev
    np.testing.assert_allclose(get(result), np.linalg.inv(a32), rtol=1e-5)
