"""Flatten and Unflatten against NumPy reshapes; gradients pass back unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from nn_layer_helpers import to_numpy

import actnet.tensor as at
from actnet import nn


@pytest.mark.parametrize(
    ("start", "end", "shape"),
    [(1, -1, (2, 60)), (0, -1, (120,)), (0, 1, (6, 4, 5)), (-2, -1, (2, 3, 20))],
)
def test_flatten_matches_numpy(start: int, end: int, shape: tuple[int, ...]) -> None:
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    out = nn.Flatten(start, end)(at.tensor(x))
    np.testing.assert_array_equal(to_numpy(out), x.reshape(shape))


def test_flatten_gradient_is_reshaped_back() -> None:
    x = at.randn(2, 3, 4, requires_grad=True)
    g = np.random.default_rng(0).standard_normal((2, 12)).astype(np.float32)
    (nn.Flatten()(x) * at.tensor(g)).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(to_numpy(x.grad), g.reshape(2, 3, 4))


def test_unflatten_matches_numpy_and_infers_minus_one() -> None:
    x = np.arange(24.0).reshape(2, 12)
    np.testing.assert_array_equal(
        to_numpy(nn.Unflatten(1, (2, 3, 2))(at.tensor(x))), x.reshape(2, 2, 3, 2)
    )
    np.testing.assert_array_equal(
        to_numpy(nn.Unflatten(-1, [4, -1])(at.tensor(x))), x.reshape(2, 4, 3)
    )


def test_repr_text() -> None:
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 5))) == "Unflatten(dim=1, unflattened_size=(2, 5))"
    assert repr(nn.Unflatten(1, [2, 5])) == "Unflatten(dim=1, unflattened_size=[2, 5])"


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="unflattened_size"):
        nn.Unflatten(1, 6)  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(TypeError, match="unflattened_size"):
        nn.Unflatten(1, (2.0, 3))  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ValueError, match="inferred"):
        nn.Unflatten(1, (-1, -1))
    with pytest.raises(RuntimeError, match="multiply"):
        nn.Unflatten(1, (4, 4))(at.ones(2, 12))
    with pytest.raises(IndexError):
        nn.Unflatten(3, (4, 3))(at.ones(2, 12))
    with pytest.raises(TypeError, match="start_dim"):
        nn.Flatten(start_dim=1.0)  # type: ignore[arg-type]  # wrong on purpose
