"""matmul: the matrix product, with NumPy's rules for 1-d and batched operands."""

from __future__ import annotations

from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """The matrix product of input and other (torch.matmul): 1-d operands are
    vectors, leading dims are batch dims and broadcast. The Tensor operator does
    the work (its backward is itself differentiable); this checks the shapes.

    >>> matmul(tensor([[1.0, 2.0]]), tensor([[3.0], [4.0]]))
    tensor([[11.]])
    """
    check_tensor(input, "matmul", kinds="iufc")
    check_tensor(other, "matmul", argument="other", kinds="iufc")
    a, b = input.shape, other.shape
    if not a or not b:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got input of "
            f"shape {a} and other of shape {b}"
        )
    inner = b[-2] if len(b) > 1 else b[0]
    if a[-1] != inner:
        raise RuntimeError(
            f"matmul: input and other shapes cannot be multiplied "
            f"({a} and {b}: {a[-1]} != {inner})"
        )
    try:
        return input @ other
    except ValueError as exc:  # the batch dims: the array layer's check
        raise RuntimeError(
            f"matmul: the batch dims of input {a} and other {b} do not broadcast"
        ) from exc
