"""InstanceNorm1d, 2d and 3d: normalisation in train and eval mode, running
statistics, unbatched input, buffers and their keys, gradients, against NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn


def _instance_normed(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)  # biased normalizes
    return np.asarray((x - mean) / np.sqrt(var + eps))


def _channel(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    return values.reshape((1, -1) + (1,) * (x.ndim - 2))


CLASSES = [
    (nn.InstanceNorm1d, (4, 3, 6)),
    (nn.InstanceNorm2d, (2, 3, 4, 5)),
    (nn.InstanceNorm3d, (2, 3, 2, 3, 4)),
]


@pytest.mark.parametrize(("cls", "shape"), CLASSES)
def test_defaults_normalise_each_instance_in_train_and_eval(
    cls: Any, shape: tuple[int, ...]
) -> None:
    norm = cls(3, dtype=at.float64)
    assert norm.weight is None and norm.bias is None
    assert norm.running_mean is None and norm.running_var is None
    assert list(norm.state_dict()) == []
    x = np.random.default_rng(0).standard_normal(shape) * 2 + 1
    for mode in (True, False):  # without running statistics eval uses the input's
        norm.train(mode)
        np.testing.assert_allclose(
            to_numpy(norm(at.tensor(x))), _instance_normed(x), rtol=1e-10, atol=1e-10
        )


@pytest.mark.parametrize(("cls", "shape"), CLASSES)
@pytest.mark.parametrize("momentum", [0.1, 0.4, None])
def test_running_statistics_and_eval_match_numpy(
    cls: Any, shape: tuple[int, ...], momentum: float | None
) -> None:
    norm = cls(3, momentum=momentum, track_running_stats=True, dtype=at.float64)
    assert list(norm.state_dict()) == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    rng = np.random.default_rng(1)
    mean, var = np.zeros(3), np.ones(3)
    factor = 0.0 if momentum is None else momentum  # PyTorch's: None keeps them
    batches = [rng.standard_normal(shape) * 2 + 1 for _ in range(3)]
    for x in batches:
        out = to_numpy(norm(at.tensor(x)))
        np.testing.assert_allclose(out, _instance_normed(x), rtol=1e-10, atol=1e-10)
        flat = x.reshape(shape[0], 3, -1)
        mean = (1 - factor) * mean + factor * flat.mean(2).mean(0)
        var = (1 - factor) * var + factor * flat.var(2, ddof=1).mean(0)
    np.testing.assert_allclose(to_numpy(norm.running_mean), mean, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(norm.running_var), var, rtol=1e-12)
    assert int(norm.num_batches_tracked.item()) == 0  # as PyTorch: never counts
    norm.eval()
    x = batches[0]
    expected = (x - _channel(x, mean)) / np.sqrt(_channel(x, var) + 1e-5)
    np.testing.assert_allclose(
        to_numpy(norm(at.tensor(x))), expected, rtol=1e-10, atol=1e-10
    )
    np.testing.assert_allclose(to_numpy(norm.running_mean), mean, rtol=1e-12)


@pytest.mark.parametrize(("cls", "shape"), CLASSES)
def test_unbatched_input_is_one_instance(cls: Any, shape: tuple[int, ...]) -> None:
    norm = cls(3, affine=True, track_running_stats=True, dtype=at.float64)
    with at.no_grad():
        norm.weight.copy_(at.tensor([2.0, -1.0, 0.5]))
        norm.bias.copy_(at.tensor([0.5, 3.0, -2.0]))
    x = np.random.default_rng(2).standard_normal(shape[1:])
    out = to_numpy(norm(at.tensor(x)))
    assert out.shape == x.shape
    w = np.array([2.0, -1.0, 0.5]).reshape((3,) + (1,) * (x.ndim - 1))
    b = np.array([0.5, 3.0, -2.0]).reshape((3,) + (1,) * (x.ndim - 1))
    expected = _instance_normed(x[None])[0] * w + b
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)
    flat = x.reshape(3, -1)
    np.testing.assert_allclose(
        to_numpy(norm.running_mean), 0.1 * flat.mean(1), rtol=1e-12
    )


@pytest.mark.parametrize(("cls", "shape"), CLASSES[:2])
def test_gradients_with_affine(cls: Any, shape: tuple[int, ...]) -> None:
    norm = cls(3, affine=True, dtype=at.float64)
    with at.no_grad():
        norm.weight.copy_(at.tensor([1.5, -0.5, 2.0]))
        norm.bias.copy_(at.tensor([0.1, 0.2, 0.3]))
    small = (2, 3) + (3,) * (len(shape) - 2)
    x = np.random.default_rng(3).standard_normal(small)
    check_module_grads(norm, [x])
    assert [name for name, _ in norm.named_parameters()] == ["weight", "bias"]


def test_bias_false_keeps_only_the_weight() -> None:
    norm = nn.InstanceNorm2d(4, affine=True, bias=False, track_running_stats=True)
    assert norm.bias is None
    assert list(norm.state_dict()) == [
        "weight",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert repr(norm) == (
        "InstanceNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=False, "
        "track_running_stats=True)"
    )


def test_repr_and_defaults() -> None:
    assert repr(nn.InstanceNorm1d(3)) == (
        "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, "
        "track_running_stats=False)"
    )
    norm = nn.InstanceNorm3d(2, eps=1e-3, momentum=None, affine=True)
    assert repr(norm) == (
        "InstanceNorm3d(2, eps=0.001, momentum=None, affine=True, bias=True, "
        "track_running_stats=False)"
    )
    assert norm.weight.tolist() == [1.0, 1.0]  # type: ignore[union-attr]  # affine
    assert norm.bias.tolist() == [0.0, 0.0]  # type: ignore[union-attr]  # affine


def test_load_state_dict_then_eval_uses_the_loaded_statistics() -> None:
    norm = nn.InstanceNorm1d(2, track_running_stats=True, dtype=at.float64)
    mean, var = np.array([1.0, -2.0]), np.array([4.0, 0.25])
    norm.load_state_dict(
        {
            "running_mean": at.tensor(mean),
            "running_var": at.tensor(var),
            "num_batches_tracked": at.tensor(5),
        }
    )
    norm.eval()
    x = np.random.default_rng(4).standard_normal((3, 2, 4))
    expected = (x - _channel(x, mean)) / np.sqrt(_channel(x, var) + 1e-5)
    np.testing.assert_allclose(
        to_numpy(norm(at.tensor(x))), expected, rtol=1e-10, atol=1e-10
    )
    norm.reset_running_stats()
    assert norm.running_mean.tolist() == [0.0, 0.0]  # type: ignore[union-attr]  # tracked
    assert norm.num_batches_tracked.item() == 0  # type: ignore[union-attr]  # tracked


def test_refusals_and_the_num_features_warning() -> None:
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(at.randn(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"expected 4D or 5D input \(got 3D input\)"):
        nn.InstanceNorm3d(3)(at.randn(3, 2, 2))
    with pytest.raises(ValueError, match=r"size at dim=1 to match num_features \(3\)"):
        nn.InstanceNorm2d(3, affine=True)(at.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"size at dim=0 to match num_features \(3\)"):
        nn.InstanceNorm1d(3, affine=True)(at.randn(4, 5))
    with pytest.warns(UserWarning, match="size at dim=1 does not match num_features"):
        out = nn.InstanceNorm1d(3)(at.randn(2, 4, 5))
    assert out.shape == (2, 4, 5)
    with pytest.raises(TypeError, match="InstanceNorm2d: affine must be a bool"):
        nn.InstanceNorm2d(3, affine=1)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="InstanceNorm1d: input must be a Tensor"):
        nn.InstanceNorm1d(3)([1.0, 2.0])  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(at.randn(2, 3, 1))
