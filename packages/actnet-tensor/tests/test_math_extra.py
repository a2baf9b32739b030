"""nan_to_num, isclose, count_nonzero, fmod, hypot, logit, xlogy, erfinv,
lgamma, digamma, diff, cummax, cummin, logcumsumexp, trace, tril/triu_indices,
searchsorted, bucketize, tensordot, kron, addmv, baddbmm and cdist against
NumPy and mpmath; gradients by central differences (gradcheck)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import actnet.tensor as at

RNG = np.random.default_rng(0)


def t64(values: object, grad: bool = False) -> at.Tensor:
    return at.tensor(np.asarray(values, dtype=np.float64), requires_grad=grad)


def rand(*shape: int, grad: bool = True) -> at.Tensor:
    return t64(RNG.standard_normal(shape), grad)


# ------------------------------------------------------- special functions
SPECIAL_POINTS = [0.05, 0.3, 0.5, 1.0, 1.4616321449683622, 2.0, 2.5, 7.3, 10.0]
SPECIAL_POINTS += [33.0, 170.5, -0.5, -1.3, -2.7, -10.25, 1e-8]


def close(got: float, want: float, rel: float = 4e-15, abs_: float = 1e-15) -> bool:
    return abs(got - want) <= abs_ + rel * abs(want)


def test_lgamma_matches_mpmath() -> None:
    got = at.lgamma(t64(SPECIAL_POINTS)).tolist()
    for x, g in zip(SPECIAL_POINTS, got, strict=True):
        want = float(mpmath.log(abs(mpmath.gamma(x))))
        assert close(g, want), (x, g, want)


def test_digamma_matches_mpmath() -> None:
    got = at.digamma(t64(SPECIAL_POINTS)).tolist()
    for x, g in zip(SPECIAL_POINTS, got, strict=True):
        want = float(mpmath.digamma(x))
        assert close(g, want, rel=1e-14), (x, g, want)


def test_erfinv_matches_mpmath() -> None:
    points = [0.0, 1e-300, 1e-20, 1e-8, 0.1, 0.3, 0.49, 0.5, 0.7, 0.9, 0.99]
    points += [0.999999, 1 - 1e-12, 1 - 2**-52, -0.25, -0.999]
    got = at.erfinv(t64(points)).tolist()
    for y, g in zip(points, got, strict=True):
        want = float(mpmath.erfinv(mpmath.mpf(y)))
        assert close(g, want, rel=4e-15, abs_=0.0), (y, g, want)


def test_special_edges() -> None:
    assert at.lgamma(t64([0.0, -3.0, math.inf])).tolist() == [math.inf] * 3
    d = at.digamma(t64([0.0, -0.0, -2.0])).tolist()
    assert d[0] == -math.inf and d[1] == math.inf and math.isnan(d[2])
    e = at.erfinv(t64([1.0, -1.0, 1.5])).tolist()
    assert e[:2] == [math.inf, -math.inf] and math.isnan(e[2])
    assert at.erfinv(at.tensor([0, 0])).dtype == at.float32
    assert at.lgamma(at.tensor([0.5], dtype=at.float32)).dtype == at.float32


@pytest.mark.parametrize("op", [at.lgamma, at.digamma])
def test_gamma_family_gradients(op: object) -> None:
    x = t64([0.3, 1.7, 4.2, -0.4], grad=True)
    assert at.gradcheck(op, (x,))


def test_erfinv_gradient() -> None:
    assert at.gradcheck(at.erfinv, (t64([-0.9, -0.2, 0.0, 0.4, 0.95], grad=True),))


# ------------------------------------------------------ guarded pointwise
def test_nan_to_num() -> None:
    x = np.array([np.nan, np.inf, -np.inf, 1.5], dtype=np.float32)
    np.testing.assert_array_equal(at.nan_to_num(at.tensor(x)).numpy(), np.nan_to_num(x))
    got = at.nan_to_num(at.tensor(x), nan=1.0, posinf=2.0, neginf=-2.0).tolist()
    assert got == [1.0, 2.0, -2.0, 1.5]
    y = at.tensor(x, requires_grad=True)
    at.nan_to_num(y).sum().backward()
    assert y.grad is not None and y.grad.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert at.nan_to_num(at.tensor([1, 2])).tolist() == [1, 2]


def test_isclose_and_count_nonzero() -> None:
    a = np.array([1.0, 2.0, np.nan, np.inf, 1e-9])
    b = np.array([1.0 + 1e-6, 2.1, np.nan, np.inf, 0.0])
    for equal_nan in (False, True):
        got = at.isclose(t64(a), t64(b), equal_nan=equal_nan).numpy()
        np.testing.assert_array_equal(got, np.isclose(a, b, equal_nan=equal_nan))
    m = np.array([[0, 1, 2], [0, 0, 3]])
    assert at.count_nonzero(at.tensor(m)).item() == 3
    assert at.count_nonzero(at.tensor(m), dim=0).tolist() == [0, 1, 2]
    assert at.count_nonzero(at.tensor(m), dim=(0, 1)).item() == 3


def test_fmod_and_hypot() -> None:
    a, b = np.array([-5.5, 5.5, -3.0, 3.0]), np.array([2.0, -2.0, 2.0, 0.7])
    np.testing.assert_array_equal(at.fmod(t64(a), t64(b)).numpy(), np.fmod(a, b))
    assert at.fmod(at.tensor([-7, 7]), 3).tolist() == [-1, 1]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        at.fmod(at.tensor([1]), 0)
    np.testing.assert_allclose(at.hypot(t64(a), t64(b)).numpy(), np.hypot(a, b))
    assert at.hypot(t64([1e300]), t64([1e300])).item() == np.hypot(1e300, 1e300)
    x, y = t64([-5.5, 2.5], grad=True), t64([2.0, 0.7], grad=True)
    assert at.gradcheck(at.fmod, (x, y))
    assert at.gradcheck(at.hypot, (x, y))


def test_logit_and_xlogy() -> None:
    p = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(at.logit(t64(p)).numpy(), np.log(p / (1 - p)))
    eps = 0.2
    q = np.clip(np.array([0.0, 0.5, 1.0]), eps, 1 - eps)
    got = at.logit(t64([0.0, 0.5, 1.0]), eps=eps).numpy()
    np.testing.assert_allclose(got, np.log(q / (1 - q)))
    assert at.gradcheck(at.logit, (t64([0.1, 0.6], grad=True),))
    x, y = np.array([0.0, 0.0, 2.0]), np.array([0.0, np.nan, 3.0])
    got = at.xlogy(t64(x), t64(y)).tolist()
    assert got[0] == 0.0 and math.isnan(got[1]) and got[2] == 2.0 * math.log(3.0)
    assert at.gradcheck(
        at.xlogy, (t64([0.5, 2.0], grad=True), t64([1.5, 3.0], grad=True))
    )


# ------------------------------------------------------------ along a dim
def test_diff() -> None:
    a = RNG.standard_normal((3, 5))
    np.testing.assert_allclose(at.diff(t64(a)).numpy(), np.diff(a))
    np.testing.assert_allclose(at.diff(t64(a), n=2, dim=0).numpy(), np.diff(a, 2, 0))
    pre, app = np.ones((3, 1)), np.zeros((3, 2))
    got = at.diff(t64(a), prepend=t64(pre), append=t64(app)).numpy()
    np.testing.assert_allclose(got, np.diff(a, prepend=pre, append=app))
    assert at.diff(at.tensor([True, False, False])).tolist() == [True, False]
    assert at.gradcheck(lambda x: at.diff(x, 2), (rand(2, 4),))


def test_cummax_cummin() -> None:
    a = np.array([[1.0, 3.0, 3.0, 2.0, 5.0], [4.0, 1.0, 1.0, 0.0, 2.0]])
    r = at.cummax(t64(a), 1)
    np.testing.assert_array_equal(r.values.numpy(), np.maximum.accumulate(a, 1))
    assert r.indices.tolist() == [[0, 1, 2, 2, 4], [0, 0, 0, 0, 0]]
    r = at.cummin(t64(a), 1)
    np.testing.assert_array_equal(r.values.numpy(), np.minimum.accumulate(a, 1))
    assert r.indices.tolist() == [[0, 0, 0, 0, 0], [0, 1, 2, 3, 3]]
    assert at.gradcheck(lambda x: at.cummax(x, 0).values, (rand(4, 3),))
    assert at.gradcheck(lambda x: at.cummin(x, 1).values, (rand(4, 3),))


def test_logcumsumexp() -> None:
    a = RNG.standard_normal((3, 4)) * 5
    want = np.logaddexp.accumulate(a, axis=1)
    np.testing.assert_allclose(at.logcumsumexp(t64(a), 1).numpy(), want, rtol=1e-13)
    got = at.logcumsumexp(t64([-1000.0, 0.0]), 0).tolist()
    assert got == [-1000.0, 0.0]
    assert at.gradcheck(lambda x: at.logcumsumexp(x, 0), (rand(4, 2),))


def test_searchsorted_bucketize() -> None:
    seq, v = np.array([1, 3, 5, 7]), np.array([[0, 3], [6, 9]])
    for side in ("left", "right"):
        want = np.searchsorted(seq, v, side=side)
        got = at.searchsorted(at.tensor(seq), at.tensor(v), side=side)
        np.testing.assert_array_equal(got.numpy(), want)
    rows = np.array([[1, 3, 5], [2, 4, 6]])
    got = at.searchsorted(at.tensor(rows), at.tensor([[3, 4], [3, 4]]), right=True)
    assert got.tolist() == [[2, 2], [1, 2]]
    got = at.searchsorted(
        at.tensor([5, 1, 3]), at.tensor([2]), sorter=at.tensor([1, 2, 0])
    )
    assert got.tolist() == [1]
    assert (
        at.searchsorted(at.tensor(seq), at.tensor([4]), out_int32=True).dtype
        == at.int32
    )
    got = at.bucketize(at.tensor([1, 5, 9]), at.tensor([1, 5]), right=True)
    assert got.tolist() == [1, 2, 2]
    with pytest.raises(RuntimeError, match="opposites"):
        at.searchsorted(at.tensor(seq), at.tensor([1]), right=True, side="left")


# ---------------------------------------------------- products, matrices
def test_trace_and_triangle_indices() -> None:
    m = RNG.standard_normal((3, 4))
    assert at.trace(t64(m)).item() == pytest.approx(np.trace(m))
    assert at.trace(at.tensor([[1, 2], [3, 4]])).dtype == at.int64
    assert at.gradcheck(at.trace, (rand(3, 3),))
    for offset in (-1, 0, 2):
        want = np.stack(np.tril_indices(3, offset, 4))
        np.testing.assert_array_equal(at.tril_indices(3, 4, offset).numpy(), want)
        want = np.stack(np.triu_indices(3, offset, 4))
        np.testing.assert_array_equal(at.triu_indices(3, 4, offset).numpy(), want)


def test_tensordot_and_kron() -> None:
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 3, 5))
    got = at.tensordot(t64(a), t64(b), ([1, 2], [1, 0])).numpy()
    np.testing.assert_allclose(got, np.tensordot(a, b, ([1, 2], [1, 0])))
    c = RNG.standard_normal((3, 4, 2))
    np.testing.assert_allclose(at.tensordot(t64(a), t64(c)).numpy(), np.tensordot(a, c))
    x, y = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2))
    np.testing.assert_allclose(at.kron(t64(x), t64(y)).numpy(), np.kron(x, y))
    np.testing.assert_allclose(
        at.kron(t64(x), t64([1.0, 2.0])).numpy(), np.kron(x, [1, 2])
    )
    assert at.gradcheck(lambda p, q: at.tensordot(p, q, 1), (rand(2, 3), rand(3, 2)))
    assert at.gradcheck(at.kron, (rand(2, 2), rand(2, 3)))


def test_addmv_baddbmm() -> None:
    i, m, v = (
        RNG.standard_normal(3),
        RNG.standard_normal((3, 4)),
        RNG.standard_normal(4),
    )
    got = at.addmv(t64(i), t64(m), t64(v), beta=0.5, alpha=2.0).numpy()
    np.testing.assert_allclose(got, 0.5 * i + 2.0 * m @ v)
    nan = at.addmv(t64([np.nan] * 3), t64(m), t64(v), beta=0).numpy()
    np.testing.assert_allclose(nan, m @ v)
    bi = RNG.standard_normal((2, 3, 5))
    b1, b2 = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5))
    got = at.baddbmm(t64(bi), t64(b1), t64(b2), beta=2.0, alpha=-1.0).numpy()
    np.testing.assert_allclose(got, 2.0 * bi - b1 @ b2)
    fn = lambda a, b, c: at.baddbmm(a, b, c, alpha=0.5)
    assert at.gradcheck(fn, (rand(2, 3, 2), rand(2, 3, 4), rand(2, 4, 2)))
    x = t64(i)
    x.addmv_(t64(m), t64(v))
    np.testing.assert_allclose(x.numpy(), i + m @ v)


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_cdist(p: float) -> None:
    x1, x2 = RNG.standard_normal((2, 4, 3)), RNG.standard_normal((2, 5, 3))
    d = x1[:, :, None, :] - x2[:, None, :, :]
    if p == 0:
        want = np.count_nonzero(d, axis=-1).astype(np.float64)
    elif p == math.inf:
        want = np.abs(d).max(-1)
    else:
        want = (np.abs(d) ** p).sum(-1) ** (1 / p)
    np.testing.assert_allclose(at.cdist(t64(x1), t64(x2), p).numpy(), want, rtol=1e-12)
    if p > 0:
        assert at.gradcheck(lambda a, b: at.cdist(a, b, p), (rand(3, 2), rand(2, 2)))


def test_cdist_near_points_and_zero_distance() -> None:
    base = np.full((1, 2), 1e8)
    got = at.cdist(t64(base), t64(np.add(base, [[3.0, 4.0]]))).item()
    assert got == 5.0
    x = t64([[1.0, 2.0]], grad=True)
    at.cdist(x, t64([[1.0, 2.0]])).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [[0.0, 0.0]]


def test_methods_and_in_place() -> None:
    x = t64([0.2, 0.7])
    assert x.logit().tolist() == at.logit(x).tolist()
    assert x.erfinv().tolist() == at.erfinv(x).tolist()
    y = t64([0.2, 0.7])
    y.erfinv_()
    assert y.tolist() == at.erfinv(x).tolist()
    z = t64([np.nan, 1.0])
    z.nan_to_num_(nan=3.0)
    assert z.tolist() == [3.0, 1.0]
    w = t64([5.0, -5.0])
    w.fmod_(3.0)
    assert w.tolist() == [2.0, -2.0]
    assert t64([[1.0, 2.0], [3.0, 4.0]]).trace().item() == 5.0
    assert t64([3.0, 1.0]).cummin(0).indices.tolist() == [0, 1]
    q = t64([1.0, 2.0], grad=True)
    with pytest.raises(RuntimeError):
        q.lgamma_()
