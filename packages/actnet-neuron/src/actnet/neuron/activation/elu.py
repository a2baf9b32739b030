"""elu: x where x > 0, else alpha * (exp(x) - 1)."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, apply_in_place, as_tensor


class ELU(Function):
    """max(x, 0) + alpha * expm1(min(x, 0)): each term vanishes on the other side
    of 0, so no select is needed, and expm1 never sees a large argument.
    Backward keeps the input (the derivative alpha * exp(x) depends on it)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, alpha: float) -> Tensor:
        data = x.array
        out = xp.maximum(data, 0.0) + xp.expm1(xp.minimum(data, 0.0)) * alpha
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x)
            ctx.alpha = alpha
        return as_tensor(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        alpha = ctx.alpha
        # alpha * exp(min(x, 0)) is alpha where x > 0; the constant (1 - alpha)
        # there makes it 1. clamp, not a select: exp never sees a large x, so a
        # second derivative never multiplies 0 by inf.
        step = xp.astype(x.array > 0, x.dtype) * (1.0 - alpha)
        slope = x.clamp(max=0.0).exp() * alpha + as_tensor(step)
        return grad * slope, None


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input where input > 0, else alpha * (exp(input) - 1)
    (torch.nn.functional.elu). With inplace, input itself is overwritten and
    returned, as in PyTorch (the rules of actnet.tensor.apply_in_place).

    >>> elu(tensor([-1.0, 2.0]))
    tensor([-0.63212055,  2.        ])
    """
    check_tensor(input, "elu", kinds="f")
    if not isinstance(alpha, int | float) or isinstance(alpha, bool):
        raise TypeError(f"elu: alpha must be a number, got {type(alpha).__name__}")
    if inplace:
        # ELU saves the input's history (its old values), not input itself: the
        # gradient is right for any alpha (PyTorch refuses a negative one here)
        return apply_in_place(input, lambda x: ELU.apply(x, alpha), "elu_")
    result: Tensor = ELU.apply(input, alpha)
    return result


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """elu(input, alpha, inplace=True) (torch.nn.functional.elu_).

    >>> x = tensor([0.0, 2.0])
    >>> elu_(x) is x
    True
    """
    return elu(input, alpha, inplace=True)
