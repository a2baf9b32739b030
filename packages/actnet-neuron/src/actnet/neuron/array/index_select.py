"""index_select: the slices along a dim at the given indices."""

from __future__ import annotations

import actnet.ndarray as xp
from actnet.neuron._arguments import check_dim
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor, as_tensor


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of input along dim at the positions in index, a 1-d (or 0-d)
    integer tensor, in its order, repeats allowed (torch.index_select). The
    gradient adds back (accumulating at repeated indices).

    >>> index_select(tensor([[1.0, 2.0, 3.0]]), 1, tensor([2, 0]))
    tensor([[3., 1.]])
    """
    check_tensor(input, "index_select", kinds="biufc")
    check_tensor(index, "index_select", argument="index", kinds="iu")
    if index.ndim > 1:
        raise RuntimeError(
            f"index_select: index must be 1-d (or 0-d), got shape {index.shape}"
        )
    d = check_dim(dim, input.ndim, "index_select")
    if input.ndim == 0:  # one element: as the 1-d case
        return index_select(input.reshape((1,)), 0, index).reshape(())
    positions = index.array if index.ndim == 1 else xp.reshape(index.array, (1,))
    size = input.shape[d]
    if positions.shape[0]:
        low, high = int(xp.min(positions)), int(xp.max(positions))
        if low < 0 or high >= size:
            bad = low if low < 0 else high
            raise IndexError(
                f"index_select: index {bad} is out of range for dim {d} of size {size}"
            )
    return input[(*(slice(None),) * d, as_tensor(positions))]
