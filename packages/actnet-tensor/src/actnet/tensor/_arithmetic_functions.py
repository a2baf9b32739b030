"""torch.add, torch.sub, torch.mul and torch.div as functions (the Tensor
methods and operators are _arithmetic's): PyTorch's signatures, `alpha`
included, and Python or NumPy scalars for either argument (`torch.sub(1, t)`;
`torch.add(1, 2)` is `tensor(3)`), as torch takes them.

    >>> add(tensor([1.0, 2.0]), tensor([10.0, 20.0]), alpha=0.5)
    tensor([ 6., 12.])
    >>> div(1, tensor([2.0, 4.0]))
    tensor([0.5 , 0.25])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actnet.tensor import _arithmetic
from actnet.tensor._creation import as_tensor
from actnet.tensor._promotion import operands
from actnet.tensor._tensor_base import Scalar, TensorBase

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _first(input: Tensor | Scalar, other: Tensor | Scalar) -> Tensor | Scalar:
    """input, as a 0-d tensor when neither argument is a tensor: PyTorch's
    `torch.add(1, 2)` is `tensor(3)`."""
    if isinstance(input, TensorBase) or isinstance(other, TensorBase):
        return input
    return as_tensor(input)


def _scaled(other: Tensor | Scalar, alpha: Scalar) -> Tensor | Scalar:
    """alpha * other, as the methods take it (`t.add(other, alpha=...)`)."""
    return other if alpha == 1 else other * alpha


def add(input: Tensor | Scalar, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
    """input + alpha * other (broadcast; types promote as in PyTorch).

    >>> add(tensor([1, 2]), 3)
    tensor([4, 5])
    """
    input = _first(input, other)
    if isinstance(input, TensorBase):
        return input.add(other, alpha=alpha)
    scaled = _scaled(other, alpha)
    assert isinstance(scaled, TensorBase)
    return _arithmetic.add(scaled, input)  # addition commutes, bit for bit


def sub(input: Tensor | Scalar, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
    """input - alpha * other.

    >>> sub(1, tensor([0.25, 0.5]))
    tensor([0.75, 0.5 ])
    """
    input = _first(input, other)
    if isinstance(input, TensorBase):
        return input.sub(other, alpha=alpha)
    scaled = _scaled(other, alpha)
    assert isinstance(scaled, TensorBase)
    return _arithmetic.rsub(scaled, input)


def mul(input: Tensor | Scalar, other: Tensor | Scalar) -> Tensor:
    """input * other.

    >>> mul(2, tensor([1.5, 2.0]))
    tensor([3., 4.])
    """
    input = _first(input, other)
    if isinstance(input, TensorBase):
        return _arithmetic.mul(input, other)
    assert isinstance(other, TensorBase)
    return _arithmetic.mul(other, input)  # multiplication commutes, bit for bit


def div(input: Tensor | Scalar, other: Tensor | Scalar) -> Tensor:
    """input / other, true division (integers divide into float32).

    >>> div(tensor([1, 3]), 2)
    tensor([0.5, 1.5])
    """
    input = _first(input, other)
    if isinstance(input, TensorBase):
        return _arithmetic.div(input, other)
    assert isinstance(other, TensorBase)
    # a scalar numerator: a 0-d tensor of the promoted dtype, divided as torch
    # divides (x / t, not t.reciprocal() * x, which is the `x / t` operator's)
    dtype = operands(other, input, "div")[0].dtype
    return _arithmetic.div(as_tensor(input, dtype=dtype), other)
