"""silu (swish): x * sigmoid(x), elementwise."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.neuron.activation.sigmoid import Sigmoid
from actnet.tensor import Function, Tensor, as_tensor


class SiLU(Function):
    """x / (1 + exp(-x)): for very negative x, exp(-x) overflows to inf and the
    quotient is -0. Backward keeps the input: silu' = s (1 + x (1 - s)) with
    s = sigmoid(x), taken through Sigmoid so that double backward works."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        data = x.array
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x)
        return as_tensor(data / (1.0 + xp.exp(-data)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        s: Tensor = Sigmoid.apply(x)
        grad_input: Tensor = grad * (s * (1.0 + x * (1.0 - s)))
        return grad_input


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input), elementwise (torch.nn.functional.silu).

    >>> silu(tensor([-1.0, 0.0, 1.0]))
    tensor([-0.2689414,  0.       ,  0.7310586])
    """
    check_tensor(input, "silu", kinds="f")
    if inplace:
        raise ValueError(
            "silu: inplace=True is not supported (tensors are copy-on-write)"
        )
    result: Tensor = SiLU.apply(input)
    return result
