"""actnet.nn.init: each initialiser's statistics against its formula on large
draws, fills in place under no_grad, returns its tensor, honours generator=,
and rejects bad arguments. Gains and fans against hand-computed values.

Tolerances: with n = 200 * 500 = 100000 draws, a sample mean is off from the
true one by about std / sqrt(n) = 0.0032 std and a sample std by about
std / sqrt(2n) = 0.0022 std (a little more or less depending on the
distribution's kurtosis); 0.02 std is more than 6 standard errors for both."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import to_numpy

import actnet.tensor as at
from actnet import nn
from actnet.device import Generator

init = nn.init
SHAPE = (200, 500)  # fan_in 500, fan_out 200
TOL = 0.02


def _draw(fn: Any, shape: tuple[int, ...] = SHAPE, **kwargs: Any) -> np.ndarray:
    t = at.empty(*shape, dtype=at.float64)
    out = fn(t, generator=Generator(1), **kwargs)
    assert out is t
    return to_numpy(t)


def _check_moments(values: np.ndarray, mean: float, std: float) -> None:
    assert abs(values.mean() - mean) < TOL * std
    assert abs(values.std() / std - 1) < TOL


def test_uniform_() -> None:
    v = _draw(init.uniform_, a=-2.0, b=1.0)
    assert v.min() >= -2.0 and v.max() < 1.0
    _check_moments(v, -0.5, 3 / math.sqrt(12))


def test_normal_() -> None:
    _check_moments(_draw(init.normal_, mean=3.0, std=0.5), 3.0, 0.5)


def _truncated_moments(
    mu: float, sigma: float, a: float, b: float
) -> tuple[float, float]:
    """Mean and std of N(mu, sigma^2) truncated to [a, b] (closed form)."""
    alpha, beta = (a - mu) / sigma, (b - mu) / sigma
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2
    mass = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / mass
    var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - shift**2
    return mu + sigma * shift, sigma * math.sqrt(var)


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [(0.0, 1.0, -2.0, 2.0), (0.1, 0.02, 0.08, 0.16), (0.0, 1.0, 1.5, 3.0)],
)
def test_trunc_normal_(mean: float, std: float, a: float, b: float) -> None:
    # the last two draw by rejection under the density (mass below 30%)
    v = _draw(init.trunc_normal_, mean=mean, std=std, a=a, b=b)
    assert v.min() >= a and v.max() <= b
    m, s = _truncated_moments(mean, std, a, b)
    _check_moments(v, m, s)


def test_trunc_normal_warns_when_mean_is_far_from_the_interval() -> None:
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(at.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


def test_constant_ones_zeros_eye() -> None:
    np.testing.assert_array_equal(to_numpy(init.constant_(at.empty(2, 3), 0.25)), 0.25)
    np.testing.assert_array_equal(to_numpy(init.ones_(at.empty(4))), 1.0)
    np.testing.assert_array_equal(to_numpy(init.zeros_(at.ones(4))), 0.0)
    np.testing.assert_array_equal(to_numpy(init.eye_(at.empty(2, 3))), np.eye(2, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(at.empty(2, 2, 2))


def test_dirac_passes_channels_through() -> None:
    w = to_numpy(init.dirac_(at.empty(4, 2, 3, 3), groups=2))
    expected = np.zeros((4, 2, 3, 3))
    for g in range(2):
        for d in range(2):
            expected[g * 2 + d, d, 1, 1] = 1.0
    np.testing.assert_array_equal(w, expected)


def test_xavier() -> None:
    # bound = gain * sqrt(6 / (fan_in + fan_out)), std = gain * sqrt(2 / (fans))
    bound = 2.0 * math.sqrt(6 / 700)
    v = _draw(init.xavier_uniform_, gain=2.0)
    assert np.abs(v).max() <= bound
    _check_moments(v, 0.0, bound / math.sqrt(3))
    _check_moments(_draw(init.xavier_normal_), 0.0, math.sqrt(2 / 700))


@pytest.mark.parametrize(
    ("kwargs", "gain", "fan"),
    [
        ({}, math.sqrt(2 / (1 + 0.0)), 500),  # leaky_relu, a = 0
        ({"a": math.sqrt(5)}, math.sqrt(2 / 6), 500),
        ({"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2), 200),
        ({"nonlinearity": "tanh"}, 5 / 3, 500),
    ],
)
def test_kaiming(kwargs: dict[str, Any], gain: float, fan: int) -> None:
    std = gain / math.sqrt(fan)
    v = _draw(init.kaiming_uniform_, **kwargs)
    assert np.abs(v).max() <= math.sqrt(3) * std
    _check_moments(v, 0.0, std)
    _check_moments(_draw(init.kaiming_normal_, **kwargs), 0.0, std)


def test_kaiming_counts_the_receptive_field() -> None:
    v = _draw(init.kaiming_normal_, shape=(64, 32, 5, 5))  # fan_in = 32 * 25 = 800
    _check_moments(v, 0.0, math.sqrt(2 / 800))


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 3, 2)])
def test_orthogonal_(shape: tuple[int, ...]) -> None:
    q = _draw(init.orthogonal_, shape=shape, gain=1.5).reshape(shape[0], -1)
    rows, cols = q.shape
    gram = q @ q.T if rows <= cols else q.T @ q
    np.testing.assert_allclose(gram, 1.5**2 * np.eye(min(rows, cols)), atol=1e-12)


def test_sparse_() -> None:
    v = _draw(init.sparse_, shape=(100, 50), sparsity=0.3, std=0.5)
    zeros_per_column = (v == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros_per_column, 30)  # ceil(0.3 * 100)
    _check_moments(v[v != 0], 0.0, 0.5)  # 3500 draws: ~5 standard errors


@pytest.mark.parametrize(
    ("nonlinearity", "param", "expected"),
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(
    nonlinearity: Any, param: float | None, expected: float
) -> None:
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        expected, rel=1e-15
    )


def test_calculate_gain_rejects_unknown_names_and_slopes() -> None:
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "0.1")  # type: ignore[arg-type]  # wrong on purpose


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((3, 4), (4, 3)), ((8, 4, 3, 3), (36, 72)), ((5, 2, 7), (14, 35))],
)
def test_fans(shape: tuple[int, ...], fans: tuple[int, int]) -> None:
    assert init.calculate_fan_in_and_fan_out(at.empty(*shape)) == fans
    assert init._calculate_fan_in_and_fan_out(at.empty(*shape)) == fans
    with pytest.raises(ValueError, match="fewer than 2"):
        init.calculate_fan_in_and_fan_out(at.empty(3))


def test_fills_in_place_without_recording_a_graph() -> None:
    p = nn.Parameter(at.empty(4, 5))
    out = init.kaiming_uniform_(p)
    assert out is p
    assert p.is_leaf and p.requires_grad and p.grad is None
    (p * 2).sum().backward()  # still a usable leaf
    assert p.grad is not None


def test_generator_makes_draws_reproducible() -> None:
    a = init.normal_(at.empty(10), generator=Generator(7))
    b = init.normal_(at.empty(10), generator=Generator(7))
    c = init.normal_(at.empty(10), generator=Generator(8))
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    assert not np.array_equal(to_numpy(a), to_numpy(c))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: init.uniform_(at.empty(3), 1.0, 0.0), ValueError, "a <= b"),
        (lambda: init.normal_(at.empty(3), std=-1.0), ValueError, "std"),
        (lambda: init.trunc_normal_(at.empty(3), a=1.0, b=0.0), ValueError, "a < b"),
        (
            lambda: init.kaiming_uniform_(at.empty(3, 3), mode="fan_avg"),
            ValueError,
            "fan_avg",
        ),
        (lambda: init.normal_(np.zeros(3)), TypeError, "Tensor"),
        (lambda: init.uniform_(at.empty(3, dtype=at.int64)), TypeError, "floating"),
        (lambda: init.normal_(at.empty(3), generator=7), TypeError, "generator"),
        (lambda: init.orthogonal_(at.empty(3)), ValueError, "2 or more"),
        (lambda: init.sparse_(at.empty(3, 3), sparsity=2.0), ValueError, "sparsity"),
        (lambda: init.dirac_(at.empty(3, 3)), ValueError, "3, 4, or 5"),
    ],
)
def test_bad_arguments(call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_zero_element_kaiming_warns_and_returns() -> None:
    t = at.empty(0, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_normal_(t) is t
