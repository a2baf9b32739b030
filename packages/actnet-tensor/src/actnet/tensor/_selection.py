"""Selecting elements: nonzero, index_select, narrow, select, masked_select,
repeat_interleave, unique.

The differentiable ones are indexing (`t[key]`, _indexing.py) with a key made
here, so their gradient is indexing's: the gradient of each selected element
goes back to its place (summed where repeated). nonzero and unique give
indices and values: not differentiable, as in PyTorch.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._indexing import index as _take  # `index` is an argument here
from actnet.tensor._shape import expand, reshape
from actnet.tensor._tensor_base import TensorBase, _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _check(a: Any, op: str) -> None:
    if not isinstance(a, TensorBase):
        raise TypeError(f"{op}(): input must be a Tensor, not {type(a).__name__}")


# ------------------------------------------------------------------- nonzero
def nonzero(input: Tensor, *, as_tuple: builtins.bool = False) -> Any:
    """The int64 indices of input's nonzero elements: one row per element (an
    (n, ndim) tensor), or with as_tuple one 1-d tensor per dim.

    >>> nonzero(tensor([0, 3, 0, 5]))
    tensor([[1], [3]])
    """
    _check(input, "nonzero")
    x = input.array
    if input.ndim == 0:  # PyTorch: a 0-d input has no dims, or one as a tuple
        count = 1 if builtins.bool(x != 0) else 0
        if as_tuple:
            return (_make(xp.zeros((count,), dtype=xp.int64, device=x.device)),)
        return _make(xp.zeros((count, 0), dtype=xp.int64, device=x.device))
    found = [xp.astype(i, xp.int64) for i in xp.nonzero(x)]
    if as_tuple:
        return tuple(_make(i) for i in found)
    return _make(xp.stack(found, axis=1))


# ------------------------------------------------ index_select, narrow
def _index_vector(index: Any, size: builtins.int) -> NDArray:
    """index_select's index: a 0-d or 1-d int32/int64 tensor within [0, size)."""
    if not isinstance(index, TensorBase):
        raise TypeError(
            f"index_select(): index must be a Tensor, not {type(index).__name__}"
        )
    if index.dtype not in (xp.int32, xp.int64):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    values = xp.reshape(index.array, (-1,))
    if values.size and not builtins.bool(xp.all((values >= 0) & (values < size))):
        raise IndexError("index out of range in self")
    return values


def index_select(input: Tensor, dim: builtins.int, index: Tensor) -> Tensor:
    """input's slices at `index` (a vector) along dim, in that order.

    >>> index_select(tensor([[1, 2], [3, 4]]), 0, tensor([1, 1]))
    tensor([[3, 4], [3, 4]])
    """
    _check(input, "index_select")
    if input.ndim == 0:
        _dim(dim, 0)
        picks = _index_vector(index, 1)
        return index_select(reshape(input, (1,)), 0, _make(picks))
    d = _dim(dim, input.ndim)
    picks = _index_vector(index, input.shape[d])
    return _take(input, (slice(None),) * d + (picks,))


def narrow(
    input: Tensor, dim: builtins.int, start: builtins.int, length: builtins.int
) -> Tensor:
    """The `length` elements of input from `start` along dim (a view)."""
    _check(input, "narrow")
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim)
    size = input.shape[d]
    begin, count = builtins.int(start), builtins.int(length)
    if count < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= begin <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], "
            f"but got {begin})"
        )
    if begin < 0:
        begin += size
    if begin + count > size:
        raise RuntimeError(
            f"start ({begin}) + length ({count}) exceeds dimension size ({size})."
        )
    return _take(input, (slice(None),) * d + (slice(begin, begin + count),))


def select(input: Tensor, dim: builtins.int, index: builtins.int) -> Tensor:
    """The slice of input at `index` along dim, that dim removed (a view;
    torch.select).

    >>> select(tensor([[1, 2], [3, 4]]), 1, 0)
    tensor([1, 3])
    """
    _check(input, "select")
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    if type(index) is not builtins.int:
        raise TypeError(f"select(): index must be an int, got {index!r}")
    d = _dim(dim, input.ndim)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size "
            f"{list(input.shape)} at dimension {d}"
        )
    return _take(input, (slice(None),) * d + (index % size,))


# ------------------------------------------------------------- masked_select
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of input (broadcast with the bool mask) where mask is true,
    as a 1-d tensor."""
    _check(input, "masked_select")
    if not isinstance(mask, TensorBase):
        raise TypeError(
            f"masked_select(): mask must be a Tensor, not {type(mask).__name__}"
        )
    if mask.dtype != xp.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = xp.broadcast_arrays(input.array, mask.array)[0].shape
    full = expand(input, shape)
    return _take(full, xp.broadcast_to(mask.array, shape))


# --------------------------------------------------------- repeat_interleave
def repeat_interleave(
    input: Tensor,
    repeats: Tensor | builtins.int | None = None,
    dim: builtins.int | None = None,
    *,
    output_size: builtins.int | None = None,
) -> Tensor:
    """Each element (each slice along dim; without dim, of the flattened input)
    repeated `repeats` times (an int, or one count per element). With input
    alone: input holds the counts, and the result repeats 0, 1, ... by them.

    >>> repeat_interleave(tensor([1, 2]), 2)
    tensor([1, 1, 2, 2])
    """
    _check(input, "repeat_interleave")
    if repeats is None:
        if input.ndim != 1 or input.dtype.kind not in "iu":
            raise RuntimeError("repeats must be 1-d tensor of integers")
        positions = _make(
            xp.arange(input.shape[0], dtype=xp.int64, device=input.device)
        )
        return repeat_interleave(positions, input, 0)
    if dim is None:
        input = reshape(input, (-1,))
        d = 0
    else:
        d = _dim(dim, input.ndim)
        if input.ndim == 0:
            input = reshape(input, (1,))
    size = input.shape[d]
    if isinstance(repeats, TensorBase):
        if repeats.dtype.kind not in "iu" or repeats.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor of integers")
        counts: Any = xp.astype(xp.reshape(repeats.array, (-1,)), xp.int64)
        if counts.size == 1:
            counts = builtins.int(counts[0])
        elif counts.size != size:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got "
                f"repeats.size(0) = {counts.size} and input.size({d}) = {size}"
            )
        elif counts.size and builtins.bool(xp.any(counts < 0)):
            raise RuntimeError("repeats can not be negative")
    elif type(repeats) is builtins.int:
        counts = repeats
    else:
        raise TypeError(
            f"repeat_interleave(): repeats must be an int or a Tensor, got {repeats!r}"
        )
    if isinstance(counts, builtins.int) and counts < 0:
        raise RuntimeError("repeats can not be negative")
    positions_array = xp.repeat(
        xp.arange(size, dtype=xp.int64, device=input.device), counts
    )
    if output_size is not None and positions_array.shape[0] != output_size:
        raise RuntimeError("allocated size does not match required size")
    return _take(input, (slice(None),) * d + (positions_array,))


# ------------------------------------------------------------------ unique
def unique(
    input: Tensor,
    sorted: builtins.bool = True,
    return_inverse: builtins.bool = False,
    return_counts: builtins.bool = False,
    dim: builtins.int | None = None,
) -> Any:
    """input's distinct values, sorted (also when sorted=False, which allows
    any order); with return_inverse, where each element of input is among them
    (input's shape), and with return_counts, how often each occurs (int64).

    >>> unique(tensor([3, 1, 3]), return_counts=True)
    (tensor([1, 3]), tensor([1, 2]))
    """
    _check(input, "unique")
    if dim is not None:
        raise NotImplementedError("unique(dim=...) is not built in actnet.tensor")
    x = xp.reshape(input.array, (-1,))
    keys = xp.astype(x, xp.uint8) if x.dtype == xp.bool else x
    found = xp.unique_all(keys)
    order = xp.argsort(found.values)  # the namespace promises no order
    values = found.values[order]
    if x.dtype == xp.bool:
        values = xp.astype(values, xp.bool)
    out: list[Tensor] = [_make(values)]
    if return_inverse:
        rank = xp.argsort(order)  # where each found value went
        inverse = rank[xp.astype(found.inverse_indices, xp.int64)]
        out.append(_make(xp.reshape(xp.astype(inverse, xp.int64), input.shape)))
    if return_counts:
        out.append(_make(xp.astype(found.counts[order], xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)
