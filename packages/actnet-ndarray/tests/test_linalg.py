"""The linalg extension (`xp.linalg`): semantics (shapes, dtypes, named tuples,
errors) against array_api_strict's linalg, values against NumPy (through
array_api_strict, which computes with numpy.linalg), and invariants where the
result is not unique (eigenvectors, QR, SVD)."""

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
    _mirror,
    compare,
    compatible,
    host,
    is_view_of,
    sample,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp

FLOATING = ["float32", "float64", "complex64", "complex128"]
batches = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=2)


def call(namespace: Any, name: str, args: tuple[Any, ...], kwargs: Any) -> Any:
    """namespace.linalg.<name>(...) with NumPy arrays made the namespace's."""
    fn = getattr(namespace.linalg, name)
    return fn(*_mirror(args, namespace.asarray), **_mirror(kwargs, namespace.asarray))


def both(name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any] | None:
    """(ours, array_api_strict's) results, compared in structure, shapes and
    dtypes; None when array_api_strict raises, after checking ours raises a
    compatible error."""
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
    ours = call(xp, name, args, kwargs)
    compare(ours, theirs, None, name)
    return ours, theirs


def tolerance(dtype: Any) -> float:
    return 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-10


def assert_close(ours: Any, expected: Any, dtype: Any, scale: float = 1.0) -> None:
    tol = tolerance(dtype)
    np.testing.assert_allclose(
        np.asarray(ours), np.asarray(expected), rtol=tol, atol=tol * scale
    )


def random(data: st.DataObject, shape: tuple[int, ...], dtype: str) -> Any:
    """Standard normal values of `shape` (complex parts for complex dtypes)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    values = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return values


def matrices(
    data: st.DataObject, *, square: bool = True, kind: str = "general"
) -> np.ndarray[Any, Any]:
    """A stack of matrices of a floating dtype: "general", "invertible"
    (diagonally dominant), "hermitian" or "positive" (Hermitian positive-definite).
    """
    dtype = data.draw(st.sampled_from(FLOATING))
    batch = data.draw(batches)
    m = data.draw(st.integers(0, 4))
    n = m if square else data.draw(st.integers(0, 4))
    a = random(data, (*batch, m, n), dtype)
    eye = np.eye(m, n)
    if kind == "invertible":
        a = a + 2 * m * eye
    elif kind == "hermitian":
        a = (a + np.conj(np.swapaxes(a, -1, -2))) / 2
    elif kind == "positive":
        a = a @ np.conj(np.swapaxes(a, -1, -2)) + m * eye
    return np.asarray(a, dtype=dtype)


def conj_t(a: Any) -> Any:
    return np.conj(np.swapaxes(np.asarray(a), -1, -2))


# ------------------------------------------------------------- factorizations
@settings(max_examples=40)
@given(data=st.data())
def test_cholesky(data: st.DataObject) -> None:
    a = matrices(data, kind="positive")
    upper = data.draw(st.booleans())
    result = both("cholesky", a, upper=upper)
    assert result is not None
    ours, theirs = result
    assert_close(host(ours), theirs, a.dtype, scale=10)
    factor = host(ours)
    rebuilt = conj_t(factor) @ factor if upper else factor @ conj_t(factor)
    assert_close(rebuilt, a, a.dtype, scale=100)


def test_cholesky_refuses_an_indefinite_matrix() -> None:
    with pytest.raises(ValueError, match="cholesky"):
        xp.linalg.cholesky(xp.asarray([[1.0, 2.0], [2.0, 1.0]]))


@settings(max_examples=40)
@given(data=st.data())
def test_eigh_and_eigvalsh(data: st.DataObject) -> None:
    a = matrices(data, kind="hermitian")
    result = both("eigh", a)
    assert result is not None
    (values, vectors), (their_values, _) = result
    assert_close(host(values), their_values, a.dtype, scale=10)
    w, v = host(values), host(vectors)
    assert_close(a @ v, v * w[..., None, :], a.dtype, scale=10)  # A v = w v
    assert_close(conj_t(v) @ v, np.broadcast_to(np.eye(a.shape[-1]), a.shape), a.dtype)
    only = both("eigvalsh", a)
    assert only is not None
    assert_close(host(only[0]), their_values, a.dtype, scale=10)


@settings(max_examples=40)
@given(data=st.data())
def test_qr(data: st.DataObject) -> None:
    a = matrices(data, square=False)
    mode = data.draw(st.sampled_from(["reduced", "complete"]))
    result = both("qr", a, mode=mode)
    assert result is not None
    (q, r), _ = result
    q, r = host(q), host(r)
    assert_close(q @ r, a, a.dtype, scale=10)
    k = q.shape[-1]
    assert_close(
        conj_t(q) @ q, np.broadcast_to(np.eye(k), (*a.shape[:-2], k, k)), a.dtype
    )
    np.testing.assert_array_equal(np.tril(r, -1), 0)  # R is upper triangular


@settings(max_examples=40)
@given(data=st.data())
def test_svd_and_svdvals(data: st.DataObject) -> None:
    a = matrices(data, square=False)
    full = data.draw(st.booleans())
    result = both("svd", a, full_matrices=full)
    assert result is not None
    (u, s, vh), (_, their_s, _) = result
    u, s, vh = host(u), host(s), host(vh)
    assert_close(s, their_s, a.dtype, scale=10)
    k = s.shape[-1]
    rebuilt = (u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :]
    assert_close(rebuilt, a, a.dtype, scale=10)
    only = both("svdvals", a)
    assert only is not None
    assert_close(host(only[0]), their_s, a.dtype, scale=10)


# --------------------------------------------------------------- solvers
@settings(max_examples=40)
@given(data=st.data())
def test_det_slogdet_inv(data: st.DataObject) -> None:
    a = matrices(data, kind="invertible")
    name = data.draw(st.sampled_from(["det", "slogdet", "inv"]))
    result = both(name, a)
    assert result is not None
    ours, theirs = result
    if name == "slogdet":
        assert_close(host(ours.sign), theirs.sign, a.dtype)
        assert_close(host(ours.logabsdet), theirs.logabsdet, a.dtype, scale=10)
    else:
        assert_close(host(ours), theirs, a.dtype, scale=10)


def test_singular_matrices() -> None:
    singular = xp.asarray([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match="inv"):
        xp.linalg.inv(singular)
    with pytest.raises(ValueError, match="solve"):
        xp.linalg.solve(singular, xp.ones(2))
    assert float(xp.linalg.det(singular)) == 0.0
    sign, logabs = xp.linalg.slogdet(singular)
    assert float(sign) == 0.0
    assert float(logabs) == -math.inf


@settings(max_examples=60)
@given(data=st.data())
def test_solve(data: st.DataObject) -> None:
    a = matrices(data, kind="invertible")
    m = a.shape[-1]
    form = data.draw(st.sampled_from(["vector", "matrices", "broadcast", "wrong"]))
    if form == "vector":
        shape: tuple[int, ...] = (m,)
    elif form == "matrices":
        shape = (*a.shape[:-2], m, data.draw(st.integers(1, 3)))
    elif form == "broadcast":  # x2's batch broadcasts against x1's
        shape = (data.draw(st.integers(1, 2)), 1, m, 2)
    else:
        shape = (m + 1,)
    dtype = data.draw(st.sampled_from([str(a.dtype), *FLOATING]))
    b = np.asarray(random(data, shape, dtype), dtype=dtype)
    result = both("solve", a, b)
    if result is not None:
        ours, theirs = result
        assert_close(host(ours), theirs, ours.dtype, scale=10)


def test_solve_errors() -> None:
    a = xp.eye(2)
    with pytest.raises(TypeError, match="x2 must have a floating-point dtype"):
        xp.linalg.solve(a, xp.asarray([1, 2]))
    with pytest.raises(ValueError, match="square"):
        xp.linalg.solve(xp.ones((2, 3)), xp.ones(2))
    with pytest.raises(ValueError, match="needs 2 rows"):
        xp.linalg.solve(a, xp.ones((3, 1)))
    with pytest.raises(ValueError, match="do not broadcast"):
        xp.linalg.solve(xp.ones((2, 2, 2)) + xp.eye(2), xp.ones((3, 2, 1)))
    solved = xp.linalg.solve(
        xp.asarray([[2.0, 0.0], [0.0, 4.0]]), xp.asarray([2.0, 2.0])
    )
    np.testing.assert_allclose(host(solved), [1.0, 0.5])


@settings(max_examples=60)
@given(data=st.data())
def test_pinv_and_matrix_rank(data: st.DataObject) -> None:
    a = matrices(data, square=False)
    m, n = a.shape[-2:]
    rank = data.draw(st.integers(0, min(m, n)))
    low = random(data, (*a.shape[:-2], m, rank), a.dtype) @ random(
        data, (*a.shape[:-2], rank, n), a.dtype
    )
    low = np.asarray(low, dtype=a.dtype)
    rtol: Any = data.draw(
        st.sampled_from([None, 1e-3, "array"]) if a.shape[:-2] else st.just(None)
    )
    if rtol == "array":  # one tolerance per matrix of the batch
        rtol = np.full(a.shape[:-2], 1e-3, dtype=np.real(a).dtype)
    name = data.draw(st.sampled_from(["pinv", "matrix_rank"]))
    if name == "matrix_rank" and min(m, n) == 0:  # NumPy: max of no singular values
        ranks = xp.linalg.matrix_rank(xp.asarray(low))
        np.testing.assert_array_equal(host(ranks), np.zeros(a.shape[:-2]))
        return
    result = both(name, low, rtol=rtol)
    assert result is not None
    ours, theirs = result
    if name == "pinv":
        assert_close(host(ours), theirs, a.dtype, scale=100)
    else:
        np.testing.assert_array_equal(host(ours), theirs)


def test_matrix_rank_counts_above_the_tolerance() -> None:
    x = xp.asarray([[1.0, 0.0], [0.0, 1e-3]], dtype=xp.float64)
    assert int(xp.linalg.matrix_rank(x)) == 2
    assert int(xp.linalg.matrix_rank(x, rtol=1e-2)) == 1
    assert xp.linalg.matrix_rank(x).dtype == xp.int64
    stack = xp.stack([x, x])
    ranks = xp.linalg.matrix_rank(
        stack, rtol=xp.asarray([1e-4, 1e-2], dtype=xp.float64)
    )
    np.testing.assert_array_equal(host(ranks), [2, 1])
    with pytest.raises(TypeError, match="rtol must be"):
        xp.linalg.matrix_rank(x, rtol="small")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="floating-point"):
        xp.linalg.matrix_rank(xp.asarray([[1, 0], [0, 1]]))


@settings(max_examples=40)
@given(data=st.data())
def test_matrix_power(data: st.DataObject) -> None:
    a = matrices(data, kind="invertible")
    scale = a.shape[-1] or 1
    a = np.asarray(a / (2 * scale), dtype=a.dtype)  # keep the powers moderate
    n = data.draw(st.integers(-3, 5))
    result = both("matrix_power", a, n)
    assert result is not None
    ours, theirs = result
    assert_close(host(ours), theirs, a.dtype, scale=100)


def test_matrix_power_errors() -> None:
    with pytest.raises(TypeError, match="n must be an int"):
        xp.linalg.matrix_power(xp.eye(2), 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="square"):
        xp.linalg.matrix_power(xp.ones((2, 3)), 2)
    with pytest.raises(TypeError, match="floating-point"):
        xp.linalg.matrix_power(xp.asarray([[1, 1], [0, 1]]), 2)
    identity = xp.linalg.matrix_power(xp.ones((3, 2, 2), dtype=xp.complex64), 0)
    assert identity.dtype == xp.complex64
    np.testing.assert_array_equal(host(identity), np.broadcast_to(np.eye(2), (3, 2, 2)))


# ------------------------------------------------------------------ norms
@settings(max_examples=80)
@given(data=st.data())
def test_matrix_norm(data: st.DataObject) -> None:
    a = matrices(data, square=False)
    ord_ = data.draw(
        st.sampled_from(["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf, None])
    )
    keepdims = data.draw(st.booleans())
    if a.size == 0:
        return  # NumPy's answer for empty matrices changed across 2.x; see below
    result = both("matrix_norm", a, keepdims=keepdims, ord=ord_)
    if result is not None:
        ours, theirs = result
        assert_close(host(ours), theirs, a.dtype, scale=10)


@settings(max_examples=100)
@given(data=st.data())
def test_vector_norm(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    dtype = data.draw(st.sampled_from([*FLOATING, "int64"]))
    a = sample(dtype, shape, seed=data.draw(st.integers(0, 3)))
    n = len(shape)
    axis = data.draw(
        st.none()
        | st.integers(-n, max(n - 1, 0))
        | st.lists(st.integers(-n, max(n - 1, 0)), max_size=n, unique=True).map(tuple)
    )
    if not shape and axis not in (None, ()):
        return
    if isinstance(axis, tuple) and len({i % n for i in axis}) != len(axis):
        return  # NumPy's error for a repeated axis differs in kind
    ord_ = data.draw(st.sampled_from([2, 1, 0, 3, 0.5, -1, math.inf, -math.inf]))
    keepdims = data.draw(st.booleans())
    if 0 in shape:
        return  # NumPy's answer for empty vectors changed across 2.x; see below
    result = both("vector_norm", a, axis=axis, keepdims=keepdims, ord=ord_)
    if result is not None:
        ours, theirs = result
        assert_close(host(ours), theirs, ours.dtype, scale=10)


def test_norms_values_and_errors() -> None:
    v = xp.asarray([3.0, -4.0])
    assert float(xp.linalg.vector_norm(v)) == 5.0
    assert float(xp.linalg.vector_norm(v, ord=math.inf)) == 4.0
    assert float(xp.linalg.vector_norm(v, ord=0)) == 2.0
    assert xp.linalg.vector_norm(xp.asarray([3j, 4.0])).dtype == xp.float32
    assert float(xp.linalg.vector_norm(xp.zeros((0,)), ord=math.inf)) == 0.0
    for ord_ in ("fro", 1, math.inf):  # the largest of no values is 0, as NumPy 2.4
        assert float(xp.linalg.matrix_norm(xp.zeros((0, 3)), ord=ord_)) == 0.0
    with pytest.raises(ValueError, match="ord=-inf"):
        xp.linalg.vector_norm(xp.zeros((0,)), ord=-math.inf)
    with pytest.raises(TypeError, match="ord must be an int or a float"):
        xp.linalg.vector_norm(v, ord="fro")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="floating-point"):
        xp.linalg.vector_norm(xp.asarray([1, 2]))
    m = xp.asarray([[1.0, -2.0], [3.0, 4.0]])
    assert float(xp.linalg.matrix_norm(m, ord=1)) == 6.0  # the largest column sum
    assert float(xp.linalg.matrix_norm(m, ord=math.inf)) == 7.0  # the largest row sum
    assert xp.linalg.matrix_norm(xp.stack([m, m]), keepdims=True).shape == (2, 1, 1)
    with pytest.raises(ValueError, match="ord must be 'fro'"):
        xp.linalg.matrix_norm(m, ord=3)
    with pytest.raises(ValueError, match="ord must be 'fro'"):
        xp.linalg.matrix_norm(m, ord=True)
    with pytest.raises(ValueError, match="at least 2 axes"):
        xp.linalg.matrix_norm(v)


# ------------------------------------------------------- diagonals and vectors
@settings(max_examples=60)
@given(data=st.data())
def test_trace_and_diagonal(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))
    dtype = data.draw(
        st.sampled_from(["int8", "uint8", "int32", "float32", "complex64"])
    )
    a = sample(dtype, shape, seed=data.draw(st.integers(0, 3)))
    offset = data.draw(st.integers(-4, 4))
    name = data.draw(st.sampled_from(["trace", "diagonal"]))
    result = both(name, a, offset=offset)
    if result is None:
        return
    ours, theirs = result
    np.testing.assert_array_equal(host(ours), theirs)
    if name == "diagonal":
        x = xp.asarray(a)
        assert is_view_of(xp.linalg.diagonal(x, offset=offset), x)


def test_trace_accumulates_like_sum() -> None:
    x = xp.asarray([[100, 0], [0, 100]], dtype=xp.int8)
    assert xp.linalg.trace(x).dtype == xp.int64
    assert int(xp.linalg.trace(x)) == 200
    assert xp.linalg.trace(x, dtype=xp.float64).dtype == xp.float64
    with pytest.raises(TypeError, match="numeric"):
        xp.linalg.trace(xp.asarray([[True]]))


@settings(max_examples=60)
@given(data=st.data())
def test_outer_and_cross(data: st.DataObject) -> None:
    d1 = data.draw(st.sampled_from(["int32", "float32", "float64", "complex64"]))
    d2 = data.draw(st.sampled_from([d1, "int64", "float64"]))
    if data.draw(st.booleans()):
        n1, n2 = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 4))
        a, b = sample(d1, (n1,), seed=1), sample(d2, (n2,), seed=2)
        if data.draw(st.integers(0, 5)) == 0:
            a = sample(d1, (2, n1), seed=1)  # outer takes vectors only
        name, options = "outer", {}
    else:
        (s1, s2), _ = data.draw(
            hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2)
        )
        where = data.draw(st.integers(1, min(len(s1), len(s2)) + 1))
        three = data.draw(st.sampled_from([3, 3, 3, 2]))
        s1 = (*s1[: len(s1) + 1 - where], three, *s1[len(s1) + 1 - where :])
        s2 = (*s2[: len(s2) + 1 - where], 3, *s2[len(s2) + 1 - where :])
        a, b = sample(d1, s1, seed=1, low=-2), sample(d2, s2, seed=2, low=-2)
        name, options = "cross", {"axis": -where}
    try:
        xp.result_type(d1, d2)
    except TypeError:  # array_api_strict leaves promotion to NumPy
        with pytest.raises(TypeError, match="do not promote"):
            getattr(xp.linalg, name)(xp.asarray(a), xp.asarray(b), **options)
        return
    result = both(name, a, b, **options)
    if result is not None:
        ours, theirs = result
        np.testing.assert_array_equal(host(ours), theirs)


def test_cross_values_and_errors() -> None:
    e1, e2 = xp.asarray([1, 0, 0]), xp.asarray([0, 1, 0])
    np.testing.assert_array_equal(host(xp.linalg.cross(e1, e2)), [0, 0, 1])
    columns = xp.linalg.cross(
        xp.stack([e1, e2], axis=1), xp.stack([e2, e1], axis=1), axis=-2
    )
    np.testing.assert_array_equal(host(columns), [[0, 0], [0, 0], [1, -1]])
    with pytest.raises(ValueError, match="3 elements"):
        xp.linalg.cross(xp.ones(2), xp.ones(2))
    with pytest.raises(ValueError, match="axis must be in"):
        xp.linalg.cross(e1, e2, axis=0)
    with pytest.raises(TypeError, match="numeric"):
        xp.linalg.cross(xp.asarray([True] * 3), e1)


# --------------------------------------------------------------- the module
def test_namespace_and_named_tuples() -> None:
    assert xp.linalg.matmul is xp.matmul
    assert xp.linalg.tensordot is xp.tensordot
    assert xp.linalg.vecdot is xp.vecdot
    assert xp.linalg.matrix_transpose is xp.matrix_transpose
    assert "linalg" in xp.__all__
    a = xp.asarray([[2.0, 1.0], [1.0, 2.0]])
    assert xp.linalg.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert xp.linalg.qr(a)._fields == ("Q", "R")
    assert xp.linalg.slogdet(a)._fields == ("sign", "logabsdet")
    assert xp.linalg.svd(a)._fields == ("U", "S", "Vh")
    for name in xp.linalg.__all__:
        fn = getattr(xp.linalg, name)
        if name.endswith("Result"):
            continue
        params = list(inspect.signature(fn).parameters.values())
        assert params[0].kind is inspect.Parameter.POSITIONAL_ONLY, name
        assert all(
            p.kind
            in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.KEYWORD_ONLY)
            for p in params
        ), name


@pytest.mark.parametrize(
    "name",
    ["cholesky", "det", "eigh", "eigvalsh", "inv", "pinv", "qr", "slogdet", "svd",
     "svdvals", "matrix_norm", "matrix_rank"],
)  # fmt: skip
def test_floating_only_and_matrices_only(name: str) -> None:
    fn = getattr(xp.linalg, name)
    with pytest.raises(TypeError, match=f"{name}: x must have a floating-point"):
        fn(xp.asarray([[1, 0], [0, 1]]))
    with pytest.raises(ValueError, match=f"{name}: x must be a stack of matrices"):
        fn(xp.ones(3))


def test_float16_is_computed_in_float32() -> None:
    a = np.asarray([[4.0, 2.0], [2.0, 3.0]])
    x = xp.asarray(a, dtype=xp.float16)
    for name in ("cholesky", "inv", "det", "pinv", "eigvalsh", "svdvals"):
        result = getattr(xp.linalg, name)(x)
        assert result.dtype == xp.float16, name
        expected = getattr(np.linalg, name if name != "svdvals" else "svd")(a)
        if name == "svdvals":
            expected = np.linalg.svd(a, compute_uv=False)
        np.testing.assert_allclose(host(result), expected, rtol=2e-3)
    u, s, vh = xp.linalg.svd(x)
    assert u.dtype == s.dtype == vh.dtype == xp.float16
    assert float(xp.linalg.matrix_norm(x, ord=2)) == pytest.approx(5.5616, rel=2e-3)


def test_results_stay_on_the_input_device() -> None:
    a = xp.asarray([[2.0, 1.0], [1.0, 2.0]], device="cpu:1")
    assert xp.linalg.inv(a).device.name == "cpu:1"
    assert xp.linalg.pinv(a).device.name == "cpu:1"
    assert xp.linalg.matrix_power(a, 0).device.name == "cpu:1"
    with pytest.raises(ValueError, match="cpu:1"):
        xp.linalg.solve(a, xp.ones(2))
