"""silu (swish): x * sigmoid(x), elementwise."""

from __future__ import annotations

from typing import Any

from actnet.ndarray import from_buffer
from actnet.neuron._checks import check_tensor
from actnet.neuron.activation.gelu import contiguous
from actnet.neuron.activation.sigmoid import Sigmoid
from actnet.tensor import (
    Function,
    Tensor,
    apply_in_place,
    as_tensor,
    is_grad_enabled,
)


class SiLU(Function):
    """x sigmoid(x): one device call (`silu`, computed in float64 and rounded
    once; for very negative x it is -0). Backward keeps the input and is one
    device call (`silu_backward`: silu' = s (1 + x (1 - s)), s = sigmoid(x));
    under create_graph, the same through Sigmoid, so that double backward
    works."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        xb = contiguous(x)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x)
        return as_tensor(from_buffer(xb.device.silu(xb)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if is_grad_enabled() or grad.dtype != x.dtype or grad.shape != x.shape:
            # create_graph (or an odd gradient): Tensor operations
            s: Tensor = Sigmoid.apply(x)
            grad_input: Tensor = grad * (s * (1.0 + x * (1.0 - s)))
            return grad_input
        xb = contiguous(x)
        return as_tensor(from_buffer(xb.device.silu_backward(contiguous(grad), xb)))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input), elementwise (torch.nn.functional.silu). With
    inplace, input itself is overwritten and returned, as in PyTorch (the rules
    of actnet.tensor.apply_in_place).

    >>> silu(tensor([-1.0, 0.0, 1.0]))
    tensor([-0.2689414,  0.       ,  0.7310586])
    """
    check_tensor(input, "silu", kinds="f")
    if inplace:
        return apply_in_place(input, SiLU.apply, "silu_")
    result: Tensor = SiLU.apply(input)
    return result
