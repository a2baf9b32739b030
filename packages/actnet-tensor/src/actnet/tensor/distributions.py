"""torch.distributions' place, for code ported by its imports: `Distribution`,
`Categorical`, `Normal` and `Bernoulli`, what policy-gradient and VAE code
(pytorch/examples reinforce.py, actor_critic.py, vae) draws from and scores.

    from actnet.tensor.distributions import Categorical, Normal
    m = Categorical(logits=scores)       # or Categorical(probs)
    action = m.sample()                  # no grad, int64
    loss = -m.log_prob(action) * advantage
    z = Normal(mu, std).rsample()        # differentiable in mu and std

The formulas are torch 2.13's, written with actnet.tensor's operations, so
gradients flow through `log_prob`, `entropy`, `cdf`, `icdf` and `rsample` as in
torch. Draws come from actnet.device's generator (`manual_seed`): the numbers
are not torch's, the distributions are.

Argument checks follow torch: `validate_args=None` means the class default,
`__debug__` (on unless Python runs with -O), which
`Distribution.set_default_validate_args(False)` turns off. When on, the
constructor checks each parameter it was given against `arg_constraints`
(probs on the simplex or in [0, 1], logits not NaN, scale > 0) and `log_prob`
/ `cdf` check the value's shape and support, raising torch's ValueError.

Not built: `expand`, the other distributions, `kl_divergence`, transforms and
a public `constraints` module (the constraint objects are in
`arg_constraints` and `support`, with torch's names in their repr).
`actnet.tensor.distributions` is reached by importing it (`import
actnet.tensor.distributions`), not as an attribute of a bare `import
actnet.tensor`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

import actnet.ndarray as xp
from actnet.tensor._creation import arange, full, rand, randn, tensor
from actnet.tensor._default_dtype import get_default_dtype
from actnet.tensor._function import Function, FunctionCtx
from actnet.tensor._grad_mode import no_grad
from actnet.tensor._logic import isnan
from actnet.tensor._math import where
from actnet.tensor._pointwise import minimum
from actnet.tensor._random import multinomial
from actnet.tensor._tensor import Tensor

__all__ = ["Bernoulli", "Categorical", "Constraint", "Distribution", "Normal"]

_Shape = tuple[int, ...]


def _shape(size: int | Sequence[int]) -> _Shape:
    """A sample_shape as a tuple: torch takes a torch.Size, a tuple or a list."""
    if isinstance(size, int):
        return (size,)
    return tuple(int(s) for s in size)


# ---------------------------------------------------------------- constraints
class Constraint:
    """A set of values: `check(value)` is True where a value is in it. The
    repr is torch's (`Simplex()`, `GreaterThan(lower_bound=0.0)`)."""

    def check(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Real(Constraint):
    def check(self, value: Tensor) -> Tensor:
        return ~isnan(value)  # torch's value == value: inf counts as real


class _IndependentConstraint(Constraint):
    """The base constraint on every element of the last dimension."""

    def __init__(self, base: Constraint) -> None:
        self.base = base

    def check(self, value: Tensor) -> Tensor:
        return self.base.check(value).all(-1)

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base!r}, 1)"


class _GreaterThan(Constraint):
    def __init__(self, lower_bound: float) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Tensor) -> Tensor:
        return value > self.lower_bound

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound: float, upper_bound: float) -> None:
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    def check(self, value: Tensor) -> Tensor:
        return (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        return (
            f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"
        )


class _IntegerInterval(_Interval):
    def check(self, value: Tensor) -> Tensor:
        return (value % 1 == 0) & super().check(value)

    def __repr__(self) -> str:
        return "Integer" + super().__repr__()


class _Simplex(Constraint):
    def check(self, value: Tensor) -> Tensor:
        # torch's tolerance: the row sums within 1e-6 of 1
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _Boolean(Constraint):
    def check(self, value: Tensor) -> Tensor:
        return (value == 0) | (value == 1)


_real = _Real()
_real_vector = _IndependentConstraint(_real)
_positive = _GreaterThan(0.0)
_unit_interval = _Interval(0.0, 1.0)
_simplex = _Simplex()
_boolean = _Boolean()


def _all_true(valid: Tensor) -> bool:
    return bool(valid.all().item())


# ---------------------------------------------------------------- helpers
def _broadcast_all(*values: Tensor | float) -> tuple[Tensor, ...]:
    """torch.distributions.utils.broadcast_all: numbers become tensors of the
    first tensor's dtype and device (the default dtype when all are numbers),
    then all are expanded to their broadcast shape (views: gradients flow)."""
    first = next((v for v in values if isinstance(v, Tensor)), None)
    tensors = []
    for v in values:
        if isinstance(v, Tensor):
            tensors.append(v)
        elif isinstance(v, int | float):
            if first is None:
                tensors.append(tensor(float(v), dtype=get_default_dtype()))
            else:
                tensors.append(tensor(v, dtype=first.dtype, device=first.device))
        else:
            raise ValueError(  # noqa: TRY004 (torch's error)
                "Input arguments must all be instances of Number or Tensor, "
                f"got {type(v).__name__}"
            )
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(t if tuple(t.shape) == shape else t.expand(*shape) for t in tensors)


def _clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities kept in [eps, 1 - eps], so that their logs are finite."""
    eps = float(xp.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def _log_sigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): exp never overflows.
    `minimum`'s gradient is halved at x = 0 and |x|'s is 0 there, which makes
    the gradient at 0 exactly 1 / 2 = 1 - sigmoid(0); clamp's would give 1."""
    return minimum(x, x.new_zeros(())) - (-x.abs()).exp().log1p()


def _bce_with_logits(logits: Tensor, target: Tensor) -> Tensor:
    """binary_cross_entropy_with_logits(logits, target, reduction="none"):
    (1 - target) * logits - log(sigmoid(logits)), stable for any logit."""
    return (1 - target) * logits - _log_sigmoid(logits)


# Wichura (1988), algorithm AS 241 (PPND16): the standard normal quantile to
# about 1e-16 relative, from p and 1 - p (exact for p >= 1/2), so the tails
# keep their precision; torch's erfinv(2p - 1) agrees to float rounding.
# Each pair is a numerator and a denominator, lowest degree first.
_PPND_CENTRAL = (
    (3.3871328727963666080, 1.3314166789178437745e2, 1.9715909503065514427e3,
     1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
     3.3430575583588128105e4, 2.5090809287301226727e3),
    (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2,
     5.3941960214247511077e3, 2.1213794301586595867e4, 3.9307895800092710610e4,
     2.8729085735721942674e4, 5.2264952788528545610e3),
)  # fmt: skip
_PPND_NEAR = (
    (1.42343711074968357734, 4.63033784615654529590, 5.76949722146069140550,
     3.64784832476320460504, 1.27045825245236838258, 2.41780725177450611770e-1,
     2.27238449892691845833e-2, 7.74545014278341407640e-4),
    (1.0, 2.05319162663775882187, 1.67638483018380384940,
     6.89767334985100004550e-1, 1.48103976427480074590e-1,
     1.51986665636164571966e-2, 5.47593808499534494600e-4,
     1.05075007164441684324e-9),
)  # fmt: skip
_PPND_FAR = (
    (6.65790464350110377720, 5.46378491116411436990, 1.78482653991729133580,
     2.96560571828504891230e-1, 2.65321895265761230930e-2,
     1.24266094738807843860e-3, 2.71155556874348757815e-5,
     2.01033439929228813265e-7),
    (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1,
     1.48753612908506148525e-2, 7.86869131145613259100e-4,
     1.84631831751005468180e-5, 1.42151175831644588870e-7,
     2.04426310338993978564e-15),
)  # fmt: skip
_SQRT_2PI = math.sqrt(2 * math.pi)


def _rational(pair: tuple[tuple[float, ...], tuple[float, ...]], x: Tensor) -> Tensor:
    numerator, denominator = (x.new_full((), c[-1]) for c in pair)
    for a, b in zip(pair[0][-2::-1], pair[1][-2::-1], strict=True):
        numerator = numerator * x + a
        denominator = denominator * x + b
    return numerator / denominator


def _ndtri_values(given: Tensor) -> Tensor:
    """The standard normal quantile without a graph, in float64 where the
    device has it: -inf at 0, inf at 1, NaN outside [0, 1]."""
    wide = given.device.supports(xp.float64)
    p = given.to(xp.float64) if wide else given
    q = p - 0.5
    central = q * _rational(_PPND_CENTRAL, 0.180625 - q * q)
    tail_p = where(q < 0, p, 1 - p)  # min(p, 1 - p), exact
    tiny = float(xp.finfo(p.dtype).smallest_normal)
    r = (-tail_p.clamp(min=tiny).log()).sqrt()  # at most 27: finite everywhere
    tail = where(
        r <= 5.0, _rational(_PPND_NEAR, r - 1.6), _rational(_PPND_FAR, r - 5.0)
    )
    z = where(q.abs() <= 0.425, central, where(q < 0, -tail, tail))
    z = where(p == 0, -math.inf, where(p == 1, math.inf, z))
    z = where((p >= 0) & (p <= 1), z, math.nan)
    return z.to(given.dtype)


class _Ndtri(Function):
    """The standard normal quantile, whose derivative is sqrt(2 pi) exp(z**2 / 2)."""

    @staticmethod
    def forward(ctx: FunctionCtx, p: Tensor) -> Tensor:
        z = _ndtri_values(p)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        (z,) = ctx.saved_tensors
        assert z is not None
        return grad * (z * z / 2).exp() * _SQRT_2PI


def _ndtri(p: Tensor) -> Tensor:
    out: Tensor = _Ndtri.apply(p)
    return out


# ---------------------------------------------------------------- Distribution
class Distribution:
    """The base class: batch_shape, event_shape and torch's argument checks.

    A subclass names its parameters' constraints in `arg_constraints` and its
    values' in `support`, and defines what it can compute (log_prob, entropy,
    mean, variance, sample or rsample, ...); the rest raise NotImplementedError
    as in torch.
    """

    has_rsample: ClassVar[bool] = False
    has_enumerate_support: ClassVar[bool] = False
    arg_constraints: ClassVar[dict[str, Constraint]] = {}
    _given: tuple[str, ...] | None = None  # parameters passed in; None: all
    _validate_args: bool = __debug__  # torch's default: like an assert statement

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument checks on or off for every distribution made later
        without `validate_args=` (torch's default is `__debug__`)."""
        if value not in (True, False):
            raise ValueError(f"validate_args must be True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(
        self,
        batch_shape: Sequence[int] = (),
        event_shape: Sequence[int] = (),
        validate_args: bool | None = None,
    ) -> None:
        self._batch_shape: _Shape = tuple(batch_shape)
        self._event_shape: _Shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            for name, constraint in self._given_params().items():
                self._check_param(name, constraint)

    def _given_params(self) -> dict[str, Constraint]:
        """The parameters that were passed in: one made from another (logits
        from probs) is not checked, as torch skips its lazily made ones."""
        given = self.arg_constraints if self._given is None else self._given
        return {k: c for k, c in self.arg_constraints.items() if k in given}

    def _check_param(self, name: str, constraint: Constraint) -> None:
        value: Tensor = getattr(self, name)
        if not _all_true(constraint.check(value)):
            raise ValueError(
                f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) "
                f"of distribution {self!r} to satisfy the constraint "
                f"{constraint!r}, but found invalid values:\n{value}"
            )

    @property
    def batch_shape(self) -> _Shape:
        return self._batch_shape

    @property
    def event_shape(self) -> _Shape:
        return self._event_shape

    @property
    def support(self) -> Constraint:
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def expand(self, batch_shape: Sequence[int]) -> Distribution:
        raise NotImplementedError(
            f"{type(self).__name__}.expand is not built in actnet: make the "
            "distribution from expanded parameters instead"
        )

    def sample(self, sample_shape: int | Sequence[int] = ()) -> Tensor:
        """A sample of shape sample_shape + batch_shape + event_shape, not
        differentiable."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: int | Sequence[int] = ()) -> Tensor:
        """A reparameterised sample: differentiable in the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample")

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _extended_shape(self, sample_shape: int | Sequence[int] = ()) -> _Shape:
        return _shape(sample_shape) + self._batch_shape + self._event_shape

    def _validate_sample(self, value: Any) -> None:
        """torch's checks of a value to score: a Tensor, whose right-most dims
        broadcast with batch_shape + event_shape, inside the support."""
        if not isinstance(value, Tensor):
            msg = "The value argument to log_prob must be a Tensor"
            raise ValueError(msg)  # noqa: TRY004 (torch's error)
        actual = tuple(value.shape)
        start = len(actual) - len(self._event_shape)
        if actual[start:] != self._event_shape:
            raise ValueError(
                "The right-most size of value must match event_shape: "
                f"{actual} vs {self._event_shape}."
            )
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual), reversed(expected), strict=False):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    "Value is not broadcastable with batch_shape+event_shape: "
                    f"{actual} vs {expected}."
                )
        support = self.support
        if not _all_true(support.check(value)):
            raise ValueError(
                f"Expected value argument (Tensor of shape {actual}) to be within "
                f"the support ({support!r}) of the distribution {self!r}, but "
                f"found invalid values:\n{value}"
            )

    def _support_values(self, values: Tensor, expand: bool) -> Tensor:
        """enumerate_support's layout: the values along dim 0, then batch dims."""
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand(-1, *self._batch_shape)
        return values

    def __repr__(self) -> str:
        shown = []
        for name in self._given_params():
            value: Tensor = getattr(self, name)
            what = value if value.numel() == 1 else tuple(value.shape)
            shown.append(f"{name}: {what}")
        return f"{type(self).__name__}({', '.join(shown)})"


# ---------------------------------------------------------------- Categorical
class Categorical(Distribution):
    """Categories 0 .. K-1 drawn with the last dimension's weights: `probs`
    (non-negative, any positive sum; normalised) or `logits` (unnormalised
    log-probabilities; normalised). The batch is every other dimension.

    >>> m = Categorical(logits=tensor([[0.0, 1.0, 2.0]]))
    >>> m.sample((5,)).shape, m.log_prob(tensor([2])).shape
    ((5, 1), (1,))
    """

    arg_constraints: ClassVar[dict[str, Constraint]] = {
        "probs": _simplex,
        "logits": _real_vector,
    }
    has_enumerate_support: ClassVar[bool] = True

    def __init__(
        self,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError(
                "Either `probs` or `logits` must be specified, but not both."
            )
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self._probs: Tensor | None = probs / probs.sum(-1, keepdim=True)
            self._logits: Tensor | None = None
            self._param = self._probs
            self._given = ("probs",)
        else:
            assert logits is not None
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self._logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            self._probs = None
            self._param = self._logits
            self._given = ("logits",)
        self._num_events = int(self._param.shape[-1])
        super().__init__(tuple(self._param.shape[:-1]), (), validate_args)

    @property
    def probs(self) -> Tensor:
        """The normalised probabilities (from logits: their softmax, made once)."""
        if self._probs is None:
            assert self._logits is not None
            logits = self._logits
            self._probs = (logits - logits.logsumexp(dim=-1, keepdim=True)).exp()
        return self._probs

    @property
    def logits(self) -> Tensor:
        """The normalised log-probabilities (from probs: the log of probs kept in
        [eps, 1 - eps], made once)."""
        if self._logits is None:
            assert self._probs is not None
            self._logits = _clamp_probs(self._probs).log()
        return self._logits

    @property
    def support(self) -> Constraint:
        return _IntegerInterval(0, self._num_events - 1)

    @property
    def param_shape(self) -> _Shape:
        return tuple(self._param.shape)

    @property
    def mean(self) -> Tensor:
        probs = self.probs
        return full(
            self._extended_shape(), math.nan, dtype=probs.dtype, device=probs.device
        )

    @property
    def variance(self) -> Tensor:
        return self.mean

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(dim=-1)

    def sample(self, sample_shape: int | Sequence[int] = ()) -> Tensor:
        shape = _shape(sample_shape)
        count = math.prod(shape)
        if count == 0:
            return full(
                self._extended_shape(shape),
                0,
                dtype=xp.int64,
                device=self._param.device,
            )
        with no_grad():
            rows = self.probs.reshape(-1, self._num_events)
            drawn = multinomial(rows, count, True).T  # (count, rows)
        return drawn.reshape(*self._extended_shape(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        index = value.long().unsqueeze(-1)
        logits = self.logits
        batch = np.broadcast_shapes(tuple(index.shape[:-1]), tuple(logits.shape[:-1]))
        index = index.expand(*batch, 1)
        log_pmf = logits.expand(*batch, self._num_events)
        return log_pmf.gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        # a probability of 0 has logit -inf: clamped, 0 * min is 0, not NaN
        logits = self.logits.clamp(min=float(xp.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(self._num_events, dtype=xp.int64, device=self._param.device)
        return self._support_values(values, expand)


# ---------------------------------------------------------------- Normal
class Normal(Distribution):
    """The normal distribution N(loc, scale ** 2); loc and scale are Tensors or
    numbers, broadcast together.

    >>> m = Normal(tensor([0.0, 1.0]), tensor([1.0, 2.0]))
    >>> m.rsample((3,)).shape        # differentiable in loc and scale
    (3, 2)
    """

    arg_constraints: ClassVar[dict[str, Constraint]] = {
        "loc": _real,
        "scale": _positive,
    }
    has_rsample: ClassVar[bool] = True

    def __init__(
        self,
        loc: Tensor | float,
        scale: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.loc, self.scale = _broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    @property
    def support(self) -> Constraint:
        return _real

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape: int | Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale**2
        return (
            -((value - self.loc) ** 2) / (2 * var)
            - self.scale.log()
            - math.log(math.sqrt(2 * math.pi))
        )

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) * self.scale.reciprocal() / math.sqrt(2)
        return 0.5 * (1 + z.erf())

    def icdf(self, value: Tensor) -> Tensor:
        """The quantile, loc + scale * sqrt(2) * erfinv(2 * value - 1) as in
        torch, computed as the normal quantile of value itself (AS 241), which
        keeps the precision 2 * value - 1 loses in the lower tail."""
        p = _broadcast_all(value, self.loc)[0]
        return self.loc + self.scale * _ndtri(p)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


# ---------------------------------------------------------------- Bernoulli
class Bernoulli(Distribution):
    """1 with probability `probs`, else 0; or given `logits`, the log-odds
    (probs = sigmoid(logits)). Tensors or numbers; samples are floats.

    >>> m = Bernoulli(logits=tensor([0.0, 3.0]))
    >>> m.log_prob(tensor([1.0, 0.0]))   # log(0.5), log(1 - sigmoid(3))
    """

    arg_constraints: ClassVar[dict[str, Constraint]] = {
        "probs": _unit_interval,
        "logits": _real,
    }
    has_enumerate_support: ClassVar[bool] = True

    def __init__(
        self,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError(
                "Either `probs` or `logits` must be specified, but not both."
            )
        if probs is not None:
            (self._param,) = _broadcast_all(probs)
            self._probs: Tensor | None = self._param
            self._logits: Tensor | None = None
            self._given = ("probs",)
        else:
            assert logits is not None
            (self._param,) = _broadcast_all(logits)
            self._logits = self._param
            self._probs = None
            self._given = ("logits",)
        super().__init__(tuple(self._param.shape), (), validate_args)

    @property
    def probs(self) -> Tensor:
        """The probability of 1 (from logits: their sigmoid, made once)."""
        if self._probs is None:
            assert self._logits is not None
            self._probs = self._logits.sigmoid()
        return self._probs

    @property
    def logits(self) -> Tensor:
        """The log-odds (from probs kept in [eps, 1 - eps], made once)."""
        if self._logits is None:
            assert self._probs is not None
            clamped = _clamp_probs(self._probs)
            self._logits = clamped.log() - (-clamped).log1p()
        return self._logits

    @property
    def support(self) -> Constraint:
        return _boolean

    @property
    def param_shape(self) -> _Shape:
        return tuple(self._param.shape)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        probs = self.probs
        mode = (probs >= 0.5).to(probs.dtype)
        return where(probs == 0.5, math.nan, mode)  # a tie has no mode: NaN

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: int | Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            probs = self.probs.expand(*shape)
            u = rand(*shape, dtype=probs.dtype, device=probs.device)
            return (u < probs).to(probs.dtype)  # u in [0, 1): P(u < p) = p

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, target = _broadcast_all(self.logits, value)
        return -_bce_with_logits(logits, target)

    def entropy(self) -> Tensor:
        return _bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(2, dtype=self._param.dtype, device=self._param.device)
        return self._support_values(values, expand)
