"""softplus: log(1 + exp(beta * x)) / beta, and x beyond the threshold."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.neuron.activation.sigmoid import Sigmoid
from actnet.tensor import Function, Tensor, as_tensor, where


class Softplus(Function):
    """log1p(exp(z)) / beta with z = beta x, written max(z, 0) + log1p(exp(-|z|))
    so that exp never overflows whatever the threshold; x itself where
    z > threshold (PyTorch's linear regime). Backward keeps the input:
    the derivative is sigmoid(z), and 1 beyond the threshold."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, beta: float, threshold: float) -> Tensor:
        data = x.array
        z = data * beta if beta != 1 else data
        soft = xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))
        if beta != 1:
            soft = soft / beta
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x)
            ctx.beta, ctx.threshold = beta, threshold
        return as_tensor(xp.where(z > threshold, data, soft))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (x,) = ctx.saved_tensors
        beta = ctx.beta
        z = x * beta if beta != 1 else x
        linear = as_tensor(z.array > ctx.threshold)
        s: Tensor = Sigmoid.apply(z)
        return where(linear, grad, grad * s), None, None


def _number(value: Any, argument: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(
            f"softplus: {argument} must be a number, got {type(value).__name__}"
        )
    return value


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * input)) / beta, elementwise, and input itself where
    beta * input > threshold (torch.nn.functional.softplus).

    >>> softplus(tensor([-1.0, 0.0, 30.0]))
    tensor([ 0.31326163,  0.6931472 , 30.        ])
    """
    check_tensor(input, "softplus", kinds="f")
    _number(beta, "beta")
    _number(threshold, "threshold")
    result: Tensor = Softplus.apply(input, beta, threshold)
    return result
