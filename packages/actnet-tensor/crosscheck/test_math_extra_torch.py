"""nan_to_num, isclose, count_nonzero, fmod, hypot, logit, xlogy, erfinv,
lgamma, digamma, diff, cummax, cummin, logcumsumexp, trace, tril/triu_indices,
searchsorted, bucketize, tensordot, kron, addmv, baddbmm and cdist against
PyTorch 2.13.0: values, dtypes, gradients and error types."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at

RNG = np.random.default_rng(1)


def both(values: Any, dtype: str = "float64", grad: bool = False) -> tuple[Any, Any]:
    host = np.asarray(values, dtype=dtype)
    return (
        at.tensor(host, requires_grad=grad),
        torch.tensor(host, requires_grad=grad),
    )


def plain(result: Any) -> Any:
    if isinstance(result, tuple):
        return [plain(r) for r in result]
    if isinstance(result, torch.Tensor):
        return str(result.dtype).removeprefix("torch."), result.detach().numpy()
    return str(result.dtype), result.detach().numpy()


def check(
    call: Callable[[Any, Any], Any], args: list[Any], rtol: float = 1e-12
) -> None:
    """call(lib, *inputs) agrees: dtypes, values (NaN in place), and, when the
    inputs require grad, the gradients of the sum of the (first) result."""
    ours = [a[0] for a in args]
    theirs = [a[1] for a in args]
    got, want = call(at, *ours), call(torch, *theirs)
    for (gd, gv), (wd, wv) in zip(
        [plain(got)] if not isinstance(got, tuple) else plain(got),
        [plain(want)] if not isinstance(want, tuple) else plain(want),
        strict=True,
    ):
        assert gd == wd
        np.testing.assert_allclose(gv, wv, rtol=rtol, atol=1e-300, equal_nan=True)
    if any(t.requires_grad for t in theirs):
        out_g = got[0] if isinstance(got, tuple) else got
        out_w = want[0] if isinstance(want, tuple) else want
        out_g.sum().backward()
        out_w.sum().backward()
        for o, t in zip(ours, theirs, strict=True):
            if t.requires_grad:
                np.testing.assert_allclose(
                    o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12
                )


def error_types(call: Callable[[Any], Any]) -> None:
    names = []
    for lib in (at, torch):
        try:
            call(lib)
        except Exception as exc:  # noqa: BLE001  # compared with torch's
            names.append(type(exc).__name__)
        else:
            names.append("ok")
    assert names[0] == names[1], names


POINTS = [0.2, 0.7, 1.0, 1.5, 2.5, 7.0, 12.0, -0.5, -1.7, -3.2]


@pytest.mark.parametrize("name", ["lgamma", "digamma"])
def test_gamma_family(name: str) -> None:
    check(lambda lib, x: getattr(lib, name)(x), [both(POINTS, grad=True)])
    check(lambda lib, x: getattr(lib, name)(x), [both(POINTS, "float32")], 1e-5)
    check(lambda lib, x: getattr(lib, name)(x), [both([0.0, -2.0, math.inf])])
    check(lambda lib, x: getattr(lib, name)(x), [both([1, 2, 3], "int64")], 1e-6)


def test_erfinv() -> None:
    ys = [-0.99, -0.3, 0.0, 1e-10, 0.4, 0.8, 0.999999]
    check(lambda lib, x: lib.erfinv(x), [both(ys, grad=True)])
    check(lambda lib, x: lib.erfinv(x), [both([-1.0, 1.0, 2.0])])
    check(lambda lib, x: lib.erfinv(x), [both([0, 1], "int64")])


def test_nan_to_num_isclose_count_nonzero() -> None:
    vals = [math.nan, math.inf, -math.inf, 2.0]
    for dtype in ("float32", "float64"):
        check(lambda lib, x: lib.nan_to_num(x), [both(vals, dtype, grad=True)])
        check(
            lambda lib, x: lib.nan_to_num(x, nan=1.0, posinf=9.0),
            [both(vals, dtype)],
        )
    check(lambda lib, x: lib.nan_to_num(x), [both([1, 2], "int64")])
    a, b = [1.0, 2.0, math.nan, math.inf, 0.0], [1.0, 2.5, math.nan, math.inf, 1e-9]
    for equal_nan in (False, True):
        check(
            lambda lib, x, y, e=equal_nan: lib.isclose(x, y, equal_nan=e),
            [both(a), both(b)],
        )
    check(
        lambda lib, x, y: lib.isclose(x, y),
        [both([1, 2], "int64"), both([1, 3], "int64")],
    )
    m = [[0, 1, 2], [0, 0, 3]]
    check(lambda lib, x: lib.count_nonzero(x), [both(m, "int64")])
    check(lambda lib, x: lib.count_nonzero(x, dim=1), [both(m, "float32")])
    error_types(lambda lib: lib.isclose(lib.ones(2), lib.ones(2, dtype=lib.float64)))


def test_fmod_hypot_logit_xlogy() -> None:
    a, b = [-5.5, 5.5, -3.0, 3.0, 7.25], [2.0, -2.0, 2.0, 0.7, -1.5]
    check(lambda lib, x, y: lib.fmod(x, y), [both(a, grad=True), both(b, grad=True)])
    check(lambda lib, x: lib.fmod(x, 3), [both([-7, 7, 9], "int64")])
    check(lambda lib, x: lib.fmod(x, 1.5), [both([-7, 7, 9], "int64")])
    error_types(lambda lib: lib.fmod(lib.tensor([1]), 0))
    check(lambda lib, x, y: lib.hypot(x, y), [both(a, grad=True), both(b, grad=True)])
    error_types(lambda lib: lib.hypot(lib.tensor([1]), lib.tensor([2])))
    p = [0.1, 0.5, 0.9, 0.0]
    check(lambda lib, x: lib.logit(x), [both(p[:3], grad=True)])
    check(lambda lib, x: lib.logit(x, eps=0.2), [both(p, grad=True)])
    check(lambda lib, x: lib.logit(x), [both([0, 1], "int64")])
    x, y = [0.0, 0.0, 2.0, 1.5], [0.0, math.nan, 3.0, 0.5]
    check(lambda lib, u, v: lib.xlogy(u, v), [both(x), both(y)])
    check(
        lambda lib, u, v: lib.xlogy(u, v),
        [both([0.5, 2.0], grad=True), both([1.5, 3.0], grad=True)],
    )
    check(lambda lib, u: lib.xlogy(u, 2.0), [both([1.0, 0.0], "float32")], 1e-6)


def test_diff_and_running() -> None:
    a = RNG.standard_normal((3, 5))
    check(lambda lib, x: lib.diff(x), [both(a, grad=True)])
    check(lambda lib, x: lib.diff(x, n=2, dim=0), [both(a, grad=True)])
    check(
        lambda lib, x, p, q: lib.diff(x, prepend=p, append=q),
        [both(a, grad=True), both(np.ones((3, 1)), grad=True), both(np.zeros((3, 2)))],
    )
    check(lambda lib, x: lib.diff(x), [both([True, False, False], "bool")])
    check(lambda lib, x: lib.diff(x), [both([1, 4, 9], "int64")])
    error_types(lambda lib: lib.diff(lib.tensor(1.0)))
    ties = [[1.0, 3.0, 3.0, 2.0, 5.0], [4.0, 1.0, 1.0, math.nan, 2.0]]
    for name in ("cummax", "cummin"):
        check(lambda lib, x, n=name: getattr(lib, n)(x, 1), [both(ties)])
        check(lambda lib, x, n=name: getattr(lib, n)(x, 0), [both(a, grad=True)])
        check(lambda lib, x, n=name: getattr(lib, n)(x, 0), [both([3, 1, 2], "int64")])
    check(lambda lib, x: lib.logcumsumexp(x, 1), [both(a * 10, grad=True)])
    check(lambda lib, x: lib.logcumsumexp(x, 0), [both([-1000.0, 0.0, 1.0])])
    check(lambda lib, x: lib.logcumsumexp(x, 0), [both(a, "float32")], 1e-5)


def test_searchsorted_bucketize() -> None:
    seq, v = [1, 3, 5, 7], [[0, 3], [6, 9]]
    for kwargs in ({}, {"right": True}, {"side": "right"}, {"out_int32": True}):
        plain_kwargs = {k: val for k, val in kwargs.items() if k != "side"}
        check(
            lambda lib, s, x, kw=kwargs: lib.searchsorted(s, x, **kw),
            [both(seq, "int64"), both(v, "int64")],
        )
        check(
            lambda lib, b, x, kw=plain_kwargs: lib.bucketize(x, b, **kw),
            [both(seq, "float32"), both(v, "float32")],
        )
    rows = [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    check(
        lambda lib, s, x: lib.searchsorted(s, x),
        [both(rows), both([[3.0, 4.0], [3.0, 4.0]])],
    )
    check(
        lambda lib, s, x, o: lib.searchsorted(s, x, sorter=o),
        [both([5, 1, 3], "int64"), both([2, 4], "int64"), both([1, 2, 0], "int64")],
    )
    error_types(
        lambda lib: lib.searchsorted(
            lib.tensor([1, 2]), lib.tensor([1]), right=True, side="left"
        )
    )
    error_types(lambda lib: lib.bucketize(lib.tensor([1]), lib.tensor([[1, 2]])))


def test_products_and_matrices() -> None:
    m = RNG.standard_normal((3, 4))
    check(lambda lib, x: lib.trace(x), [both(m, grad=True)])
    check(lambda lib, x: lib.trace(x), [both([[1, 2], [3, 4]], "int32")])
    error_types(lambda lib: lib.trace(lib.ones(3)))
    for offset in (-2, 0, 1, 5):
        check(lambda lib, o=offset: lib.tril_indices(3, 4, o), [])
        check(lambda lib, o=offset: lib.triu_indices(4, 3, o), [])
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 3, 5))
    check(
        lambda lib, x, y: lib.tensordot(x, y, ([1, 2], [1, 0])),
        [both(a, grad=True), both(b, grad=True)],
    )
    check(
        lambda lib, x, y: lib.tensordot(x, y, 1),
        [both(m, grad=True), both(RNG.standard_normal((4, 2)), grad=True)],
    )
    error_types(lambda lib: lib.tensordot(lib.ones(2, 3), lib.ones(2, 3), 1))
    check(
        lambda lib, x, y: lib.kron(x, y),
        [both(m[:2], grad=True), both(RNG.standard_normal((2, 1, 3)), grad=True)],
    )
    check(
        lambda lib, x, y: lib.kron(x, y),
        [both([1, 2], "int64"), both([1, 10], "int64")],
    )
    check(
        lambda lib, i, x, y: lib.addmv(i, x, y, beta=0.5, alpha=2.0),
        [both(m[:, 0], grad=True), both(m, grad=True), both(m[0], grad=True)],
    )
    check(
        lambda lib, i, x, y: lib.addmv(i, x, y, beta=0),
        [both([math.nan] * 3), both(m), both(m[0])],
    )
    b1, b2 = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5))
    check(
        lambda lib, i, x, y: lib.baddbmm(i, x, y, beta=2.0, alpha=-1.0),
        [both(RNG.standard_normal((3, 5)), grad=True), both(b1, grad=True), both(b2)],
    )


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_cdist(p: float) -> None:
    x1, x2 = RNG.standard_normal((2, 4, 3)), RNG.standard_normal((5, 3))
    grad = p > 0
    check(
        lambda lib, a, b: lib.cdist(a, b, p),
        [both(x1, grad=grad), both(x2, grad=grad)],
        1e-10,
    )


def test_cdist_errors_and_zero_distance() -> None:
    x = [[1.0, 2.0], [3.0, 4.0]]
    check(lambda lib, a, b: lib.cdist(a, b), [both(x, grad=True), both(x, grad=True)])
    error_types(lambda lib: lib.cdist(lib.ones(3), lib.ones(2, 3)))
    error_types(lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 4)))
    error_types(lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), -1.0))
    error_types(lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.int64), lib.ones(2, 3)))


def test_methods() -> None:
    for name in ("lgamma", "digamma", "erfinv", "logit", "nan_to_num"):
        check(lambda lib, x, n=name: getattr(x, n)(), [both([0.25, 0.5])])
        ours, theirs = both([0.25, 0.5])
        getattr(ours, name + "_")()
        getattr(theirs, name + "_")()
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    check(lambda lib, x: x.cummax(0).indices, [both([1.0, 3.0, 2.0])])
    check(lambda lib, x: x.diff(), [both([1.0, 3.0, 2.0])])
    check(lambda lib, x: x.count_nonzero(), [both([1.0, 0.0, 2.0])])
