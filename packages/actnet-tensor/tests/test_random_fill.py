"""normal, bernoulli, poisson, randint_like and the in-place random fills:
moments and frequencies of fixed-seed draws against their laws (bounds of 6
standard errors), arguments and errors, and the zero gradient of samples."""

from __future__ import annotations

import math

import numpy as np
import pytest

import actnet.tensor as at

N = 200_000


def values(t: at.Tensor) -> np.ndarray:
    return np.asarray(t.tolist(), dtype=np.float64)


def check_mean(x: np.ndarray, mean: float, var: float) -> None:
    assert abs(x.mean() - mean) < 6 * math.sqrt(var / x.size)


def check_var(x: np.ndarray, var: float, kurtosis_excess: float) -> None:
    # the sample variance's standard error: var * sqrt((2 + excess) / n)
    assert abs(x.var() - var) < 6 * var * math.sqrt((2 + kurtosis_excess) / x.size)


def gen(seed: int = 0) -> at.Generator:
    return at.Generator().manual_seed(seed)


def test_normal_four_forms() -> None:
    x = values(at.normal(2.0, 3.0, size=(N,), generator=gen()))
    check_mean(x, 2.0, 9.0)
    check_var(x, 9.0, 0.0)
    mean = at.tensor(np.repeat([-5.0, 5.0], N // 2))
    x = values(at.normal(mean, 0.5, generator=gen(1)))
    check_mean(x[: N // 2], -5.0, 0.25)
    check_mean(x[N // 2 :], 5.0, 0.25)
    x = values(at.normal(1.0, at.full((N,), 2.0), generator=gen(2)))
    check_var(x, 4.0, 0.0)
    out = at.normal(at.zeros(2, 1), at.ones(3))
    assert out.shape == (2, 3)
    assert out.dtype == at.float32
    assert at.normal(0.0, 1.0, size=(2,)).dtype == at.float32
    assert at.normal(at.zeros(2, dtype=at.float64), 1.0).dtype == at.float64


def test_normal_is_reproducible_and_checks_std() -> None:
    a = at.normal(at.zeros(5), 1.0, generator=gen(7))
    b = at.normal(at.zeros(5), 1.0, generator=gen(7))
    assert a.tolist() == b.tolist()
    with pytest.raises(RuntimeError, match=r"std >= 0\.0"):
        at.normal(at.zeros(2), -1.0)
    with pytest.raises(RuntimeError, match=r"all elements of std >= 0\.0"):
        at.normal(at.zeros(2), at.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="size"):
        at.normal(0.0, 1.0)


def test_samples_have_zero_gradients() -> None:
    mean = at.tensor([0.0, 1.0], requires_grad=True)
    std = at.tensor([1.0, 2.0], requires_grad=True)
    at.normal(mean, std).sum().backward()
    assert mean.grad is not None and mean.grad.tolist() == [0.0, 0.0]
    assert std.grad is not None and std.grad.tolist() == [0.0, 0.0]
    p = at.tensor([0.5, 0.2], requires_grad=True)
    at.bernoulli(p).sum().backward()
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0]
    rate = at.tensor([3.0], requires_grad=True)
    at.poisson(rate).sum().backward()
    assert rate.grad is not None and rate.grad.tolist() == [0.0]


def test_bernoulli_frequencies() -> None:
    p = np.tile([0.0, 0.1, 0.5, 0.9, 1.0], N // 5)
    x = values(at.bernoulli(at.tensor(p), generator=gen()))
    for q in (0.0, 0.1, 0.5, 0.9, 1.0):
        check_mean(x[p == q], q, max(q * (1 - q), 1e-12))
    y = at.bernoulli(at.zeros(N, dtype=at.float64), 0.3, generator=gen(1))
    assert y.dtype == at.float64
    check_mean(values(y), 0.3, 0.21)
    with pytest.raises(RuntimeError, match="p_in >= 0 && p_in <= 1"):
        at.bernoulli(at.tensor([1.5]))


@pytest.mark.parametrize("rate", [0.0, 0.5, 4.0, 9.9, 10.0, 37.5, 1e4])
def test_poisson_moments(rate: float) -> None:
    x = values(at.poisson(at.full((N,), rate, dtype=at.float64), generator=gen()))
    assert np.all(x == np.round(x)) and np.all(x >= 0)
    if rate == 0:
        assert np.all(x == 0)
        return
    check_mean(x, rate, rate)
    check_var(x, rate, 1 / rate)


def test_poisson_frequencies_small_and_large() -> None:
    for rate in (3.0, 15.0):
        x = values(at.poisson(at.full((N,), rate), generator=gen(3)))
        for k in range(int(rate) - 2, int(rate) + 3):
            p = math.exp(-rate + k * math.log(rate) - math.lgamma(k + 1))
            check_mean((x == k).astype(float), p, p * (1 - p))


def test_poisson_errors() -> None:
    with pytest.raises(RuntimeError, match="non-negative"):
        at.poisson(at.tensor([-1.0]))
    with pytest.raises(NotImplementedError):
        at.poisson(at.tensor([1]))


def test_randint_like() -> None:
    x = at.randint_like(at.zeros(N, dtype=at.float64), 3, 7, generator=gen())
    assert x.dtype == at.float64 and x.shape == (N,)
    v = values(x)
    assert set(np.unique(v).tolist()) == {3.0, 4.0, 5.0, 6.0}
    check_mean(v, 4.5, 1.25)
    y = at.randint_like(at.zeros(2, 3, dtype=at.int32), 5)
    assert y.dtype == at.int32 and int(y.max()) < 5


def test_exponential_cauchy_log_normal_geometric() -> None:
    t = at.zeros(N, dtype=at.float64)
    x = values(t.exponential_(2.0, generator=gen()))
    check_mean(x, 0.5, 0.25)
    check_var(x, 0.25, 6.0)
    x = values(t.cauchy_(1.0, 2.0, generator=gen(1)))
    # the quartiles of Cauchy(1, 2) are 1 -+ 2; a quantile's standard error
    # is sqrt(q(1 - q) / n) / density
    for q, at_q in ((0.25, -1.0), (0.5, 1.0), (0.75, 3.0)):
        density = 1 / (math.pi * 2 * (1 + ((at_q - 1) / 2) ** 2))
        err = math.sqrt(q * (1 - q) / N) / density
        assert abs(np.quantile(x, q) - at_q) < 6 * err
    x = values(t.log_normal_(0.5, 0.25, generator=gen(2)))
    check_mean(np.log(x), 0.5, 0.0625)
    check_var(np.log(x), 0.0625, 0.0)
    x = values(t.geometric_(0.25, generator=gen(3)))
    assert x.min() >= 1 and np.all(x == np.round(x))
    check_mean(x, 4.0, 0.75 / 0.25**2)
    check_mean((x == 1).astype(float), 0.25, 0.25 * 0.75)


def test_bernoulli_and_random_fills() -> None:
    t = at.zeros(N)
    x = values(t.bernoulli_(0.2, generator=gen()))
    assert set(np.unique(x).tolist()) <= {0.0, 1.0}
    check_mean(x, 0.2, 0.16)
    p = at.tensor(np.tile([0.1, 0.9], N // 2))
    x = values(at.zeros(N, dtype=at.int64).bernoulli_(p, generator=gen(1)))
    check_mean(x[1::2], 0.9, 0.09)
    x = values(t.random_(5, generator=gen(2)))
    assert set(np.unique(x).tolist()) == {0.0, 1.0, 2.0, 3.0, 4.0}
    x = values(t.random_(2, 5))
    assert set(np.unique(x).tolist()) == {2.0, 3.0, 4.0}
    x = values(t.random_(**{"from": -3, "to": 0}))
    assert set(np.unique(x).tolist()) == {-3.0, -2.0, -1.0}
    x = values(t.random_())
    assert x.min() >= 0 and x.max() <= 2**24
    check_mean(x, 2**23, 2**48 / 3)
    u8 = at.zeros(N, dtype=at.uint8).random_()
    assert int(u8.max()) == 255 and int(u8.min()) == 0


def test_fill_errors_and_leaves() -> None:
    t = at.zeros(2)
    with pytest.raises(RuntimeError, match="bernoulli_ expects p to be in"):
        t.bernoulli_(1.5)
    with pytest.raises(RuntimeError, match=r"lambda > 0\.0"):
        t.exponential_(-1.0)
    with pytest.raises(RuntimeError, match=r"geometric_ expects p to be in \(0, 1\)"):
        t.geometric_(0.0)
    with pytest.raises(RuntimeError, match=r"std > 0\.0"):
        t.log_normal_(1.0, 0.0)
    with pytest.raises(RuntimeError, match=r"sigma > 0\.0"):
        t.cauchy_(0.0, 0.0)
    with pytest.raises(RuntimeError, match="'from' to be less than 'to'"):
        t.random_(5, 2)
    with pytest.raises(RuntimeError, match="continuous probability distribution"):
        at.zeros(2, dtype=at.int64).exponential_()
    w = at.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        w.exponential_()
    with at.no_grad():
        w.exponential_()
    assert float(w.min()) > 0
