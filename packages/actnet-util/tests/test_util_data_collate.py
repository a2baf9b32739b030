"""default_collate / default_convert: PyTorch's rules, producing actnet Tensors.
Expected values are np.stack of the samples, with the dtypes PyTorch documents
(Python float -> float64, int -> int64)."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import pytest

import actnet.ndarray as xp
import actnet.tensor as at
from actnet.util.data import default_collate, default_convert

Point = namedtuple("Point", ["x", "y"])


def _check(t: Any, expected: np.ndarray[Any, Any]) -> None:
    assert isinstance(t, at.Tensor)
    assert t.dtype == expected.dtype
    np.testing.assert_array_equal(t.numpy(), expected)


def test_tensors_are_stacked() -> None:
    rows = [np.full((2, 3), i, np.float32) for i in range(4)]
    _check(default_collate([at.tensor(r) for r in rows]), np.stack(rows))


def test_ndarrays_are_stacked() -> None:
    rows = [np.arange(3) + i for i in range(2)]
    _check(default_collate([xp.asarray(r) for r in rows]), np.stack(rows))


def test_numpy_arrays_keep_their_dtype() -> None:
    rows = [np.arange(3, dtype=np.int16) * i for i in range(3)]
    _check(default_collate(rows), np.stack(rows))


def test_numpy_scalars() -> None:
    _check(
        default_collate([np.float32(1.5), np.float32(2)]),
        np.array([1.5, 2.0], np.float32),
    )
    _check(default_collate([np.bool_(True), np.bool_(False)]), np.array([True, False]))


def test_python_numbers() -> None:
    _check(default_collate([1.0, 2.5]), np.array([1.0, 2.5], np.float64))
    _check(default_collate([1, 2, 3]), np.array([1, 2, 3], np.int64))
    _check(default_collate([True, False]), np.array([True, False]))


def test_strings_stay_a_list() -> None:
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"a", b"b"]) == [b"a", b"b"]


def test_tuples_give_a_list_of_batches() -> None:
    out = default_collate([(np.zeros(2), 0), (np.ones(2), 1)])
    assert isinstance(out, list) and len(out) == 2
    _check(out[0], np.array([[0.0, 0.0], [1.0, 1.0]]))
    _check(out[1], np.array([0, 1]))


def test_lists_dicts_and_namedtuples_recurse() -> None:
    batch = [{"a": [1.0, np.int32(2)], "p": Point(i, "s")} for i in range(3)]
    out = default_collate(batch)
    assert set(out) == {"a", "p"}
    _check(out["a"][0], np.array([1.0, 1.0, 1.0]))
    _check(out["a"][1], np.array([2, 2, 2], np.int32))
    assert isinstance(out["p"], Point)
    _check(out["p"].x, np.array([0, 1, 2]))
    assert out["p"].y == ("s", "s", "s")  # the transposed samples, as torch


def test_errors() -> None:
    with pytest.raises(RuntimeError, match="should be of equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="batch must contain tensors"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="batch must contain tensors"):
        default_collate([np.array(["x"]), np.array(["y"])])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_default_convert_adds_no_batch_dimension() -> None:
    out = default_convert((np.arange(3), {"k": np.float64(2.0)}, "s", 5))
    assert isinstance(out, list)
    _check(out[0], np.arange(3))
    _check(out[1]["k"], np.array(2.0))
    assert out[2] == "s"
    assert out[3] == 5
    t = at.tensor([1.0])
    assert default_convert(t) is t
    text = np.array(["x"])
    assert default_convert(text) is text
