"""Operations along one dimension: diff, cummax, cummin, logcumsumexp; and the
sorted-sequence lookups searchsorted and bucketize.

Each differentiable one is a composition of differentiable operations, so its
gradient (and the next) is theirs: diff is a difference of narrowed slices,
cummax/cummin gather their values at the indices (the gradient scatters back,
as PyTorch's), and logcumsumexp is a logsumexp over a masked square of the
dimension (n^2 elements per row, but no underflow of early terms the way
log(cumsum(exp(x))) has).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._arithmetic import sub
from actnet.tensor._cumulative import logsumexp
from actnet.tensor._indexing import cat, gather
from actnet.tensor._math import where
from actnet.tensor._selection import narrow
from actnet.tensor._shape import clone, expand, unsqueeze
from actnet.tensor._tensor_base import Scalar, TensorBase, _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


class CumResult(NamedTuple):
    """What cummax and cummin return (torch.return_types.cummax's fields)."""

    values: Tensor
    indices: Tensor


def _check(input: Any, op: str, name: str = "input") -> None:
    if not isinstance(input, TensorBase):
        raise TypeError(
            f"{op}(): argument '{name}' must be Tensor, not {type(input).__name__}"
        )


# ------------------------------------------------------------------- diff
def _edge(t: Tensor | None, input: Tensor, d: builtins.int, name: str) -> list[Tensor]:
    if t is None:
        return []
    _check(t, "diff", name)
    if t.ndim != input.ndim:
        raise RuntimeError(
            "diff expects prepend or append to be the same dimension as input"
        )
    return [t]


def diff(
    input: Tensor,
    n: builtins.int = 1,
    dim: builtins.int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """The n-th forward difference along dim (logical xor for bool), after
    prepend and append are joined on.

    >>> diff(tensor([1, 4, 9]))
    tensor([3, 5])
    """
    _check(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _dim(dim, input.ndim)
    parts = [*_edge(prepend, input, d, "prepend"), input]
    parts += _edge(append, input, d, "append")
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        high = narrow(x, d, 1, length - 1)
        low = narrow(x, d, 0, length - 1)
        if x.dtype == xp.bool:
            x = _make(xp.logical_xor(high.array, low.array))
        else:
            x = sub(high, low)
    return x


# -------------------------------------------------------- cummax, cummin
def _running_index(values: NDArray, d: builtins.int, largest: builtins.bool) -> NDArray:
    """The index of the running maximum (minimum) along d: the last of equal
    ones, and NaN once one is seen (PyTorch's rule)."""
    moved = xp.moveaxis(values, d, 0)
    floating = moved.dtype.kind in "fc"
    best = moved[0]
    where_at = xp.zeros(best.shape, dtype=xp.int64, device=values.device)
    rows = [where_at]
    for k in range(1, moved.shape[0]):
        x = moved[k]
        better = x >= best if largest else x <= best
        if floating:
            better = xp.logical_or(
                xp.isnan(x), xp.logical_and(better, xp.logical_not(xp.isnan(best)))
            )
        best = xp.where(better, x, best)
        where_at = xp.where(better, xp.full_like(where_at, k), where_at)
        rows.append(where_at)
    return xp.moveaxis(xp.stack(rows, axis=0), 0, d)


def _cumulative_extreme(
    input: Tensor, dim: builtins.int, largest: builtins.bool, op: str
) -> CumResult:
    _check(input, op)
    d = _dim(dim, builtins.max(input.ndim, 1))
    if input.ndim == 0 or input.numel() == 0:
        empty = _make(xp.zeros(input.shape, dtype=xp.int64, device=input.device))
        return CumResult(clone(input), empty)
    values = input.array
    if values.dtype == xp.bool:
        values = xp.astype(values, xp.uint8)
    indices = _make(_running_index(values, d, largest))
    return CumResult(gather(input, d, indices), indices)


def cummax(input: Tensor, dim: builtins.int) -> CumResult:
    """The running maximum along dim, and where each was found.

    >>> cummax(tensor([1, 3, 2]), 0).values
    tensor([1, 3, 3])
    """
    return _cumulative_extreme(input, dim, True, "cummax")


def cummin(input: Tensor, dim: builtins.int) -> CumResult:
    """The running minimum along dim, and where each was found.

    >>> cummin(tensor([3, 1, 2]), 0).values
    tensor([3, 1, 1])
    """
    return _cumulative_extreme(input, dim, False, "cummin")


# ----------------------------------------------------------- logcumsumexp
def logcumsumexp(input: Tensor, dim: builtins.int) -> Tensor:
    """log(cumsum(exp(input))) along dim, without overflow or underflow.

    >>> logcumsumexp(tensor([0.0, 0.0]), 0)
    tensor([0.0000, 0.6931])
    """
    _check(input, "logcumsumexp")
    if input.dtype.kind not in "fc":
        raise RuntimeError(
            f"\"logcumsumexp_out_cpu\" not implemented for '{_torch_name(input.dtype)}'"
        )
    if input.ndim == 0:
        return clone(input)
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if n == 0:
        return clone(input)
    # square[..., i, j, ...] = input[..., i, ...] where i <= j, else -inf
    x = unsqueeze(input, d + 1)
    shape = list(x.shape)
    shape[d + 1] = n
    x = expand(x, tuple(shape))
    i = xp.reshape(
        xp.arange(n, device=input.device), (n, 1) + (1,) * (input.ndim - d - 1)
    )
    j = xp.reshape(
        xp.arange(n, device=input.device), (1, n) + (1,) * (input.ndim - d - 1)
    )
    low = xp.full((), -xp.inf, dtype=input.dtype, device=input.device)
    square = where(_make(i <= j), x, _make(low))
    return logsumexp(square, d)


def _torch_name(dtype: Any) -> str:
    names = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char"}
    names.update({"uint8": "Byte", "bool": "Bool"})
    return names.get(str(dtype), str(dtype))


# ------------------------------------------------ searchsorted, bucketize
def _side(right: builtins.bool, side: str | None) -> Literal["left", "right"]:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(
            f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}"
        )
    if right and side == "left":
        raise RuntimeError(
            "torch.searchsorted(): side and right can't be set to opposites, got side "
            "of left while right was True"
        )
    return "right" if side == "right" else "left"


def _values_array(values: Tensor | Scalar, like: Tensor) -> NDArray:
    if isinstance(values, TensorBase):
        return values.array
    return xp.asarray(values, device=like.device)


def searchsorted(
    sorted_sequence: Tensor,
    values: Tensor | Scalar,
    *,
    out_int32: builtins.bool = False,
    right: builtins.bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """For each value, the index in the innermost dimension of sorted_sequence
    at which inserting it keeps that row sorted (per row: sorted_sequence's
    leading dimensions match values').

    >>> searchsorted(tensor([1, 3, 5]), tensor([3, 6]))
    tensor([1, 3])
    """
    _check(sorted_sequence, "searchsorted", "sorted_sequence")
    which = _side(right, side)
    seq = sorted_sequence.array
    v = _values_array(values, sorted_sequence)
    if sorter is not None:
        _check(sorter, "searchsorted", "sorter")
        if sorter.shape != sorted_sequence.shape:
            raise RuntimeError(
                "torch.searchsorted(): boundary and sorter must have the same size, "
                f"but got boundary tensor {list(seq.shape)}and got sorter tensor "
                f"{list(sorter.shape)}"
            )
        seq = xp.take_along_axis(seq, sorter.array, axis=-1)
    if seq.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the "
            "first N-1 dimensions of boundaries tensor and input value tensor must "
            "match, but we got boundaries tensor [] and input value tensor "
            f"{list(v.shape)}"
        )
    if seq.ndim == 1:
        flat = xp.reshape(v, (-1,))
        found = xp.reshape(xp.searchsorted(seq, flat, side=which), v.shape)
    else:
        if seq.shape[:-1] != v.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                "first N-1 dimensions of boundaries tensor and input value tensor "
                f"must match, but we got boundaries tensor {list(seq.shape)} and "
                f"input value tensor {list(v.shape)}"
            )
        rows = xp.reshape(seq, (-1, seq.shape[-1]))
        wanted = xp.reshape(v, (-1, v.shape[-1]))
        found_rows = [
            xp.searchsorted(rows[r], wanted[r], side=which)
            for r in range(rows.shape[0])
        ]
        stacked = (
            xp.stack(found_rows, axis=0)
            if found_rows
            else xp.zeros(wanted.shape, dtype=xp.int64, device=seq.device)
        )
        found = xp.reshape(stacked, v.shape)
    return _make(xp.astype(found, xp.int32 if out_int32 else xp.int64))


def bucketize(
    input: Tensor | Scalar,
    boundaries: Tensor,
    *,
    out_int32: builtins.bool = False,
    right: builtins.bool = False,
) -> Tensor:
    """The index of the bucket of each input value, boundaries 1-d and sorted:
    searchsorted(boundaries, input).

    >>> bucketize(tensor([1, 5, 9]), tensor([2, 6]))
    tensor([0, 1, 2])
    """
    _check(boundaries, "bucketize", "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})"
        )
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
