"""tanh: the hyperbolic tangent, elementwise."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor


class Tanh(Function):
    """tanh(x). Backward keeps only the output y (tanh' = 1 - y*y); being the
    output Tensor, it carries the graph for double backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        out = as_tensor(xp.tanh(x.array))
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        grad_input: Tensor = grad * (1.0 - y * y)
        return grad_input


def tanh(input: Tensor) -> Tensor:
    """tanh(input), elementwise (torch.nn.functional.tanh).

    >>> tanh(tensor([0.0, 100.0]))
    tensor([0., 1.])
    """
    check_tensor(input, "tanh", kinds="f")
    result: Tensor = Tanh.apply(input)
    return result
