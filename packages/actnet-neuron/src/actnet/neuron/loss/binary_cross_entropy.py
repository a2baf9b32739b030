"""binary_cross_entropy: the log loss of probabilities."""

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
from actnet.tensor import Function, Tensor, as_tensor, clamp, log
from actnet.tensor.amp import autocast_op

_OP = "binary_cross_entropy"
_EPSILON = 1e-12  # PyTorch's floor of x (1 - x) in the gradient
_LOG_FLOOR = -100.0  # PyTorch's: log(0) counts as -100, so the loss stays finite


class BinaryCrossEntropy(Function):
    """-w (t log x + (1 - t) log(1 - x)), each log at least -100; reduced.
    Backward keeps the inputs and is written with tensor operations:
    d/dx = w (x - t) / max(x (1 - x), 1e-12), d/dt = w (log(1 - x) - log x)."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        weight: Tensor | None,
        reduction: str,
    ) -> Tensor:
        x, t = input.array, target.array
        log_x = xp.clip(xp.log(x), min=_LOG_FLOOR)
        log_1mx = xp.clip(xp.log1p(-x), min=_LOG_FLOOR)
        loss = -(t * log_x + (1.0 - t) * log_1mx)
        if weight is not None:
            loss = loss * weight.array
        if any(ctx.needs_input_grad[:2]):
            ctx.save_for_backward(input, target, weight)
            ctx.reduction = reduction
        return as_tensor(reduce_array(loss, reduction))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.needs_input_grad[2]:
            raise RuntimeError(f"{_OP}: the derivative for 'weight' is not implemented")
        x, t, w = ctx.saved_tensors
        scale = grad_scale(grad, ctx.reduction, x.numel())
        if w is not None:
            scale = scale * w
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = (x - t) / clamp(x * (1.0 - x), _EPSILON) * scale
        if ctx.needs_input_grad[1]:
            log_x = clamp(log(x), _LOG_FLOOR)
            log_1mx = clamp(log(1.0 - x), _LOG_FLOOR)
            grad_t = (log_1mx - log_x) * scale
        return grad_x, grad_t, None, None


@autocast_op("binary_cross_entropy")
def binary_cross_entropy(
    input: Tensor,  # torch's names
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The binary cross entropy of probabilities `input` (in [0, 1]) against
    `target` of the same shape, each log clamped at -100 as PyTorch does
    (torch.nn.functional.binary_cross_entropy). `weight` broadcasts to the input
    and gets no gradient.

    >>> binary_cross_entropy(tensor([0.8, 0.1]), tensor([1.0, 0.0]))
    tensor(0.16425203)
    """
    reduction = reduction_of(_OP, reduction, size_average, reduce)
    x, t = float_pair(input, target, _OP, broadcast=False)
    if x.numel():
        low, high = float(xp.min(x.array)), float(xp.max(x.array))
        if not (low >= 0.0 and high <= 1.0):  # NaN fails too
            raise ValueError(
                f"{_OP}: all elements of input should be between 0 and 1, got "
                f"values in [{low}, {high}]"
            )
    if weight is not None:
        check_weight(weight, x, _OP)
        if weight.dtype != x.dtype:
            weight = weight.to(x.dtype)
        if weight.shape != x.shape:
            weight = weight.expand(*x.shape)
    result: Tensor = BinaryCrossEntropy.apply(x, t, weight, reduction)
    return result
