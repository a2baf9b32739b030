"""Elementwise math: exp, log, sqrt, abs, pow (**), clamp and where.

The operations follow the pattern of _shape.py. Those whose backward needs their
own output (exp, sqrt) make the output first and then attach the node to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._arithmetic import div, mul, sub
from actnet.tensor._default_dtype import get_default_dtype
from actnet.tensor._floating import INEXACT
from actnet.tensor._graph import Edge, edge_of, needs_grad
from actnet.tensor._promotion import is_scalar, numpy_scalar, operands, scalar_dtype
from actnet.tensor._saved import Saved, SavedOutput, SavingNode, activation, label
from actnet.tensor._shape import unbroadcast
from actnet.tensor._tensor_base import Scalar, TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _shape_of(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, TensorBase) else ()


def _float(a: Tensor) -> NDArray:
    """a's values, in the default dtype (float32) when a is an integer tensor (as
    PyTorch's exp of ints)."""
    return a.array if a.dtype in INEXACT else xp.astype(a.array, get_default_dtype())


# ----------------------------------------------------------------------- pow
class PowBackward(SavingNode):
    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], a: Tensor, b: Tensor | Scalar) -> None:
        super().__init__(edges)
        self.saved = (Saved(a), Saved(b) if isinstance(b, TensorBase) else b)
        self.a_shape, self.b_shape = a.shape, _shape_of(b)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        sa, sb = self._saved()
        a = sa.get(self)
        b: Tensor | Scalar = sb.get(self) if type(sb) is Saved else sb
        ga = gb = None
        if self.next_edges[0]:
            if not isinstance(b, TensorBase) and b == 0:
                ga = mul(g, 0.0)
            else:
                ga = unbroadcast(
                    mul(
                        mul(g, b),
                        pow(a, sub(b, 1) if isinstance(b, TensorBase) else b - 1),
                    ),
                    self.a_shape,
                )
        if len(self.next_edges) > 1 and self.next_edges[1]:
            # d(a**b)/db = a**b * log(a), taken as 0 where a == 0 (PyTorch's choice)
            safe = where(_make(a.array == 0), _make(xp.ones_like(a.array)), a)
            gb = unbroadcast(mul(mul(g, pow(a, b)), log(safe)), self.b_shape)
        return ga, gb


def pow(a: Tensor, b: Tensor | Scalar) -> Tensor:  # PyTorch's name
    da, db = operands(a, b, "pow")
    data = label(da**db, activation("pow"))
    if not needs_grad(a, b):
        return _make(data)
    edges = (edge_of(a), edge_of(b)) if isinstance(b, TensorBase) else (edge_of(a),)
    return _make(data, True, PowBackward(edges, a, b))


def rpow(a: Tensor, b: Scalar) -> Tensor:
    """b ** a, for a Python (or NumPy) scalar b."""
    b = numpy_scalar(b)
    if not is_scalar(b):
        raise TypeError(
            f"pow: base must be a Tensor or a Python scalar, got {type(b).__name__}"
        )
    base = _make(xp.full(a.shape, b, dtype=scalar_dtype(a.dtype, b), device=a.device))
    return pow(base, a)


# -------------------------------------------------------------- exp, sqrt
class _OutputNode(SavingNode):
    """A node whose backward needs only the output (exp, sqrt)."""

    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], out: Tensor) -> None:
        super().__init__(edges)
        self.saved = (SavedOutput(out),)


class ExpBackward(_OutputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (mul(g, self._saved()[0].get(self)),)


class SqrtBackward(_OutputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (div(g, mul(self._saved()[0].get(self), 2.0)),)


def exp(a: Tensor) -> Tensor:
    out = _make(label(xp.exp(_float(a)), activation("exp")))
    if needs_grad(a):
        out._requires_grad, out.grad_fn = True, ExpBackward((edge_of(a),), out)
    return out


def sqrt(a: Tensor) -> Tensor:
    out = _make(label(xp.sqrt(_float(a)), activation("sqrt")))
    if needs_grad(a):
        out._requires_grad, out.grad_fn = True, SqrtBackward((edge_of(a),), out)
    return out


# --------------------------------------------------------------- log, abs
class _InputNode(SavingNode):
    """A node whose backward needs only the input (log, abs)."""

    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], a: Tensor) -> None:
        super().__init__(edges)
        self.saved = (Saved(a),)


class LogBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (div(g, self._saved()[0].get(self)),)


def log(a: Tensor) -> Tensor:
    data = label(xp.log(_float(a)), activation("log"))
    if not needs_grad(a):
        return _make(data)
    return _make(data, True, LogBackward((edge_of(a),), a))


class AbsBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        a = self._saved()[0].get(self)
        return (mul(g, _make(xp.sign(a.array))),)  # piecewise constant: no graph


def abs(a: Tensor) -> Tensor:  # PyTorch's name
    if a.dtype == xp.bool:
        raise NotImplementedError("\"abs\" not implemented for 'Bool'")
    data = label(xp.abs(a.array), activation("abs"))
    if not needs_grad(a):
        return _make(data)
    return _make(data, True, AbsBackward((edge_of(a),), a))


# ---------------------------------------------------------- clamp, where
class ClampBackward(SavingNode):
    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], mask: NDArray) -> None:
        super().__init__(edges)
        self.saved = (mask,)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        (mask,) = self._saved()
        return (where(_make(mask), g, _make(xp.zeros_like(g.array))),)


def clamp(a: Tensor, low: Scalar | None = None, high: Scalar | None = None) -> Tensor:
    if low is None and high is None:
        raise RuntimeError("clamp: at least one of min and max must be given")
    data = a.array
    target = data.dtype
    for bound in (low, high):
        if bound is not None:
            target = scalar_dtype(target, bound)
    if target != data.dtype:
        data = xp.astype(data, target)
    result = label(xp.clip(data, low, high), activation("clamp"))
    if not needs_grad(a):
        return _make(result)
    inside = xp.ones(data.shape, dtype=xp.bool, device=data.device)
    if low is not None:
        inside = xp.logical_and(inside, data >= low)
    if high is not None:
        inside = xp.logical_and(inside, data <= high)
    return _make(result, True, ClampBackward((edge_of(a),), inside))


class WhereBackward(SavingNode):
    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], cond: NDArray, a: Any, b: Any) -> None:
        super().__init__(edges)
        self.saved = (cond,)
        self.a_shape, self.b_shape = _shape_of(a), _shape_of(b)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        (cond,) = self._saved()
        zero = _make(xp.zeros_like(g.array))
        c = _make(cond)
        ga = (
            unbroadcast(where(c, g, zero), self.a_shape) if self.next_edges[0] else None
        )
        gb = (
            unbroadcast(where(c, zero, g), self.b_shape) if self.next_edges[1] else None
        )
        return ga, gb


def where(condition: Tensor, a: Tensor | Scalar, b: Tensor | Scalar) -> Tensor:
    """a where condition, else b (broadcast; differentiable in a and b)."""
    if not isinstance(condition, TensorBase) or condition.dtype != xp.bool:
        raise TypeError("where: condition must be a bool Tensor")
    if isinstance(a, TensorBase):
        da, db = operands(a, b, "where")
    elif isinstance(b, TensorBase):
        db, da = operands(b, a, "where")
    else:
        raise TypeError("where: a or b must be a Tensor")
    data = label(xp.where(condition.array, da, db), activation("where"))
    if not needs_grad(a, b):
        return _make(data)
    node = WhereBackward((edge_of(a), edge_of(b)), condition.array, a, b)
    return _make(data, True, node)
