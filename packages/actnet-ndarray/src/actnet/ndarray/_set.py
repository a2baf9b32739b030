"""Set functions of the standard: the unique_* family.

    x = xp.asarray([[3, 1], [3, 2]])
    xp.unique_values(x)                  # [1, 2, 3]
    xp.unique_counts(x).counts           # [1, 1, 2]
    xp.unique_inverse(x).inverse_indices # [[2, 0], [2, 1]]: x's shape

The values come sorted; NaNs are all distinct (each is its own value), as the
standard asks. Indices and counts are int64.
"""

from __future__ import annotations

from typing import NamedTuple

from actnet.device import Buffer
from actnet.ndarray._arguments import array_arg
from actnet.ndarray._array import NDArray, _wrap

__all__ = [
    "unique_all",
    "unique_counts",
    "unique_inverse",
    "unique_values",
]


class UniqueAllResult(NamedTuple):
    """What unique_all returns (the standard's field names)."""

    values: NDArray
    indices: NDArray
    inverse_indices: NDArray
    counts: NDArray


class UniqueCountsResult(NamedTuple):
    """What unique_counts returns (the standard's field names)."""

    values: NDArray
    counts: NDArray


class UniqueInverseResult(NamedTuple):
    """What unique_inverse returns (the standard's field names)."""

    values: NDArray
    inverse_indices: NDArray


def _unique(x: NDArray, op: str) -> tuple[Buffer, Buffer, Buffer, Buffer]:
    """The device's (values, first indices, inverse, counts) of the flattened x;
    the inverse has x's shape."""
    array_arg(x, op)
    return x.device.unique(x.buffer)


def unique_all(x: NDArray, /) -> UniqueAllResult:
    """The sorted distinct values of x, the index of the first occurrence of each
    (in the flattened x), the index into values of every element of x (with x's
    shape), and how often each value occurs."""
    values, indices, inverse, counts = _unique(x, "unique_all")
    return UniqueAllResult(_wrap(values), _wrap(indices), _wrap(inverse), _wrap(counts))


def unique_counts(x: NDArray, /) -> UniqueCountsResult:
    """The sorted distinct values of x, and how often each occurs."""
    values, _, _, counts = _unique(x, "unique_counts")
    return UniqueCountsResult(_wrap(values), _wrap(counts))


def unique_inverse(x: NDArray, /) -> UniqueInverseResult:
    """The sorted distinct values of x, and the index into them of every element
    of x (with x's shape)."""
    values, _, inverse, _ = _unique(x, "unique_inverse")
    return UniqueInverseResult(_wrap(values), _wrap(inverse))


def unique_values(x: NDArray, /) -> NDArray:
    """The sorted distinct values of x, as a 1-d array."""
    values, _, _, _ = _unique(x, "unique_values")
    return _wrap(values)
