"""relu: max(x, 0), elementwise."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, apply_in_place, as_tensor, where


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
    """max(input, 0), elementwise (torch.nn.functional.relu). With inplace,
    input itself is overwritten and returned, as in PyTorch (the rules of
    actnet.tensor.apply_in_place: refused on a leaf that requires grad, the
    history of any other input rebased, its version bumped).

    >>> relu(tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    check_tensor(input, "relu", kinds="fiu")
    if inplace:
        return apply_in_place(input, ReLU.apply, "relu_")
    result: Tensor = ReLU.apply(input)
    return result


def relu_(input: Tensor) -> Tensor:  # torch's names
    """relu(input, inplace=True) (torch.nn.functional.relu_).

    >>> x = tensor([-1.0, 2.0])
    >>> relu_(x) is x
    True
    """
    return relu(input, inplace=True)
