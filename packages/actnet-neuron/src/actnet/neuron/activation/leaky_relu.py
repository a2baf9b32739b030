"""leaky_relu: x where x > 0, else negative_slope * x."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, apply_in_place, as_tensor


class LeakyReLU(Function):
    """x if x > 0 else slope * x. With slope <= 1 that is max(x, slope * x) (and
    min beyond): two array operations, no select. Backward keeps the mask of
    positive inputs (one byte an element), not the input."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, slope: float) -> Tensor:
        data = x.array
        if slope <= 1:
            out = xp.maximum(data, data * slope)
        else:
            out = xp.minimum(data, data * slope)
        if ctx.needs_input_grad[0]:
            ctx.positive = data > 0
            ctx.slope = slope
        return as_tensor(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        # the derivative, 1 or slope, is piecewise constant: a constant factor
        slope = ctx.slope
        scale = xp.astype(ctx.positive, grad.dtype) * (1.0 - slope) + slope
        return grad * as_tensor(scale), None


def leaky_relu(
    input: Tensor, negative_slope: float = 0.01, inplace: bool = False
) -> Tensor:
    """input where input > 0, else negative_slope * input
    (torch.nn.functional.leaky_relu). With inplace, input itself is overwritten
    and returned, as in PyTorch (the rules of actnet.tensor.apply_in_place).

    >>> leaky_relu(tensor([-2.0, 3.0]), 0.5)
    tensor([-1.,  3.])
    """
    check_tensor(input, "leaky_relu", kinds="f")
    if not isinstance(negative_slope, int | float) or isinstance(negative_slope, bool):
        raise TypeError(
            "leaky_relu: negative_slope must be a number, "
            f"got {type(negative_slope).__name__}"
        )
    if inplace:
        # the gradient comes from the input's old values, kept by the rebased
        # history: right for a negative slope too, which PyTorch refuses here
        return apply_in_place(
            input, lambda x: LeakyReLU.apply(x, negative_slope), "leaky_relu_"
        )
    result: Tensor = LeakyReLU.apply(input, negative_slope)
    return result


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu(input, negative_slope, inplace=True)
    (torch.nn.functional.leaky_relu_).

    >>> x = tensor([-2.0, 3.0])
    >>> leaky_relu_(x, 0.5)
    tensor([-1.,  3.])
    """
    return leaky_relu(input, negative_slope, inplace=True)
