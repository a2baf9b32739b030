"""actnet.tensor.distributions against independent oracles: densities, entropies
and quantiles written out in NumPy (and the math module's erf / erfc), gradients
by central differences (gradcheck), and sample frequencies and moments from fixed
seeds, with tolerances of several standard errors."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import actnet.tensor as at
from actnet.tensor.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    Normal,
)

ERF = np.vectorize(math.erf)
ERFC = np.vectorize(math.erfc)


def f64(values: object, requires_grad: bool = False) -> at.Tensor:
    return at.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def close(got: at.Tensor, want: object, rtol: float = 1e-12, atol: float = 0) -> None:
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=rtol, atol=atol)


def within_sigmas(observed: float, expected: float, sigma: float) -> None:
    """An estimate within 5 standard errors of its value (fails 1 run in 2e6)."""
    assert abs(observed - expected) <= 5 * sigma, (observed, expected, sigma)


@pytest.fixture
def validation_off() -> Iterator[None]:
    Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        Distribution.set_default_validate_args(True)


# ------------------------------------------------------------ Categorical
P = np.array([[0.1, 0.2, 0.7], [0.5, 0.0, 0.5]])


def test_categorical_normalises_probs_and_logits() -> None:
    m = Categorical(f64(P * 3))
    close(m.probs, P)
    close(m.logits, np.log(np.clip(P, np.finfo(np.float64).eps, None)))
    scores = np.array([1.0, -2.0, 0.5])
    n = Categorical(logits=f64(scores))
    want = scores - np.log(np.exp(scores).sum())
    close(n.logits, want)
    close(n.probs, np.exp(want))
    assert m.batch_shape == (2,) and m.event_shape == ()
    assert n.batch_shape == () and m.param_shape == (2, 3)


@pytest.mark.parametrize(
    ("value_shape", "want_shape"),
    [((2,), (2,)), ((4, 2), (4, 2)), ((4, 1), (4, 2)), ((), (2,))],
)
def test_categorical_log_prob_broadcasts(
    value_shape: tuple[int, ...], want_shape: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(0)
    value = rng.choice([0, 2], size=value_shape)
    got = Categorical(f64(P)).log_prob(at.tensor(value))
    rows = np.broadcast_to(np.arange(2), want_shape)
    want = np.log(P[rows, np.broadcast_to(value, want_shape)])
    assert got.shape == want_shape
    close(got, want)


def test_categorical_entropy_mode_and_moments() -> None:
    m = Categorical(f64(P))
    plogp = np.where(P > 0, P * np.log(np.where(P > 0, P, 1)), 0.0)
    close(m.entropy(), -plogp.sum(-1))  # a zero probability adds 0, not NaN
    close(m.perplexity(), np.exp(-plogp.sum(-1)))
    assert m.mode.tolist() == [2, 0]
    assert m.mean.shape == (2,) and bool(at.isnan(m.mean).all())
    assert bool(at.isnan(m.variance).all())


def test_categorical_enumerate_support() -> None:
    m = Categorical(f64(np.ones((2, 3, 4))))
    full = m.enumerate_support()
    assert full.shape == (4, 2, 3) and full.dtype == at.int64
    assert full[:, 1, 2].tolist() == [0, 1, 2, 3]
    assert m.enumerate_support(expand=False).shape == (4, 1, 1)


@pytest.mark.parametrize(
    ("sample_shape", "want"), [((), (2,)), ((5,), (5, 2)), ((3, 4), (3, 4, 2))]
)
def test_categorical_sample_shape(
    sample_shape: tuple[int, ...], want: tuple[int, ...]
) -> None:
    s = Categorical(f64(P)).sample(sample_shape)
    assert s.shape == want and s.dtype == at.int64 and not s.requires_grad
    assert Categorical(f64(P)).sample(0).shape == (0, 2)


def test_categorical_sample_frequencies() -> None:
    at.manual_seed(1)
    n = 40_000
    probs = f64(P, requires_grad=True)
    draws = Categorical(probs).sample((n,)).numpy()
    for row in range(2):
        for k in range(3):
            p = P[row, k]
            freq = float(np.mean(draws[:, row] == k))
            within_sigmas(freq, p, math.sqrt(p * (1 - p) / n) + 1e-12)
    assert not np.any(draws[:, 1] == 1)  # probability 0: never drawn


def test_categorical_gradients() -> None:
    value = at.tensor([2, 0])
    logits = f64([[0.3, -1.0, 2.0], [0.0, 0.5, -0.5]], requires_grad=True)
    probs = f64([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], requires_grad=True)
    assert at.gradcheck(lambda t: Categorical(logits=t).log_prob(value), (logits,))
    assert at.gradcheck(lambda t: Categorical(logits=t).entropy(), (logits,))
    assert at.gradcheck(lambda t: Categorical(probs=t).log_prob(value), (probs,))
    assert at.gradcheck(lambda t: Categorical(probs=t).entropy(), (probs,))
    # d/dlogits log softmax(logits)[k] = onehot(k) - softmax(logits)
    Categorical(logits=logits).log_prob(value).sum().backward()
    x = logits.detach().numpy()
    soft = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    close(logits.grad, np.eye(3)[[2, 0]] - soft, rtol=1e-12, atol=1e-15)


def test_categorical_refusals() -> None:
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        Categorical()
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        Categorical(f64([0.5, 0.5]), f64([0.0, 0.0]))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        Categorical(f64(1.0))
    with pytest.raises(ValueError, match=r"constraint Simplex\(\)"):
        Categorical(f64([-0.1, 1.0]))
    with pytest.raises(ValueError, match="IndependentConstraint"):
        Categorical(logits=f64([0.0, math.nan]))
    m = Categorical(f64(P))
    for bad in ([3, 0], [1.5, 0.0], [-1, 0]):
        with pytest.raises(ValueError, match=r"IntegerInterval\(lower_bound=0"):
            m.log_prob(at.tensor(bad))
    with pytest.raises(ValueError, match="not broadcastable"):
        m.log_prob(at.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="must be a Tensor"):
        m.log_prob(1)  # type: ignore[arg-type]  # the refusal under test
    with pytest.raises(NotImplementedError, match="has no rsample"):
        m.rsample()
    with pytest.raises(NotImplementedError, match="expand"):
        m.expand((4, 2))


def test_validate_args_false_and_default(validation_off: None) -> None:
    Categorical(f64([-0.1, 1.0]))  # the class default now: no check
    Normal(0.0, -1.0)
    Bernoulli(f64([2.0])).log_prob(f64([0.5]))
    with pytest.raises(ValueError, match="GreaterThan"):
        Normal(0.0, -1.0, validate_args=True)


def test_validate_args_per_instance() -> None:
    assert Distribution._validate_args is __debug__  # torch's default
    Normal(0.0, -1.0, validate_args=False)
    m = Categorical(f64(P), validate_args=False)
    m.log_prob(at.tensor([1, 1]))  # inside the support: fine either way
    with pytest.raises(ValueError, match="True or False"):
        Distribution.set_default_validate_args("no")  # type: ignore[arg-type]  # refused


# ------------------------------------------------------------ Normal
LOC = np.array([0.5, -1.0, 2.0])
SCALE = np.array([1.0, 0.3, 2.5])
X = np.array([0.1, -1.2, 7.0])


def normal_log_pdf(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    return -((x - mu) ** 2) / (2 * sigma**2) - np.log(sigma * math.sqrt(2 * math.pi))


def test_normal_log_prob_entropy_cdf_moments() -> None:
    m = Normal(f64(LOC), f64(SCALE))
    close(m.log_prob(f64(X)), normal_log_pdf(X, LOC, SCALE))
    close(m.entropy(), 0.5 * np.log(2 * math.pi * math.e * SCALE**2))
    close(m.cdf(f64(X)), 0.5 * (1 + ERF((X - LOC) / (SCALE * math.sqrt(2)))))
    close(m.mean, LOC)
    close(m.mode, LOC)
    close(m.stddev, SCALE)
    close(m.variance, SCALE**2)
    assert m.batch_shape == (3,) and not m.has_enumerate_support and m.has_rsample
    # log_prob broadcasts a sample batch over the distribution's batch
    grid = np.stack([X, X + 1])
    close(m.log_prob(f64(grid)), normal_log_pdf(grid, LOC, SCALE))


def test_normal_numbers_and_mixed() -> None:
    m = Normal(0.0, 1.0)
    assert m.batch_shape == () and m.loc.dtype == at.float32
    close(m.log_prob(at.tensor(0.0)), -0.5 * math.log(2 * math.pi), rtol=1e-6)
    n = Normal(f64(LOC), 2.0)
    assert n.scale.shape == (3,) and n.scale.dtype == at.float64


def test_normal_icdf_inverts_the_cdf() -> None:
    p = np.array([1e-300, 1e-20, 1e-6, 0.02, 0.3, 0.5, 0.8, 0.975, 1 - 1e-9])
    z = Normal(0.0, 1.0).icdf(f64(p)).numpy()
    # the lower tail through erfc, which keeps its relative precision
    np.testing.assert_allclose(0.5 * ERFC(-z / math.sqrt(2)), p, rtol=1e-12)
    assert z[7] == pytest.approx(1.959963984540054, rel=1e-14)
    ends = Normal(0.0, 1.0).icdf(f64([0.0, 1.0, 1.5, -0.5])).numpy()
    assert ends[0] == -np.inf and ends[1] == np.inf and np.isnan(ends[2:]).all()
    m = Normal(f64(LOC), f64(SCALE))
    close(m.cdf(m.icdf(f64([0.1, 0.5, 0.9]))), [0.1, 0.5, 0.9], rtol=1e-13)
    z32 = Normal(0.0, 1.0).icdf(at.tensor([0.025, 0.5]))
    assert z32.dtype == at.float32
    close(z32, [-1.959963984540054, 0.0], rtol=1e-6)


def test_normal_gradients() -> None:
    loc = f64(LOC, requires_grad=True)
    scale = f64(SCALE, requires_grad=True)
    x = f64(X, requires_grad=True)
    p = f64([0.01, 0.4, 0.97], requires_grad=True)
    assert at.gradcheck(lambda a, b, v: Normal(a, b).log_prob(v), (loc, scale, x))
    assert at.gradcheck(lambda a, b, v: Normal(a, b).cdf(v), (loc, scale, x))
    assert at.gradcheck(lambda a, b, v: Normal(a, b).icdf(v), (loc, scale, p))
    assert at.gradcheck(lambda b: Normal(loc.detach(), b).entropy(), (scale,))


def test_normal_rsample_and_sample() -> None:
    loc = f64(LOC, requires_grad=True)
    scale = f64(SCALE, requires_grad=True)
    m = Normal(loc, scale)
    s = m.sample((4,))
    assert s.shape == (4, 3) and not s.requires_grad
    r = m.rsample((4,))
    assert r.shape == (4, 3) and r.requires_grad and r.dtype == at.float64
    # reparameterised: d/dloc = 1, d/dscale = eps = (x - loc) / scale
    r.sum().backward()
    eps = (r.detach().numpy() - LOC) / SCALE
    close(loc.grad, np.full(3, 4.0))
    close(scale.grad, eps.sum(0), rtol=1e-12)

    def loss(a: at.Tensor, b: at.Tensor) -> at.Tensor:
        at.manual_seed(7)  # the same noise at every evaluation
        z = Normal(a, b).rsample((5,))
        return (z * z).sum() + Normal(a, b).log_prob(z).sum()

    assert at.gradcheck(loss, (loc, scale))


def test_normal_sample_moments() -> None:
    at.manual_seed(3)
    n = 100_000
    draws = Normal(f64(LOC), f64(SCALE)).sample((n,)).numpy()
    for j in range(3):
        within_sigmas(draws[:, j].mean(), LOC[j], SCALE[j] / math.sqrt(n))
        # the sample variance's standard error: sigma^2 sqrt(2 / (n - 1))
        within_sigmas(draws[:, j].var(), SCALE[j] ** 2, SCALE[j] ** 2 * (2 / n) ** 0.5)
    # a fraction below loc + scale: Phi(1)
    phi1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    below = float(np.mean(draws[:, 0] < LOC[0] + SCALE[0]))
    within_sigmas(below, phi1, math.sqrt(phi1 * (1 - phi1) / n))


def test_normal_refusals() -> None:
    with pytest.raises(ValueError, match=r"GreaterThan\(lower_bound=0.0\)"):
        Normal(f64([0.0, 1.0]), f64([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"parameter loc .* Real\(\)"):
        Normal(f64([math.nan]), f64([1.0]))
    m = Normal(f64(LOC), f64(SCALE))
    with pytest.raises(ValueError, match="not broadcastable"):
        m.log_prob(f64([0.0, 1.0]))
    with pytest.raises(ValueError, match="must be a Tensor"):
        m.cdf(0.5)  # type: ignore[arg-type]  # the refusal under test
    with pytest.raises(ValueError, match="Input arguments must all"):
        Normal("0", 1.0)  # type: ignore[arg-type]  # the refusal under test


# ------------------------------------------------------------ Bernoulli
BP = np.array([0.0, 0.2, 0.5, 0.9, 1.0])


def test_bernoulli_from_probs() -> None:
    m = Bernoulli(f64(BP))
    eps = np.finfo(np.float64).eps  # torch keeps probs in [eps, 1 - eps]
    pc = np.clip(BP, eps, 1 - eps)
    close(m.log_prob(f64(np.ones(5))), np.log(pc), rtol=1e-9, atol=1e-13)
    close(m.log_prob(f64(np.zeros(5))), np.log1p(-pc), rtol=1e-9, atol=1e-13)
    q = np.clip(BP, 1e-300, 1)
    entropy = -(BP * np.log(q) + (1 - BP) * np.log(np.clip(1 - BP, 1e-300, 1)))
    close(m.entropy(), entropy, atol=1e-13)
    close(m.mean, BP)
    close(m.variance, BP * (1 - BP))
    mode = m.mode.numpy()
    assert mode.tolist()[:2] == [0.0, 0.0] and np.isnan(mode[2])
    assert mode.tolist()[3:] == [1.0, 1.0]


def test_bernoulli_from_logits_is_stable() -> None:
    logits = np.array([-1000.0, -30.0, 0.0, 2.0, 40.0, 1000.0])
    m = Bernoulli(logits=f64(logits))
    # log sigmoid(x) = -log1p(exp(-x)), log(1 - sigmoid(x)) = -log1p(exp(x))
    log1pexp = np.logaddexp(0.0, logits)
    # torch's formula, (1 - y) x - log sigmoid(x), is exact to eps * |x|
    close(m.log_prob(f64(np.ones(6))), -np.logaddexp(0.0, -logits), atol=1e-12)
    close(m.log_prob(f64(np.zeros(6))), -log1pexp, atol=1e-12)
    close(m.probs, np.exp(-np.logaddexp(0.0, -logits)))
    assert np.isfinite(m.entropy().numpy()).all()
    assert Bernoulli(logits=3.0).batch_shape == ()


def test_bernoulli_gradients() -> None:
    logits = f64([-3.0, 0.0, 0.0, 1.5], requires_grad=True)
    value = f64([1.0, 0.0, 1.0, 0.0])
    assert at.gradcheck(lambda t: Bernoulli(logits=t).log_prob(value), (logits,))
    assert at.gradcheck(lambda t: Bernoulli(logits=t).entropy(), (logits,))
    probs = f64([0.1, 0.5, 0.8], requires_grad=True)
    assert at.gradcheck(lambda t: Bernoulli(t).log_prob(f64([1, 0, 0])), (probs,))
    assert at.gradcheck(lambda t: Bernoulli(t).entropy(), (probs,))
    # exactly sigmoid(x) - y at x = 0 too, where log-sigmoid has a kink in |x|
    Bernoulli(logits=logits).log_prob(value).sum().backward()
    x = logits.detach().numpy()
    close(logits.grad, value.numpy() - 1 / (1 + np.exp(-x)), rtol=1e-12)


def test_bernoulli_sample() -> None:
    at.manual_seed(5)
    n = 40_000
    s = Bernoulli(f64(BP)).sample((n,))
    assert s.shape == (n, 5) and s.dtype == at.float64 and not s.requires_grad
    draws = s.numpy()
    assert set(np.unique(draws)) <= {0.0, 1.0}
    for j, p in enumerate(BP):
        freq = float(draws[:, j].mean())
        within_sigmas(freq, p, math.sqrt(p * (1 - p) / n) + 1e-12)
    assert Bernoulli(0.3).sample().shape == ()
    support = Bernoulli(f64(np.full((2, 3), 0.5))).enumerate_support()
    assert support.shape == (2, 2, 3) and support[:, 1, 2].tolist() == [0.0, 1.0]


def test_bernoulli_refusals() -> None:
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        Bernoulli()
    with pytest.raises(ValueError, match=r"Interval\(lower_bound=0.0"):
        Bernoulli(f64([0.5, 1.2]))
    with pytest.raises(ValueError, match=r"support \(Boolean\(\)\)"):
        Bernoulli(f64([0.5])).log_prob(f64([0.5]))


def test_reprs() -> None:
    assert repr(Categorical(f64(P))) == "Categorical(probs: (2, 3))"
    assert repr(Normal(f64(LOC), 1.0)) == "Normal(loc: (3,), scale: (3,))"
    assert repr(Bernoulli(logits=f64([0.0, 1.0]))) == "Bernoulli(logits: (2,))"


BASE: dict[str, Callable[[Distribution], object]] = {
    "mean": lambda d: d.mean,
    "variance": lambda d: d.variance,
    "entropy": lambda d: d.entropy(),
    "log_prob": lambda d: d.log_prob(f64(0.0)),
    "cdf": lambda d: d.cdf(f64(0.0)),
    "enumerate_support": lambda d: d.enumerate_support(),
    "support": lambda d: d.support,
}


@pytest.mark.parametrize("name", BASE)
def test_base_raises_not_implemented(name: str) -> None:
    with pytest.raises(NotImplementedError):
        BASE[name](Distribution())
