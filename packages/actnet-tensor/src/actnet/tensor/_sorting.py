"""Sorting: sort, argsort and topk.

The indices come from the device's argsort (stable: equal values keep their
order, also when descending; NaN sorts above every number, as in PyTorch), and
the values are `gather(input, dim, indices)`, so their gradient is gather's:
each element of the input gets the gradient of the place it moved to.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, NamedTuple

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._indexing import gather
from actnet.tensor._shape import reshape
from actnet.tensor._tensor_base import TensorBase, _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


class SortResult(NamedTuple):
    """What sort returns (PyTorch's `torch.return_types.sort`)."""

    values: Tensor
    indices: Tensor


class TopKResult(NamedTuple):
    """What topk returns (PyTorch's `torch.return_types.topk`)."""

    values: Tensor
    indices: Tensor


def _order(
    a: Tensor, dim: builtins.int, descending: builtins.bool, op: str
) -> tuple[NDArray, builtins.int]:
    """The int64 indices that sort `a` along `dim` (checked), and dim as a
    position; a 0-d tensor sorts as one element."""
    if not isinstance(a, TensorBase):
        raise TypeError(f"{op}(): input must be a Tensor, not {type(a).__name__}")
    if a.dtype.kind == "c":
        raise RuntimeError(f"{op}(): does not support complex dtypes")
    if a.ndim == 0:
        _dim(dim, 0)
        return xp.zeros((), dtype=xp.int64, device=a.device), 0
    d = _dim(dim, a.ndim)
    keys = a.array
    if keys.dtype == xp.bool:  # the device sorts numbers: bools as 0 and 1
        keys = xp.astype(keys, xp.uint8)
    indices = xp.argsort(keys, axis=d, descending=builtins.bool(descending))
    return indices, d


def _values(a: Tensor, d: builtins.int, indices: NDArray) -> Tensor:
    """a's elements at `indices` along d (differentiable)."""
    if a.ndim == 0:
        return reshape(a, ())
    return gather(a, d, _make(indices))


def sort(
    input: Tensor,
    dim: builtins.int = -1,
    descending: builtins.bool = False,
    *,
    stable: builtins.bool = False,
) -> SortResult:
    """(values, indices): input sorted along `dim`. The sort is always stable, which
    PyTorch's stable=False allows.

    >>> sort(tensor([3.0, 1.0, 2.0])).indices
    tensor([1, 2, 0])
    """
    indices, d = _order(input, dim, descending, "sort")
    return SortResult(_values(input, d, indices), _make(indices))


def argsort(
    input: Tensor,
    dim: builtins.int = -1,
    descending: builtins.bool = False,
    *,
    stable: builtins.bool = False,
) -> Tensor:
    """The indices that sort input along `dim` (sort's second value)."""
    indices, _ = _order(input, dim, descending, "argsort")
    return _make(indices)


def topk(
    input: Tensor,
    k: builtins.int,
    dim: builtins.int = -1,
    largest: builtins.bool = True,
    sorted: builtins.bool = True,
) -> TopKResult:
    """(values, indices) of the k largest (smallest when not `largest`) elements
    along `dim`, in sorted order (also when sorted=False, which allows any
    order); of equal values, the first ones.

    >>> topk(tensor([1.0, 5.0, 3.0]), 2)
    TopKResult(values=tensor([5., 3.]), indices=tensor([1, 2]))
    """
    if isinstance(input, TensorBase) and input.dtype == xp.bool:
        raise RuntimeError("topk does not support bool dtypes")
    if type(k) is not builtins.int:
        raise TypeError(f"topk(): k must be an int, got {k!r}")
    indices, d = _order(input, dim, largest, "topk")
    size = input.shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input.ndim:  # a 0-d input gives its element for k = 0 or 1, as PyTorch's
        indices = indices[(slice(None),) * d + (slice(0, k),)]
    return TopKResult(_values(input, d, indices), _make(indices))
