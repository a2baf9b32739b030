"""More pointwise math that model code calls as `torch.X(t)`: square, neg,
lerp, atan2, remainder, trunc, log2, log10, sinh, cosh, asin, acos, atan.

The operations follow _pointwise.py: integer and bool inputs of the
transcendental functions are computed in float32, and each backward is
written with the operations themselves (differentiable again), with PyTorch's
formulas. square, neg and lerp are compositions of existing operations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._arithmetic import add, div, mul, rsub, sub
from actnet.tensor._arithmetic import neg as _neg
from actnet.tensor._default_dtype import get_default_dtype
from actnet.tensor._floating import INEXACT
from actnet.tensor._graph import Edge, edge_of, needs_grad
from actnet.tensor._math import _float, _InputNode, pow, sqrt
from actnet.tensor._pointwise import ZeroBackward, _copy, _unary
from actnet.tensor._promotion import operands, result_dtype
from actnet.tensor._saved import Saved, SavingNode, activation, label
from actnet.tensor._shape import unbroadcast
from actnet.tensor._tensor_base import Scalar, TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

_LN2: Final = math.log(2.0)
_LN10: Final = math.log(10.0)


def _grad(grads: list[Tensor | None]) -> Tensor:
    g = grads[0]
    assert g is not None
    return g


# ------------------------------------------------ backward from the input
class Log2Backward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        return (div(_grad(grads), mul(self._saved()[0].get(self), _LN2)),)


class Log10Backward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        return (div(_grad(grads), mul(self._saved()[0].get(self), _LN10)),)


class SinhBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        return (mul(_grad(grads), cosh(self._saved()[0].get(self))),)


class CoshBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        return (mul(_grad(grads), sinh(self._saved()[0].get(self))),)


class AsinBackward(_InputNode):
    """d asin(x) = 1 / sqrt(1 - x^2); acos is its negation."""

    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        x = self._saved()[0].get(self)
        return (div(_grad(grads), sqrt(rsub(mul(x, x), 1.0))),)


class AcosBackward(AsinBackward):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        (g,) = super().backward(grads)
        assert g is not None
        return (_neg(g),)


class AtanBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        x = self._saved()[0].get(self)
        return (div(_grad(grads), add(mul(x, x), 1.0)),)


def log2(input: Tensor) -> Tensor:
    return _unary(input, xp.log2(_float(input)), "log2", Log2Backward)


def log10(input: Tensor) -> Tensor:
    return _unary(input, xp.log10(_float(input)), "log10", Log10Backward)


def sinh(input: Tensor) -> Tensor:
    return _unary(input, xp.sinh(_float(input)), "sinh", SinhBackward)


def cosh(input: Tensor) -> Tensor:
    return _unary(input, xp.cosh(_float(input)), "cosh", CoshBackward)


def asin(input: Tensor) -> Tensor:
    return _unary(input, xp.asin(_float(input)), "asin", AsinBackward)


def acos(input: Tensor) -> Tensor:
    return _unary(input, xp.acos(_float(input)), "acos", AcosBackward)


def atan(input: Tensor) -> Tensor:
    return _unary(input, xp.atan(_float(input)), "atan", AtanBackward)


# ---------------------------------------------------- trunc, square, neg
def trunc(input: Tensor) -> Tensor:
    """input rounded towards zero (gradient zero); integers are their own."""
    if input.dtype == xp.bool:
        raise NotImplementedError("\"trunc_vml_cpu\" not implemented for 'Bool'")
    values = input.array
    values = _copy(values) if values.dtype.kind in "iu" else xp.trunc(values)
    return _unary(input, values, "trunc", ZeroBackward)


def square(input: Tensor) -> Tensor:
    """input * input (a bool input: int64, as PyTorch's pow(input, 2))."""
    return pow(input, 2)


def neg(input: Tensor) -> Tensor:
    """-input; refused for bool, as PyTorch refuses it."""
    if input.dtype == xp.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you "
            "are trying to invert a mask, use the `~` or `logical_not()` operator "
            "instead."
        )
    return _neg(input)


# ------------------------------------------------------------------- lerp
def lerp(input: Tensor, end: Tensor, weight: Tensor | Scalar) -> Tensor:
    """input + weight * (end - input); end (and a Tensor weight) of input's
    dtype, broadcast.

    >>> lerp(tensor([0.0, 10.0]), tensor([10.0, 20.0]), 0.5)
    tensor([ 5., 15.])
    """
    for name, value in (("end", end), ("weight", weight)):
        if isinstance(value, TensorBase) and value.dtype != input.dtype:
            raise RuntimeError(
                f"expected dtype {input.dtype} for `{name}` but got dtype {value.dtype}"
            )
    if not isinstance(end, TensorBase):
        raise TypeError(f"lerp(): end must be a Tensor, not {type(end).__name__}")
    return add(input, mul(sub(end, input), weight))


# ------------------------------------------------------------------ atan2
class Atan2Backward(SavingNode):
    """d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)."""

    __slots__ = ("shapes",)

    def __init__(self, edges: tuple[Edge, ...], y: Tensor, x: Tensor) -> None:
        super().__init__(edges)
        self.saved = (Saved(y), Saved(x))
        self.shapes = (y.shape, x.shape)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = _grad(grads)
        sy, sx = self._saved()
        y, x = sy.get(self), sx.get(self)
        scale = div(g, add(mul(x, x), mul(y, y)))
        gy = unbroadcast(mul(scale, x), self.shapes[0]) if self.next_edges[0] else None
        gx = None
        if self.next_edges[1]:
            gx = unbroadcast(_neg(mul(scale, y)), self.shapes[1])
        return gy, gx


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point (other, input), elementwise, in [-pi, pi]."""
    if not isinstance(other, TensorBase):
        raise TypeError(
            f"atan2(): argument 'other' must be Tensor, not {type(other).__name__}"
        )
    target = result_dtype(input.dtype, other.dtype)
    if target not in INEXACT:
        target = get_default_dtype()
    y = input.array if input.dtype == target else xp.astype(input.array, target)
    x = other.array if other.dtype == target else xp.astype(other.array, target)
    data = label(xp.atan2(y, x), activation("atan2"))
    if not needs_grad(input, other):
        return _make(data)
    node = Atan2Backward((edge_of(input), edge_of(other)), input, other)
    return _make(data, True, node)


# -------------------------------------------------------------- remainder
class RemainderBackward(SavingNode):
    """input - floor(input / other) * other: the gradient is g for input and
    -g * floor(input / other) for other (a constant: piecewise)."""

    __slots__ = ("shapes",)

    def __init__(
        self,
        edges: tuple[Edge, ...],
        quotient: NDArray | None,
        shapes: tuple[tuple[int, ...], tuple[int, ...]],
    ) -> None:
        super().__init__(edges)
        self.saved = (quotient,)
        self.shapes = shapes

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = _grad(grads)
        gi = unbroadcast(g, self.shapes[0]) if self.next_edges[0] else None
        go = None
        if len(self.next_edges) > 1 and self.next_edges[1]:
            (quotient,) = self._saved()
            go = unbroadcast(_neg(mul(g, _make(quotient))), self.shapes[1])
        return gi, go


def remainder(input: Tensor, other: Tensor | Scalar) -> Tensor:
    """Python's modulus, elementwise: the result has the sign of `other`.

    >>> remainder(tensor([-3, 3]), 2)
    tensor([1, 1])
    """
    if not isinstance(input, TensorBase):
        raise TypeError(
            f"remainder(): input must be a Tensor, not {type(input).__name__}"
        )
    da, db = operands(input, other, "remainder")
    if da.dtype.kind in "iub":
        zero = db == 0 if type(db) is NDArray else xp.asarray(db == 0)
        if _any_set(zero):
            raise RuntimeError("ZeroDivisionError")
    data = label(xp.remainder(da, db), activation("remainder"))
    if not needs_grad(input, other):
        return _make(data)
    if isinstance(other, TensorBase):
        edges: tuple[Edge, ...] = (edge_of(input), edge_of(other))
        quotient = xp.floor(da / db) if other._requires_grad else None
        shapes = (input.shape, other.shape)
    else:
        edges, quotient, shapes = (edge_of(input),), None, (input.shape, ())
    return _make(data, True, RemainderBackward(edges, quotient, shapes))


def _any_set(flags: NDArray) -> bool:
    """Whether any flag is set (a host bool)."""
    return bool(flags.size and xp.any(flags))
