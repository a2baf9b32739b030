"""mul: input * other, elementwise and broadcast."""

from __future__ import annotations

from actnet.neuron._arguments import check_operand
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def mul(input: Tensor, other: Tensor | float) -> Tensor:
    """input * other, broadcast, dtypes promoted as in PyTorch (torch.mul).
    The Tensor operator does the work; this checks the arguments.

    >>> mul(tensor([1.0, 2.0]), tensor([[3.0], [4.0]]))
    tensor([[3., 6.],
            [4., 8.]])
    """
    check_tensor(input, "mul", kinds="biufc")
    check_operand(other, "mul")
    return input * other
