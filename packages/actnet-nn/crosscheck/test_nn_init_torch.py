"""actnet.nn.init and the layers' default initialisation against torch's: the
generators differ, so the values are compared as distributions (a two-sample
Kolmogorov-Smirnov test) and by their bounds; gains and fans exactly."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn
from actnet.device import Generator

# Two samples of n and m values from one distribution differ in KS statistic by
# more than c * sqrt((n + m) / (n m)) with probability alpha, c = sqrt(-ln(alpha
# / 2) / 2): alpha = 1e-6 gives c = 2.69, so a false failure is a one in a
# million event, while a wrong scale (say 10% off in std) on 20000 values gives a
# statistic of about 0.04, far above the threshold of 0.027.
KS_C = math.sqrt(-math.log(1e-6 / 2) / 2)


def _ks_same(a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    da = np.searchsorted(a, grid, side="right") / a.size
    db = np.searchsorted(b, grid, side="right") / b.size
    stat = np.abs(da - db).max()
    limit = KS_C * math.sqrt((a.size + b.size) / (a.size * b.size))
    assert stat < limit, f"KS statistic {stat:.4f} >= {limit:.4f}"


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy(), dtype=np.float64)


INITS: list[tuple[str, Callable[..., Any], dict[str, Any], tuple[int, ...]]] = [
    ("uniform_", lambda m: m.uniform_, {"a": -0.3, "b": 0.7}, (200, 100)),
    ("normal_", lambda m: m.normal_, {"mean": 0.5, "std": 0.2}, (200, 100)),
    ("trunc_normal_", lambda m: m.trunc_normal_, {}, (200, 100)),
    (
        "trunc_normal_-narrow",
        lambda m: m.trunc_normal_,
        {"std": 0.02, "a": -0.01, "b": 0.03},
        (200, 100),
    ),
    (
        "trunc_normal_-tail",
        lambda m: m.trunc_normal_,
        {"mean": 0.0, "std": 1.0, "a": 2.0, "b": 3.0},
        (200, 100),
    ),
    ("xavier_uniform_", lambda m: m.xavier_uniform_, {"gain": 2.0}, (200, 100)),
    ("xavier_normal_", lambda m: m.xavier_normal_, {}, (50, 40, 3, 3)),
    ("kaiming_uniform_", lambda m: m.kaiming_uniform_, {"a": math.sqrt(5)}, (200, 100)),
    (
        "kaiming_uniform_-fan-out",
        lambda m: m.kaiming_uniform_,
        {"mode": "fan_out", "nonlinearity": "relu"},
        (20, 40, 5, 5),
    ),
    ("kaiming_normal_", lambda m: m.kaiming_normal_, {}, (200, 100)),
    (
        "kaiming_normal_-tanh",
        lambda m: m.kaiming_normal_,
        {"mode": "fan_out", "nonlinearity": "tanh"},
        (100, 200),
    ),
    ("orthogonal_", lambda m: m.orthogonal_, {"gain": 1.5}, (100, 200)),
    ("orthogonal_-tall", lambda m: m.orthogonal_, {}, (300, 20, 2)),
    ("sparse_", lambda m: m.sparse_, {"sparsity": 0.3, "std": 0.5}, (200, 100)),
]


@pytest.mark.parametrize(
    ("name", "get", "kwargs", "shape"), INITS, ids=[i[0] for i in INITS]
)
def test_init_distribution_matches_torch(
    name: str, get: Callable[..., Any], kwargs: dict[str, Any], shape: tuple[int, ...]
) -> None:
    torch.manual_seed(0)
    expected = get(torch.nn.init)(torch.empty(shape, dtype=torch.float64), **kwargs)
    ours = at.empty(*shape, dtype=at.float64)
    result = get(nn.init)(ours, generator=Generator(0), **kwargs)
    assert result is ours
    _ks_same(_np(expected), _np(ours))
    lo, hi = _np(expected).min(), _np(expected).max()
    span = hi - lo
    assert _np(ours).min() >= lo - 0.1 * span
    assert _np(ours).max() <= hi + 0.1 * span


def test_orthogonal_is_orthogonal_like_torch() -> None:
    q = _np(nn.init.orthogonal_(at.empty(6, 10, dtype=at.float64), gain=2.0))
    t = _np(
        torch.nn.init.orthogonal_(torch.empty(6, 10, dtype=torch.float64), gain=2.0)
    )
    np.testing.assert_allclose(q @ q.T, t @ t.T, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("eye_", (3, 5)),
        ("zeros_", (2, 3)),
        ("ones_", (4,)),
        ("dirac_", (4, 2, 3)),
        ("dirac_", (6, 3, 3, 3)),
    ],
)
def test_deterministic_init_matches_torch(name: str, shape: tuple[int, ...]) -> None:
    t = getattr(torch.nn.init, name)(torch.empty(shape))
    a = getattr(nn.init, name)(at.empty(*shape))
    np.testing.assert_array_equal(_np(t), _np(a))


def test_dirac_groups_and_constant_match_torch() -> None:
    t = torch.nn.init.dirac_(torch.empty(6, 2, 3, 3), groups=3)
    a = nn.init.dirac_(at.empty(6, 2, 3, 3), groups=3)
    np.testing.assert_array_equal(_np(t), _np(a))
    t = torch.nn.init.constant_(torch.empty(2, 3), 0.25)
    a = nn.init.constant_(at.empty(2, 3), 0.25)
    np.testing.assert_array_equal(_np(t), _np(a))


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity: Any, param: float | None) -> None:
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert nn.init.calculate_gain(nonlinearity, param) == expected


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (8, 4, 3, 3), (2, 3, 1, 2, 2)])
def test_fans_match_torch(shape: tuple[int, ...]) -> None:
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert nn.init.calculate_fan_in_and_fan_out(at.empty(*shape)) == expected
    assert nn.init._calculate_fan_in_and_fan_out(at.empty(*shape)) == expected


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m, t: m.calculate_gain("swish"), ValueError),
        (lambda m, t: m.kaiming_uniform_(t, mode="fan_avg"), ValueError),
        (lambda m, t: m.eye_(t[0]), ValueError),
        (
            lambda m, t: (
                m.calculate_fan_in_and_fan_out(t[0])
                if hasattr(m, "calculate_fan_in_and_fan_out")
                else m._calculate_fan_in_and_fan_out(t[0])
            ),
            ValueError,
        ),
    ],
)
def test_errors_match_torch(call: Callable[..., Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        call(torch.nn.init, torch.empty(3, 4))
    with pytest.raises(error):
        call(nn.init, at.empty(3, 4))


# -------------------------------------------------- the layers' default init
LAYERS: list[tuple[str, Callable[[Any], Any]]] = [
    ("Linear", lambda lib: lib.Linear(300, 200)),
    ("Linear-wide", lambda lib: lib.Linear(20, 2000)),
    ("Conv1d", lambda lib: lib.Conv1d(12, 63, 5, groups=3)),
    ("Conv2d", lambda lib: lib.Conv2d(16, 64, 3)),
    ("Conv2d-groups", lambda lib: lib.Conv2d(16, 64, (3, 5), groups=4)),
    ("Embedding", lambda lib: lib.Embedding(500, 40, padding_idx=7)),
    ("LayerNorm", lambda lib: lib.LayerNorm([30, 20])),
    ("RMSNorm", lambda lib: lib.RMSNorm(300)),
    ("GroupNorm", lambda lib: lib.GroupNorm(4, 300)),
    ("BatchNorm1d", lambda lib: lib.BatchNorm1d(300)),
    ("BatchNorm2d", lambda lib: lib.BatchNorm2d(300, momentum=None)),
    ("MultiheadAttention", lambda lib: lib.MultiheadAttention(96, 4)),
    (
        "MultiheadAttention-kdim",
        lambda lib: lib.MultiheadAttention(96, 4, kdim=40, vdim=50, add_bias_kv=True),
    ),
]


@pytest.mark.parametrize(("name", "make"), LAYERS, ids=[i[0] for i in LAYERS])
def test_layer_default_init_matches_torch(
    name: str, make: Callable[[Any], Any]
) -> None:
    torch.manual_seed(0)
    theirs = make(torch.nn).state_dict()
    ours = make(nn).state_dict()
    assert list(ours) == list(theirs)
    for key, t in theirs.items():
        a, t_np = _np(ours[key]), _np(t)
        assert a.shape == t_np.shape, key
        if t_np.size < 8 or np.all(t_np == t_np.flat[0]):
            np.testing.assert_array_equal(a, t_np, err_msg=key)  # constants
            continue
        _ks_same(t_np, a)
        # Same scale: a sample std of n values is off by about 1/sqrt(2n) of
        # itself, the ratio of two by about 1/sqrt(n): 5/sqrt(n) is 5 sigma.
        assert abs(a.std() / t_np.std() - 1) < 5 / math.sqrt(a.size), key
    if name.startswith("Embedding"):
        np.testing.assert_array_equal(_np(ours["weight"])[7], 0.0)


def test_linear_and_conv_bounds_follow_fan_in() -> None:
    # U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, fan_in = in/groups*k*k
    for layer, fan_in in [
        (nn.Linear(50, 400), 50),
        (nn.Conv2d(8, 100, 3, groups=2), 4 * 9),
    ]:
        bound = 1 / math.sqrt(fan_in)
        for p in (layer.weight, layer.bias):
            assert p is not None
            values = _np(p)
            assert values.min() >= -bound and values.max() <= bound
            assert values.max() > 0.9 * bound  # 400+ draws reach the top 10%
