"""Dropout: train-mode statistics and scaling, identity in eval, bounds of p."""

from __future__ import annotations

import numpy as np
import pytest
from nn_layer_helpers import to_numpy

import actnet.tensor as at
from actnet import nn


def test_dropout_zeroes_a_fraction_p_and_scales_the_rest() -> None:
    drop = nn.Dropout(p=0.3)
    out = to_numpy(drop(at.ones(200, 500)))
    zero = out == 0.0
    # 100000 Bernoulli(0.3) draws: the fraction's standard error is 0.0014,
    # so 0.01 is 7 standard errors.
    assert abs(zero.mean() - 0.3) < 0.01
    np.testing.assert_allclose(out[~zero], 1 / 0.7, rtol=1e-6)


def test_dropout_is_identity_in_eval_and_for_p_zero() -> None:
    x = at.randn(4, 5)
    drop = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(to_numpy(drop(x)), to_numpy(x))
    np.testing.assert_array_equal(to_numpy(nn.Dropout(0.0)(x)), to_numpy(x))
    np.testing.assert_array_equal(to_numpy(nn.Dropout(1.0)(x)), 0.0)


def test_dropout_gradient_uses_the_same_mask() -> None:
    x = at.ones(50, 40, requires_grad=True)
    out = nn.Dropout(0.5)(x)
    out.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(to_numpy(x.grad), to_numpy(out))


def test_dropout_repr_and_arguments() -> None:
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(TypeError, match="p"):
        nn.Dropout("0.5")  # type: ignore[arg-type]  # wrong on purpose
    assert repr(nn.Dropout(0.2, True)) == "Dropout(p=0.2, inplace=True)"
    with pytest.raises(TypeError, match="inplace must be a bool"):
        nn.Dropout(0.5, inplace="yes")  # type: ignore[arg-type]  # wrong on purpose


@pytest.mark.parametrize("cls", [nn.Dropout, nn.Dropout2d])
def test_dropout_inplace_overwrites_its_input_with_the_same_mask(
    cls: type[nn.Dropout],
) -> None:
    """inplace=True: the input itself is changed and returned, with the values
    (the mask of the same seed) and the gradient of inplace=False; in eval mode
    it is returned untouched."""
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 3))
    results = []
    for inplace in (False, True):
        at.manual_seed(5)
        leaf = at.tensor(x, requires_grad=True)
        t = leaf * 1.0  # an intermediate: a leaf is refused, as in torch
        out = cls(0.4, inplace=inplace)(t)
        assert (out is t) == inplace
        (out * out).sum().backward()
        results.append((to_numpy(out), to_numpy(leaf.grad)))
    (values, grad), (values_, grad_) = results
    assert np.any(values == 0.0) and np.any(values != 0.0)
    np.testing.assert_array_equal(values_, values)
    np.testing.assert_array_equal(grad_, grad)
    np.testing.assert_allclose(grad, 2 * values / 0.6, rtol=1e-12)
    t = at.tensor(x)
    assert cls(0.4, True).eval()(t) is t
    np.testing.assert_array_equal(to_numpy(t), x)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        cls(0.4, True)(at.tensor(x, requires_grad=True))
