"""amin: the minimum over dims (or all), the gradient shared among ties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import actnet.ndarray as xp
from actnet.neuron.math.amax import extreme_dims, reduce_extreme, share_among_ties
from actnet.tensor import Function, Tensor


class AMin(Function):
    """The minimum over dims (amax's twin: the same helpers, with xp.min).
    Backward keeps the mask of the minima (one byte an element), not the input."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, dims: tuple[int, ...] | None, keepdim: bool
    ) -> Tensor:
        return reduce_extreme(ctx, x, dims, keepdim, xp.min)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return share_among_ties(ctx, grad), None, None


def amin(input: Tensor, dim: int | Sequence[int] = (), keepdim: bool = False) -> Tensor:
    """The minimum of input over dim (an int or a tuple of ints; () for all)
    (torch.amin). Unlike min(dim), no indices, and the gradient is shared evenly
    among ties.

    >>> amin(tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    tensor([1., 2.])
    """
    dims = extreme_dims(input, dim, "amin")
    result: Tensor = AMin.apply(input, dims, keepdim)
    return result
