"""embedding_bag: the sum, mean or maximum of each bag of rows of a weight table."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
import actnet.tensor as at
from actnet.ndarray import NDArray
from actnet.neuron._checks import check_tensor
from actnet.neuron.array.pad import pad
from actnet.neuron.connection.embedding import (
    embedding,
    renorm_rows,
    table_options,
)
from actnet.tensor import Function, Tensor, as_tensor

_OP = "embedding_bag"


class BagSum(Function):
    """out[b] = the sum of values[i] over the i with bag[i] == b; bag[i] ==
    num_bags drops values[i] (a padding index, or an index in no bag).
    Backward keeps `bag` only: values[i]'s gradient is grad[bag[i]] (zeros for
    the dropped), by Tensor indexing, so the backward is differentiable too."""

    @staticmethod
    def forward(ctx: Any, values: Tensor, bag: NDArray, num_bags: int) -> Tensor:
        v = values.array
        table = xp.zeros((num_bags + 1, v.shape[1]), dtype=v.dtype, device=v.device)
        ctx.bag = bag
        return as_tensor(table.at[bag].add(v)[:num_bags])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None, None]:
        padded = pad(grad, (0, 0, 0, 1))  # the dropped values' row of zeros
        return padded[as_tensor(ctx.bag)], None, None


def _check_arguments(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None,
    mode: str,
    per_sample_weights: Tensor | None,
) -> None:
    """torch's checks of the tensors' kinds and shapes, and of mode, in its order
    and words."""
    check_tensor(input, _OP, "input", kinds="iu")
    check_tensor(weight, _OP, "weight", kinds="f")
    if offsets is not None:
        check_tensor(offsets, _OP, "offsets", kinds="iu")
    if per_sample_weights is not None:
        check_tensor(per_sample_weights, _OP, "per_sample_weights", kinds="f")
        if per_sample_weights.shape != input.shape:
            raise ValueError(
                f"{_OP}: If per_sample_weights ({per_sample_weights.shape}) is not "
                f"None, then it must have the same shape as the input ({input.shape})"
            )
        if per_sample_weights.dtype != weight.dtype:
            raise TypeError(
                f"{_OP}: per_sample_weights must have weight's dtype {weight.dtype}, "
                f"got {per_sample_weights.dtype}"
            )
    if weight.ndim != 2:
        raise ValueError(
            f"{_OP}: weight has to be a 2D Tensor, but got Tensor of dimension "
            f"{weight.ndim}"
        )
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                f"{_OP}: if input is 2D, then offsets has to be None, as input is "
                "treated is a mini-batch of fixed length sequences. However, found "
                f"offsets of type {type(offsets).__name__}"
            )
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError(f"{_OP}: offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError(f"{_OP}: offsets has to be a 1D Tensor")
    else:
        raise ValueError(
            f"{_OP}: input has to be 1D or 2D Tensor, but got Tensor of dimension "
            f"{input.ndim}"
        )
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{_OP}: mode has to be one of sum, mean or max, got {mode!r}")


def _check_values(indices: NDArray, starts: NDArray | None, num: int) -> None:
    """The indices within the table, offsets starting at 0, never decreasing and
    within the input (PyTorch leaves decreasing offsets unchecked)."""
    n = indices.shape[0]
    if n:
        low, high = int(xp.min(indices)), int(xp.max(indices))
        if low < 0 or high >= num:
            bad = low if low < 0 else high
            raise IndexError(
                f"{_OP}: index {bad} in input is out of range for {num} embeddings"
            )
    if starts is None or not starts.shape[0]:
        return
    if int(starts[0]) != 0:
        raise ValueError(
            f"{_OP}: offsets[0] has to be 0, i.e., the first sequence in the "
            f"mini-batch has to start from position 0. However, got {int(starts[0])}"
        )
    if bool(xp.any(starts[1:] < starts[:-1])):
        raise ValueError(f"{_OP}: offsets must not decrease")
    if int(starts[-1]) > n:
        raise ValueError(
            f"{_OP}: offsets[-1] can not be greater than input's length {n} but got "
            f"offsets[-1] of {int(starts[-1])}"
        )


def _layout(
    input: Tensor, offsets: Tensor | None, include_last_offset: bool
) -> tuple[NDArray, NDArray, NDArray | None, NDArray | None]:
    """input's indices (flat), each bag's start, the end of the last bag (None:
    input's end) and the offsets to check (None: those of a 2-d input)."""
    indices = xp.reshape(input.array, (-1,))
    if input.ndim == 2:  # fixed-length bags; include_last_offset plays no part
        length = input.shape[1]
        starts = xp.arange(input.shape[0], device=indices.device) * length
        return indices, starts, None, None
    assert offsets is not None  # _check_arguments
    starts = offsets.array
    if not include_last_offset:
        return indices, starts, None, starts
    if not starts.shape[0]:
        raise ValueError(
            f"{_OP}: include_last_offset: number of offset should be at least 1"
        )
    # Indices after the last offset are in no bag: torch documents it as input's
    # length, and PyTorch 2.13's CPU kernels disagree on what follows it (float32
    # "sum" stops there, the others run the last bag to input's end).
    return indices, starts[:-1], starts[-1], starts


def _bag_of(
    indices: NDArray, starts: NDArray, end: NDArray | None, padding_idx: int | None
) -> tuple[NDArray, int]:
    """Each index's bag, and num_bags; num_bags stands for no bag (a padding
    index, or one at or after `end`). Bag b runs from starts[b] to the next
    start, the last one to `end` (include_last_offset's final offset), or to the
    input's end."""
    num_bags = starts.shape[0]
    positions = xp.arange(indices.shape[0], device=indices.device)
    if num_bags:
        bag = xp.searchsorted(starts, positions, side="right") - 1
    else:
        bag = xp.zeros_like(positions)
    if end is not None:
        bag = xp.where(positions >= end, num_bags, bag)
    if padding_idx is not None:
        bag = xp.where(indices == padding_idx, num_bags, bag)
    return bag, num_bags


def _max_positions(rows: NDArray, bag: NDArray, num_bags: int) -> NDArray:
    """(num_bags, embedding_dim): the position in input of each bag's maximum per
    column, the first among ties; n (rows' count) for an empty bag. As PyTorch's
    CPU kernel, which takes a later value only when it is greater: a NaN first in
    its bag is the maximum, a later NaN is passed over."""
    n, width = rows.shape
    nan = xp.isnan(rows)
    low = -float("inf")
    top = xp.full((num_bags + 1, width), low, dtype=rows.dtype, device=rows.device)
    top = top.at[bag].max(xp.where(nan, low, rows))
    hit = rows == xp.take(top, bag, axis=0)  # never at a NaN
    positions = xp.arange(n, device=rows.device)
    none = xp.full((num_bags + 1, width), n, dtype=positions.dtype, device=rows.device)
    candidates = xp.where(hit, xp.expand_dims(positions, axis=1), n)
    pick = none.at[bag].min(candidates)[:num_bags]
    first = none[:, 0].at[bag].min(positions)[:num_bags]
    no_row = xp.zeros((1, width), dtype=nan.dtype, device=nan.device)
    nan_first = xp.take(xp.concat([nan, no_row]), first, axis=0)
    return xp.where(nan_first, xp.expand_dims(first, axis=1), pick)


def _bag_max(weight: Tensor, indices: NDArray, bag: NDArray, num_bags: int) -> Tensor:
    """Each bag's maximum per column, read from weight by (row, column) so that
    the gradient goes to the row that gave it; an empty bag gives 0."""
    pick = _max_positions(xp.take(weight.array, indices, axis=0), bag, num_bags)
    # an empty bag's position, n, reads row 0 (there is one: input is not empty)
    rows = xp.concat([indices, xp.zeros(1, dtype=indices.dtype, device=pick.device)])
    word = xp.reshape(xp.take(rows, xp.reshape(pick, (-1,))), pick.shape)
    columns = xp.expand_dims(xp.arange(pick.shape[1], device=pick.device), axis=0)
    picked = weight[(as_tensor(word), as_tensor(columns))]
    empty = pick == indices.shape[0]
    result: Tensor = at.where(as_tensor(empty), 0.0, picked)
    return result


def embedding_bag(
    input: Tensor,  # torch's names
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The sum, mean or maximum (`mode`) of each bag of rows of `weight`
    (num_embeddings, embedding_dim), without the lookups in between
    (torch.nn.functional.embedding_bag): the result is (num_bags, embedding_dim).

    `input` is 2-d (num_bags, length), one bag a row, or 1-d with `offsets`, the
    start of each bag in it (with include_last_offset, one more offset closes the
    last bag). With mode="sum", `per_sample_weights` (input's shape) scales each
    row first. Indices equal to `padding_idx` are left out of their bag (and out
    of the mean's count) and get no gradient; an empty bag gives zeros. In mode
    "max" the gradient goes to the row of each column's maximum (the first among
    ties). With `scale_grad_by_freq` each row's gradient is divided by its count in
    input (not in mode "max", as torch). max_norm renormalises the rows looked
    up first, in place, as in `embedding`; sparse gradients are not supported.

    >>> embedding_bag(tensor([0, 2, 1]), tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]),
    ...               tensor([0, 2]), mode="sum")
    tensor([[4., 6.],
            [2., 3.]])
    """
    _check_arguments(input, weight, offsets, mode, per_sample_weights)
    if mode == "max" and scale_grad_by_freq:
        raise ValueError(
            f"{_OP}: max mode does not support scaling the gradient by the frequency"
        )
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"{_OP}: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode={mode!r})"
        )
    num = weight.shape[0]
    padding_idx = table_options(_OP, num, padding_idx, sparse)
    indices, starts, end, checked = _layout(input, offsets, include_last_offset)
    # The device checks the bounds too (inside a captured step, only it does).
    if not input.device.capturing:
        _check_values(indices, checked, num)
    if max_norm is not None:
        renorm_rows(weight, indices, max_norm, norm_type, _OP)
    bag, num_bags = _bag_of(indices, starts, end, padding_idx)
    if mode == "max" and indices.shape[0]:
        return _bag_max(weight, indices, bag, num_bags)
    if scale_grad_by_freq:  # counts over all of input, padding included, as torch
        rows = embedding(as_tensor(indices), weight, scale_grad_by_freq=True)
    else:
        rows = weight[as_tensor(indices)]
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape((-1, 1))
    result: Tensor = BagSum.apply(rows, bag, num_bags)
    if mode == "mean":
        counts = xp.zeros(num_bags + 1, dtype=weight.dtype, device=indices.device)
        counts = counts.at[bag].add(1.0)[:num_bags]
        scale = 1.0 / xp.maximum(counts, 1.0)
        result = result * as_tensor(xp.expand_dims(scale, axis=1))
    return result
