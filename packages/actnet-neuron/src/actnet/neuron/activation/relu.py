"""relu: max(x, 0), elementwise."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor, where


class ReLU(Function):
    """max(x, 0). Backward keeps the mask of the outputs that pass the gradient (one
    byte an element), not the input: y != 0, which is PyTorch's threshold_backward
    (the gradient is blocked where the input is <= 0; a NaN input passes it)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        y = xp.maximum(x.array, 0)  # NaN stays NaN, as in PyTorch
        if ctx.needs_input_grad[0]:
            ctx.passes = as_tensor(y != 0)
        return as_tensor(y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return where(ctx.passes, grad, 0.0)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # torch's names
    """max(input, 0), elementwise (torch.nn.functional.relu).

    >>> relu(tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    check_tensor(input, "relu", kinds="fiu")
    if inplace:
        raise ValueError(
            "relu: inplace=True is not supported (tensors are copy-on-write)"
        )
    result: Tensor = ReLU.apply(input)
    return result
