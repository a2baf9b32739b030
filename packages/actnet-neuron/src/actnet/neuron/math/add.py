"""add: input + alpha * other, broadcast."""

from __future__ import annotations

from actnet.neuron._arguments import check_number, check_operand
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def add(input: Tensor, other: Tensor | float, *, alpha: float = 1) -> Tensor:
    """input + alpha * other, broadcast, dtypes promoted as in PyTorch
    (torch.add). The Tensor operator does the work (its backward sums the
    gradient over broadcast dims); this checks the arguments.

    >>> add(tensor([1.0, 2.0]), tensor([10.0]), alpha=2)
    tensor([21., 22.])
    """
    check_tensor(input, "add", kinds="biufc")
    check_operand(other, "add")
    if alpha != 1:
        check_number(alpha, "add", "alpha")
        other = other * alpha
    return input + other
