"""huber_loss: squared below delta, linear (slope delta) above."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_reduction
from actnet.neuron.loss._common import (
    check_same_size_weight,
    float_pair,
    grad_scale,
    reduce_array,
    weighted,
)
from actnet.tensor import Function, Tensor, as_tensor, where
from actnet.tensor.amp import autocast_op

_OP = "huber_loss"


class HuberLoss(Function):
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input -
    target; reduced. Backward keeps the two inputs; the gradient is d inside,
    delta sign(d) outside, written with tensor operations (differentiable)."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        reduction: str,
        delta: float,
    ) -> Tensor:
        d = input.array - target.array
        ad = xp.abs(d)
        loss = xp.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(input, target)
            ctx.options = (reduction, delta)
        return as_tensor(reduce_array(loss, reduction))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, t = ctx.saved_tensors
        reduction, delta = ctx.options
        d = x - t
        inside = as_tensor(xp.abs(d.array) < delta)
        outside = as_tensor(xp.sign(d.array) * delta)
        g = where(inside, d, outside) * grad_scale(grad, reduction, x.numel())
        return (
            g if ctx.needs_input_grad[0] else None,
            -g if ctx.needs_input_grad[1] else None,
            None,
            None,
        )


@autocast_op("huber_loss")
def huber_loss(
    input: Tensor,  # torch's names
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """0.5 (input - target)**2 where |input - target| < delta, else
    delta (|input - target| - 0.5 delta); reduced (torch.nn.functional.huber_loss).
    With `weight` (input's size), each loss is weighted and 'mean' is the mean of
    the weighted losses (PyTorch's choice: not divided by the summed weight).

    >>> huber_loss(tensor([0.5, 3.0]), tensor([0.0, 0.0]), delta=2.0)
    tensor(2.0625)
    """
    check_reduction(reduction, _OP)
    if not isinstance(delta, int | float) or not delta > 0:
        raise ValueError(f"{_OP}: delta must be a positive number, got {delta!r}")
    x, t = float_pair(input, target, _OP)
    if weight is None:
        result: Tensor = HuberLoss.apply(x, t, reduction, float(delta))
        return result
    check_same_size_weight(weight, input, _OP)
    loss = HuberLoss.apply(x, t, "none", float(delta))
    return weighted(loss, weight, reduction, by_weight=False)
