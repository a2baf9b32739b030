"""StandardScaler of actnet.util.data against NumPy's mean and population
variance (np.var, ddof=0), and hand-worked examples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.tensor as at
from actnet.util.data import NotFittedError, StandardScaler

Array = np.ndarray[Any, Any]


def test_hand_worked_example() -> None:
    x = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    scaler = StandardScaler().fit(x)
    np.testing.assert_array_equal(scaler.mean_, [0.5, 0.5])
    np.testing.assert_array_equal(scaler.var_, [0.25, 0.25])
    np.testing.assert_array_equal(scaler.scale_, [0.5, 0.5])
    assert scaler.n_samples_seen_ == 4
    assert scaler.n_features_in_ == 2
    np.testing.assert_array_equal(scaler.transform([[2.0, 2.0]]), [[3.0, 3.0]])


@settings(deadline=None, max_examples=40)
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=12),
        elements=st.floats(-1e3, 1e3),
    )
)
def test_statistics_match_numpy(x: Array) -> None:
    scaler = StandardScaler().fit(x)
    assert scaler.mean_ is not None and scaler.var_ is not None
    np.testing.assert_allclose(scaler.mean_, x.mean(axis=0), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(scaler.var_, x.var(axis=0), rtol=1e-9, atol=1e-9)
    z = scaler.transform(x)
    assert scaler.scale_ is not None
    np.testing.assert_allclose(z, (x - scaler.mean_) / scaler.scale_, rtol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(z), x, rtol=1e-9, atol=1e-9)


def test_constant_features_are_scaled_by_one() -> None:
    x = np.array([[3.0, 1.0], [3.0, 2.0], [3.0, 3.0]])
    scaler = StandardScaler().fit(x)
    assert scaler.var_ is not None and scaler.scale_ is not None
    assert scaler.var_[0] == 0.0
    assert scaler.scale_[0] == 1.0
    np.testing.assert_array_equal(scaler.transform(x)[:, 0], [0.0, 0.0, 0.0])
    # 0.1 three times is constant, though its computed variance may not be 0
    tiny = StandardScaler().fit(np.full((3, 1), 0.1))
    assert tiny.scale_ is not None and tiny.scale_[0] == 1.0


def test_float32_data_is_accumulated_in_float64_and_transformed_in_float32() -> None:
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(100, 3)) * 3 + 1e4).astype(np.float32)
    scaler = StandardScaler().fit(x)
    assert scaler.mean_ is not None and scaler.scale_ is not None
    assert scaler.var_ is not None
    assert scaler.mean_.dtype == np.float64
    wide = x.astype(np.float64)
    np.testing.assert_allclose(scaler.mean_, wide.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(scaler.var_, wide.var(axis=0), rtol=1e-9)
    z = scaler.transform(x)
    assert z.dtype == np.float32
    expected = (x - scaler.mean_.astype(np.float32)) / scaler.scale_.astype(np.float32)
    np.testing.assert_array_equal(z, expected)


def test_integer_data_becomes_float64() -> None:
    x = np.array([[1, 2], [3, 6]])
    z = StandardScaler().fit_transform(x)
    assert z.dtype == np.float64
    np.testing.assert_array_equal(z, [[-1.0, -1.0], [1.0, 1.0]])


def test_nans_are_left_out() -> None:
    x = np.array([[1.0, 2.0], [np.nan, 4.0], [3.0, 6.0]])
    scaler = StandardScaler().fit(x)
    np.testing.assert_array_equal(scaler.mean_, [2.0, 4.0])
    np.testing.assert_array_equal(scaler.var_, [1.0, 8.0 / 3.0])
    np.testing.assert_array_equal(scaler.n_samples_seen_, [2, 3])
    assert np.isnan(scaler.transform(x)[1, 0])


def test_partial_fit_equals_fit_on_everything() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(90, 4)) * [1, 10, 100, 0.1] + [0, 5, -5, 1]
    whole = StandardScaler().fit(x)
    parts = StandardScaler()
    for chunk in np.array_split(x, 5):
        parts.partial_fit(chunk)
    assert parts.mean_ is not None and parts.var_ is not None
    assert whole.mean_ is not None and whole.var_ is not None
    np.testing.assert_allclose(parts.mean_, whole.mean_, rtol=1e-13)
    np.testing.assert_allclose(parts.var_, whole.var_, rtol=1e-11)
    assert parts.n_samples_seen_ == 90


def test_with_mean_and_with_std_off() -> None:
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    only_std = StandardScaler(with_mean=False).fit(x)
    np.testing.assert_array_equal(only_std.transform(x), x / [1.0, 10.0])
    only_mean = StandardScaler(with_std=False).fit(x)
    assert only_mean.scale_ is None and only_mean.var_ is None
    np.testing.assert_array_equal(only_mean.transform(x), x - [2.0, 20.0])
    neither = StandardScaler(with_mean=False, with_std=False).fit(x)
    np.testing.assert_array_equal(neither.transform(x), x)
    assert neither.state_dict().keys() == {"n_samples_seen"}


def test_copy_false_transforms_in_place() -> None:
    x = np.array([[1.0], [3.0]])
    scaler = StandardScaler(copy=False).fit(x)
    out = scaler.transform(x)
    assert out is x
    np.testing.assert_array_equal(x, [[-1.0], [1.0]])
    y = np.array([[1.0], [3.0]])
    assert StandardScaler().fit(y).transform(y) is not y


def test_tensors_in_tensors_out() -> None:
    x = np.array([[1.0, 2.0], [3.0, 6.0]], np.float32)
    t = at.tensor(x)
    scaler = StandardScaler().fit(t)
    z = scaler.transform(t)
    assert isinstance(z, at.Tensor) and z.dtype == np.float32
    np.testing.assert_array_equal(z.numpy(), [[-1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(t.numpy(), x)  # the input is left alone
    back = scaler.inverse_transform(z)
    np.testing.assert_array_equal(back.numpy(), x)


def test_state_dict_round_trip() -> None:
    x = np.random.default_rng(3).normal(size=(20, 3))
    scaler = StandardScaler().fit(x)
    state = scaler.state_dict()
    assert set(state) == {"n_samples_seen", "mean", "var", "scale"}
    assert all(isinstance(v, np.ndarray) for v in state.values())
    other = StandardScaler()
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.transform(x), scaler.transform(x))
    assert other.n_samples_seen_ == 20 and other.n_features_in_ == 3
    with pytest.raises(ValueError, match="must have the keys"):
        StandardScaler(with_std=False).load_state_dict(state)
    bad = dict(state, mean=np.zeros(2))
    with pytest.raises(ValueError, match="disagree on n_features"):
        StandardScaler().load_state_dict(bad)


def test_errors() -> None:
    with pytest.raises(NotFittedError, match="not fitted yet"):
        StandardScaler().transform(np.zeros((1, 1)))
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        StandardScaler().fit(np.zeros(3))
    scaler = StandardScaler().fit(np.zeros((2, 3)))
    with pytest.raises(
        ValueError, match="X has 2 features, but StandardScaler is expecting 3"
    ):
        scaler.transform(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="infinity"):
        StandardScaler().fit(np.array([[np.inf]]))
    with pytest.raises(TypeError, match="real numbers"):
        StandardScaler().fit(np.array([["a"]]))
    with pytest.raises(TypeError, match="with_mean must be a bool"):
        StandardScaler(with_mean=1)  # type: ignore[arg-type]  # the error under test
