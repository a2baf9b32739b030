"""smooth_l1_loss: squared below beta, absolute above."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron.loss._common import (
    float_pair,
    grad_scale,
    reduce_array,
    reduction_of,
)
from actnet.neuron.loss.l1_loss import L1Loss
from actnet.tensor import Function, Tensor, as_tensor, where
from actnet.tensor.amp import autocast_op

_OP = "smooth_l1_loss"


class SmoothL1Loss(Function):
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta, for d = input -
    target; reduced. Backward keeps the two inputs; the gradient is d / beta
    inside, sign(d) outside, written with tensor operations (differentiable)."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        reduction: str,
        beta: float,
    ) -> Tensor:
        d = input.array - target.array
        ad = xp.abs(d)
        loss = xp.where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(input, target)
            ctx.options = (reduction, beta)
        return as_tensor(reduce_array(loss, reduction))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, t = ctx.saved_tensors
        reduction, beta = ctx.options
        d = x - t
        inside = as_tensor(xp.abs(d.array) < beta)
        sign = as_tensor(xp.sign(d.array))
        g = where(inside, d / beta, sign) * grad_scale(grad, reduction, x.numel())
        return (
            g if ctx.needs_input_grad[0] else None,
            -g if ctx.needs_input_grad[1] else None,
            None,
            None,
        )


@autocast_op("smooth_l1_loss")
def smooth_l1_loss(
    input: Tensor,  # torch's names
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 (input - target)**2 / beta where |input - target| < beta, else
    |input - target| - 0.5 beta; reduced (torch.nn.functional.smooth_l1_loss).
    beta = 0 is l1_loss.

    >>> smooth_l1_loss(tensor([0.5, 3.0]), tensor([0.0, 0.0]))
    tensor(1.3125)
    """
    reduction = reduction_of(_OP, reduction, size_average, reduce)
    if not isinstance(beta, int | float) or beta < 0:
        raise ValueError(f"{_OP}: beta must be a non-negative number, got {beta!r}")
    x, t = float_pair(input, target, _OP)
    if beta == 0:  # the limit, as PyTorch takes it: the absolute error
        absolute: Tensor = L1Loss.apply(x, t, reduction)
        return absolute
    result: Tensor = SmoothL1Loss.apply(x, t, reduction, float(beta))
    return result
