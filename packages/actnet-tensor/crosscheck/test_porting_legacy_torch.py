"""torch.Tensor(...) (the legacy constructor), Tensor.type and torch.device,
which code ported by its imports calls, against PyTorch 2.13.0: the same values,
dtypes and shapes, the same type names, the same refusals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at

DATA: list[Any] = [
    [[1, 2], [3, 4]],
    (2, 3),
    [1.5, -2.0],
    [[True, False]],
    np.arange(6, dtype=np.int64).reshape(2, 3),
    np.linspace(0, 1, 4, dtype=np.float64),
    [],
]


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_tensor_of_data_matches_torch(data: Any) -> None:
    theirs = torch.Tensor(data)
    mine = at.Tensor(data)
    assert str(mine.dtype) == str(theirs.dtype).removeprefix("torch.")
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_tensor_of_zero_d_tensors_matches_torch() -> None:
    theirs = torch.Tensor([[torch.tensor(7)], [torch.tensor(2)]])
    mine = at.Tensor([[at.tensor(7)], [at.tensor(2)]])
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize("sizes", [(), (3,), (2, 3), (0, 4), (1, 2, 3)], ids=str)
def test_tensor_of_sizes_matches_torch(sizes: tuple[int, ...]) -> None:
    theirs = torch.Tensor(*sizes)
    mine = at.Tensor(*sizes)
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert mine.dtype == np.float32 and theirs.dtype == torch.float32


@pytest.mark.parametrize(
    "args", [(2, -1), ("ab",), (-3,)], ids=["negative", "str", "negative-1d"]
)
def test_tensor_refusals_match_torch(args: tuple[Any, ...]) -> None:
    with pytest.raises((TypeError, RuntimeError)) as theirs:
        torch.Tensor(*args)
    with pytest.raises(type(theirs.value)) as mine:
        at.Tensor(*args)
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize(
    "values", [[1, 2], [1.5], [True], np.array([1, 2], dtype=np.int32)], ids=repr
)
@pytest.mark.parametrize(
    "target",
    [None, "torch.FloatTensor", "torch.LongTensor", "torch.DoubleTensor", "float16"],
)
def test_type_matches_torch(values: Any, target: str | None) -> None:
    theirs = torch.tensor(values)
    mine = at.tensor(values)
    if target is None:
        assert mine.type() == theirs.type()
        return
    t_target = getattr(torch, target) if not target.startswith("torch.") else target
    converted, t_converted = mine.type(target), theirs.type(t_target)
    assert str(converted.dtype) == str(t_converted.dtype).removeprefix("torch.")
    assert converted.type() == t_converted.type()
    np.testing.assert_array_equal(converted.numpy(), t_converted.numpy())


def test_unknown_type_name_is_refused_as_torch_refuses_it() -> None:
    with pytest.raises(ValueError) as theirs:
        torch.tensor([1]).type("torch.NoSuchTensor")
    with pytest.raises(ValueError) as mine:
        at.tensor([1]).type("torch.NoSuchTensor")
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize(
    "args", [("cpu", -1), ("cpu:0", 1)], ids=["negative", "index-twice"]
)
def test_device_refusals_match_torch(args: tuple[Any, ...]) -> None:
    with pytest.raises((ValueError, RuntimeError)) as theirs:
        torch.device(*args)
    with pytest.raises(ValueError) as mine:
        at.device(*args)
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize("spec", [".4f", "", ">12", "e", ".2%"])
@pytest.mark.parametrize("value", [1.23456, 3, -0.5], ids=str)
def test_format_of_a_zero_d_tensor_matches_torch(value: float, spec: str) -> None:
    assert format(at.tensor(value), spec) == format(torch.tensor(value), spec)


def test_format_of_a_tensor_with_a_spec_is_refused_as_torch_refuses_it() -> None:
    with pytest.raises(TypeError) as theirs:
        format(torch.ones(2), ".2f")
    with pytest.raises(TypeError) as mine:
        format(at.ones(2), ".2f")
    assert str(mine.value) == str(theirs.value)
