"""relu: max(x, 0), elementwise."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor, where


class ReLU(Function):
    """max(x, 0). Backward keeps the mask of inputs <= 0 (one byte an element),
    not the input: PyTorch's threshold_backward, which passes the gradient where the
    input is NaN too."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        data = x.data
        if ctx.needs_input_grad[0]:
            ctx.blocked = as_tensor(data <= 0)
        return as_tensor(xp.maximum(data, 0))  # NaN stays NaN, as in PyTorch

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return where(ctx.blocked, 0.0, grad)


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
