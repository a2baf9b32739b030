"""Products and matrix helpers: tensordot, kron, addmv, baddbmm, trace, cdist,
tril_indices and triu_indices.

All are compositions of differentiable operations (permute, reshape, matmul,
diagonal, sum, norm), so their gradients are those operations'. cdist takes
the differences of every pair of rows directly (not PyTorch's
|x|^2 + |y|^2 - 2 x.y shortcut, which cancels for near points), and its
p = 2 norm has PyTorch's zero gradient at a zero distance.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import actnet.ndarray as xp
from actnet.device import Device
from actnet.tensor._arithmetic import add, matmul, mul, sub
from actnet.tensor._extrema import norm
from actnet.tensor._layout import diagonal
from actnet.tensor._products import bmm, mv
from actnet.tensor._promotion import as_dtype
from actnet.tensor._reductions import sum
from actnet.tensor._shape import expand, permute, reshape, unsqueeze
from actnet.tensor._tensor_base import Scalar, TensorBase, _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _check(value: Any, op: str, name: str) -> None:
    if not isinstance(value, TensorBase):
        raise TypeError(
            f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}"
        )


def _torch_name(dtype: Any) -> str:
    names = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char"}
    names.update({"uint8": "Byte", "bool": "Bool", "float32": "Float"})
    names.update({"float64": "Double", "float16": "Half"})
    return names.get(str(dtype), str(dtype))


# ------------------------------------------------------------------ trace
def trace(input: Tensor) -> Tensor:
    """The sum of a matrix's main diagonal (integers: as int64).

    >>> trace(tensor([[1, 2], [3, 4]]))
    tensor(5)
    """
    _check(input, "trace", "input")
    if input.ndim != 2:
        raise RuntimeError(
            f"trace: expected a matrix, but got tensor with dim {input.ndim}"
        )
    return sum(diagonal(input))


# ------------------------------------------------- tril/triu indices
def _indices(
    host: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]],
    dtype: Any,
    device: Device | str | None,
) -> Tensor:
    target = xp.int64 if dtype is None else as_dtype(dtype)
    stacked = np.stack(host).astype(np.int64)
    return _make(xp.astype(xp.asarray(stacked, device=device), target))


def _check_size(row: builtins.int, col: builtins.int, op: str) -> None:
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")


def tril_indices(
    row: builtins.int,
    col: builtins.int,
    offset: builtins.int = 0,
    *,
    dtype: Any = None,
    device: Device | str | None = None,
) -> Tensor:
    """The (row, column) coordinates of a row x col matrix's lower triangle
    (from the offset-th diagonal down), as a 2 x N tensor, row by row.

    >>> tril_indices(2, 2)
    tensor([[0, 1, 1],
            [0, 0, 1]])
    """
    _check_size(row, col, "tril_indices")
    return _indices(np.tril_indices(row, offset, col), dtype, device)


def triu_indices(
    row: builtins.int,
    col: builtins.int,
    offset: builtins.int = 0,
    *,
    dtype: Any = None,
    device: Device | str | None = None,
) -> Tensor:
    """The coordinates of the upper triangle (from the offset-th diagonal up).

    >>> triu_indices(2, 2)
    tensor([[0, 0, 1],
            [0, 1, 1]])
    """
    _check_size(row, col, "triu_indices")
    return _indices(np.triu_indices(row, offset, col), dtype, device)


# -------------------------------------------------------------- tensordot
Dims = builtins.int | Sequence[builtins.int] | Sequence[Sequence[builtins.int]]


def _contracted(
    a: Tensor, b: Tensor, dims: Any
) -> tuple[list[builtins.int], list[builtins.int]]:
    if isinstance(dims, TensorBase):
        dims = dims.tolist()
    if isinstance(dims, builtins.int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a.ndim, b.ndim):
            raise RuntimeError(
                f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}"
            )
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    first, second = dims
    if isinstance(first, builtins.int):
        first = [first]
    if isinstance(second, builtins.int):
        second = [second]
    if len(first) != len(second):
        raise RuntimeError("both dimension lists should have same length")
    return [_dim(d, a.ndim) for d in first], [_dim(d, b.ndim) for d in second]


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """The sum of products over dims: an int n (a's last n with b's first n) or
    two lists of dimensions.

    >>> tensordot(ones(2, 3), ones(3, 4), 1).shape
    (2, 4)
    """
    _check(a, "tensordot", "a")
    _check(b, "tensordot", "b")
    da, db = _contracted(a, b, dims)
    for i, j in zip(da, db, strict=True):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size "
                f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in dim {j}"
            )
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    left = reshape(permute(a, tuple(free_a + da)), (-1, k))
    right = reshape(permute(b, tuple(db + free_b)), (k, -1))
    shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return reshape(matmul(left, right), shape)


# ------------------------------------------------------------------- kron
def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: each element of input times the whole of other.

    >>> kron(tensor([1, 2]), tensor([1, 10]))
    tensor([ 1, 10,  2, 20])
    """
    _check(input, "kron", "input")
    _check(other, "kron", "other")
    n = builtins.max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + input.shape
    sb = (1,) * (n - other.ndim) + other.shape
    a = reshape(input, tuple(v for s in sa for v in (s, 1)))
    b = reshape(other, tuple(v for s in sb for v in (1, s)))
    return reshape(mul(a, b), tuple(x * y for x, y in zip(sa, sb, strict=True)))


# -------------------------------------------------------- addmv, baddbmm
def _scaled_sum(input: Tensor, product: Tensor, beta: Scalar, alpha: Scalar) -> Tensor:
    """beta * input + alpha * product; input ignored (NaN too) when beta is 0."""
    scaled = product if alpha == 1 else mul(product, alpha)
    if beta == 0:
        shape = tuple(np.broadcast_shapes(input.shape, product.shape))
        return expand(scaled, shape) if shape != scaled.shape else scaled
    return add(input if beta == 1 else mul(input, beta), scaled)


def addmv(
    input: Tensor, mat: Tensor, vec: Tensor, *, beta: Scalar = 1, alpha: Scalar = 1
) -> Tensor:
    """beta * input + alpha * (mat @ vec).

    >>> addmv(zeros(2), eye(2), tensor([1.0, 2.0]))
    tensor([1., 2.])
    """
    _check(input, "addmv", "input")
    product = mv(mat, vec)
    return _scaled_sum(input, product, beta, alpha)


def baddbmm(
    input: Tensor,
    batch1: Tensor,
    batch2: Tensor,
    *,
    beta: Scalar = 1,
    alpha: Scalar = 1,
) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), batch by batch.

    >>> baddbmm(zeros(1, 2, 2), ones(1, 2, 3), ones(1, 3, 2)).shape
    (1, 2, 2)
    """
    _check(input, "baddbmm", "input")
    product = bmm(batch1, batch2)
    return _scaled_sum(input, product, beta, alpha)


# ------------------------------------------------------------------ cdist
def cdist(
    x1: Tensor,
    x2: Tensor,
    p: builtins.float = 2.0,
    compute_mode: str | None = None,
) -> Tensor:
    """The p-norm distance between each row of x1 and each row of x2 (batched
    over the leading dimensions): shape (..., P, R).

    >>> cdist(tensor([[0.0, 0.0]]), tensor([[3.0, 4.0]]))
    tensor([[5.]])
    """
    _check(x1, "cdist", "x1")
    _check(x2, "cdist", "x2")
    if x1.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D"
        )
    if x2.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X2 got: {x2.ndim}D"
        )
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            "X1 and X2 must have the same number of columns. X1: "
            f"{x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dtype.kind != "f":
            raise RuntimeError(
                f"cdist only supports floating-point dtypes, {name} got: "
                f"{_torch_name(x.dtype)}"
            )
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    differences = sub(unsqueeze(x1, -2), unsqueeze(x2, -3))
    return norm(differences, p, -1)
