"""BatchNorm1d and BatchNorm2d: normalisation in train and eval mode, running
statistics (momentum and cumulative), buffers and their keys, against NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn


def _axes(ndim: int) -> tuple[int, ...]:
    return (0, *range(2, ndim))


def _channel(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    return values.reshape((1, -1) + (1,) * (x.ndim - 2))


@pytest.mark.parametrize(
    ("cls", "shape"),
    [
        (nn.BatchNorm1d, (8, 3)),
        (nn.BatchNorm1d, (5, 3, 4)),
        (nn.BatchNorm2d, (4, 3, 2, 5)),
    ],
)
@pytest.mark.parametrize("momentum", [0.1, 0.4, None])
def test_running_statistics_and_eval_match_numpy(
    cls: Any, shape: tuple[int, ...], momentum: float | None
) -> None:
    bn = cls(3, momentum=momentum, dtype=at.float64)
    rng = np.random.default_rng(0)
    mean, var = np.zeros(3), np.ones(3)
    batches = [rng.standard_normal(shape) * 2 + 1 for _ in range(3)]
    for step, x in enumerate(batches, start=1):
        out = to_numpy(bn(at.tensor(x)))
        axes = _axes(x.ndim)
        m, v = x.mean(axes), x.var(axes)  # biased normalizes
        count = x.size // 3
        unbiased = v * count / (count - 1)  # unbiased goes into running_var
        factor = 1 / step if momentum is None else momentum
        mean = (1 - factor) * mean + factor * m
        var = (1 - factor) * var + factor * unbiased
        expected = (x - _channel(x, m)) / np.sqrt(_channel(x, v) + 1e-5)
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(to_numpy(bn.running_mean), mean, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(bn.running_var), var, rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 3
    bn.eval()
    x = batches[0]
    expected = (x - _channel(x, mean)) / np.sqrt(_channel(x, var) + 1e-5)
    np.testing.assert_allclose(
        to_numpy(bn(at.tensor(x))), expected, rtol=1e-10, atol=1e-10
    )
    assert int(bn.num_batches_tracked.item()) == 3  # eval does not count


def test_without_running_stats_eval_uses_the_batch() -> None:
    bn = nn.BatchNorm1d(
        2, track_running_stats=False, affine=False, dtype=at.float64
    ).eval()
    x = np.random.default_rng(1).standard_normal((6, 2))
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(to_numpy(bn(at.tensor(x))), expected, rtol=1e-10)
    assert list(bn.state_dict()) == []


def test_affine_parameters_apply_and_gradients() -> None:
    bn = nn.BatchNorm2d(2, dtype=at.float64)
    with at.no_grad():
        bn.weight.copy_(at.tensor([2.0, -1.0]))  # type: ignore[union-attr]  # affine
        bn.bias.copy_(at.tensor([0.5, 3.0]))  # type: ignore[union-attr]  # affine
    x = np.random.default_rng(2).standard_normal((3, 2, 2, 2))
    normed = (x - x.mean((0, 2, 3), keepdims=True)) / np.sqrt(
        x.var((0, 2, 3), keepdims=True) + 1e-5
    )
    expected = normed * np.array([2.0, -1.0]).reshape(1, 2, 1, 1) + np.array(
        [0.5, 3.0]
    ).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(
        to_numpy(bn(at.tensor(x))), expected, rtol=1e-10, atol=1e-12
    )
    check_module_grads(bn, [x])
    check_module_grads(bn.eval(), [x])


def test_keys_init_and_repr() -> None:
    bn = nn.BatchNorm2d(4)
    assert list(bn.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    np.testing.assert_array_equal(to_numpy(bn.weight), 1.0)
    np.testing.assert_array_equal(to_numpy(bn.bias), 0.0)
    np.testing.assert_array_equal(to_numpy(bn.running_var), 1.0)
    assert (
        bn.num_batches_tracked is not None and bn.num_batches_tracked.dtype == at.int64
    )
    assert (
        repr(bn) == "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)"
    )
    assert repr(nn.BatchNorm1d(2, momentum=None, affine=False)) == (
        "BatchNorm1d(2, eps=1e-05, momentum=None, affine=False, bias=False, "
        "track_running_stats=True)"
    )
    assert list(nn.BatchNorm1d(2, bias=False).state_dict())[:2] == [
        "weight",
        "running_mean",
    ]


def test_reset_running_stats() -> None:
    bn = nn.BatchNorm1d(3)
    bn(at.randn(4, 3) + 5)
    bn.reset_running_stats()
    np.testing.assert_array_equal(to_numpy(bn.running_mean), 0.0)
    np.testing.assert_array_equal(to_numpy(bn.running_var), 1.0)
    assert bn.num_batches_tracked is not None
    assert bn.num_batches_tracked.tolist() == 0


def test_bad_inputs_and_arguments() -> None:
    with pytest.raises(ValueError, match="2D or 3D"):
        nn.BatchNorm1d(3)(at.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="4D"):
        nn.BatchNorm2d(3)(at.ones(2, 3, 4))
    with pytest.raises((ValueError, RuntimeError)):
        nn.BatchNorm1d(3)(at.ones(2, 4))
    with pytest.raises(ValueError):
        nn.BatchNorm1d(3)(at.ones(1, 3))  # one value per channel in training
    with pytest.raises(TypeError, match="momentum"):
        nn.BatchNorm1d(3, momentum="0.1")  # type: ignore[arg-type]  # wrong on purpose
