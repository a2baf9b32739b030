"""Identity and Linear: forward against NumPy, gradients against central
differences, initialisation bounds, repr, state-dict keys and bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn


def test_identity_returns_its_input_and_ignores_arguments() -> None:
    x = at.randn(3, 4)
    layer = nn.Identity(54, unused="argument")
    assert layer(x) is x
    assert repr(layer) == "Identity()"
    assert list(layer.state_dict()) == []


@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_matches_numpy(shape: tuple[int, ...], bias: bool) -> None:
    layer = nn.Linear(5, 3, bias=bias, dtype=at.float64)
    x = np.random.default_rng(0).standard_normal(shape)
    expected = x @ to_numpy(layer.weight).T
    if bias:
        assert layer.bias is not None
        expected = expected + to_numpy(layer.bias)
    out = layer(at.tensor(x))
    assert out.shape == (*shape[:-1], 3)
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(bias: bool) -> None:
    layer = nn.Linear(4, 3, bias=bias, dtype=at.float64)
    check_module_grads(layer, [np.random.default_rng(1).standard_normal((2, 4))])


def test_linear_parameters_state_dict_and_repr() -> None:
    layer = nn.Linear(20, 30)
    assert layer.weight.shape == (30, 20)
    assert layer.bias is not None and layer.bias.shape == (30,)
    assert layer.weight.dtype == at.float32
    assert layer.weight.requires_grad and layer.weight.is_leaf
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert repr(layer) == "Linear(in_features=20, out_features=30, bias=True)"
    no_bias = nn.Linear(2, 1, bias=False)
    assert no_bias.bias is None
    assert list(no_bias.state_dict()) == ["weight"]
    assert repr(no_bias) == "Linear(in_features=2, out_features=1, bias=False)"


def test_linear_init_is_uniform_within_one_over_sqrt_fan_in() -> None:
    # kaiming_uniform_(a=sqrt(5)): bound = sqrt(6 / (1 + 5) / fan_in) = 1/sqrt(fan_in)
    layer = nn.Linear(100, 400, dtype=at.float64)
    bound = 1 / math.sqrt(100)
    w = to_numpy(layer.weight)
    assert np.abs(w).max() <= bound
    # 40000 draws of U(-b, b): std b/sqrt(3), its sample estimate is off by about
    # 0.5% (1/sqrt(2n) * sqrt(4/5) for a uniform), so 3% is a safe margin; the
    # mean's standard error is b/sqrt(3n) = 0.003 b.
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.03
    assert abs(w.mean()) < 0.02 * bound
    assert layer.bias is not None
    b = to_numpy(layer.bias)
    assert np.abs(b).max() <= bound and b.std() > 0.4 * bound


def test_linear_reset_parameters_redraws() -> None:
    layer = nn.Linear(8, 8)
    before = to_numpy(layer.weight).copy()
    layer.reset_parameters()
    assert not np.array_equal(before, to_numpy(layer.weight))


def test_linear_zero_in_features_gives_bias_only() -> None:
    with pytest.warns(UserWarning, match="zero-element"):  # as PyTorch warns
        layer = nn.Linear(0, 3)
    out = layer(at.zeros(2, 0))
    assert out.shape == (2, 3)
    assert layer.bias is not None
    np.testing.assert_array_equal(to_numpy(layer.bias), 0.0)  # bound 0 when fan_in 0


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((2.5, 3), {}, TypeError, "in_features"),
        ((2, -1), {}, ValueError, "out_features"),
        ((2, 3), {"bias": "yes"}, TypeError, "bias"),
    ],
)
def test_linear_bad_arguments(
    args: tuple[object, ...],
    kwargs: dict[str, object],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        nn.Linear(*args, **kwargs)  # type: ignore[arg-type]  # wrong on purpose


def test_linear_wrong_input_size_raises() -> None:
    with pytest.raises((ValueError, RuntimeError)):
        nn.Linear(4, 2)(at.ones(3, 5))
