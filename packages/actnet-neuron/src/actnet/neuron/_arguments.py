"""Dims, shapes, numbers, operands and dtypes: the arguments of the math and
array functions, checked once at the op boundary. The messages name the function
and the argument; the exception types are PyTorch's (IndexError for a dim out of
range, TypeError for a wrong type)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actnet.tensor import Tensor


def check_int(value: Any, op: str, argument: str) -> int:
    """`value`, after checking it is an int (not a bool)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{op}: {argument} must be an int, got {type(value).__name__}")
    return value


def check_dim(dim: Any, ndim: int, op: str, argument: str = "dim") -> int:
    """`dim` in [0, ndim) (a 0-d tensor takes 0 and -1, as in PyTorch)."""
    if type(dim) is not int:
        check_int(dim, op, argument)
    n = ndim if ndim > 0 else 1
    if dim < -n or dim >= n:
        raise IndexError(
            f"{op}: {argument} {dim} is out of range for a tensor of {ndim} "
            f"dimensions (expected in [{-n}, {n - 1}])"
        )
    normalized: int = dim % n
    return normalized


def check_dims(
    dim: int | Sequence[int] | None, ndim: int, op: str, argument: str = "dim"
) -> tuple[int, ...] | None:
    """`dim` (an int, a sequence of ints, or None for all) as sorted dims in
    [0, ndim); None for all of them. A dim given twice is an error."""
    if dim is None:
        return None
    if isinstance(dim, int) and not isinstance(dim, bool):
        return (check_dim(dim, ndim, op, argument),)
    if not isinstance(dim, tuple | list):
        raise TypeError(
            f"{op}: {argument} must be an int, a tuple of ints or None, "
            f"got {type(dim).__name__}"
        )
    dims = [check_dim(d, ndim, op, argument) for d in dim]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: {argument} {tuple(dim)} names a dim twice")
    return tuple(sorted(dims))


def check_shape(shape: Any, op: str, argument: str = "shape") -> tuple[int, ...]:
    """`shape` (a sequence of ints) as a tuple."""
    if not isinstance(shape, tuple | list):
        raise TypeError(
            f"{op}: {argument} must be a tuple of ints, got {type(shape).__name__}"
        )
    for n in shape:
        check_int(n, op, argument)
    return tuple(shape)


def cast(input: Tensor, dtype: Any, op: str) -> Tensor:
    """`input` converted to `dtype` before the op (differentiable), as the `dtype`
    argument of PyTorch's reductions and softmax does; `input` when dtype is None."""
    if dtype is None:
        return input
    # Tensor.to also takes devices and tensors; a dtype argument takes neither
    device_like = isinstance(dtype, str) and (dtype in ("cpu", "cuda") or ":" in dtype)
    if isinstance(dtype, Tensor) or device_like:
        raise TypeError(f"{op}: dtype must be a data type, got {dtype!r}")
    try:
        return input.to(dtype=dtype)
    except TypeError as exc:
        raise TypeError(f"{op}: dtype {dtype!r} is not a data type of actnet") from exc


def check_number(value: Any, op: str, argument: str) -> Any:
    """`value`, after checking it is a Python number (bool included, as in
    PyTorch's Scalar arguments)."""
    if not isinstance(value, int | float | complex):
        raise TypeError(
            f"{op}: {argument} must be a number, got {type(value).__name__}"
        )
    return value


def check_operand(value: Any, op: str, argument: str = "other") -> Any:
    """`value`, after checking it is a Tensor or a Python number (the second
    operand of the arithmetic functions)."""
    if not isinstance(value, Tensor | int | float | complex):
        raise TypeError(
            f"{op}: {argument} must be a Tensor or a number, got {type(value).__name__}"
        )
    return value
