"""Map-style datasets: `Dataset`, `TensorDataset`, `Subset`, `ConcatDataset`, and
`random_split`, with PyTorch's names, signatures and errors.

A dataset maps an index in ``range(len(dataset))`` to a sample. Datasets that can
gather a whole batch at once (one fancy index per column instead of a Python loop
over samples) also have ``get_batch(indices)``: `TensorDataset` has it, and so
do `Subset`s of a dataset that has it. The `DataLoader` uses it when it collates
with the default collate function, and gives the same batches as the
sample-by-sample path, bit for bit.

>>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> ds[1]
(array([2., 3.]), np.int64(1))
>>> train, test = random_split(ds, [0.8, 0.2], generator=Generator(0))
>>> len(train), len(test)
(4, 1)
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

import actnet.ndarray as xp
import actnet.tensor as at
from actnet.device import Generator, default_generator
from actnet.ndarray import NDArray

__all__ = [
    "ConcatDataset",
    "Dataset",
    "Subset",
    "TensorDataset",
    "random_split",
]

T_co = TypeVar("T_co", covariant=True)

# What a TensorDataset column may be: a Tensor, an NDArray or a NumPy array.
Column = at.Tensor | NDArray | np.ndarray[Any, Any]


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses define ``__getitem__`` and ``__len__``.

    ``a + b`` concatenates two datasets (`ConcatDataset`).
    """

    def __getitem__(self, index: int) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


def _first_dim(column: Column) -> int:
    if column.ndim == 0:
        raise ValueError(
            "TensorDataset: every tensor needs a first (sample) dimension, "
            "got a 0-d one"
        )
    return int(column.shape[0])


def _check_column(column: object, position: int) -> Column:
    if isinstance(column, at.Tensor | NDArray):
        return column
    if isinstance(column, np.ndarray):
        if column.dtype.kind not in "biufc":
            raise TypeError(
                f"TensorDataset: array {position} has dtype {column.dtype}; "
                "expected a numeric or bool dtype"
            )
        return column
    raise TypeError(
        f"TensorDataset: argument {position} must be an actnet Tensor, NDArray or "
        f"NumPy array, got {type(column).__name__}"
    )


def _index_array(indices: Sequence[int], length: int) -> np.ndarray[Any, Any]:
    """The indices as an int64 array, negatives wrapped, range checked."""
    idx = np.asarray(indices, dtype=np.int64)
    if idx.ndim != 1:
        raise ValueError(f"indices must be one-dimensional, got shape {idx.shape}")
    if idx.size and (idx.min() < -length or idx.max() >= length):
        bad = idx[(idx < -length) | (idx >= length)][0]
        raise IndexError(
            f"index {int(bad)} is out of range for a dataset of size {length}"
        )
    return np.where(idx < 0, idx + length, idx)


class TensorDataset(Dataset[tuple[Any, ...]]):
    """Samples are the rows, along the first dimension, of each of `tensors`.

    The tensors may be actnet Tensors, NDArrays or NumPy arrays (kept as given,
    so a NumPy column yields NumPy rows); all must have the same first size.

    >>> ds = TensorDataset(np.zeros((3, 2), np.float32), np.array([0, 1, 1]))
    >>> len(ds), ds[2][1]
    (3, np.int64(1))
    """

    tensors: tuple[Column, ...]

    def __init__(self, *tensors: Column) -> None:
        checked = tuple(_check_column(t, i) for i, t in enumerate(tensors))
        if checked:
            sizes = [_first_dim(t) for t in checked]
            if any(s != sizes[0] for s in sizes):
                raise ValueError(
                    f"Size mismatch between tensors: first dimensions {sizes}"
                )
        self.tensors = checked

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)

    def get_batch(self, indices: Sequence[int]) -> tuple[Any, ...]:
        """The samples at `indices`, already stacked: each column gathered with
        one fancy index (NumPy columns stay NumPy arrays)."""
        idx = _index_array(indices, len(self))
        out: list[Any] = []
        for t in self.tensors:
            if isinstance(t, np.ndarray):
                out.append(t[idx])
            elif isinstance(t, NDArray):
                out.append(t[xp.asarray(idx, device=t.device)])
            else:
                out.append(t[at.tensor(idx, device=t.device)])
        return tuple(out)

    def __len__(self) -> int:
        return _first_dim(self.tensors[0]) if self.tensors else 0

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"TensorDataset({shapes})"


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`, in that order.

    >>> Subset(TensorDataset(np.arange(5)), [4, 0])[0]
    (np.int64(4),)
    """

    dataset: Dataset[T_co]
    indices: Sequence[int]

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int | list[int]) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]  # type: ignore[index]  # a dataset indexed by a list, as torch's Subset allows
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list[T_co]:
        getitems = getattr(self.dataset, "__getitems__", None)
        mapped = [self.indices[i] for i in indices]
        if getitems is not None:
            result: list[T_co] = getitems(mapped)
            return result
        return [self.dataset[i] for i in mapped]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """The datasets one after the other.

    >>> ConcatDataset([TensorDataset(np.arange(2)), TensorDataset(np.arange(3))])[3]
    (np.int64(1),)
    """

    datasets: list[Dataset[T_co]]
    cumulative_sizes: list[int]

    @staticmethod
    def cumsum(sequence: Iterable[Dataset[Any]]) -> list[int]:
        sizes, total = [], 0
        for d in sequence:
            total += len(d)  # type: ignore[arg-type]  # map-style datasets have __len__
            sizes.append(total)
        return sizes

    def __init__(self, datasets: Iterable[Dataset[T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if not hasattr(d, "__len__") or not hasattr(d, "__getitem__"):
                raise TypeError(
                    "ConcatDataset needs map-style datasets (with __len__ and "
                    f"__getitem__), got {type(d).__name__}"
                )
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> T_co:
        if idx < 0:
            if -idx > len(self):
                raise ValueError(
                    "absolute value of index should not exceed dataset length"
                )
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(
                f"index {idx} is out of range for a dataset of size {len(self)}"
            )
        first = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - first]


def _split_lengths(lengths: Sequence[int | float], total: int) -> list[int]:
    """`lengths` as sample counts: fractions summing to 1 are floored, and the
    remainder handed out one by one from the first split (torch's rule)."""
    as_sum = math.fsum(lengths)
    if math.isclose(as_sum, 1) and as_sum <= 1:
        counts: list[int] = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(total * frac))
        remainder = total - sum(counts)
        for i in range(remainder):
            counts[i % len(counts)] += 1
        for i, n in enumerate(counts):
            if n == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. "
                    "This might result in an empty dataset.",
                    UserWarning,
                    stacklevel=3,
                )
        return counts
    for i, length in enumerate(lengths):
        if (
            isinstance(length, bool)
            or not isinstance(length, int | np.integer)
            or length < 0
        ):
            raise ValueError(
                f"lengths must be non-negative ints or fractions summing to 1; "
                f"got {length!r} at index {i}"
            )
    return [int(length) for length in lengths]


def _batch_getter(
    dataset: Dataset[Any],
) -> Callable[[Sequence[int]], Any] | None:
    """The dataset's `get_batch` (through `Subset`s), or None when it has none."""
    if isinstance(dataset, Subset):
        inner = _batch_getter(dataset.dataset)
        if inner is None:
            return None
        subset_indices = dataset.indices

        def get_batch(indices: Sequence[int]) -> Any:
            return inner([subset_indices[i] for i in indices])

        return get_batch
    getter: Callable[[Sequence[int]], Any] | None = getattr(dataset, "get_batch", None)
    return getter


def random_split(
    dataset: Dataset[T_co],
    lengths: Sequence[int | float],
    generator: Generator | None = None,
) -> list[Subset[T_co]]:
    """Split `dataset` at random into non-overlapping `Subset`s of the given
    lengths: sample counts, or fractions summing to 1 (then each gets
    floor(fraction * len), and the samples left over go one each to the first
    splits). The permutation comes from `generator` (default:
    `actnet.device.default_generator`, seeded by `actnet.device.manual_seed`).

    >>> a, b = random_split(TensorDataset(np.arange(10)), [3, 7], Generator(1))
    >>> sorted([*a.indices, *b.indices]) == list(range(10))
    True
    """
    total = len(dataset)  # type: ignore[arg-type]  # map-style datasets have __len__
    counts = _split_lengths(lengths, total)
    if sum(counts) != total:
        raise ValueError(
            "Sum of input lengths does not equal the length of the input dataset! "
            f"({sum(counts)} != {total})"
        )
    gen = default_generator if generator is None else generator
    if not isinstance(gen, Generator):
        raise TypeError(
            "generator must be an actnet.device.Generator, "
            f"got {type(generator).__name__}"
        )
    perm = gen.permutation(total)
    indices: list[int] = perm.device.to_host(perm).tolist()
    splits, start = [], 0
    for n in counts:
        splits.append(Subset(dataset, indices[start : start + n]))
        start += n
    return splits
