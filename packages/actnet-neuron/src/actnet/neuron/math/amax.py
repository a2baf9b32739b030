"""amax: the maximum over dims (or all), the gradient shared among ties."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.neuron._arguments import check_dims
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor


def reduce_extreme(
    ctx: Any,
    x: Tensor,
    dims: tuple[int, ...] | None,
    keepdim: bool,
    reduce: Callable[..., NDArray],
) -> Tensor:
    """The forward of amax and amin: `reduce` (xp.max or xp.min) over dims, and
    for backward the mask of the elements equal to their extreme."""
    data = x.array
    kept = reduce(data, axis=dims, keepdims=True)
    if ctx.needs_input_grad[0]:
        ctx.mask = data == kept
        ctx.dims, ctx.keepdim = dims, keepdim
    if keepdim:
        return as_tensor(kept)
    return as_tensor(xp.reshape(kept, _reduced_shape(data.shape, dims)))


def share_among_ties(ctx: Any, grad: Tensor) -> Tensor:
    """The backward of amax and amin: each extreme's gradient split evenly among
    the elements that reach it (PyTorch's choice). The weights are constants, so
    the gradient is linear in grad and double backward works."""
    mask, dims = ctx.mask, ctx.dims
    weights = xp.astype(mask, grad.dtype)
    weights = weights / xp.sum(weights, axis=dims, keepdims=True)
    if not ctx.keepdim:
        grad = grad.reshape(_reduced_shape(mask.shape, dims, keep=True))
    return grad * as_tensor(weights)


def _reduced_shape(
    shape: tuple[int, ...], dims: tuple[int, ...] | None, keep: bool = False
) -> tuple[int, ...]:
    if keep:
        return tuple(1 if dims is None or i in dims else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if dims is not None and i not in dims)


class AMax(Function):
    """The maximum over dims. Backward keeps the mask of the maxima (one byte an
    element), not the input."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, dims: tuple[int, ...] | None, keepdim: bool
    ) -> Tensor:
        return reduce_extreme(ctx, x, dims, keepdim, xp.max)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return share_among_ties(ctx, grad), None, None


def extreme_dims(
    input: Tensor, dim: int | Sequence[int], op: str
) -> tuple[int, ...] | None:
    """The dims amax or amin reduce (None: all), after checking them and that
    none of them is empty."""
    check_tensor(input, op, kinds="biuf")
    dims = check_dims(dim, input.ndim, op)
    if not dims or input.ndim == 0:  # (): all, as PyTorch; a 0-d input has one
        dims = None
    shape = input.shape
    for d in range(len(shape)) if dims is None else dims:
        if shape[d] == 0:
            raise RuntimeError(f"{op}: cannot reduce over dim {d}, of size 0")
    return dims


def amax(input: Tensor, dim: int | Sequence[int] = (), keepdim: bool = False) -> Tensor:
    """The maximum of input over dim (an int or a tuple of ints; () for all)
    (torch.amax). Unlike max(dim), no indices, and the gradient is shared evenly
    among ties.

    >>> amax(tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    tensor([5., 7.])
    """
    dims = extreme_dims(input, dim, "amax")
    result: Tensor = AMax.apply(input, dims, keepdim)
    return result
