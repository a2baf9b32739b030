"""mse_loss: the squared error."""

from __future__ import annotations

from typing import Any

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

_OP = "mse_loss"


class MSELoss(Function):
    """(input - target)**2, reduced. Backward keeps the two inputs and is written
    with tensor operations, so it is itself differentiable."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        reduction: str,
    ) -> Tensor:
        diff = input.array - target.array
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(input, target)
            ctx.reduction = reduction
        return as_tensor(reduce_array(diff * diff, reduction))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, t = ctx.saved_tensors
        scale = grad_scale(grad, ctx.reduction, x.numel()) * 2.0
        g = (x - t) * scale
        return (
            g if ctx.needs_input_grad[0] else None,
            -g if ctx.needs_input_grad[1] else None,
            None,
        )


@autocast_op("mse_loss")
def mse_loss(
    input: Tensor,  # torch's names
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """The squared error (input - target)**2, elementwise, reduced
    (torch.nn.functional.mse_loss). With `weight` (input's size), each error is
    weighted and 'mean' divides by the summed weight.

    >>> mse_loss(tensor([1.0, 2.0]), tensor([0.0, 4.0]))
    tensor(2.5)
    """
    reduction = reduction_of(_OP, reduction, size_average, reduce)
    x, t = float_pair(input, target, _OP)
    if weight is None:
        result: Tensor = MSELoss.apply(x, t, reduction)
        return result
    check_same_size_weight(weight, input, _OP)
    return weighted(MSELoss.apply(x, t, "none"), weight, reduction, by_weight=True)
