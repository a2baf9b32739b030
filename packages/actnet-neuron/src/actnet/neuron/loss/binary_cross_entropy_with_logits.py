"""binary_cross_entropy_with_logits: sigmoid and the binary log loss, stable."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron.loss._common import (
    check_weight,
    float_pair,
    grad_scale,
    reduce_array,
    reduction_of,
)
from actnet.tensor import Function, Tensor, abs, as_tensor, clamp, exp, log, where
from actnet.tensor.amp import autocast_op

_OP = "binary_cross_entropy_with_logits"


class BinaryCrossEntropyWithLogits(Function):
    """loss = w ((1 - t) x + (1 + (p - 1) t) softplus(-x)), with softplus(-x) =
    log1p(exp(-|x|)) + max(-x, 0), which never overflows; p is pos_weight.
    Backward keeps the inputs and is written with tensor operations:
    d/dx = w (sigmoid(x) (p t + 1 - t) - p t), d/dt = w ((1 - p) log sigmoid(x) - x).
    """

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        weight: Tensor | None,
        pos_weight: Tensor | None,
        reduction: str,
    ) -> Tensor:
        x, t = input.array, target.array
        softplus = xp.log1p(xp.exp(-xp.abs(x))) + xp.clip(-x, min=0.0)
        if pos_weight is None:
            loss = (1.0 - t) * x + softplus
        else:
            loss = (1.0 - t) * x + ((pos_weight.array - 1.0) * t + 1.0) * softplus
        if weight is not None:
            loss = loss * weight.array
        if any(ctx.needs_input_grad[:2]):
            ctx.save_for_backward(input, target, weight, pos_weight)
            ctx.reduction = reduction
        return as_tensor(reduce_array(loss, reduction))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        for i, name in ((2, "weight"), (3, "pos_weight")):
            if ctx.needs_input_grad[i]:
                raise RuntimeError(
                    f"{_OP}: the derivative for '{name}' is not implemented"
                )
        x, t, w, p = ctx.saved_tensors
        scale = grad_scale(grad, ctx.reduction, x.numel())
        if w is not None:
            scale = scale * w
        z = exp(-abs(x))  # in (0, 1]: sigmoid and its log without overflow
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            r = 1.0 / (z + 1.0)
            sigmoid = where(as_tensor(x.array >= 0), r, z * r)
            if p is None:
                grad_x = (sigmoid - t) * scale
            else:
                pt = p * t
                grad_x = (sigmoid * (pt + 1.0 - t) - pt) * scale
        if ctx.needs_input_grad[1]:
            if p is None:
                grad_t = -x * scale
            else:
                log_sigmoid = -(log(z + 1.0) + clamp(-x, 0.0))
                grad_t = ((1.0 - p) * log_sigmoid - x) * scale
        return grad_x, grad_t, None, None, None


@autocast_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(
    input: Tensor,  # torch's names
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """The binary cross entropy of sigmoid(input) against `target` of input's
    shape, computed stably from the logits
    (torch.nn.functional.binary_cross_entropy_with_logits). `weight` broadcasts to
    the input; `pos_weight` weighs the positive term, broadcast along the last
    dim (one per class). Neither gets a gradient.

    >>> binary_cross_entropy_with_logits(tensor([2.0, -1.0]), tensor([1.0, 0.0]))
    tensor(0.22009481)
    """
    reduction = reduction_of(_OP, reduction, size_average, reduce)
    x, t = float_pair(input, target, _OP, broadcast=False)
    weights = []
    for value, name in ((weight, "weight"), (pos_weight, "pos_weight")):
        if value is not None:
            check_weight(value, x, _OP, name)
            if value.dtype != x.dtype:
                value = value.to(x.dtype)
            if value.shape != x.shape:
                value = value.expand(*x.shape)
        weights.append(value)
    result: Tensor = BinaryCrossEntropyWithLogits.apply(x, t, *weights, reduction)
    return result
