"""Matrix products as model code calls them: dot, outer, mm, bmm, addmm.

Compositions of matmul, mul and add (their gradients are those operations'),
with PyTorch's checks: bmm and addmm take matrices of one dtype.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actnet.tensor._arithmetic import TORCH_TITLES, _mixed_matmul, add, matmul, mul
from actnet.tensor._autocast import autocast_op
from actnet.tensor._shape import reshape
from actnet.tensor._tensor_base import Scalar, TensorBase

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _tensors(op: str, **named: object) -> None:
    for name, value in named.items():
        if not isinstance(value, TensorBase):
            raise TypeError(
                f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}"
            )


@autocast_op("dot")
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The inner product of two 1-d tensors of one dtype and length (a 0-d
    tensor; PyTorch's `torch.dot`, which LBFGS and conjugate-gradient code use).

    >>> dot(tensor([2.0, 3.0]), tensor([2.0, 1.0]))
    tensor(7.)
    """
    _tensors("dot", input=input, tensor=tensor)
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors"
        )
    if input.dtype != tensor.dtype:
        raise RuntimeError(_mixed_matmul(1, 1, input.dtype, tensor.dtype))
    n, m = input.shape[0], tensor.shape[0]
    if n != m:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have "
            f"the same number of elements, but got {n} and {m} elements respectively"
        )
    return matmul(input, tensor)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two 1-d tensors: out[i, j] = input[i] * vec2[j].

    >>> outer(tensor([1, 2]), tensor([3, 4]))
    tensor([[3, 4], [6, 8]])
    """
    _tensors("outer", input=input, vec2=vec2)
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(
            f"outer: expected 1-D tensors, got {input.ndim}-D and {vec2.ndim}-D"
        )
    return mul(reshape(input, (input.shape[0], 1)), vec2)


@autocast_op("bmm")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix products: (b, n, m) @ (b, m, p) -> (b, n, p)."""
    _tensors("bmm", input=input, mat2=mat2)
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.dtype != mat2.dtype:
        raise RuntimeError(_mixed_matmul(3, 3, input.dtype, mat2.dtype))
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: "
            f"[{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    return matmul(input, mat2)


@autocast_op("mm")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices of one dtype: (n, m) @ (m, p) -> (n, p)
    (PyTorch's `torch.mm`, no broadcasting).

    >>> mm(ones(2, 3), ones(3, 4)).shape
    (2, 4)
    """
    _tensors("mm", input=input, mat2=mat2)
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input.dtype != mat2.dtype:
        raise RuntimeError(_mixed_matmul(2, 2, input.dtype, mat2.dtype))
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x"
            f"{input.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})"
        )
    return matmul(input, mat2)


@autocast_op("mv")
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """The product of a matrix and a vector of one dtype: (n, m) @ (m,) -> (n,)
    (PyTorch's `torch.mv`, no broadcasting).

    >>> mv(ones(2, 3), ones(3))
    tensor([3., 3.])
    """
    _tensors("mv", input=input, vec=vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {input.ndim}, {vec.ndim}"
        )
    if input.dtype != vec.dtype:
        raise RuntimeError(_mixed_matmul(2, 1, input.dtype, vec.dtype))
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0]}), mat "
            f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})"
        )
    return matmul(input, vec)


@autocast_op("addmm")
def addmm(
    input: Tensor,
    mat1: Tensor,
    mat2: Tensor,
    *,
    beta: Scalar = 1,
    alpha: Scalar = 1,
) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), input broadcast; with beta = 0
    input is ignored (its NaN and inf do not propagate), as in PyTorch.

    >>> addmm(bias, x, w.T)  # a linear layer
    """
    _tensors("addmm", input=input, mat1=mat1, mat2=mat2)
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(
            f"mat1 must be a matrix, got {mat1.ndim}-D tensor"
            if mat1.ndim != 2
            else f"mat2 must be a matrix, got {mat2.ndim}-D tensor"
        )
    # PyTorch's order of checks, and its names of the dtypes
    for name, first, second in (("self", input, mat2), ("mat1", mat1, mat2)):
        if first.dtype != second.dtype:
            raise RuntimeError(
                f"{name} and mat2 must have the same dtype, but got "
                f"{TORCH_TITLES.get(first.dtype.name, first.dtype)} and "
                f"{TORCH_TITLES.get(second.dtype.name, second.dtype)}"
            )
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
            f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})"
        )
    product = matmul(mat1, mat2)
    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:
        return product
    return add(input if beta == 1 else mul(input, beta), product)
