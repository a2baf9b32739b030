"""l1_loss: the absolute error."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron.loss._common import (
    check_same_size_weight,
    float_pair,
    grad_scale,
    reduce_array,
    reduction_of,
    weighted,
)
from actnet.tensor import Function, Tensor, as_tensor
from actnet.tensor.amp import autocast_op

_OP = "l1_loss"


class L1Loss(Function):
    """|input - target|, reduced. Backward keeps the two inputs; the gradient is
    sign(input - target) (0 where they are equal, as in PyTorch)."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        reduction: str,
    ) -> Tensor:
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(input, target)
            ctx.reduction = reduction
        return as_tensor(reduce_array(xp.abs(input.array - target.array), reduction))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, t = ctx.saved_tensors
        sign = as_tensor(xp.sign(x.array - t.array))  # piecewise constant: no graph
        g = grad_scale(grad, ctx.reduction, x.numel()) * sign
        return (
            g if ctx.needs_input_grad[0] else None,
            -g if ctx.needs_input_grad[1] else None,
            None,
        )


@autocast_op("l1_loss")
def l1_loss(
    input: Tensor,  # torch's names
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """The absolute error |input - target|, elementwise, reduced
    (torch.nn.functional.l1_loss). With `weight` (input's size), each error is
    weighted and 'mean' divides by the summed weight.

    >>> l1_loss(tensor([1.0, 2.0]), tensor([0.0, 4.0]))
    tensor(1.5)
    """
    reduction = reduction_of(_OP, reduction, size_average, reduce)
    x, t = float_pair(input, target, _OP)
    if weight is None:
        result: Tensor = L1Loss.apply(x, t, reduction)
        return result
    check_same_size_weight(weight, input, _OP)
    return weighted(L1Loss.apply(x, t, "none"), weight, reduction, by_weight=True)
