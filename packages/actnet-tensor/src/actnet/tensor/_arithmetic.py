"""Arithmetic: + - * / @, negation and reciprocal; comparisons and bitwise logic
(not differentiable).

The four binary operators are every model's hottest path, and are written alike:
for two tensors of one dtype they call the device directly (no promotion to do),
and they test `needs_grad` inline; otherwise they follow the pattern of the other
operations (see _shape.py):

    data = values (promoted by `operands`), labelled
    if nothing requires grad: return _make(data)
    return _make(data, True, OpBackward(edges, what backward needs))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import actnet.ndarray as xp
from actnet.ndarray import NDArray, from_buffer
from actnet.tensor import _recipes
from actnet.tensor._autocast import autocast_op
from actnet.tensor._default_dtype import get_default_dtype
from actnet.tensor._floating import INEXACT
from actnet.tensor._grad_mode import _state
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._promotion import is_scalar, numpy_scalar, operands
from actnet.tensor._saved import Saved, SavedOutput, SavingNode, activation, label
from actnet.tensor._shape import reshape, transpose, unbroadcast, unsqueeze
from actnet.tensor._tensor_base import Scalar, TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


# ------------------------------------------------------------------ add, sub
class AddBackward(Node):
    """a + b, and a - b (sign -1)."""

    __slots__ = ("a_shape", "b_shape", "sign")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        a_shape: tuple[int, ...],
        b_shape: tuple[int, ...],
        sign: int,
    ) -> None:
        # Node.__init__, inlined: this is every addition's path.
        self.next_edges = edges
        self._output_hooks = None
        self._freed = False
        self.a_shape, self.b_shape, self.sign = a_shape, b_shape, sign

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        ga = unbroadcast(g, self.a_shape) if self.next_edges[0] else None
        gb = None
        if len(self.next_edges) > 1 and self.next_edges[1]:
            gb = unbroadcast(g if self.sign > 0 else neg(g), self.b_shape)
        return ga, gb


_ADD: Final = activation("add")
_SUB: Final = activation("sub")


def add(a: Tensor, b: Tensor | Scalar) -> Tensor:
    """a + b (broadcast; types promote as in PyTorch)."""
    if _recipes.in_use and _recipes.noting():  # selective checkpointing
        return _recipes.noted(add, (a, b))
    if isinstance(b, TensorBase):
        x, y = a.array.buffer, b.array.buffer
        xa, ya = x.native, y.native
        if xa.dtype is ya.dtype:  # one dtype: the device directly
            data = from_buffer(x.device.add(x, y, info=_ADD))
        else:
            da, db = operands(a, b, "add")
            data = da + db
            data.buffer.info = _ADD
        if _state.enabled and (a._requires_grad or b._requires_grad):
            # edge_of(a), edge_of(b), inlined for inputs that an operation made
            node = a.grad_fn
            ea = (node, a._output_nr) if node is not None else edge_of(a)
            node = b.grad_fn
            eb = (node, b._output_nr) if node is not None else edge_of(b)
            return _make(data, True, AddBackward((ea, eb), xa.shape, ya.shape, 1))
        return _make(data)
    da, db = operands(a, b, "add")
    data = da + db
    data.buffer.info = _ADD
    if _state.enabled and a._requires_grad:
        node = AddBackward((edge_of(a),), da.buffer.native.shape, (), 1)
        return _make(data, True, node)
    return _make(data)


def sub(a: Tensor, b: Tensor | Scalar) -> Tensor:
    """a - b."""
    if isinstance(b, TensorBase):
        x, y = a.array.buffer, b.array.buffer
        xa, ya = x.native, y.native
        if xa.dtype is ya.dtype:  # one dtype: the device directly
            data = from_buffer(x.device.subtract(x, y, info=_SUB))
        else:
            da, db = operands(a, b, "sub")
            data = da - db
            data.buffer.info = _SUB
        if _state.enabled and (a._requires_grad or b._requires_grad):
            # edge_of(a), edge_of(b), inlined for inputs that an operation made
            node = a.grad_fn
            ea = (node, a._output_nr) if node is not None else edge_of(a)
            node = b.grad_fn
            eb = (node, b._output_nr) if node is not None else edge_of(b)
            return _make(data, True, AddBackward((ea, eb), xa.shape, ya.shape, -1))
        return _make(data)
    da, db = operands(a, b, "sub")
    data = da - db
    data.buffer.info = _SUB
    if _state.enabled and a._requires_grad:
        node = AddBackward((edge_of(a),), da.buffer.native.shape, (), -1)
        return _make(data, True, node)
    return _make(data)


def rsub(a: Tensor, b: Scalar) -> Tensor:
    """b - a, for a Python scalar b."""
    da, db = operands(a, b, "sub")
    data = label(db - da, _SUB)
    if not needs_grad(a):
        return _make(data)
    return _make(data, True, NegBackward((edge_of(a),)))


class NegBackward(Node):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (neg(g),)


def neg(a: Tensor) -> Tensor:
    data = label(-a.array, activation("neg"))
    if not needs_grad(a):
        return _make(data)
    return _make(data, True, NegBackward((edge_of(a),)))


# ----------------------------------------------------------------- mul, div
class MulBackward(SavingNode):
    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], a: Tensor, b: Tensor | Scalar) -> None:
        # Node.__init__, inlined: this is every multiplication's path.
        self.next_edges = edges
        self._output_hooks = None
        self._freed = False
        # Each input's gradient needs the other input.
        if isinstance(b, TensorBase):
            self.saved = (
                Saved(b) if edges[0] else None,
                Saved(a) if edges[1] else None,
            )
            self.b_shape = b.array.buffer.native.shape
        else:
            self.saved = (b, None)
            self.b_shape = ()
        self.a_shape = a.array.buffer.native.shape

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        sb, sa = self._saved()
        ga = gb = None
        if self.next_edges[0]:
            other = sb.get(self) if type(sb) is Saved else sb
            ga = unbroadcast(mul(g, other), self.a_shape)
        if len(self.next_edges) > 1 and self.next_edges[1]:
            gb = unbroadcast(mul(g, sa.get(self)), self.b_shape)
        return ga, gb


_MUL: Final = activation("mul")
_DIV: Final = activation("div")


def mul(a: Tensor, b: Tensor | Scalar) -> Tensor:
    """a * b."""
    if isinstance(b, TensorBase):
        x, y = a.array.buffer, b.array.buffer
        xa, ya = x.native, y.native
        if xa.dtype is ya.dtype:  # one dtype: the device directly
            data = from_buffer(x.device.multiply(x, y, info=_MUL))
        else:
            da, db = operands(a, b, "mul")
            data = da * db
            data.buffer.info = _MUL
        if _state.enabled and (a._requires_grad or b._requires_grad):
            # edge_of(a), edge_of(b), inlined for inputs that an operation made
            node = a.grad_fn
            ea = (node, a._output_nr) if node is not None else edge_of(a)
            node = b.grad_fn
            eb = (node, b._output_nr) if node is not None else edge_of(b)
            return _make(data, True, MulBackward((ea, eb), a, b))
        return _make(data)
    da, db = operands(a, b, "mul")
    data = da * db
    data.buffer.info = _MUL
    if _state.enabled and a._requires_grad:
        return _make(data, True, MulBackward((edge_of(a),), a, b))
    return _make(data)


class DivBackward(SavingNode):
    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], a: Tensor, b: Tensor | Scalar) -> None:
        super().__init__(edges)
        needs_b = len(edges) > 1 and edges[1] is not None
        self.saved = (
            Saved(a) if needs_b else None,
            Saved(b) if isinstance(b, TensorBase) else b,
        )
        self.a_shape = a.shape
        self.b_shape = b.shape if isinstance(b, TensorBase) else ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        sa, sb = self._saved()
        b = sb.get(self) if type(sb) is Saved else sb
        ga = unbroadcast(div(g, b), self.a_shape) if self.next_edges[0] else None
        gb = None
        if len(self.next_edges) > 1 and self.next_edges[1]:
            a = sa.get(self)
            gb = unbroadcast(neg(div(mul(g, a), mul(b, b))), self.b_shape)
        return ga, gb


def div(a: Tensor, b: Tensor | Scalar) -> Tensor:
    """a / b: true division (integers divide into the default dtype, float32)."""
    if isinstance(b, TensorBase):
        x, y = a.array.buffer, b.array.buffer
        xa, ya = x.native, y.native
        if xa.dtype is ya.dtype and xa.dtype.kind in "fc":  # the device directly
            data = from_buffer(x.device.divide(x, y, info=_DIV))
        else:
            da, db = _true_operands(a, b)
            data = da / db
            data.buffer.info = _DIV
        if _state.enabled and (a._requires_grad or b._requires_grad):
            # edge_of(a), edge_of(b), inlined for inputs that an operation made
            node = a.grad_fn
            ea = (node, a._output_nr) if node is not None else edge_of(a)
            node = b.grad_fn
            eb = (node, b._output_nr) if node is not None else edge_of(b)
            return _make(data, True, DivBackward((ea, eb), a, b))
        return _make(data)
    da, db = _true_operands(a, b)
    data = da / db
    data.buffer.info = _DIV
    if _state.enabled and a._requires_grad:
        return _make(data, True, DivBackward((edge_of(a),), a, b))
    return _make(data)


def _true_operands(a: Tensor, b: Tensor | Scalar) -> tuple[NDArray, Any]:
    """The operands of a / b, integers and bools as the default dtype (as in
    PyTorch; actnet.ndarray would divide them into float32)."""
    da, db = operands(a, b, "div")
    integral = type(db) is not NDArray or db.dtype.kind in "biu"
    if da.dtype.kind in "biu" and integral:  # a float tensor b decides otherwise
        target = get_default_dtype()
        da = xp.astype(da, target)
        if type(db) is NDArray:
            db = xp.astype(db, target)
    return da, db


def rdiv(a: Tensor, b: Scalar) -> Tensor:
    """b / a, for a Python scalar b."""
    return mul(reciprocal(a), b)


class ReciprocalBackward(SavingNode):
    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], out: Tensor) -> None:
        super().__init__(edges)
        self.saved = (SavedOutput(out),)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        out = self._saved()[0].get(self)
        return (neg(mul(g, mul(out, out))),)


def reciprocal(a: Tensor) -> Tensor:
    da = a.array if a.dtype in INEXACT else xp.astype(a.array, get_default_dtype())
    out = _make(label(1.0 / da, activation("reciprocal")))
    if needs_grad(a):  # the node saves the output: made first, then attached
        out._requires_grad, out.grad_fn = True, ReciprocalBackward((edge_of(a),), out)
    return out


# ------------------------------------------------------------------ matmul
class MatmulBackward(SavingNode):
    """Batched matmul with NumPy's 1-d rules: the 1-d operands are promoted to
    matrices, the products taken, and the added axes removed again."""

    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], a: Tensor, b: Tensor) -> None:
        super().__init__(edges)
        self.saved = (Saved(a) if edges[1] else None, Saved(b) if edges[0] else None)
        self.a_shape, self.b_shape = a.shape, b.shape

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        sa, sb = self._saved()
        a_shape, b_shape = self.a_shape, self.b_shape
        a2 = (1, *a_shape) if len(a_shape) == 1 else a_shape
        b2 = (*b_shape, 1) if len(b_shape) == 1 else b_shape
        g2 = g
        if len(a_shape) == 1:
            g2 = unsqueeze(g2, -2 if len(b_shape) != 1 else 0)
        if len(b_shape) == 1:
            g2 = unsqueeze(g2, -1)
        ga = gb = None
        if self.next_edges[0]:
            b = reshape(sb.get(self), b2)
            ga = reshape(unbroadcast(matmul(g2, transpose(b, -1, -2)), a2), a_shape)
        if self.next_edges[1]:
            a = reshape(sa.get(self), a2)
            gb = reshape(unbroadcast(matmul(transpose(a, -1, -2), g2), b2), b_shape)
        return ga, gb


@autocast_op("matmul")
def matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b, of one dtype (float32 @ float64 is refused, as in PyTorch; under
    autocast the operands are cast first)."""
    if not isinstance(b, TensorBase):
        raise TypeError(f"matmul: other must be a Tensor, got {type(b).__name__}")
    da, db = a.array, b.array
    if da.dtype != db.dtype:
        raise RuntimeError(_mixed_matmul(a.ndim, b.ndim, da.dtype, db.dtype))
    data = label(da @ db, activation("matmul"))
    if not needs_grad(a, b):
        return _make(data)
    return _make(data, True, MatmulBackward((edge_of(a), edge_of(b)), a, b))


# PyTorch's names of the dtypes in its messages: ScalarType's (also _logic's),
# and C++'s.
TORCH_TITLES: Final = {
    "float32": "Float",
    "float64": "Double",
    "float16": "Half",
    "bfloat16": "BFloat16",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}
_CPP: Final = {
    "float32": "float",
    "float64": "double",
    "float16": "c10::Half",
    "bfloat16": "c10::BFloat16",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "bool": "bool",
    "complex64": "c10::complex<float>",
    "complex128": "c10::complex<double>",
}


def _mixed_matmul(a_ndim: int, b_ndim: int, a: Any, b: Any) -> str:
    """PyTorch's refusal of a @ b with a of dtype `a`, b of `b`: the message of
    the kernel that its matmul calls for those ranks (dot, mv, mm, bmm)."""
    ta, tb = TORCH_TITLES.get(a.name, a.name), TORCH_TITLES.get(b.name, b.name)
    if a_ndim == 1 and b_ndim == 1:
        return (
            f"dot : expected both vectors to have same dtype, but found {ta} and {tb}"
        )
    if b_ndim == 1:
        return (
            "addmv input tensors must have the same dtype, but got "
            f"{tb}, {ta}, and {tb}"
        )
    if b_ndim == 2:
        ca, cb = _CPP.get(a.name, a.name), _CPP.get(b.name, b.name)
        return f"expected m1 and m2 to have the same dtype, but got: {ca} != {cb}"
    return f"expected scalar type {ta} but found {tb}"


# ------------------------------------------------- comparisons and logic
def compare(op: str, a: Tensor, b: Any) -> Tensor:
    """`op` of the array namespace ("equal", "less", "logical_and", ...) of a and
    b: not differentiable."""
    if not isinstance(b, TensorBase) and not is_scalar(numpy_scalar(b)):
        return NotImplemented  # type: ignore[no-any-return]  # for the reflected op
    da, db = operands(a, b, op)
    if da.dtype == xp.bool and op in _ORDERINGS:
        # PyTorch orders bools as False < True; the array namespace does not
        # order them, so compare them as 0 and 1
        da = xp.astype(da, xp.uint8)
        db = xp.astype(db, xp.uint8) if type(db) is NDArray else int(db)
    return _make(getattr(xp, op)(da, db))


_ORDERINGS = frozenset(("less", "less_equal", "greater", "greater_equal"))


def invert(a: Tensor) -> Tensor:
    if a.dtype == xp.bool:
        return _make(xp.logical_not(a.array))
    return _make(xp.bitwise_invert(a.array))
