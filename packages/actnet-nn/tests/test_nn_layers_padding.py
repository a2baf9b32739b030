"""The padding layers (Reflection-, Replication-, Circular-, Constant- and
ZeroPad in 1, 2 and 3 dims): values against np.pad, gradients against finite
differences, constructor arguments, repr and refusals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn

# The layer families and np.pad's name of their mode.
FAMILIES = {
    "ReflectionPad": "reflect",
    "ReplicationPad": "edge",
    "CircularPad": "wrap",
    "ConstantPad": "constant",
    "ZeroPad": "constant",
}


def _np_pad(
    x: np.ndarray, padding: tuple[int, ...], mode: Any, value: float = 0.0
) -> np.ndarray:
    """np.pad with F.pad's order (last dim first) and its negative pads (crop)."""
    dims = len(padding) // 2
    widths = [(0, 0)] * (x.ndim - dims)
    for i in reversed(range(dims)):
        widths.append((padding[2 * i], padding[2 * i + 1]))
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(
        widths, x.shape, strict=True))  # fmt: skip
    x = x[crop]
    positive = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return np.pad(x, positive, mode="constant", constant_values=value)
    return np.pad(x, positive, mode=mode)


def _make(family: str, dims: int, padding: Any, value: float = 2.5) -> nn.Module:
    cls = getattr(nn, f"{family}{dims}d")
    layer: nn.Module = cls(padding, value) if family == "ConstantPad" else cls(padding)
    return layer


def _value(family: str, value: float = 2.5) -> float:
    return value if family == "ConstantPad" else 0.0


SHAPES = {1: (2, 3, 5), 2: (2, 2, 4, 5), 3: (1, 2, 3, 4, 5)}


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_values_and_shapes_match_np_pad(family: str, dims: int) -> None:
    rng = np.random.default_rng(dims)
    x = rng.standard_normal(SHAPES[dims])
    uneven = (2, 1, 0, 3, 1, 2)[: 2 * dims]  # each side its own width
    for padding in (1, uneven):
        layer = _make(family, dims, padding)
        full = (padding,) * (2 * dims) if isinstance(padding, int) else padding
        expected = _np_pad(x, full, FAMILIES[family], _value(family))
        out = to_numpy(layer(at.tensor(x)))
        np.testing.assert_array_equal(out, expected)
        # unbatched: one sample fewer in front
        out = to_numpy(layer(at.tensor(x[0])))
        np.testing.assert_array_equal(out, expected[0])


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("dims", [1, 2])
def test_gradients_match_finite_differences(family: str, dims: int) -> None:
    # reflect and wrap take an input value into several outputs: the gradient
    # adds them up
    shape = (1, 2, 3) if dims == 1 else (1, 1, 3, 3)
    x = np.random.default_rng(7).standard_normal(shape)
    check_module_grads(_make(family, dims, (2, 1, 1, 2)[: 2 * dims]), [x])


@pytest.mark.parametrize("family", ["ConstantPad", "ZeroPad", "ReplicationPad"])
def test_negative_padding_crops(family: str) -> None:
    x = np.arange(24.0).reshape(2, 3, 4)
    layer = _make(family, 2, (-1, 2, 1, -1))
    expected = _np_pad(x, (-1, 2, 1, -1), FAMILIES[family], _value(family))
    np.testing.assert_array_equal(to_numpy(layer(at.tensor(x))), expected)


def test_constant_pads_any_rank_and_keeps_the_dtype() -> None:
    x = np.arange(12, dtype=np.int64).reshape(1, 2, 1, 2, 3)
    out = nn.ConstantPad1d((1, 0), 7)(at.tensor(x))
    assert out.dtype == at.int64
    expected = np.pad(x, [(0, 0)] * 4 + [(1, 0)], constant_values=7)
    np.testing.assert_array_equal(to_numpy(out), expected)
    assert nn.ZeroPad2d(1)(at.ones(3, 3)).shape == (5, 5)


def test_repr_padding_and_value() -> None:
    assert repr(nn.ReflectionPad1d(2)) == "ReflectionPad1d((2, 2))"
    assert repr(nn.ReplicationPad2d((1, 0, 2, 3))) == "ReplicationPad2d((1, 0, 2, 3))"
    assert repr(nn.CircularPad3d(1)) == "CircularPad3d((1, 1, 1, 1, 1, 1))"
    assert repr(nn.ConstantPad2d(1, 3.5)) == (
        "ConstantPad2d(padding=(1, 1, 1, 1), value=3.5)"
    )
    assert repr(nn.ZeroPad1d([3, 1])) == "ZeroPad1d((3, 1))"
    layer = nn.ZeroPad3d(2)
    assert layer.padding == (2,) * 6 and layer.value == 0.0
    assert isinstance(layer, nn.ConstantPad3d)  # as in PyTorch
    assert list(layer.state_dict()) == [] and list(layer.parameters()) == []


def test_constructor_refusals() -> None:
    with pytest.raises(
        ValueError, match=r"ReflectionPad2d: padding must be an int or 4"
    ):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(TypeError, match=r"ZeroPad1d: padding must be an int or 2"):
        nn.ZeroPad1d(1.5)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match=r"CircularPad1d: padding must be an int or 2"):
        nn.CircularPad1d((True, 1))
    with pytest.raises(TypeError, match="ConstantPad1d: value must be a number"):
        nn.ConstantPad1d(1, "0")  # type: ignore[arg-type]  # on purpose


def test_forward_refusals() -> None:
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(at.ones(3, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.CircularPad1d(1)(at.ones(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        nn.ReflectionPad1d(3)(at.ones(1, 3))
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        nn.CircularPad1d(4)(at.ones(1, 3))
    with pytest.raises(NotImplementedError, match="Padding size 4 is not supported"):
        nn.ReplicationPad2d(1)(at.ones(3, 3))
