"""Tests and comparisons: all, any; isnan, isfinite, isinf; eq, ne, lt, le,
gt, ge (functions of the comparison operators); allclose and equal (a Python
bool); is_tensor and is_floating_point. None is differentiable, as in PyTorch.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import actnet.ndarray as xp
from actnet.device import is_bfloat16
from actnet.tensor._arithmetic import TORCH_TITLES, compare
from actnet.tensor._floating import FLOATING
from actnet.tensor._promotion import operands
from actnet.tensor._reductions import _axes
from actnet.tensor._tensor_base import Scalar, TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _check(a: Any, op: str) -> None:
    if not isinstance(a, TensorBase):
        raise TypeError(
            f"{op}(): argument 'input' must be Tensor, not {type(a).__name__}"
        )


# ---------------------------------------------------------------- all, any
def _numeric(data: xp.NDArray) -> xp.NDArray:
    """data, or float32 for bfloat16 (a storage dtype: the device's tests and
    comparisons do not take it; float32 holds every bfloat16 value exactly)."""
    return xp.astype(data, xp.float32) if is_bfloat16(data.dtype) else data


def _truth(
    input: Tensor,
    dim: builtins.int | Sequence[builtins.int] | None,
    keepdim: builtins.bool,
    every: builtins.bool,
) -> Tensor:
    op = "all" if every else "any"
    _check(input, op)
    if not isinstance(keepdim, builtins.bool):
        raise TypeError(
            f"{op}(): argument 'keepdim' must be bool, not {type(keepdim).__name__}"
        )
    axes = _axes(dim, input.ndim)
    if input.ndim == 0:
        axes = None
    reduce = xp.all if every else xp.any
    # the array namespace's all/any take every dtype (nonzero is true, NaN too):
    # no comparison with 0, which a bool array would refuse
    values = reduce(_numeric(input.array), axis=axes, keepdims=keepdim)
    if input.dtype == xp.uint8:  # PyTorch keeps uint8 for uint8 inputs
        values = xp.astype(values, xp.uint8)
    return _make(values)


def all(
    input: Tensor,
    dim: builtins.int | Sequence[builtins.int] | None = None,
    keepdim: builtins.bool = False,
) -> Tensor:
    """Whether every element (over dim) is nonzero, as a bool tensor."""
    return _truth(input, dim, keepdim, every=True)


def any(
    input: Tensor,
    dim: builtins.int | Sequence[builtins.int] | None = None,
    keepdim: builtins.bool = False,
) -> Tensor:
    """Whether some element (over dim) is nonzero, as a bool tensor."""
    return _truth(input, dim, keepdim, every=False)


# --------------------------------------------------- isnan, isfinite, isinf
def _test(
    input: Tensor,
    op: str,
    test: Callable[[xp.NDArray], xp.NDArray],
    of_bool: builtins.bool,
) -> Tensor:
    """test(input) elementwise; a bool input (which the array namespace's tests
    do not take) is never NaN nor infinite: `of_bool` everywhere, as in
    PyTorch."""
    _check(input, op)
    data = input.array
    if data.dtype == xp.bool:
        return _make(xp.full(data.shape, of_bool, dtype=xp.bool, device=data.device))
    return _make(test(_numeric(data)))


def isnan(input: Tensor) -> Tensor:
    """Whether each element is NaN, as a bool tensor (False for integers and
    bools; for complex, either part is NaN).

    >>> isnan(tensor([1.0, float("nan")]))
    tensor([False,  True])
    """
    return _test(input, "isnan", xp.isnan, of_bool=False)


def isfinite(input: Tensor) -> Tensor:
    """Whether each element is neither infinite nor NaN (True for integers and
    bools)."""
    return _test(input, "isfinite", xp.isfinite, of_bool=True)


def isinf(input: Tensor) -> Tensor:
    """Whether each element is +inf or -inf (False for integers and bools)."""
    return _test(input, "isinf", xp.isinf, of_bool=False)


# ------------------------------------------------------------ comparisons
def _compare(op: str, name: str, input: Tensor, other: Tensor | Scalar) -> Tensor:
    _check(input, name)
    result = compare(op, input, other)
    if result is NotImplemented:
        raise TypeError(
            f"{name}(): argument 'other' must be Tensor or Number, not "
            f"{type(other).__name__}"
        )
    return result


def eq(input: Tensor, other: Tensor | Scalar) -> Tensor:
    """input == other, elementwise (broadcast), as a bool tensor."""
    return _compare("equal", "eq", input, other)


def ne(input: Tensor, other: Tensor | Scalar) -> Tensor:
    return _compare("not_equal", "ne", input, other)


def lt(input: Tensor, other: Tensor | Scalar) -> Tensor:
    return _compare("less", "lt", input, other)


def le(input: Tensor, other: Tensor | Scalar) -> Tensor:
    return _compare("less_equal", "le", input, other)


def gt(input: Tensor, other: Tensor | Scalar) -> Tensor:
    return _compare("greater", "gt", input, other)


def ge(input: Tensor, other: Tensor | Scalar) -> Tensor:
    return _compare("greater_equal", "ge", input, other)


# -------------------------------------------------------- allclose, equal


def allclose(
    input: Tensor,
    other: Tensor,
    rtol: builtins.float = 1e-05,
    atol: builtins.float = 1e-08,
    equal_nan: builtins.bool = False,
) -> builtins.bool:
    """Whether |input - other| <= atol + rtol * |other| everywhere (broadcast;
    equal infinities are close, NaN only with equal_nan). Both of one dtype.

    >>> allclose(tensor([1.0]), tensor([1.0 + 1e-9]))
    True
    """
    _check(input, "allclose")
    _check(other, "allclose")
    if input.dtype != other.dtype:
        raise RuntimeError(
            f"{TORCH_TITLES.get(str(input.dtype), input.dtype)} did not match "
            f"{TORCH_TITLES.get(str(other.dtype), other.dtype)}"
        )
    a, b = _numeric(input.array), _numeric(other.array)
    if a.dtype.kind in "biu":
        a, b = xp.astype(a, xp.float64), xp.astype(b, xp.float64)
    close = a == b
    finite = xp.logical_and(xp.isfinite(a), xp.isfinite(b))
    zero = xp.zeros((), dtype=a.dtype, device=a.device)
    a0, b0 = xp.where(finite, a, zero), xp.where(finite, b, zero)  # no inf - inf
    within = xp.abs(a0 - b0) <= atol + rtol * xp.abs(b0)
    close = xp.logical_or(close, xp.logical_and(finite, within))
    if equal_nan:
        close = xp.logical_or(close, xp.logical_and(xp.isnan(a), xp.isnan(b)))
    return builtins.bool(xp.all(close))


def equal(input: Tensor, other: Tensor) -> builtins.bool:
    """Whether input and other have the same shape and the same values (NaN
    is not equal to itself); dtypes promote."""
    _check(input, "equal")
    _check(other, "equal")
    if input.shape != other.shape:
        return False
    a, b = operands(input, other, "equal")
    return builtins.bool(xp.all(_numeric(a) == _numeric(b)))


def is_tensor(obj: object) -> builtins.bool:
    """Whether obj is a Tensor."""
    return isinstance(obj, TensorBase)


def is_floating_point(input: Tensor) -> builtins.bool:
    """Whether input's dtype is a floating one (not complex)."""
    _check(input, "is_floating_point")
    return input.dtype in FLOATING
