"""The functions code ported from PyTorch calls, batch 2 (issue 13), against
PyTorch 2.13.0: values, dtypes, shapes, errors and the gradients of a random
upstream gradient (the harness of test_porting_functions_torch.py)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from test_porting_functions_torch import both, check, close, values

import actnet.tensor as at

DTYPES = ["float32", "float64"]


def raises_like(call: Any, error: type[Exception]) -> None:
    """call(lib) raises `error` for both libraries."""
    for lib in (at, torch):
        with pytest.raises(error):
            call(lib)


# ------------------------------------------------------------- reductions
@pytest.mark.parametrize("dtype", DTYPES)
def test_cumsum_cumprod_prod(dtype: str) -> None:
    a = values((3, 4), dtype, seed=21)
    for dim in (0, 1, -1):
        check(lambda lib, x, d=dim: lib.cumsum(x, d), [a], dtype)
        check(lambda lib, x, d=dim: x.cumprod(d), [a], dtype)
    check(lambda lib, x: lib.prod(x), [a], dtype)
    check(lambda lib, x: x.prod(1, keepdim=True), [a], dtype)
    check(lambda lib, x: lib.cumsum(x, 0, dtype=lib.float64), [a], dtype)
    zeros = a.copy()
    zeros[0, 1] = 0.0  # one zero in a row
    zeros[1, 0] = zeros[1, 2] = 0.0  # two zeros
    check(lambda lib, x: lib.prod(x, 1), [zeros], dtype)
    check(lambda lib, x: lib.prod(x), [np.where(a == a[0, 0], 0, a)], dtype)
    check(lambda lib, x: lib.cumprod(x, 1), [zeros], dtype)


def test_cumulative_dtypes() -> None:
    for data in ([1, 2, 3], [True, False, True]):
        for name in ("cumsum", "cumprod"):
            got = getattr(at, name)(at.tensor(data), 0)
            close(got, getattr(torch, name)(torch.tensor(data), 0), 0)
        close(at.prod(at.tensor(data)), torch.prod(torch.tensor(data)), 0)
    small = np.array([1, 2], dtype="int32")
    close(at.cumsum(at.tensor(small), 0), torch.cumsum(torch.tensor(small), 0), 0)
    close(at.cumsum(at.tensor(2.0), 0), torch.cumsum(torch.tensor(2.0), 0), 0)
    raises_like(lambda lib: lib.cumsum(lib.ones(2, 3), 2), IndexError)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp(dtype: str) -> None:
    a = values((3, 4), dtype, seed=22) * 30
    check(lambda lib, x: lib.logsumexp(x, 1), [a], dtype)
    check(lambda lib, x: x.logsumexp((0, 1), keepdim=True), [a], dtype)
    inf = np.full((2, 2), -np.inf, dtype=dtype)
    close(at.logsumexp(at.tensor(inf), 1), torch.logsumexp(torch.tensor(inf), 1), 0)
    ints = at.logsumexp(at.tensor([1, 2]), 0)
    close(ints, torch.logsumexp(torch.tensor([1, 2]), 0), 1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_amax_amin(dtype: str) -> None:
    a = values((3, 4), dtype, seed=23)
    a[1, 3] = a[1, 0] = a[1].max() + 1  # ties share the gradient
    for name in ("amax", "amin"):
        check(lambda lib, x, n=name: getattr(lib, n)(x), [a], dtype)
        check(lambda lib, x, n=name: getattr(x, n)(1, keepdim=True), [a], dtype)
        check(lambda lib, x, n=name: getattr(lib, n)(x, (0, 1)), [a], dtype)
    close(at.amax(at.tensor([1, 5])), torch.amax(torch.tensor([1, 5])), 0)
    raises_like(lambda lib: lib.amax(lib.ones(0, 2), 0), IndexError)


def test_all_any() -> None:
    data = [[1.0, 0.0], [2.0, 3.0]]
    for name in ("all", "any"):
        for args in ((), (0,), (1, True)):
            got = getattr(at, name)(at.tensor(data), *args)
            close(got, getattr(torch, name)(torch.tensor(data), *args), 0)
        got = getattr(at.tensor([1, 0], dtype="uint8"), name)()
        close(got, getattr(torch.tensor([1, 0], dtype=torch.uint8), name)(), 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2, "fro", 1, math.inf, -math.inf, 3, 0])
def test_norm(p: Any, dtype: str) -> None:
    a = values((3, 4), dtype, seed=24)
    check(lambda lib, x: lib.norm(x, p), [a], dtype)
    check(lambda lib, x: x.norm(p, dim=1, keepdim=True), [a], dtype)
    check(lambda lib, x: lib.norm(x, p=p, dim=(0, 1)), [a], dtype)


def test_norm_zero_and_errors() -> None:
    zero = np.zeros((2, 3))
    check(lambda lib, x: lib.norm(x, dim=1), [zero], "float64")
    check(lambda lib, x: lib.norm(x * 0, 1), [zero + 1], "float64")
    raises_like(lambda lib: lib.norm(lib.tensor([1, 2])), RuntimeError)
    close(
        at.norm(at.tensor([3.0, 4.0]), dtype=at.float64),
        torch.norm(torch.tensor([3.0, 4.0]), dtype=torch.float64),
        0,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_var_mean_std_mean(dtype: str) -> None:
    a = values((3, 4), dtype, seed=25)
    for name in ("var_mean", "std_mean"):
        check(lambda lib, x, n=name: sum(getattr(lib, n)(x)), [a], dtype)
        check(
            lambda lib, x, n=name: (
                getattr(lib, n)(x, 1, keepdim=True)[0]
                * getattr(lib, n)(x, 1, keepdim=True)[1]
            ),
            [a],
            dtype,
        )
        mine = getattr(at, name)(at.tensor(a), (0, 1), correction=0)
        peer = getattr(torch, name)(torch.tensor(a), (0, 1), correction=0)
        close(mine[0], peer[0], 1e-5)
        close(mine[1], peer[1], 1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_median(dtype: str) -> None:
    a = values((4, 5), dtype, seed=26)
    check(lambda lib, x: lib.median(x), [a], dtype)
    for dim in (0, 1):
        check(lambda lib, x, d=dim: lib.median(x, d).values, [a], dtype)
        mine = at.tensor(a).median(dim, keepdim=True)
        peer = torch.tensor(a).median(dim, keepdim=True)
        close(mine.values, peer.values, 0)
        close(mine.indices, peer.indices, 0)
    nan = [[1.0, math.nan, 2.0, math.nan], [4.0, 3.0, 2.0, 1.0]]
    mine = at.median(at.tensor(nan), 1)
    peer = torch.median(torch.tensor(nan), 1)
    close(mine.values, peer.values, 0)
    close(mine.indices, peer.indices, 0)
    assert math.isnan(at.median(at.tensor(nan)).item())
    close(
        at.median(at.tensor([3, 1, 2, 4])), torch.median(torch.tensor([3, 1, 2, 4])), 0
    )


def test_unique() -> None:
    data = [3, 1, 3, 2, 1, 3]
    for kwargs in (
        {},
        {"return_inverse": True},
        {"return_counts": True},
        {"return_inverse": True, "return_counts": True, "sorted": False},
    ):
        mine = at.unique(at.tensor(data), **kwargs)
        peer = torch.unique(torch.tensor(data), **kwargs)
        if isinstance(peer, tuple):
            for m, p in zip(mine, peer, strict=True):
                close(m, p, 0)
        else:
            close(mine, peer, 0)
    grid = [[2.5, 1.0], [2.5, -1.0]]
    close(
        at.tensor(grid).unique(return_inverse=True)[1],
        torch.tensor(grid).unique(return_inverse=True)[1],
        0,
    )
    close(
        at.unique(at.tensor([True, False, True])),
        torch.unique(torch.tensor([True, False, True])),
        0,
    )


# ---------------------------------------------------- tests and comparisons
def test_isnan_isfinite_isinf_and_comparisons() -> None:
    data = [1.0, math.nan, math.inf, -math.inf, 0.0]
    for name in ("isnan", "isfinite", "isinf"):
        close(
            getattr(at, name)(at.tensor(data)),
            getattr(torch, name)(torch.tensor(data)),
            0,
        )
        close(
            getattr(at.tensor([1, 2]), name)(), getattr(torch.tensor([1, 2]), name)(), 0
        )
    a, b = [1.0, 2.0, 3.0], [2.0, 2.0, 2.0]
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        close(
            getattr(at, name)(at.tensor(a), at.tensor(b)),
            getattr(torch, name)(torch.tensor(a), torch.tensor(b)),
            0,
        )
        close(getattr(at.tensor(a), name)(2), getattr(torch.tensor(a), name)(2), 0)
        close(
            getattr(at.tensor([1, 2, 3]), name)(at.tensor([2.5])),
            getattr(torch.tensor([1, 2, 3]), name)(torch.tensor([2.5])),
            0,
        )
    raises_like(lambda lib: lib.eq(lib.tensor(a), "x"), TypeError)


def test_allclose_equal_is_tensor_is_floating_point() -> None:
    pairs = [
        ([1.0, 2.0], [1.0 + 1e-9, 2.0]),
        ([1.0, 2.0], [1.1, 2.0]),
        ([math.inf, 1.0], [math.inf, 1.0]),
        ([math.nan, 1.0], [math.nan, 1.0]),
        ([1.0, 2.0], [1.0]),
    ]
    for x, y in pairs:
        for kwargs in ({}, {"equal_nan": True}, {"rtol": 0.2, "atol": 0.0}):
            assert at.allclose(at.tensor(x), at.tensor(y), **kwargs) == torch.allclose(
                torch.tensor(x), torch.tensor(y), **kwargs
            )
        assert at.equal(at.tensor(x), at.tensor(y)) == torch.equal(
            torch.tensor(x), torch.tensor(y)
        )
        assert at.tensor(x).equal(at.tensor(y)) == torch.tensor(x).equal(
            torch.tensor(y)
        )
    assert at.equal(at.tensor([1.0]), at.tensor([1]))
    raises_like(
        lambda lib: lib.allclose(
            lib.tensor([1.0]), lib.tensor([1.0], dtype=lib.float64)
        ),
        RuntimeError,
    )
    for data in ([1.0], [1], [True], [1j]):
        assert at.is_floating_point(at.tensor(data)) == torch.is_floating_point(
            torch.tensor(data)
        )
        assert (
            at.tensor(data).is_floating_point()
            == torch.tensor(data).is_floating_point()
        )
    assert at.is_tensor(at.ones(1)) and not at.is_tensor([1.0])


# ----------------------------------------------------- indexing and shape
def test_nonzero() -> None:
    for data in ([[0, 1], [2, 0]], [0.0, 3.0, 0.0], 3.0, 0.0, [[False, False]]):
        close(at.nonzero(at.tensor(data)), torch.nonzero(torch.tensor(data)), 0)
        mine = at.tensor(data).nonzero(as_tuple=True)
        peer = torch.tensor(data).nonzero(as_tuple=True)
        assert len(mine) == len(peer)
        for m, p in zip(mine, peer, strict=True):
            close(m, p, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_flip_roll(dtype: str) -> None:
    a = values((3, 4, 2), dtype, seed=27)
    check(lambda lib, x: lib.flip(x, (0, 2)), [a], dtype)
    check(lambda lib, x: x.flip(1), [a], dtype)
    check(lambda lib, x: x.flip(-1, 0), [a], dtype)
    check(lambda lib, x: lib.roll(x, 2), [a], dtype)
    check(lambda lib, x: lib.roll(x, (1, -3), (0, 1)), [a], dtype)
    check(lambda lib, x: x.roll(5, 1), [a], dtype)
    raises_like(lambda lib: lib.flip(lib.ones(2), 0), TypeError)
    raises_like(lambda lib: lib.roll(lib.ones(2, 2), (1, 2), (0,)), RuntimeError)


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeat_interleave_index_select_narrow(dtype: str) -> None:
    a = values((3, 4), dtype, seed=28)
    check(lambda lib, x: lib.repeat_interleave(x, 2), [a], dtype)
    check(lambda lib, x: x.repeat_interleave(3, dim=1), [a], dtype)
    check(
        lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, 0, 2]), dim=0),
        [a],
        dtype,
    )
    close(
        at.repeat_interleave(at.tensor([3, 1])),
        torch.repeat_interleave(torch.tensor([3, 1])),
        0,
    )
    check(lambda lib, x: lib.index_select(x, 1, lib.tensor([3, 0, 3])), [a], dtype)
    check(lambda lib, x: x.index_select(0, lib.tensor(2)), [a], dtype)
    check(lambda lib, x: lib.narrow(x, 1, 1, 2), [a], dtype)
    check(lambda lib, x: x.narrow(0, -2, 2), [a], dtype)
    raises_like(
        lambda lib: lib.index_select(lib.ones(2, 3), 1, lib.tensor([1.0])), RuntimeError
    )
    raises_like(
        lambda lib: lib.index_select(lib.ones(2, 3), 1, lib.tensor([[1]])), IndexError
    )
    raises_like(lambda lib: lib.narrow(lib.ones(2, 3), 1, 2, 2), RuntimeError)
    raises_like(
        lambda lib: lib.repeat_interleave(lib.ones(3), lib.tensor([1, 2])), RuntimeError
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_diag_diagonal(dtype: str) -> None:
    square = values((4, 4), dtype, seed=29)
    vector = values((3,), dtype, seed=30)
    cube = values((2, 3, 4), dtype, seed=31)
    for k in (-1, 0, 2):
        check(lambda lib, x, k=k: lib.diag(x, k), [square], dtype)
        check(lambda lib, x, k=k: x.diag(k), [vector], dtype)
        check(lambda lib, x, k=k: lib.diagonal(x, k), [square], dtype)
        check(lambda lib, x, k=k: x.diagonal(k, 0, 2), [cube], dtype)
        check(lambda lib, x, k=k: lib.diagonal(x, k, dim1=-1, dim2=1), [cube], dtype)
    raises_like(lambda lib: lib.diag(lib.ones(2, 2, 2)), RuntimeError)
    raises_like(lambda lib: lib.diagonal(lib.ones(2, 2), 0, 1, 1), RuntimeError)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reshaping_functions(dtype: str) -> None:
    a = values((2, 1, 3, 1), dtype, seed=32)
    check(lambda lib, x: lib.transpose(x, 0, 2), [a], dtype)
    check(lambda lib, x: lib.reshape(x, (3, -1)), [a], dtype)
    check(lambda lib, x: lib.flatten(x, 1), [a], dtype)
    check(lambda lib, x: lib.flatten(x, 0, 2), [a], dtype)
    check(lambda lib, x: lib.squeeze(x), [a], dtype)
    check(lambda lib, x: lib.squeeze(x, 1), [a], dtype)
    check(lambda lib, x: lib.squeeze(x, (0, 3)), [a], dtype)
    check(lambda lib, x: x.squeeze((1, 3)), [a], dtype)
    check(lambda lib, x: lib.unsqueeze(x, -1), [a], dtype)
    check(lambda lib, x: lib.broadcast_to(x, (4, 2, 5, 3, 2)), [a], dtype)
    check(lambda lib, x: x.broadcast_to((2, 2, 3, 1)), [a], dtype)
    check(lambda lib, x: x.view_as(lib.ones(6)), [a], dtype)
    check(lambda lib, x: x.reshape_as(lib.ones(3, 2)), [a], dtype)
    check(lambda lib, x: x.repeat(2, 1, 1, 3), [a], dtype)
    check(lambda lib, x: x.repeat(2, 1, 2, 1, 3), [a], dtype)
    raises_like(lambda lib: lib.flatten(lib.ones(2, 3), 1, 0), RuntimeError)
    raises_like(lambda lib: lib.ones(2, 3).repeat(2), RuntimeError)


@pytest.mark.parametrize("dtype", DTYPES)
def test_meshgrid_hstack_vstack(dtype: str) -> None:
    x, y, z = (values((n,), dtype, seed=33 + n) for n in (2, 3, 4))
    for indexing in ("ij", "xy"):
        check(
            lambda lib, a, b, c, i=indexing: sum(
                g * (k + 1) for k, g in enumerate(lib.meshgrid(a, b, c, indexing=i))
            ),
            [x, y, z],
            dtype,
        )
        check(
            lambda lib, a, b, i=indexing: lib.meshgrid([a, b], indexing=i)[0],
            [x, y],
            dtype,
        )
    with pytest.warns(UserWarning):
        at.meshgrid(at.ones(2), at.ones(3))
    m = values((2, 3), dtype, seed=36)
    check(lambda lib, a, b: lib.hstack([a, b]), [x, y], dtype)
    check(lambda lib, a, b: lib.hstack((a, b)), [m, m], dtype)
    check(lambda lib, a, b: lib.vstack([a, b]), [y, m], dtype)
    close(
        at.hstack([at.ones(()), at.ones(2)]),
        torch.hstack([torch.ones(()), torch.ones(2)]),
        0,
    )
    close(
        at.vstack([at.ones(()), at.ones(1)]),
        torch.vstack([torch.ones(()), torch.ones(1)]),
        0,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_outer_bmm_addmm(dtype: str) -> None:
    u, v = values((3,), dtype, seed=37), values((4,), dtype, seed=38)
    b1, b2 = values((2, 3, 4), dtype, seed=39), values((2, 4, 5), dtype, seed=40)
    bias, m1, m2 = (
        values(s, dtype, seed=41 + i) for i, s in enumerate([(5,), (3, 4), (4, 5)])
    )
    check(lambda lib, a, b: lib.outer(a, b), [u, v], dtype)
    check(lambda lib, a, b: a.outer(b), [u, v], dtype)
    check(lambda lib, a, b: lib.bmm(a, b), [b1, b2], dtype)
    check(lambda lib, a, b: a.bmm(b), [b1, b2], dtype)
    check(lambda lib, c, a, b: lib.addmm(c, a, b), [bias, m1, m2], dtype)
    check(
        lambda lib, c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0), [bias, m1, m2], dtype
    )
    close(
        at.outer(at.tensor([1, 2]), at.tensor([0.5])),
        torch.outer(torch.tensor([1, 2]), torch.tensor([0.5])),
        0,
    )
    nan = np.full((5,), np.nan, dtype=dtype)
    close(
        at.addmm(at.tensor(nan), at.tensor(m1), at.tensor(m2), beta=0),
        torch.addmm(torch.tensor(nan), torch.tensor(m1), torch.tensor(m2), beta=0),
        1e-5,
    )
    raises_like(lambda lib: lib.bmm(lib.ones(2, 2), lib.ones(2, 2)), RuntimeError)
    raises_like(
        lambda lib: lib.bmm(lib.ones(1, 2, 2), lib.ones(1, 2, 2, dtype=lib.float64)),
        RuntimeError,
    )
    raises_like(
        lambda lib: lib.addmm(
            lib.ones(2), lib.ones(2, 2), lib.ones(2, 2, dtype=lib.float64)
        ),
        RuntimeError,
    )


def test_linspace_eye() -> None:
    for args in ((0, 1, 5), (-2.5, 7.0, 11), (3, 3, 1), (0, 1, 0), (1.0, -1.0, 4)):
        close(at.linspace(*args), torch.linspace(*args), 1e-6)
    close(
        at.linspace(0, 10, 5, dtype=at.int64),
        torch.linspace(0, 10, 5, dtype=torch.int64),
        0,
    )
    close(
        at.linspace(0, 1, 7, dtype="float64"),
        torch.linspace(0, 1, 7, dtype=torch.float64),
        1e-12,
    )
    for args in ((3,), (2, 4), (4, 2), (0,)):
        close(at.eye(*args), torch.eye(*args), 0)
    close(at.eye(2, dtype=at.int64), torch.eye(2, dtype=torch.int64), 0)
    assert at.eye(2, requires_grad=True).requires_grad


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_select(dtype: str) -> None:
    a = values((3, 4), dtype, seed=44)
    mask = values((4,), "float64", seed=45) > 0
    check(lambda lib, x: x.masked_select(lib.tensor(mask)), [a], dtype)
    check(lambda lib, x: lib.masked_select(x[0], lib.tensor(a > 0)), [a], dtype)
    raises_like(lambda lib: lib.ones(2).masked_select(lib.tensor([1, 0])), RuntimeError)


def test_tensor_metadata_methods() -> None:
    for data, dtype in (([[1.0, 2.0]], "float32"), ([1, 2], "int64"), ([True], "bool")):
        mine, peer = (
            at.tensor(data, dtype=dtype),
            torch.tensor(data, dtype=getattr(torch, dtype)),
        )
        assert mine.nelement() == peer.nelement()
        assert mine.element_size() == peer.element_size()
    mine, peer = at.ones(2, 3), torch.ones(2, 3)
    assert mine.is_contiguous() and peer.is_contiguous()
    assert mine.T.is_contiguous() == peer.T.is_contiguous()
    assert mine.T.contiguous().is_contiguous()


# -------------------------------------------------------------- pointwise
UNARY_2 = [
    ("square", ""),
    ("neg", ""),
    ("reciprocal", "positive"),
    ("trunc", ""),
    ("log2", "positive"),
    ("log10", "positive"),
    ("sinh", ""),
    ("cosh", ""),
    ("asin", "unit"),
    ("acos", "unit"),
    ("atan", ""),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "kind"), UNARY_2, ids=[u[0] for u in UNARY_2])
def test_unary_functions_and_methods(name: str, kind: str, dtype: str) -> None:
    a = values((3, 4), dtype, seed=len(name), kind=kind) * (2 if not kind else 1)
    check(lambda lib, x: getattr(lib, name)(x), [a], dtype)
    check(lambda lib, x: getattr(x.T, name)(), [a], dtype)


@pytest.mark.parametrize(("name", "kind"), UNARY_2, ids=[u[0] for u in UNARY_2])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16"])
def test_unary_dtypes(name: str, kind: str, dtype: str) -> None:
    data = np.array([0, 1, 2, 1]).astype(dtype)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = getattr(torch, name)(torch.tensor(data))
    except (NotImplementedError, RuntimeError) as exc:
        with pytest.raises(type(exc)):
            getattr(at, name)(at.tensor(data))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1 / 0
        got = getattr(at, name)(at.tensor(data))
    assert str(got.dtype) == str(expected.dtype).removeprefix("torch.")
    rtol = 2e-3 if str(got.dtype) == "float16" else 1e-6
    np.testing.assert_allclose(
        got.numpy().astype(float), expected.numpy().astype(float), rtol=rtol
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_lerp_atan2_remainder(dtype: str) -> None:
    a, b = values((3, 4), dtype, seed=46), values((4,), dtype, seed=47)
    w = values((3, 1), dtype, seed=48)
    check(lambda lib, x, y: lib.lerp(x, y, 0.3), [a, b], dtype)
    check(lambda lib, x, y, z: x.lerp(y, z), [a, b, w], dtype)
    check(lambda lib, x, y: lib.atan2(x, y), [a, b], dtype)
    check(lambda lib, x, y: y.atan2(x), [a, b], dtype)
    check(lambda lib, x, y: lib.remainder(x * 3, y), [a, b], dtype)
    check(lambda lib, x: x.remainder(0.7), [a], dtype)
    check(lambda lib, x: (x * 4) % -1.5, [a], dtype)
    raises_like(
        lambda lib: lib.lerp(lib.ones(2), lib.ones(2, dtype=lib.float64), 0.5),
        RuntimeError,
    )


def test_atan2_remainder_dtypes_and_errors() -> None:
    close(
        at.atan2(at.tensor([1]), at.tensor([2])),
        torch.atan2(torch.tensor([1]), torch.tensor([2])),
        1e-6,
    )
    for x, y in (([-3, 3, 7], 2), ([-3, 3], -2), ([True, False], 2), ([-3.5, 3.0], 2)):
        close(at.remainder(at.tensor(x), y), torch.remainder(torch.tensor(x), y), 1e-6)
    close(
        at.remainder(at.tensor([-3, 5]), at.tensor([2, -3])),
        torch.remainder(torch.tensor([-3, 5]), torch.tensor([2, -3])),
        0,
    )
    raises_like(lambda lib: lib.remainder(lib.tensor([1]), 0), RuntimeError)
    raises_like(lambda lib: lib.neg(lib.tensor([True])), RuntimeError)
    raises_like(lambda lib: lib.trunc(lib.tensor([True])), NotImplementedError)


# ------------------------------------------------------------- in place
INPLACE = [
    ("exp_", ""),
    ("sigmoid_", ""),
    ("tanh_", ""),
    ("abs_", ""),
    ("neg_", ""),
    ("sqrt_", "positive"),
    ("log_", "positive"),
]


@pytest.mark.parametrize(("name", "kind"), INPLACE, ids=[i[0] for i in INPLACE])
def test_in_place_math_records_history(name: str, kind: str) -> None:
    a = values((3, 4), "float64", seed=len(name), kind=kind)

    def run(lib: Any, x: Any) -> Any:
        y = x * 1.5
        out = getattr(y, name)()
        assert out is y
        return (y * y).sum()

    check(run, [a], "float64")
    for lib in (at, torch):
        with pytest.raises(RuntimeError):  # a leaf that requires grad
            getattr(lib.tensor(a, requires_grad=True), name)()
    mine, peer = at.tensor(a), torch.tensor(a)
    getattr(mine, name)()
    getattr(peer, name)()
    close(mine, peer, 1e-12)


def test_pow_in_place_and_dtype_errors() -> None:
    a = values((3, 4), "float64", seed=49, kind="positive")
    e = values((4,), "float64", seed=50)
    check(lambda lib, x: (x * 1).pow_(2.5), [a], "float64")
    check(lambda lib, x, y: (x * 1).pow_(y), [a, e], "float64")
    ours, theirs = both([a], grad=False)
    ours[0].pow_(3)
    theirs[0].pow_(3)
    close(ours[0], theirs[0], 1e-12)
    for name in ("exp_", "sqrt_", "log_", "sigmoid_", "tanh_"):
        raises_like(lambda lib, n=name: getattr(lib.tensor([1, 2]), n)(), RuntimeError)
    raises_like(lambda lib: lib.tensor([1, 2]).pow_(0.5), RuntimeError)
    raises_like(lambda lib: lib.tensor([True]).neg_(), RuntimeError)
