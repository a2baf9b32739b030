"""Pointwise math that model code calls as `torch.X(t)`: sin, cos, tanh,
sigmoid, rsqrt, log1p, expm1, erf; floor, ceil, round, sign (gradient zero);
maximum and minimum; and clamp with Tensor bounds.

The operations follow the pattern of _shape.py, and take integer and bool
tensors as PyTorch does: the transcendental functions compute them in float32,
floor/ceil/round/sign keep their dtype. Each backward is written with the
operations themselves (differentiable again), with PyTorch's formulas.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._arithmetic import div, mul, neg, rsub
from actnet.tensor._floating import INEXACT
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._math import _float, _InputNode, _OutputNode, exp, where
from actnet.tensor._math import clamp as _clamp_scalars
from actnet.tensor._promotion import result_dtype
from actnet.tensor._saved import SavingNode, activation, label
from actnet.tensor._shape import unbroadcast
from actnet.tensor._tensor_base import Scalar, TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

_TWO_OVER_SQRT_PI: Final = 2.0 / math.sqrt(math.pi)


MakeNode = Callable[[tuple[Edge, ...], "Tensor"], Node]


def _unary(a: Tensor, values: NDArray, op: str, node: MakeNode | None) -> Tensor:
    """The result of a unary operation: `values`, labelled, and `node` (made from
    the edges and the input, which it may save) when the graph is recorded."""
    data = label(values, activation(op))
    if node is None or not needs_grad(a):
        return _make(data)
    return _make(data, True, node((edge_of(a),), a))


def _with_output(a: Tensor, values: NDArray, op: str, node: MakeNode) -> Tensor:
    """The same for a node that saves the output: made first, then attached."""
    out = _make(label(values, activation(op)))
    if needs_grad(a):
        out._requires_grad, out.grad_fn = True, node((edge_of(a),), out)
    return out


# --------------------------------------------- backward from the input
class SinBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (mul(g, cos(self._saved()[0].get(self))),)


class CosBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (neg(mul(g, sin(self._saved()[0].get(self)))),)


class Log1pBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (div(g, self._saved()[0].get(self) + 1.0),)


class ErfBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        x = self._saved()[0].get(self)
        return (mul(g, mul(exp(neg(mul(x, x))), _TWO_OVER_SQRT_PI)),)


def sin(input: Tensor) -> Tensor:
    return _unary(input, xp.sin(_float(input)), "sin", SinBackward)


def cos(input: Tensor) -> Tensor:
    return _unary(input, xp.cos(_float(input)), "cos", CosBackward)


def log1p(input: Tensor) -> Tensor:
    return _unary(input, xp.log1p(_float(input)), "log1p", Log1pBackward)


def erf(input: Tensor) -> Tensor:
    return _unary(input, xp.erf(_float(input)), "erf", ErfBackward)


# -------------------------------------------- backward from the output
class TanhBackward(_OutputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        y = self._saved()[0].get(self)
        return (mul(g, rsub(mul(y, y), 1.0)),)


class SigmoidBackward(_OutputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        y = self._saved()[0].get(self)
        return (mul(g, mul(y, rsub(y, 1.0))),)


class RsqrtBackward(_OutputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        y = self._saved()[0].get(self)
        return (mul(g, mul(mul(y, mul(y, y)), -0.5)),)  # PyTorch's -0.5 * y**3


class Expm1Backward(_OutputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (mul(g, self._saved()[0].get(self) + 1.0),)


def tanh(input: Tensor) -> Tensor:
    return _with_output(input, xp.tanh(_float(input)), "tanh", TanhBackward)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input)): for very negative inputs exp overflows to inf and
    the quotient is 0, with no branch."""
    values = 1.0 / (1.0 + xp.exp(-_float(input)))
    return _with_output(input, values, "sigmoid", SigmoidBackward)


def rsqrt(input: Tensor) -> Tensor:
    values = xp.reciprocal(xp.sqrt(_float(input)))
    return _with_output(input, values, "rsqrt", RsqrtBackward)


def expm1(input: Tensor) -> Tensor:
    return _with_output(input, xp.expm1(_float(input)), "expm1", Expm1Backward)


# ------------------------------------------ piecewise constant: zero grads
class ZeroBackward(Node):
    """floor, ceil, round, sign: the gradient is zero (PyTorch's too)."""

    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], a: Tensor) -> None:
        super().__init__(edges)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (_make(xp.zeros_like(g.array)),)


def _rounding(input: Tensor, op: str) -> NDArray:
    """input's values for floor, ceil or round, refused for bool as PyTorch does."""
    if input.dtype == xp.bool:
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")
    return input.array


def _copy(values: NDArray) -> NDArray:
    """A new array of the same values (integers are their own floor): the result
    has its own memory label, as PyTorch's result is a new tensor."""
    return xp.asarray(values, copy=True)


def floor(input: Tensor) -> Tensor:
    values = _rounding(input, "floor")
    values = _copy(values) if values.dtype.kind in "iu" else xp.floor(values)
    return _unary(input, values, "floor", ZeroBackward)


def ceil(input: Tensor) -> Tensor:
    values = _rounding(input, "ceil")
    values = _copy(values) if values.dtype.kind in "iu" else xp.ceil(values)
    return _unary(input, values, "ceil", ZeroBackward)


def round(input: Tensor, *, decimals: builtins.int = 0) -> Tensor:
    """Halves to even; with `decimals`, round(input * 10**decimals) / 10**decimals
    (PyTorch's formula, in input's dtype: only for floating inputs)."""
    values = _rounding(input, "round")
    if decimals and values.dtype not in INEXACT:
        raise NotImplementedError(f"\"round\" not implemented for '{values.dtype}'")
    if decimals > 0:
        scale = 10.0**decimals
        values = xp.round(values * scale) / scale
    elif decimals < 0:
        scale = 10.0**-decimals
        values = xp.round(values / scale) * scale
    else:
        values = xp.round(values)
    return _unary(input, values, "round", ZeroBackward)


def sign(input: Tensor) -> Tensor:
    values = input.array
    values = _copy(values) if values.dtype == xp.bool else xp.sign(values)
    return _unary(input, values, "sign", ZeroBackward)


# ------------------------------------------------------ maximum, minimum
class ExtremumBackward(SavingNode):
    """maximum / minimum: the gradient goes to the larger (smaller) input, halved
    between equal ones (PyTorch's rule; with a NaN, both inputs get it)."""

    __slots__ = ("a_shape", "b_shape")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        weights: tuple[NDArray, NDArray],
        shapes: tuple[tuple[builtins.int, ...], ...],
    ) -> None:
        super().__init__(edges)
        self.saved = weights
        self.a_shape, self.b_shape = shapes

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        wa, wb = self._saved()
        ga = (
            unbroadcast(mul(g, _make(wa)), self.a_shape) if self.next_edges[0] else None
        )
        gb = (
            unbroadcast(mul(g, _make(wb)), self.b_shape) if self.next_edges[1] else None
        )
        return ga, gb


def _extremum(input: Tensor, other: Tensor, largest: builtins.bool) -> Tensor:
    op = "maximum" if largest else "minimum"
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, TensorBase):
            raise TypeError(
                f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}"
            )
    target = result_dtype(input.dtype, other.dtype)
    if target.kind == "c":
        raise RuntimeError(f"{op} not implemented for complex tensors.")
    da = input.array if input.dtype == target else xp.astype(input.array, target)
    db = other.array if other.dtype == target else xp.astype(other.array, target)
    values = xp.maximum(da, db) if largest else xp.minimum(da, db)
    data = label(values, activation(op))
    if not needs_grad(input, other):
        return _make(data)
    shape = data.shape
    half = xp.full(shape, 0.5, dtype=target, device=data.device)
    a_loses = (da < db) if largest else (da > db)
    b_loses = (da > db) if largest else (da < db)
    equal = xp.broadcast_to(da == db, shape)
    wa = xp.where(equal, half, xp.where(a_loses, 0.0, xp.ones_like(half)))
    wb = xp.where(equal, half, xp.where(b_loses, 0.0, xp.ones_like(half)))
    node = ExtremumBackward(
        (edge_of(input), edge_of(other)), (wa, wb), (input.shape, other.shape)
    )
    return _make(data, True, node)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """The larger of two tensors, elementwise (a NaN wins)."""
    return _extremum(input, other, largest=True)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """The smaller of two tensors, elementwise (a NaN wins)."""
    return _extremum(input, other, largest=False)


# ------------------------------------------------- clamp, Tensor bounds
class ClampBoundsBackward(SavingNode):
    """clamp with Tensor bounds: PyTorch's masks (clamp_backward and
    clamp_backward_min_max), saved as bool arrays."""

    __slots__ = ("shapes",)

    def __init__(
        self,
        edges: tuple[Edge, ...],
        masks: tuple[NDArray | None, ...],
        shapes: tuple[tuple[builtins.int, ...], ...],
    ) -> None:
        super().__init__(edges)
        self.saved = masks
        self.shapes = shapes

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        zero = _make(xp.zeros_like(g.array))
        out: list[Tensor | None] = []
        for edge, mask, shape in zip(
            self.next_edges, self._saved(), self.shapes, strict=True
        ):
            if edge is None or mask is None:
                out.append(None)
                continue
            picked = where(_make(mask), g, zero)
            out.append(unbroadcast(picked, shape))
        return out


def clamp(
    input: Tensor,
    min: Tensor | Scalar | None = None,
    max: Tensor | Scalar | None = None,
) -> Tensor:
    """input limited to [min, max]; a bound may be a Tensor (broadcast), where
    min > max gives max, as in PyTorch.

    >>> clamp(tensor([-2.0, 0.5, 3.0]), min=0.0, max=1.0)
    tensor([0. , 0.5, 1. ])
    """
    if isinstance(min, TensorBase) or isinstance(max, TensorBase):
        for bound in (min, max):
            if bound is not None and not isinstance(bound, TensorBase):
                raise TypeError(
                    "clamp(): min and max must both be Tensors or both numbers"
                )
        return _clamp_tensors(input, min, max)  # type: ignore[arg-type]
    if min is None and max is None:
        raise RuntimeError(
            "torch.clamp: At least one of 'min' or 'max' must not be None"
        )
    return _clamp_scalars(input, min, max)


def _clamp_tensors(input: Tensor, low: Tensor | None, high: Tensor | None) -> Tensor:
    target = input.dtype
    for bound in (low, high):
        if bound is not None:
            target = result_dtype(target, bound.dtype)

    def cast(t: Tensor | None) -> NDArray | None:
        if t is None:
            return None
        return t.array if t.dtype == target else xp.astype(t.array, target)

    x, lo, hi = cast(input), cast(low), cast(high)
    assert x is not None
    values = x
    if lo is not None:
        values = xp.maximum(values, lo)
    if hi is not None:
        values = xp.minimum(values, hi)
    data = label(values, activation("clamp"))
    if not needs_grad(input, low, high):
        return _make(data)
    shape = data.shape
    inside = xp.ones(shape, dtype=xp.bool, device=data.device)
    masks: list[NDArray | None] = [None, None, None]
    if lo is not None:
        inside = xp.logical_and(inside, x >= lo)
        below = x < lo
        masks[1] = below if hi is None else xp.logical_and(below, lo < hi)
    if hi is not None:
        inside = xp.logical_and(inside, x <= hi)
        above = x > hi
        masks[2] = above if lo is None else xp.logical_or(above, hi < lo)
    masks[0] = inside
    shapes = tuple(() if t is None else t.shape for t in (input, low, high))
    edges = (edge_of(input), edge_of(low), edge_of(high))
    node = ClampBoundsBackward(edges, tuple(masks), shapes)
    return _make(data, True, node)
