"""sigmoid: 1 / (1 + exp(-x)), elementwise."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor


class Sigmoid(Function):
    """1 / (1 + exp(-x)). Stable without a branch: for very negative x, exp(-x)
    overflows to inf and the quotient is 0; for very positive x it is 1.
    Backward keeps only the output y (sigmoid' = y (1 - y)); being the output
    Tensor, it carries the graph for double backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        out = as_tensor(1.0 / (1.0 + xp.exp(-x.array)))
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        grad_input: Tensor = grad * y * (1.0 - y)
        return grad_input


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input)), elementwise (torch.nn.functional.sigmoid).

    >>> sigmoid(tensor([0.0, 100.0, -100.0]))
    tensor([0.5, 1. , 0. ])
    """
    check_tensor(input, "sigmoid", kinds="f")
    result: Tensor = Sigmoid.apply(input)
    return result
