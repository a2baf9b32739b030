"""The differentiable primitives: Tensor methods and operators, each with its node.

Every backward is written with these same primitives, so it is itself
differentiable (create_graph=True gives higher-order gradients). Inputs are saved
as Tensors with their version; an in-place change before backward is an error.
Outputs that backward needs are saved as their values, plus a weak reference to
the output to read its version (a strong one would make a reference cycle).
"""

from __future__ import annotations

import builtins
import weakref
from collections import namedtuple
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

import actnet.ndarray as xp
from actnet.device import Device
from actnet.ndarray import NDArray, buffer_of, from_buffer
from actnet.tensor._autograd import Edge, Node, edge_of
from actnet.tensor._grad_mode import _state
from actnet.tensor._tensor import Scalar, Tensor, _dim, _dtype, _make
from actnet.tensor._tensor import _new as _new_tensor

# ----------------------------------------------------------------- promotion
_CATEGORY: Final = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def result_dtype(a: np.dtype[Any], b: np.dtype[Any]) -> np.dtype[Any]:
    """PyTorch's promotion of two tensors: a higher category (bool < integer <
    floating < complex) wins; within a category, the array API's table."""
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb:
        result: np.dtype[Any] = xp.result_type(a, b)
        return result
    high, low = (a, b) if ca > cb else (b, a)
    if high.kind == "c" and low == xp.float64:
        return np.dtype(xp.complex128)
    return high


def scalar_dtype(dtype: np.dtype[Any], value: Scalar) -> np.dtype[Any]:
    """The dtype of tensor `op` Python scalar, as PyTorch gives it."""
    t = type(value)
    kind = dtype.kind
    if t is int and kind == "b":
        return np.dtype(xp.int64)
    if t is float and kind in "biu":
        return np.dtype(xp.float32)
    if t is complex and kind != "c":
        return np.dtype(xp.complex128 if dtype == xp.float64 else xp.complex64)
    return dtype


def _is_scalar(value: Any) -> bool:
    t = type(value)
    return t is int or t is float or t is builtins.bool or t is complex


def _operands(a: Tensor, b: Any, op: str) -> tuple[NDArray, Any]:
    """a's and b's values, promoted as PyTorch promotes them."""
    da = a.array
    if isinstance(b, Tensor):
        db = b.array
        if da.dtype is not db.dtype and da.dtype != db.dtype:
            target = result_dtype(da.dtype, db.dtype)
            if da.dtype != target:
                da = xp.astype(da, target)
            if db.dtype != target:
                db = xp.astype(db, target)
        return da, db
    if _is_scalar(b):
        target = scalar_dtype(da.dtype, b)
        if target != da.dtype:
            da = xp.astype(da, target)
        return da, b
    raise TypeError(
        f"{op}: operands must be Tensors or Python scalars, got {type(b).__name__}"
    )


def _needs_grad(*inputs: Any) -> bool:
    if not _state.enabled:
        return False
    for t in inputs:  # noqa: SIM110  # not any(...): a generator costs more here
        if isinstance(t, Tensor) and t._requires_grad:
            return True
    return False


def _activation(data: NDArray, info: tuple[str, str]) -> NDArray:
    """Label the buffer an operation allocated, so memory snapshots explain it."""
    buf = data.buffer
    if buf.base is None:
        buf._meta[2] = info
    return data


_INFO: dict[str, tuple[str, str]] = {}


def _info(op: str) -> tuple[str, str]:
    info = _INFO.get(op)
    if info is None:
        info = _INFO[op] = ("activation", op)
    return info


def _result(data: NDArray, node: Node | None) -> Tensor:
    if node is None:
        return _make(data)
    return _make(data, True, node)


_SAVED_INPUT: Final = ("saved for backward", "input")


class _Saved:
    """A saved input: the Tensor and its version when saved."""

    __slots__ = ("tensor", "version")

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self.version = tensor._version
        # Label the memory (a view shares its owner's label): saved for backward,
        # and still which op made it.
        meta = tensor.array.buffer._meta
        info = meta[2]
        if info is None:
            meta[2] = _SAVED_INPUT
        elif info[0] == "activation":
            meta[2] = ("saved for backward", info[1])

    def get(self, node: Node) -> Tensor:
        if self.tensor._version != self.version:
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified "
                f"by an in-place operation: {node.name()} saved version "
                f"{self.version}, it is now at version {self.tensor._version}"
            )
        return self.tensor


class _SavedOutput:
    """A saved output: its values and a weak reference to read its version."""

    __slots__ = ("data", "output_nr", "ref", "version")

    def __init__(self, output: Tensor, output_nr: int = 0) -> None:
        self.data = output.array
        self.ref = weakref.ref(output)
        self.version = output._version
        self.output_nr = output_nr

    def get(self, node: Node) -> Tensor:
        output = self.ref()
        if output is not None and output._version != self.version:
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified "
                f"by an in-place operation: the output of {node.name()}"
            )
        return _make(self.data, True, node, self.output_nr)


class _SavingNode(Node):
    """A node that keeps saved values until backward (or release) frees them."""

    __slots__ = ("saved",)
    saved: tuple[Any, ...] | None

    def release(self) -> bool:
        had = self.saved is not None
        self.saved = None
        return had

    def _saved(self) -> tuple[Any, ...]:
        if self.saved is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or to read saved "
                "tensors after they were freed); specify retain_graph=True"
            )
        return self.saved


def unbroadcast(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum `g` over the axes broadcasting added to `shape` (the gradient of expand)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n == 1 and g.shape[lead + i] != 1:
            axes.append(lead + i)
    reduced = sum(g, tuple(axes), False, None) if axes else g
    return reshape(reduced, shape) if reduced.shape != shape else reduced


def _shape(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, Tensor) else ()


# ------------------------------------------------------------------ add, sub
class AddBackward(Node):
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


_ADD_INFO: Final = ("activation", "add")
_SUB_INFO: Final = ("activation", "sub")


def add(a: Tensor, b: Tensor | Scalar) -> Tensor:
    if isinstance(b, Tensor):
        x, y = a.array.buffer, b.array.buffer
        xa, ya = x.native, y.native
        if xa.dtype is ya.dtype:  # the device directly: nothing to promote
            data = from_buffer(x.device.add(x, y))
        else:
            data = _promoting_add(a, b)
        data.buffer._meta[2] = _ADD_INFO
        if _state.enabled and (a._requires_grad or b._requires_grad):
            # edge_of(a), edge_of(b), inlined for the usual cases
            node = a.grad_fn
            ea = (node, a._output_nr) if node is not None else edge_of(a)
            node = b.grad_fn
            eb = (node, b._output_nr) if node is not None else edge_of(b)
            return _result_with(data, AddBackward((ea, eb), xa.shape, ya.shape, 1))
        return _make(data)
    data = _promoting_add(a, b)
    data.buffer._meta[2] = _ADD_INFO
    if _state.enabled and a._requires_grad:
        node = AddBackward((edge_of(a), None), a.array.shape, (), 1)
        return _result_with(data, node)
    return _make(data)


def _promoting_add(a: Tensor, b: Tensor | Scalar) -> NDArray:
    other = b.array if isinstance(b, Tensor) else b
    try:  # the array layer promotes within a kind; across kinds it raises
        result: NDArray = a.array + other
    except TypeError:
        da, db = _operands(a, b, "add")
        result = da + db
    return result


def _result_with(data: NDArray, node: Node) -> Tensor:
    """_make(data, True, node), inlined for the hot operators."""
    t = _new_tensor(Tensor)
    t.array = data
    t._grad = None
    t._requires_grad = True
    t.grad_fn = node
    t._output_nr = 0
    t._version = 0
    t._extra = None
    return t


def sub(a: Tensor, b: Tensor | Scalar) -> Tensor:
    da, db = _operands(a, b, "sub")
    data = _activation(da - db, _SUB_INFO)
    if not _needs_grad(a, b):
        return _make(data)
    return _make(
        data, True, AddBackward((edge_of(a), edge_of(b)), a.shape, _shape(b), -1)
    )


def rsub(a: Tensor, b: Scalar) -> Tensor:
    """b - a."""
    da, db = _operands(a, b, "sub")
    data = _activation(db - da, _SUB_INFO)
    if not _needs_grad(a):
        return _make(data)
    return _make(data, True, NegBackward((edge_of(a),)))


class NegBackward(Node):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (neg(g),)


def neg(a: Tensor) -> Tensor:
    data = _activation(-a.array, _info("neg"))
    return _result(data, NegBackward((edge_of(a),)) if _needs_grad(a) else None)


# --------------------------------------------------------------- mul, div
class MulBackward(_SavingNode):
    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], a: Tensor, b: Tensor | Scalar) -> None:
        # Node.__init__, inlined: this is every multiplication's path.
        self.next_edges = edges
        self._output_hooks = None
        self._freed = False
        # Each input's gradient needs the other input.
        if isinstance(b, Tensor):
            self.saved = (
                _Saved(b) if edges[0] else None,
                _Saved(a) if edges[1] else None,
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
            other = sb.get(self) if type(sb) is _Saved else sb
            ga = unbroadcast(mul(g, other), self.a_shape)
        if len(self.next_edges) > 1 and self.next_edges[1]:
            gb = unbroadcast(mul(g, sa.get(self)), self.b_shape)
        return ga, gb


_MUL_INFO: Final = ("activation", "mul")
_SUM_INFO: Final = ("activation", "sum")


def mul(a: Tensor, b: Tensor | Scalar) -> Tensor:
    if isinstance(b, Tensor):
        x, y = a.array.buffer, b.array.buffer
        if x.native.dtype is y.native.dtype:  # the device directly: nothing to promote
            data = from_buffer(x.device.multiply(x, y))
        else:
            data = _promoting_mul(a, b)
        data.buffer._meta[2] = _MUL_INFO
        if _state.enabled and (a._requires_grad or b._requires_grad):
            # edge_of(a), edge_of(b), inlined for the usual cases
            node = a.grad_fn
            ea = (node, a._output_nr) if node is not None else edge_of(a)
            node = b.grad_fn
            eb = (node, b._output_nr) if node is not None else edge_of(b)
            return _result_with(data, MulBackward((ea, eb), a, b))
        return _make(data)
    data = _promoting_mul(a, b)
    data.buffer._meta[2] = _MUL_INFO
    if _state.enabled and a._requires_grad:
        return _result_with(data, MulBackward((edge_of(a),), a, b))
    return _make(data)


def _promoting_mul(a: Tensor, b: Tensor | Scalar) -> NDArray:
    other = b.array if isinstance(b, Tensor) else b
    try:  # the array layer promotes within a kind; across kinds it raises
        result: NDArray = a.array * other
    except TypeError:
        da, db = _operands(a, b, "mul")
        result = da * db
    return result


class DivBackward(_SavingNode):
    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], a: Tensor, b: Tensor | Scalar) -> None:
        super().__init__(edges)
        needs_b = len(edges) > 1 and edges[1] is not None
        self.saved = (
            _Saved(a) if needs_b else None,
            _Saved(b) if isinstance(b, Tensor) else b,
        )
        self.a_shape, self.b_shape = a.shape, _shape(b)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        sa, sb = self._saved()
        b = sb.get(self) if type(sb) is _Saved else sb
        ga = unbroadcast(div(g, b), self.a_shape) if self.next_edges[0] else None
        gb = None
        if len(self.next_edges) > 1 and self.next_edges[1]:
            a = sa.get(self)
            gb = unbroadcast(neg(div(mul(g, a), mul(b, b))), self.b_shape)
        return ga, gb


def div(a: Tensor, b: Tensor | Scalar) -> Tensor:
    da, db = _operands(a, b, "div")
    if da.dtype.kind in "biu" and (type(db) is not NDArray or db.dtype.kind in "biu"):
        da = xp.astype(da, xp.float32)  # PyTorch's true division of integers
        if type(db) is NDArray:
            db = xp.astype(db, xp.float32)
    data = _activation(da / db, _info("div"))
    if not _needs_grad(a, b):
        return _make(data)
    edges = (edge_of(a), edge_of(b)) if isinstance(b, Tensor) else (edge_of(a),)
    return _make(data, True, DivBackward(edges, a, b))


def rdiv(a: Tensor, b: Scalar) -> Tensor:
    """b / a."""
    return mul(reciprocal(a), b)


class ReciprocalBackward(_SavingNode):
    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], out: Tensor) -> None:
        super().__init__(edges)
        self.saved = (_SavedOutput(out),)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        out = self._saved()[0].get(self)
        return (neg(mul(g, mul(out, out))),)


def reciprocal(a: Tensor) -> Tensor:
    da = a.array if a.dtype.kind in "fc" else xp.astype(a.array, xp.float32)
    out = _make(_activation(1.0 / da, _info("reciprocal")))
    if _needs_grad(a):
        node = ReciprocalBackward((edge_of(a),), out)
        out._requires_grad, out.grad_fn = True, node
    return out


# ----------------------------------------------------------------------- pow
class PowBackward(_SavingNode):
    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], a: Tensor, b: Tensor | Scalar) -> None:
        super().__init__(edges)
        self.saved = (_Saved(a), _Saved(b) if isinstance(b, Tensor) else b)
        self.a_shape, self.b_shape = a.shape, _shape(b)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        sa, sb = self._saved()
        a = sa.get(self)
        b = sb.get(self) if type(sb) is _Saved else sb
        ga = gb = None
        if self.next_edges[0]:
            if not isinstance(b, Tensor) and b == 0:
                ga = mul(g, 0.0)
            else:
                ga = unbroadcast(
                    mul(
                        mul(g, b), pow(a, sub(b, 1) if isinstance(b, Tensor) else b - 1)
                    ),
                    self.a_shape,
                )
        if len(self.next_edges) > 1 and self.next_edges[1]:
            # d(a**b)/db = a**b * log(a), taken as 0 where a == 0 (PyTorch's choice)
            safe = where(_const(a.array == 0), _const(xp.ones_like(a.array)), a)
            gb = unbroadcast(mul(mul(g, pow(a, b)), log(safe)), self.b_shape)
        return ga, gb


def pow(a: Tensor, b: Tensor | Scalar) -> Tensor:  # PyTorch's name
    da, db = _operands(a, b, "pow")
    data = _activation(da**db, _info("pow"))
    if not _needs_grad(a, b):
        return _make(data)
    edges = (edge_of(a), edge_of(b)) if isinstance(b, Tensor) else (edge_of(a),)
    return _make(data, True, PowBackward(edges, a, b))


def rpow(a: Tensor, b: Scalar) -> Tensor:
    """b ** a, for a Python scalar b."""
    if not _is_scalar(b):
        raise TypeError(
            f"pow: base must be a Tensor or a Python scalar, got {type(b).__name__}"
        )
    base = _make(xp.full(a.shape, b, dtype=scalar_dtype(a.dtype, b), device=a.device))
    return pow(base, a)


# -------------------------------------------------------------- unary math
class _OutputNode(_SavingNode):
    """A node whose backward needs only the output (exp, sqrt)."""

    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], out: Tensor) -> None:
        super().__init__(edges)
        self.saved = (_SavedOutput(out),)


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


def _float(a: Tensor) -> NDArray:
    """a's values, as float32 when a is an integer tensor (as PyTorch's exp of ints)."""
    return a.array if a.dtype.kind in "fc" else xp.astype(a.array, xp.float32)


def exp(a: Tensor) -> Tensor:
    out = _make(_activation(xp.exp(_float(a)), _info("exp")))
    if _needs_grad(a):
        out._requires_grad, out.grad_fn = True, ExpBackward((edge_of(a),), out)
    return out


def sqrt(a: Tensor) -> Tensor:
    out = _make(_activation(xp.sqrt(_float(a)), _info("sqrt")))
    if _needs_grad(a):
        out._requires_grad, out.grad_fn = True, SqrtBackward((edge_of(a),), out)
    return out


class _InputNode(_SavingNode):
    """A node whose backward needs only the input (log, abs, clamp)."""

    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], a: Tensor) -> None:
        super().__init__(edges)
        self.saved = (_Saved(a),)


class LogBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (div(g, self._saved()[0].get(self)),)


def log(a: Tensor) -> Tensor:
    data = _activation(xp.log(_float(a)), _info("log"))
    return _result(data, LogBackward((edge_of(a),), a) if _needs_grad(a) else None)


class AbsBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        a = self._saved()[0].get(self)
        return (mul(g, _const(xp.sign(a.array))),)  # piecewise constant: no graph


def abs(a: Tensor) -> Tensor:  # PyTorch's name
    data = _activation(xp.abs(a.array), _info("abs"))
    return _result(data, AbsBackward((edge_of(a),), a) if _needs_grad(a) else None)


class ClampBackward(_SavingNode):
    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], mask: NDArray) -> None:
        super().__init__(edges)
        self.saved = (mask,)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        (mask,) = self._saved()
        return (where(_const(mask), g, _const(xp.zeros_like(g.array))),)


def clamp(a: Tensor, low: Scalar | None = None, high: Scalar | None = None) -> Tensor:
    if low is None and high is None:
        raise ValueError("clamp: at least one of min and max must be given")
    data = a.array
    target = data.dtype
    for bound in (low, high):
        if bound is not None:
            target = scalar_dtype(target, bound)
    if target != data.dtype:
        data = xp.astype(data, target)
    result = xp.clip(data, low, high)
    _activation(result, _info("clamp"))
    if not _needs_grad(a):
        return _make(result)
    inside = xp.ones(data.shape, dtype=xp.bool, device=data.device)
    if low is not None:
        inside = xp.logical_and(inside, data >= low)
    if high is not None:
        inside = xp.logical_and(inside, data <= high)
    return _make(result, True, ClampBackward((edge_of(a),), inside))


def _const(data: NDArray) -> Tensor:
    return _make(data)


# ----------------------------------------------------------------------- where
class WhereBackward(_SavingNode):
    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], cond: NDArray, a: Any, b: Any) -> None:
        super().__init__(edges)
        self.saved = (cond,)
        self.a_shape, self.b_shape = _shape(a), _shape(b)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        (cond,) = self._saved()
        zero = _const(xp.zeros_like(g.array))
        c = _const(cond)
        ga = (
            unbroadcast(where(c, g, zero), self.a_shape) if self.next_edges[0] else None
        )
        gb = (
            unbroadcast(where(c, zero, g), self.b_shape) if self.next_edges[1] else None
        )
        return ga, gb


def where(condition: Tensor, a: Tensor | Scalar, b: Tensor | Scalar) -> Tensor:
    """a where condition, else b (broadcast; differentiable in a and b)."""
    if not isinstance(condition, Tensor) or condition.dtype != xp.bool:
        raise TypeError("where: condition must be a bool Tensor")
    if isinstance(a, Tensor):
        da, db = _operands(a, b, "where")
    elif isinstance(b, Tensor):
        db, da = _operands(b, a, "where")
    else:
        raise TypeError("where: a or b must be a Tensor")
    data = _activation(xp.where(condition.array, da, db), _info("where"))
    if not _needs_grad(a, b):
        return _make(data)
    node = WhereBackward((edge_of(a), edge_of(b)), condition.array, a, b)
    return _make(data, True, node)


# ------------------------------------------------------------------ matmul
def matmul(a: Tensor, b: Tensor) -> Tensor:
    if not isinstance(b, Tensor):
        raise TypeError(f"matmul: other must be a Tensor, got {type(b).__name__}")
    da, db = _operands(a, b, "matmul")
    data = _activation(da @ db, _info("matmul"))
    if not _needs_grad(a, b):
        return _make(data)
    return _make(data, True, MatmulBackward((edge_of(a), edge_of(b)), a, b))


class MatmulBackward(_SavingNode):
    """Batched matmul with NumPy's 1-d rules: the 1-d operands are promoted to
    matrices, the products taken, and the added axes removed again."""

    __slots__ = ("a_shape", "b_shape")

    def __init__(self, edges: tuple[Edge, ...], a: Tensor, b: Tensor) -> None:
        super().__init__(edges)
        self.saved = (_Saved(a) if edges[1] else None, _Saved(b) if edges[0] else None)
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


# --------------------------------------------------------------- reductions
def _axes(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if ndim == 0:  # PyTorch: a 0-d tensor reduces over dim 0 or -1, and nothing moves
        for d in dims:
            _dim(d, 1)
        return ()
    return tuple(sorted({_dim(d, ndim) for d in dims}))


def _restore_dims(
    g: Tensor, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdim: bool
) -> Tensor:
    """g (a reduction's gradient) with the reduced axes back, broadcast to shape."""
    if axes is None:
        if not keepdim:  # a 0-d gradient broadcasts to any shape as it is
            if not _state.enabled:  # no graph to record: the view directly
                return _make(from_buffer(buffer_of(g.array).broadcast_to(shape)))
            return expand(g, shape)
        axes = tuple(range(len(shape)))
    if not keepdim:
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        g = reshape(g, kept)
    return expand(g, shape)


class SumBackward(Node):
    __slots__ = ("axes", "keepdim", "shape")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        shape: tuple[int, ...],
        axes: tuple[int, ...] | None,
        keepdim: bool,
    ) -> None:
        # Node.__init__, inlined: every loss ends in a sum or a mean.
        self.next_edges = edges
        self._output_hooks = None
        self._freed = False
        self.shape, self.axes, self.keepdim = shape, axes, keepdim

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (_restore_dims(g, self.shape, self.axes, self.keepdim),)


def sum(  # PyTorch's name
    a: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: Any = None,
) -> Tensor:
    buf = a.array.buffer
    if dim is None and dtype is None and buf.native.dtype.kind in "fc":
        # the usual total of floats: the device directly, nothing to check here
        data = from_buffer(buf.device.sum(buf, None, keepdim))
        data.buffer._meta[2] = _SUM_INFO
        if _state.enabled and a._requires_grad:
            node = a.grad_fn
            edge = (node, a._output_nr) if node is not None else edge_of(a)
            shape = buf.native.shape
            return _result_with(data, SumBackward((edge,), shape, None, keepdim))
        return _make(data)
    axes = _axes(dim, a.ndim)
    if buf.dtype.kind == "b":  # PyTorch counts: bools sum as int64
        buf = buf.device.astype(buf, xp.int64)
    if dtype is None:
        dtype = xp.int64 if buf.dtype.kind in "iu" else None  # PyTorch sums ints wide
    else:
        dtype = _dtype(dtype)
    # the device directly: the array namespace's checks were done here already
    data = from_buffer(buf.device.sum(buf, axes, keepdim, dtype=dtype))
    _activation(data, _SUM_INFO)
    if not _needs_grad(a):
        return _make(data)
    return _make(data, True, SumBackward((edge_of(a),), a.shape, axes, keepdim))


class MeanBackward(SumBackward):
    __slots__ = ("count",)
    count: int

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (div(_restore_dims(g, self.shape, self.axes, self.keepdim), self.count),)


def mean(
    a: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: Any = None,
) -> Tensor:
    if a.dtype.kind not in "fc" and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype: input dtype is {a.dtype}, "
            "give a floating dtype"
        )
    axes = _axes(dim, a.ndim)
    data = a.array if dtype is None else xp.astype(a.array, _dtype(dtype))
    buf = buffer_of(data)
    result = _activation(
        from_buffer(buf.device.mean(buf, axes, keepdim)), _info("mean")
    )
    if not _needs_grad(a):
        return _make(result)
    node = MeanBackward((edge_of(a),), a.shape, axes, keepdim)
    count = 1
    for i in axes if axes is not None else range(a.ndim):
        count *= a.shape[i]
    node.count = builtins.max(count, 1)
    return _make(result, True, node)


MinMax = namedtuple("MinMax", ["values", "indices"])


class MaxBackward(_SavingNode):
    """max/min over everything: the gradient is shared evenly among the ties."""

    __slots__ = ()

    def __init__(self, edges: tuple[Edge, ...], mask: NDArray) -> None:
        super().__init__(edges)
        self.saved = (mask,)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        (mask,) = self._saved()
        weights = xp.astype(mask, g.dtype)
        weights = weights / xp.sum(weights)
        return (mul(expand(g, mask.shape), _const(weights)),)


class MaxDimBackward(_SavingNode):
    """max/min along a dim: the gradient goes to the index that was picked."""

    __slots__ = ("dim", "keepdim", "shape")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        indices: NDArray,
        dim: int,
        keepdim: bool,
        shape: tuple[int, ...],
    ) -> None:
        super().__init__(edges)
        self.saved = (indices,)
        self.dim, self.keepdim, self.shape = dim, keepdim, shape

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        (indices,) = self._saved()
        if not self.keepdim:
            g = unsqueeze(g, self.dim)
            indices = xp.expand_dims(indices, axis=self.dim)
        return (scatter_add(self.shape, self.dim, _const(indices), g),)


def _extreme(a: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Any:
    op = "max" if largest else "min"
    reduce = xp.max if largest else xp.min
    if a.numel() == 0:
        raise RuntimeError(f"{op}(): expected a non-empty tensor")
    if dim is None:
        value = _activation(reduce(a.array), _info(op))
        if not _needs_grad(a):
            return _make(value)
        mask = a.array == value
        return _make(value, True, MaxBackward((edge_of(a),), mask))
    if a.ndim == 0:  # PyTorch: dim 0 or -1 of a 0-d tensor is the tensor itself
        _dim(dim, 1)
        return _extreme(reshape(a, (1,)), 0, False, largest)
    d = _dim(dim, a.ndim)
    arg = xp.argmax if largest else xp.argmin
    indices = arg(a.array, axis=d, keepdims=keepdim)
    values = _activation(reduce(a.array, axis=d, keepdims=keepdim), _info(op))
    index_tensor = _make(indices)
    if not _needs_grad(a):
        return MinMax(_make(values), index_tensor)
    node = MaxDimBackward((edge_of(a),), indices, d, keepdim, a.shape)
    return MinMax(_make(values, True, node), index_tensor)


def max(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    return _extreme(a, dim, keepdim, largest=True)


def min(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    return _extreme(a, dim, keepdim, largest=False)


def argmax(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if a.ndim == 0 and dim is not None:
        _dim(dim, 1)
        return _make(xp.argmax(a.array))
    axis = None if dim is None else _dim(dim, a.ndim)
    return _make(xp.argmax(a.array, axis=axis, keepdims=keepdim))


def argmin(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if a.ndim == 0 and dim is not None:
        _dim(dim, 1)
        return _make(xp.argmin(a.array))
    axis = None if dim is None else _dim(dim, a.ndim)
    return _make(xp.argmin(a.array, axis=axis, keepdims=keepdim))


# ------------------------------------------------------------- shape views
class ReshapeBackward(Node):
    __slots__ = ("shape",)

    def __init__(self, edges: tuple[Edge, ...], shape: tuple[int, ...]) -> None:
        super().__init__(edges)
        self.shape = shape

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (reshape(g, self.shape),)


def _resolve_shape(shape: tuple[int, ...], size: int) -> tuple[int, ...]:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape:
        known = 1
        for n in shape:
            if n != -1:
                known *= n
        if known == 0 or size % known:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {size}"
            )
        shape = tuple(size // known if n == -1 else n for n in shape)
    total = 1
    for n in shape:
        total *= n
    if total != size:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    return shape


def reshape(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    target = _resolve_shape(tuple(shape), a.numel())
    buf = buffer_of(a.array)
    try:  # a view when the strides allow, else a copy (the device directly)
        data = from_buffer(buf.reshape(target))
    except ValueError:
        data = from_buffer(buf.device.copy(buf).reshape(target))
    return _result(
        data, ReshapeBackward((edge_of(a),), a.shape) if _needs_grad(a) else None
    )


def view(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    target = _resolve_shape(tuple(shape), a.numel())
    try:
        data = xp.reshape(a.array, target, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride; "
            "use .reshape(...) instead"
        ) from None
    return _result(
        data, ReshapeBackward((edge_of(a),), a.shape) if _needs_grad(a) else None
    )


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    d = _dim(dim, a.ndim + 1)
    return reshape(a, (*a.shape[:d], 1, *a.shape[d:]))


class PermuteBackward(Node):
    __slots__ = ("inverse",)

    def __init__(self, edges: tuple[Edge, ...], order: tuple[int, ...]) -> None:
        super().__init__(edges)
        inverse = [0] * len(order)
        for i, o in enumerate(order):
            inverse[o] = i
        self.inverse = tuple(inverse)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (permute(g, self.inverse),)


def permute(a: Tensor, dims: tuple[int, ...]) -> Tensor:
    order = tuple(_dim(d, a.ndim) for d in dims)
    if sorted(order) != list(range(a.ndim)):
        raise RuntimeError(f"permute: {dims} is not a permutation of {a.ndim} dims")
    data = xp.permute_dims(a.array, order)
    return _result(
        data, PermuteBackward((edge_of(a),), order) if _needs_grad(a) else None
    )


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    n = a.ndim
    if n < 2:
        return a if n == 0 else reshape(a, a.shape)
    d0, d1 = _dim(dim0, n), _dim(dim1, n)
    order = list(range(n))
    order[d0], order[d1] = order[d1], order[d0]
    return permute(a, tuple(order))


class ExpandBackward(Node):
    __slots__ = ("shape",)

    def __init__(self, edges: tuple[Edge, ...], shape: tuple[int, ...]) -> None:
        super().__init__(edges)
        self.shape = shape

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (unbroadcast(g, self.shape),)


def expand(a: Tensor, sizes: tuple[int, ...]) -> Tensor:
    lead = len(sizes) - a.ndim
    if lead < 0:
        raise RuntimeError(f"expand: {len(sizes)} sizes for a tensor of {a.ndim} dims")
    shape = tuple(
        (a.shape[i - lead] if n == -1 else n) if i >= lead else n
        for i, n in enumerate(sizes)
    )
    if shape == a.shape:
        return a
    try:
        data = from_buffer(buffer_of(a.array).broadcast_to(shape))
    except ValueError:
        raise RuntimeError(
            f"expand: shape {a.shape} cannot expand to {shape}"
        ) from None
    return _result(
        data, ExpandBackward((edge_of(a),), a.shape) if _needs_grad(a) else None
    )


class CloneBackward(Node):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        return (grads[0],)


def clone(a: Tensor) -> Tensor:
    data = _activation(xp.asarray(a.array, copy=True), _info("clone"))
    return _result(data, CloneBackward((edge_of(a),)) if _needs_grad(a) else None)


class ToBackward(Node):
    __slots__ = ("device", "dtype")

    def __init__(
        self, edges: tuple[Edge, ...], device: Device, dtype: np.dtype[Any]
    ) -> None:
        super().__init__(edges)
        self.device, self.dtype = device, dtype

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (to(g, self.device, self.dtype),)


def to(a: Tensor, device: Device | None, dtype: np.dtype[Any] | None) -> Tensor:
    data = a.array
    if dtype is not None and dtype != data.dtype:
        data = xp.astype(data, dtype)
    if device is not None and device is not data.device:
        data = data.to_device(device)
    if data is a.array:
        return a
    _activation(data, _info("to"))
    grad = _needs_grad(a) and data.dtype.kind in "fc"
    return _result(data, ToBackward((edge_of(a),), a.device, a.dtype) if grad else None)


# ------------------------------------------------------------- index, gather
class IndexBackward(Node):
    __slots__ = ("key", "shape")

    def __init__(
        self, edges: tuple[Edge, ...], shape: tuple[int, ...], key: Any
    ) -> None:
        super().__init__(edges)
        self.shape, self.key = shape, key

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (index_add(self.shape, self.key, g),)


def _key(key: Any) -> Any:
    """An index key with Tensors replaced by their values."""
    items = key if isinstance(key, tuple) else (key,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            out.append(item.array)
        elif isinstance(item, list):
            out.append(xp.asarray(item))
        else:
            out.append(item)
    return tuple(out)


def index(a: Tensor, key: Any) -> Tensor:
    k = _key(key)
    data = a.array[k]
    if data.buffer.base is None:
        _activation(data, _info("index"))
    return _result(
        data, IndexBackward((edge_of(a),), a.shape, k) if _needs_grad(a) else None
    )


class IndexAddBackward(Node):
    __slots__ = ("key",)

    def __init__(self, edges: tuple[Edge, ...], key: Any) -> None:
        super().__init__(edges)
        self.key = key

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (index(g, self.key),)


def index_add(shape: tuple[int, ...], key: Any, values: Tensor) -> Tensor:
    """zeros(shape) with `values` added at `key` (repeated indices accumulate): the
    gradient of indexing, differentiable in `values`."""
    zeros = xp.zeros(shape, dtype=values.dtype, device=values.device)
    data = _activation(zeros.at[key].add(values.array), _info("index backward"))
    node = IndexAddBackward((edge_of(values),), key) if _needs_grad(values) else None
    return _result(data, node)


def _full_index(index: NDArray, dim: int) -> tuple[NDArray, ...]:
    """The advanced index reaching element [..., index[...], ...] along dim."""
    grids = []
    for d, n in enumerate(index.shape):
        if d == dim:
            grids.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            grids.append(xp.reshape(xp.arange(n, device=index.device), tuple(shape)))
    return tuple(grids)


class GatherBackward(Node):
    __slots__ = ("dim", "index", "shape")

    def __init__(
        self, edges: tuple[Edge, ...], shape: tuple[int, ...], dim: int, index: NDArray
    ) -> None:
        super().__init__(edges)
        self.shape, self.dim, self.index = shape, dim, index

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (scatter_add(self.shape, self.dim, _const(self.index), g),)


def gather(a: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j][k] = a[i][index[i][j][k]][k] for dim 1 (PyTorch's gather)."""
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu":
        raise TypeError("gather: index must be an integer Tensor")
    d = _dim(dim, a.ndim)
    if index.ndim != a.ndim:
        raise RuntimeError(f"gather: index has {index.ndim} dims, input has {a.ndim}")
    for i, (n, m) in enumerate(zip(index.shape, a.shape, strict=True)):
        if i != d and n > m:
            raise RuntimeError(
                f"gather: index extent {n} > input extent {m} at dim {i}"
            )
    data = a.array[_full_index(index.array, d)]
    _activation(data, _info("gather"))
    node = (
        GatherBackward((edge_of(a),), a.shape, d, index.array)
        if _needs_grad(a)
        else None
    )
    return _result(data, node)


class ScatterAddBackward(Node):
    __slots__ = ("dim", "index")

    def __init__(self, edges: tuple[Edge, ...], dim: int, index: NDArray) -> None:
        super().__init__(edges)
        self.dim, self.index = dim, index

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (gather(g, self.dim, _const(self.index)),)


def scatter_add(shape: tuple[int, ...], dim: int, index: Tensor, src: Tensor) -> Tensor:
    """zeros(shape) with src added at index along dim (the gradient of gather)."""
    zeros = xp.zeros(shape, dtype=src.dtype, device=src.device)
    key = _full_index(index.array, dim)
    data = _activation(zeros.at[key].add(src.array), _info("scatter_add"))
    node = (
        ScatterAddBackward((edge_of(src),), dim, index.array)
        if _needs_grad(src)
        else None
    )
    return _result(data, node)


# ------------------------------------------------------------- cat and stack
class CatBackward(Node):
    __slots__ = ("dim", "sizes")

    def __init__(self, edges: tuple[Edge, ...], dim: int, sizes: list[int]) -> None:
        super().__init__(edges)
        self.dim, self.sizes = dim, sizes

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        out: list[Tensor | None] = []
        start = 0
        for edge, size in zip(self.next_edges, self.sizes, strict=True):
            key = [slice(None)] * g.ndim
            key[self.dim] = slice(start, start + size)
            out.append(index(g, tuple(key)) if edge is not None else None)
            start += size
        return out


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along an existing dim (dtypes promoted as in PyTorch)."""
    tensors = list(tensors)
    if not tensors or any(not isinstance(t, Tensor) for t in tensors):
        raise TypeError("cat: expected a non-empty sequence of Tensors")
    d = _dim(dim, tensors[0].ndim)
    target = tensors[0].dtype
    for t in tensors[1:]:
        target = result_dtype(target, t.dtype)
    arrays = [
        t.array if t.dtype == target else xp.astype(t.array, target) for t in tensors
    ]
    data = _activation(xp.concat(arrays, axis=d), _info("cat"))
    if not _needs_grad(*tensors):
        return _make(data)
    node = CatBackward(
        tuple(edge_of(t) for t in tensors), d, [t.shape[d] for t in tensors]
    )
    return _make(data, True, node)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors (of one shape) joined along a new dim."""
    tensors = list(tensors)
    if not tensors or any(not isinstance(t, Tensor) for t in tensors):
        raise TypeError("stack: expected a non-empty sequence of Tensors")
    shape = tensors[0].shape
    if any(t.shape != shape for t in tensors):
        raise RuntimeError("stack expects each tensor to be equal size")
    d = _dim(dim, len(shape) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


# ------------------------------------------------------- non-differentiable
def compare(op: str, a: Tensor, b: Any) -> Tensor:
    if not isinstance(b, Tensor) and not _is_scalar(b):
        return NotImplemented  # type: ignore[no-any-return]
    da, db = _operands(a, b, op)
    return _make(getattr(xp, op)(da, db))


def invert(a: Tensor) -> Tensor:
    if a.dtype == xp.bool:
        return _make(xp.logical_not(a.array))
    return _make(xp.bitwise_invert(a.array))


__all__ = [
    "MinMax",
    "abs",
    "add",
    "cat",
    "clamp",
    "clone",
    "div",
    "exp",
    "expand",
    "gather",
    "index",
    "log",
    "matmul",
    "max",
    "mean",
    "min",
    "mul",
    "neg",
    "permute",
    "pow",
    "reshape",
    "sqrt",
    "stack",
    "sub",
    "sum",
    "to",
    "transpose",
    "view",
    "where",
]
