"""actnet.tensor.distributions against torch.distributions 2.13 with the same
parameters: log_prob, entropy, cdf, icdf, moments, the gradients of log_prob
and of losses through rsample (torch's rsample fed actnet's noise), sample
shapes and dtypes, and the argument checks' errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.distributions as td

import actnet.tensor as at
import actnet.tensor.distributions as ad

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(4, 5)) * 2
PROBS = RNG.uniform(0.0, 1.0, size=(4, 5))
PROBS[1, 2] = 0.0  # a category that cannot happen: its logit is clamped
LOC = RNG.normal(size=(4,))
SCALE = RNG.uniform(0.2, 3.0, size=(4,))
BERNOULLI_P = np.array([0.0, 0.1, 0.5, 0.73, 1.0])
BERNOULLI_LOGITS = np.array([-40.0, -1.5, 0.0, 2.0, 35.0])

SIZE = re.compile(r"torch\.Size\(\[([^\]]*)\]\)")
DTYPES = [(np.float64, 1e-12), (np.float32, 2e-6)]


def pair(values: np.ndarray, dtype: Any) -> tuple[at.Tensor, torch.Tensor]:
    """The same values as two leaves that require grad."""
    array = np.asarray(values, dtype=dtype)
    return (
        at.tensor(array, requires_grad=True),
        torch.tensor(array, requires_grad=True),
    )


def same(got: at.Tensor, want: torch.Tensor, rtol: float, atol: float = 0) -> None:
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    np.testing.assert_allclose(
        got.detach().numpy(), want.detach().numpy(), rtol=rtol, atol=atol
    )


def same_grads(
    ours: list[at.Tensor], theirs: list[torch.Tensor], rtol: float, atol: float
) -> None:
    for a, t in zip(ours, theirs, strict=True):
        assert a.grad is not None and t.grad is not None
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


# ------------------------------------------------------------ Categorical
@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
@pytest.mark.parametrize("by", ["probs", "logits"])
@pytest.mark.parametrize("value_shape", [(4,), (3, 4), (3, 1), ()])
def test_categorical(
    by: str, value_shape: tuple[int, ...], dtype: Any, rtol: float
) -> None:
    param = PROBS if by == "probs" else LOGITS
    a_param, t_param = pair(param, dtype)
    ours = ad.Categorical(**{by: a_param})
    theirs = td.Categorical(**{by: t_param})
    # all categories, the impossible one (probs[1, 2] = 0) included
    value = np.random.default_rng(len(value_shape)).integers(0, 5, size=value_shape)
    a_lp = ours.log_prob(at.tensor(value))
    t_lp = theirs.log_prob(torch.tensor(value))
    same(a_lp, t_lp, rtol)
    same(ours.entropy(), theirs.entropy(), rtol)
    same(ours.probs, theirs.probs, rtol)
    same(ours.logits, theirs.logits, rtol, atol=rtol)
    assert ours.mode.tolist() == theirs.mode.tolist()
    assert ours.batch_shape == tuple(theirs.batch_shape)
    assert ours.param_shape == tuple(theirs.param_shape)
    for expand in (True, False):
        same(ours.enumerate_support(expand), theirs.enumerate_support(expand), 0)
    (a_lp.sum() + ours.entropy().sum()).backward()
    (t_lp.sum() + theirs.entropy().sum()).backward()
    same_grads([a_param], [t_param], rtol=10 * rtol, atol=rtol)


@pytest.mark.parametrize("sample_shape", [(), (7,), (2, 3), 5])
@pytest.mark.parametrize("param_shape", [(5,), (4, 5), (2, 1, 5)])
def test_categorical_sample_shapes(
    sample_shape: Any, param_shape: tuple[int, ...]
) -> None:
    probs = np.ones(param_shape)
    ours = ad.Categorical(at.tensor(probs)).sample(sample_shape)
    shape = (
        torch.Size([sample_shape]) if isinstance(sample_shape, int) else sample_shape
    )
    theirs = td.Categorical(torch.tensor(probs)).sample(shape)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == at.int64
    assert theirs.dtype == torch.int64


# ------------------------------------------------------------ Normal
@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
def test_normal(dtype: Any, rtol: float) -> None:
    a_loc, t_loc = pair(LOC, dtype)
    a_scale, t_scale = pair(SCALE, dtype)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4)) * 2
    p = rng.uniform(0.001, 0.999, size=(3, 4))
    a_x, t_x = pair(x, dtype)
    a_p, t_p = pair(p, dtype)
    ours, theirs = ad.Normal(a_loc, a_scale), td.Normal(t_loc, t_scale)
    outputs = [
        (ours.log_prob(a_x), theirs.log_prob(t_x)),
        (ours.entropy(), theirs.entropy()),
        (ours.cdf(a_x), theirs.cdf(t_x)),
        (ours.icdf(a_p), theirs.icdf(t_p)),
    ]
    for got, want in outputs:
        same(got, want, rtol, atol=rtol)
    for got, want in [(ours.mean, theirs.mean), (ours.variance, theirs.variance)]:
        same(got, want, rtol)
    same(ours.stddev, theirs.stddev, rtol)
    a_total, t_total = outputs[0][0].sum(), outputs[0][1].sum()
    for got, want in outputs[1:]:
        a_total, t_total = a_total + got.sum(), t_total + want.sum()
    a_total.backward()
    t_total.backward()
    # icdf's gradient in p is sqrt(2 pi) exp(z^2 / 2): large, float32 keeps 1e-5
    same_grads([a_loc, a_scale, a_x, a_p], [t_loc, t_scale, t_x, t_p], 50 * rtol, rtol)


@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
def test_normal_rsample_losses(
    monkeypatch: pytest.MonkeyPatch, dtype: Any, rtol: float
) -> None:
    """torch's rsample given actnet's noise: the same samples and gradients of
    a loss through them (a VAE's reconstruction and KL-like terms)."""
    a_loc, t_loc = pair(LOC, dtype)
    a_scale, t_scale = pair(SCALE, dtype)
    at.manual_seed(11)
    z = ad.Normal(a_loc, a_scale).rsample((6,))
    noise = (z.detach().numpy() - LOC.astype(dtype)) / SCALE.astype(dtype)

    def standard_normal(shape: Any, dtype: Any, device: Any) -> torch.Tensor:
        assert tuple(shape) == noise.shape
        return torch.tensor(noise, dtype=dtype, device=device)

    monkeypatch.setattr(torch.distributions.normal, "_standard_normal", standard_normal)
    t_z = td.Normal(t_loc, t_scale).rsample((6,))
    same(z, t_z, rtol, atol=rtol)

    def loss(lib: Any, dist: Any, sample: Any, loc: Any, scale: Any) -> Any:
        prior = dist(lib.zeros_like(loc), lib.ones_like(scale))
        return (sample**2).mean() + (
            dist(loc, scale).log_prob(sample) - prior.log_prob(sample)
        ).sum()

    a_loss = loss(at, ad.Normal, z, a_loc, a_scale)
    t_loss = loss(torch, td.Normal, t_z, t_loc, t_scale)
    same(a_loss, t_loss, rtol, atol=rtol)
    a_loss.backward()
    t_loss.backward()
    same_grads([a_loc, a_scale], [t_loc, t_scale], 10 * rtol, rtol)


@pytest.mark.parametrize("sample_shape", [(), (7,), (2, 3)])
@pytest.mark.parametrize("numbers", [True, False])
def test_normal_sample_shapes(sample_shape: tuple[int, ...], numbers: bool) -> None:
    def make(lib: Any, dist: Any) -> Any:
        if numbers:
            return dist(0.5, 2.0)
        return dist(lib.zeros(2, 3), lib.ones(3))

    ours, theirs = make(at, ad.Normal), make(torch, td.Normal)
    for method in ("sample", "rsample"):
        got = getattr(ours, method)(sample_shape)
        want = getattr(theirs, method)(sample_shape)
        assert tuple(got.shape) == tuple(want.shape)
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    assert ours.batch_shape == tuple(theirs.batch_shape)


# ------------------------------------------------------------ Bernoulli
@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
@pytest.mark.parametrize("by", ["probs", "logits"])
def test_bernoulli(by: str, dtype: Any, rtol: float) -> None:
    param = BERNOULLI_P if by == "probs" else BERNOULLI_LOGITS
    a_param, t_param = pair(param, dtype)
    ours = ad.Bernoulli(**{by: a_param})
    theirs = td.Bernoulli(**{by: t_param})
    value = np.array([[0.0, 1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0, 0.0]])
    a_lp = ours.log_prob(at.tensor(value.astype(dtype)))
    t_lp = theirs.log_prob(torch.tensor(value.astype(dtype)))
    # (1 - y) x - log sigmoid(x) is exact to eps * |x|, in both
    atol = 40 * np.finfo(dtype).eps
    same(a_lp, t_lp, rtol, atol)
    same(ours.entropy(), theirs.entropy(), rtol, atol)
    for got, want in [
        (ours.probs, theirs.probs),
        (ours.logits, theirs.logits),
        (ours.mean, theirs.mean),
        (ours.variance, theirs.variance),
        (ours.mode, theirs.mode),
    ]:
        np.testing.assert_allclose(
            got.detach().numpy(), want.detach().numpy(), rtol=rtol, atol=atol
        )
    same(ours.enumerate_support(), theirs.enumerate_support(), 0)
    (a_lp.sum() + ours.entropy().sum()).backward()
    (t_lp.sum() + theirs.entropy().sum()).backward()
    same_grads([a_param], [t_param], 10 * rtol, atol)


@pytest.mark.parametrize("sample_shape", [(), (7,), (2, 3)])
def test_bernoulli_sample_shapes(sample_shape: tuple[int, ...]) -> None:
    for param in (0.3, np.full((2, 3), 0.3)):
        ours = ad.Bernoulli(param if isinstance(param, float) else at.tensor(param))
        theirs = td.Bernoulli(
            param if isinstance(param, float) else torch.tensor(param)
        )
        got, want = ours.sample(sample_shape), theirs.sample(sample_shape)
        assert tuple(got.shape) == tuple(want.shape)
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.")


# ------------------------------------------------------------ argument checks
CHECKS: dict[str, Callable[[Any, Any], Any]] = {
    "categorical negative probs": lambda lib, d: d.Categorical(lib.tensor([-0.5, 1.0])),
    "categorical nan logits": lambda lib, d: d.Categorical(
        logits=lib.tensor([0.0, float("nan")])
    ),
    "categorical value above": lambda lib, d: d.Categorical(
        lib.tensor([0.5, 0.5])
    ).log_prob(lib.tensor(2)),
    "categorical value shape": lambda lib, d: d.Categorical(lib.ones(2, 3)).log_prob(
        lib.tensor([0, 1, 2])
    ),
    "normal zero scale": lambda lib, d: d.Normal(lib.tensor([0.0]), lib.tensor([0.0])),
    "normal nan loc": lambda lib, d: d.Normal(lib.tensor([float("nan")]), 1.0),
    "normal number value": lambda lib, d: d.Normal(0.0, 1.0).log_prob(0.5),
    "bernoulli probs 2": lambda lib, d: d.Bernoulli(lib.tensor([2.0])),
    "bernoulli value 0.5": lambda lib, d: d.Bernoulli(lib.tensor([1.0])).log_prob(
        lib.tensor([0.5])
    ),
    "neither": lambda lib, d: d.Bernoulli(),
    "both": lambda lib, d: d.Categorical(lib.ones(2), lib.ones(2)),
    "categorical 0-d": lambda lib, d: d.Categorical(lib.tensor(1.0)),
}


def _size_as_tuple(match: re.Match[str]) -> str:
    sizes = [int(n) for n in match.group(1).split(",") if n.strip()]
    return str(tuple(sizes))


def first_line(call: Callable[[], Any]) -> tuple[str, str]:
    """The error's type and its message up to the values it prints (tensors
    print differently), with torch.Size([2]) spelled as actnet's (2,)."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001  # compared with torch's
        message = str(exc).split("but found invalid values")[0]
        return type(exc).__name__, SIZE.sub(_size_as_tuple, message)
    return "ok", ""


@pytest.mark.parametrize("name", CHECKS)
def test_argument_checks(name: str) -> None:
    got = first_line(lambda: CHECKS[name](at, ad))
    want = first_line(lambda: CHECKS[name](torch, td))
    assert got == want
    assert got[0] != "ok"


def test_validation_off_as_torch() -> None:
    ours = ad.Normal(0.0, -1.0, validate_args=False)
    theirs = td.Normal(0.0, -1.0, validate_args=False)
    assert np.isnan(ours.entropy().item()) == np.isnan(theirs.entropy().item())
    assert ad.Distribution._validate_args is td.Distribution._validate_args
