"""LayerNorm, RMSNorm and GroupNorm against NumPy, with gradients by central
differences, init, repr, state-dict keys and bad arguments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn


def _randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _perturb(module: nn.Module) -> None:
    """Parameters away from ones and zeros, so that the oracle checks them."""
    rng = np.random.default_rng(7)
    with at.no_grad():
        for p in module.parameters():
            p.copy_(at.tensor(rng.standard_normal(p.shape)))


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((6,), {}),
        ((4, 6), {"eps": 1e-3}),
        ((6,), {"bias": False}),
        ((6,), {"elementwise_affine": False}),
    ],
)
def test_layer_norm_matches_numpy(
    shape: tuple[int, ...], kwargs: dict[str, Any]
) -> None:
    ln = nn.LayerNorm(list(shape), dtype=at.float64, **kwargs)
    _perturb(ln)
    x = _randn(3, 4, 6)
    axes = tuple(range(-len(shape), 0))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)  # biased, as PyTorch
    expected = (x - mean) / np.sqrt(var + kwargs.get("eps", 1e-5))
    if ln.weight is not None:
        expected = expected * to_numpy(ln.weight)
    if ln.bias is not None:
        expected = expected + to_numpy(ln.bias)
    np.testing.assert_allclose(
        to_numpy(ln(at.tensor(x))), expected, rtol=1e-10, atol=1e-12
    )
    check_module_grads(ln, [_randn(2, 4, 6, seed=1)])


def test_layer_norm_init_keys_and_repr() -> None:
    ln = nn.LayerNorm(8)
    np.testing.assert_array_equal(to_numpy(ln.weight), 1.0)
    np.testing.assert_array_equal(to_numpy(ln.bias), 0.0)
    assert ln.normalized_shape == (8,)
    assert list(ln.state_dict()) == ["weight", "bias"]
    assert repr(ln) == "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)"
    no_affine = nn.LayerNorm([2, 3], elementwise_affine=False)
    assert list(no_affine.state_dict()) == []
    assert repr(no_affine) == (
        "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)"
    )


@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm_matches_numpy(eps: float | None) -> None:
    rms = nn.RMSNorm([4, 6], eps=eps, dtype=at.float64)
    _perturb(rms)
    x = _randn(3, 4, 6)
    # eps=None: the dtype's machine epsilon, as PyTorch
    e = np.finfo(np.float64).eps if eps is None else eps
    expected = x / np.sqrt((x**2).mean(axis=(-2, -1), keepdims=True) + e)
    expected = expected * to_numpy(rms.weight)
    np.testing.assert_allclose(
        to_numpy(rms(at.tensor(x))), expected, rtol=1e-10, atol=1e-12
    )
    check_module_grads(rms, [_randn(2, 4, 6, seed=1)])


def test_rms_norm_init_keys_and_repr() -> None:
    rms = nn.RMSNorm(5)
    np.testing.assert_array_equal(to_numpy(rms.weight), 1.0)
    assert list(rms.state_dict()) == ["weight"]
    assert repr(rms) == "RMSNorm((5,), eps=None, elementwise_affine=True)"
    assert (
        repr(nn.RMSNorm(5, eps=1e-6))
        == "RMSNorm((5,), eps=1e-06, elementwise_affine=True)"
    )
    assert list(nn.RMSNorm(5, elementwise_affine=False).state_dict()) == []


@pytest.mark.parametrize(
    ("groups", "shape"), [(2, (3, 6, 5)), (3, (2, 6, 3, 4)), (6, (2, 6))]
)
def test_group_norm_matches_numpy(groups: int, shape: tuple[int, ...]) -> None:
    gn = nn.GroupNorm(groups, 6, dtype=at.float64)
    _perturb(gn)
    x = _randn(*shape)
    n = shape[0]
    grouped = x.reshape(n, groups, -1)
    normed = (grouped - grouped.mean(-1, keepdims=True)) / np.sqrt(
        grouped.var(-1, keepdims=True) + 1e-5
    )
    channel = (1, 6) + (1,) * (len(shape) - 2)
    expected = normed.reshape(shape) * to_numpy(gn.weight).reshape(channel) + to_numpy(
        gn.bias
    ).reshape(channel)
    np.testing.assert_allclose(
        to_numpy(gn(at.tensor(x))), expected, rtol=1e-10, atol=1e-12
    )
    check_module_grads(gn, [_randn(2, 6, 3, seed=1)])


def test_group_norm_keys_and_repr() -> None:
    gn = nn.GroupNorm(2, 4)
    assert list(gn.state_dict()) == ["weight", "bias"]
    assert repr(gn) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert list(nn.GroupNorm(2, 4, affine=False).state_dict()) == []
    assert list(nn.GroupNorm(2, 4, bias=False).state_dict()) == ["weight"]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: nn.GroupNorm(4, 6), ValueError),
        (lambda: nn.GroupNorm(0, 6), ValueError),
        (lambda: nn.LayerNorm("8"), TypeError),
        (lambda: nn.LayerNorm(8, eps="small"), TypeError),
        (lambda: nn.RMSNorm([4, 2.0]), TypeError),
    ],
)
def test_bad_arguments(make: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        make()


def test_wrong_trailing_shape_is_rejected() -> None:
    with pytest.raises((ValueError, RuntimeError)):
        nn.LayerNorm(5)(at.ones(2, 4))
    with pytest.raises((ValueError, RuntimeError)):
        nn.GroupNorm(2, 4)(at.ones(2, 6, 3))
