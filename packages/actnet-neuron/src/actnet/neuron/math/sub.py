"""sub: input - alpha * other, broadcast."""

from __future__ import annotations

from actnet.neuron._arguments import check_number, check_operand
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def sub(input: Tensor, other: Tensor | float, *, alpha: float = 1) -> Tensor:
    """input - alpha * other, broadcast, dtypes promoted as in PyTorch
    (torch.sub). Bool tensors are refused, as PyTorch does (logical_xor is the
    bool difference).

    >>> sub(tensor([1.0, 2.0]), 1.0)
    tensor([0., 1.])
    """
    check_tensor(input, "sub", kinds="biufc")
    check_operand(other, "sub")
    if input.dtype.kind == "b" and (
        isinstance(other, bool)
        or (isinstance(other, Tensor) and other.dtype.kind == "b")
    ):
        raise TypeError("sub: bool tensors cannot be subtracted (use logical_xor)")
    if alpha != 1:
        check_number(alpha, "sub", "alpha")
        other = other * alpha
    return input - other
