"""parameters_to_vector / vector_to_parameters against NumPy's ravel and
concatenate, and the gradient through the vector against the parameters'."""

from __future__ import annotations

import numpy as np
import pytest

import actnet.tensor as at
from actnet import nn
from actnet.nn.utils import parameters_to_vector, vector_to_parameters


def _model() -> nn.Module:
    at.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_round_trip_and_values() -> None:
    model = _model()
    params = list(model.parameters())
    vec = parameters_to_vector(model.parameters())
    want = np.concatenate([p.detach().numpy().ravel() for p in params])
    np.testing.assert_array_equal(vec.detach().numpy(), want)
    vector_to_parameters(vec * 2, model.parameters())
    for p, w in zip(model.parameters(), params, strict=True):
        assert p is w  # the same Parameters, new values
    got = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    np.testing.assert_array_equal(got, want * 2)


def test_gradients_flow_through_the_vector() -> None:
    model = _model()
    weights = at.arange(26, dtype=at.float32)
    (parameters_to_vector(model.parameters()) * weights).sum().backward()
    got = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])  # type: ignore[union-attr]  # set by backward
    np.testing.assert_array_equal(got, np.arange(26, dtype=np.float32))


def test_bad_arguments() -> None:
    model = _model()
    with pytest.raises(ValueError, match="26 elements"):
        vector_to_parameters(at.zeros(25), model.parameters())
    with pytest.raises(TypeError, match=r"expected torch\.Tensor"):
        vector_to_parameters(np.zeros(26), model.parameters())  # type: ignore[arg-type]  # the refusal
    with pytest.raises(ValueError, match="no parameters"):
        parameters_to_vector([])
