"""Transforms of actnet.util.data, against NumPy arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

import actnet.tensor as at
from actnet.device import get_device
from actnet.util.data import AsTensor, Compose, Lambda, Normalize


def test_compose_applies_in_order() -> None:
    t = Compose([Lambda(lambda v: v + 1), Lambda(lambda v: v * 10)])
    assert t(2) == 30
    assert "Lambda()" in repr(t)
    with pytest.raises(TypeError, match="transform 1 must be callable"):
        Compose([Lambda(abs), 3])  # type: ignore[list-item]  # the error under test


def test_lambda_needs_a_callable() -> None:
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        Lambda(5)  # type: ignore[arg-type]  # the error under test


def test_normalize_images_per_channel() -> None:
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype(np.float32)
    mean, std = [0.1, 0.2, 0.3], [1.0, 2.0, 4.0]
    m = np.asarray(mean, np.float32).reshape(3, 1, 1)
    s = np.asarray(std, np.float32).reshape(3, 1, 1)
    expected = (x - m) / s
    out = Normalize(mean, std)(x)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    t = Normalize(mean, std)(at.tensor(x))
    assert isinstance(t, at.Tensor) and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), expected)


def test_normalize_features_and_scalars() -> None:
    x = np.arange(12.0).reshape(4, 3)
    out = Normalize([1.0, 2.0, 3.0], [2.0, 4.0, 8.0], dim=-1)(x)
    np.testing.assert_array_equal(out, (x - [1.0, 2.0, 3.0]) / [2.0, 4.0, 8.0])
    np.testing.assert_array_equal(Normalize(3.0, 2.0)(x), (x - 3.0) / 2.0)


def test_normalize_inplace() -> None:
    x = np.arange(6.0).reshape(2, 3)
    expected = (x - 1.0) / 2.0
    out = Normalize(1.0, 2.0, inplace=True)(x)
    assert out is x
    np.testing.assert_array_equal(x, expected)
    t = at.tensor(np.arange(6.0))
    assert Normalize(1.0, 2.0, inplace=True)(t) is t
    np.testing.assert_array_equal(t.numpy(), (np.arange(6.0) - 1.0) / 2.0)


def test_normalize_errors() -> None:
    with pytest.raises(TypeError, match="should be a float tensor"):
        Normalize(0.0, 1.0)(np.arange(3))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        Normalize(0.0, [1.0, 0.0], dim=-1)(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="pass dim=-1"):
        Normalize([0.0, 1.0], [1.0, 1.0])(np.zeros(2))
    with pytest.raises(ValueError, match="has 2 values but dimension -1"):
        Normalize([0.0, 1.0], 1.0, dim=-1)(np.zeros(3))
    with pytest.raises(ValueError, match="same number"):
        Normalize([0.0, 1.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        Normalize(float("nan"), 1.0)
    with pytest.raises(TypeError, match="Tensor or NumPy array"):
        Normalize(0.0, 1.0)([1.0])


def test_as_tensor() -> None:
    t = AsTensor(dtype="float32", device="cpu")(np.arange(3))
    assert isinstance(t, at.Tensor)
    assert t.dtype == np.float32
    assert t.device is get_device("cpu")
    np.testing.assert_array_equal(t.numpy(), [0.0, 1.0, 2.0])
    same = at.tensor([1.0, 2.0])
    assert AsTensor()(same) is same
    assert AsTensor(dtype="float32", device="cpu")(same) is same
    assert AsTensor(dtype="float64")(same).dtype == np.float64
    assert AsTensor()(2).item() == 2
