"""Datasets of actnet.util.data: TensorDataset, Subset, ConcatDataset,
random_split. Expected values are plain NumPy indexing and hand counts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import actnet.ndarray as xp
import actnet.tensor as at
from actnet.device import Generator, manual_seed
from actnet.util.data import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)
from actnet.util.data.dataset import _batch_getter


def _rows(n: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64) * 10
    return x, y


class _Squares(Dataset[int]):
    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, index: int) -> int:
        if not 0 <= index < self.n:
            raise IndexError(index)
        return index * index

    def __len__(self) -> int:
        return self.n


# ------------------------------------------------------------ TensorDataset
def test_tensor_dataset_rows_of_numpy_columns() -> None:
    x, y = _rows(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi, x[3])
    assert yi == 30
    assert ds.tensors[0] is x


def test_tensor_dataset_rows_of_tensor_columns() -> None:
    x, y = _rows(4)
    ds = TensorDataset(at.tensor(x), at.tensor(y))
    xi, yi = ds[-1]
    assert isinstance(xi, at.Tensor)
    np.testing.assert_array_equal(xi.numpy(), x[-1])
    assert yi.item() == 30


def test_tensor_dataset_get_batch_equals_fancy_indexing() -> None:
    x, y = _rows(7)
    idx = [6, 0, 3, 3, -1]
    both: list[tuple[Any, Any]] = [
        (x, y),
        (at.tensor(x), at.tensor(y)),
        (xp.asarray(x), xp.asarray(y)),
    ]
    for columns in both:
        bx, by = TensorDataset(*columns).get_batch(idx)
        np.testing.assert_array_equal(np.asarray(bx), x[idx])
        np.testing.assert_array_equal(np.asarray(by), y[idx])
        assert np.asarray(bx).dtype == np.float32


def test_tensor_dataset_get_batch_checks_the_range() -> None:
    ds = TensorDataset(*_rows(3))
    with pytest.raises(IndexError, match="index 3 is out of range"):
        ds.get_batch([0, 3])
    with pytest.raises(IndexError, match="index -4"):
        ds.get_batch([-4])


def test_tensor_dataset_size_mismatch() -> None:
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))


def test_tensor_dataset_refuses_what_is_not_an_array() -> None:
    with pytest.raises(TypeError, match="argument 1 must be an actnet Tensor"):
        TensorDataset(np.zeros(3), [1, 2, 3])  # type: ignore[arg-type]  # the error under test
    with pytest.raises(TypeError, match="dtype <U1"):
        TensorDataset(np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"first \(sample\) dimension"):
        TensorDataset(np.array(1.0))


def test_empty_tensor_dataset() -> None:
    assert len(TensorDataset()) == 0


# ------------------------------------------------------------ Subset
def test_subset_maps_indices() -> None:
    base = _Squares(10)
    sub = Subset(base, [9, 2, 5])
    assert len(sub) == 3
    assert [sub[i] for i in range(3)] == [81, 4, 25]
    assert sub.__getitems__([2, 0]) == [25, 81]


def test_subset_forwards_get_batch_only_when_the_dataset_has_it() -> None:
    x, y = _rows(6)
    sub = Subset(Subset(TensorDataset(x, y), [5, 4, 3, 2]), [3, 0])
    getter = _batch_getter(sub)
    assert getter is not None
    bx, _ = getter([0, 1])
    np.testing.assert_array_equal(bx, x[[2, 5]])
    assert _batch_getter(Subset(_Squares(3), [0])) is None


# ------------------------------------------------------------ ConcatDataset
def test_concat_dataset_indexing() -> None:
    a, b = _Squares(2), _Squares(3)
    cat = ConcatDataset([a, b])
    assert len(cat) == 5
    assert cat.cumulative_sizes == [2, 5]
    assert [cat[i] for i in range(5)] == [0, 1, 0, 1, 4]
    assert cat[-1] == 4
    assert cat[-5] == 0
    assert (a + b)[4] == 4


def test_concat_dataset_errors() -> None:
    cat = ConcatDataset([_Squares(2)])
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        cat[-3]
    with pytest.raises(IndexError):
        cat[2]
    with pytest.raises(ValueError, match="empty iterable"):
        ConcatDataset([])


# ------------------------------------------------------------ random_split
def test_random_split_by_counts_is_a_partition() -> None:
    parts = random_split(_Squares(10), [3, 0, 7], generator=Generator(5))
    assert [len(p) for p in parts] == [3, 0, 7]
    seen = sorted(i for p in parts for i in p.indices)
    assert seen == list(range(10))


def test_random_split_by_fractions_hands_out_the_remainder_in_order() -> None:
    # 11 * 0.5 = 5.5 -> 5, 11 * 0.3 = 3.3 -> 3, 11 * 0.2 = 2.2 -> 2: 1 left,
    # which goes to the first split.
    parts = random_split(_Squares(11), [0.5, 0.3, 0.2], generator=Generator(0))
    assert [len(p) for p in parts] == [6, 3, 2]
    # 10 samples in thirds: 3, 3, 3 and one left for the first.
    thirds = random_split(_Squares(10), [1 / 3, 1 / 3, 1 / 3], Generator(0))
    assert [len(p) for p in thirds] == [4, 3, 3]


def test_random_split_is_a_function_of_the_generator() -> None:
    a = random_split(_Squares(20), [10, 10], generator=Generator(7))
    b = random_split(_Squares(20), [10, 10], generator=Generator(7))
    c = random_split(_Squares(20), [10, 10], generator=Generator(8))
    assert a[0].indices == b[0].indices
    assert a[0].indices != c[0].indices
    manual_seed(3)
    d = random_split(_Squares(20), [10, 10])
    manual_seed(3)
    e = random_split(_Squares(20), [10, 10])
    assert d[0].indices == e[0].indices


def test_random_split_errors() -> None:
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(_Squares(5), [2, 2])
    with pytest.raises(ValueError, match="non-negative ints"):
        random_split(_Squares(5), [6, -1])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between"):
        random_split(_Squares(5), [1.5, -0.5])
    with pytest.raises(TypeError, match=r"actnet\.device\.Generator"):
        random_split(_Squares(5), [5], generator=3)  # type: ignore[arg-type]  # the error under test


def test_random_split_warns_about_an_empty_split() -> None:
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        parts = random_split(_Squares(2), [0.9, 0.1], Generator(0))
    assert [len(p) for p in parts] == [2, 0]
