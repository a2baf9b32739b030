"""Shape operations and copies: reshape, view, expand and its gradient
`unbroadcast`, permute, transpose, unsqueeze; clone and `to` (dtype and device).

Each operation follows one pattern (the other operation modules do too):

    def op(a):
        data = label(values, activation("op"))  # new memory says what made it
        if not needs_grad(a):
            return _make(data)
        return _make(data, True, OpBackward((edge_of(a),), what backward needs))

and each OpBackward's backward is written with these same operations, so that it
is differentiable itself (create_graph=True gives higher-order gradients).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np

import actnet.ndarray as xp
from actnet.device import Buffer, Device
from actnet.ndarray import from_buffer
from actnet.tensor import _recipes
from actnet.tensor._alias import aliased, shares_memory
from actnet.tensor._floating import INEXACT
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._saved import activation, label
from actnet.tensor._tensor_base import _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


class _ShapeNode(Node):
    """A node whose backward needs only its input's shape."""

    __slots__ = ("shape",)

    def __init__(self, edges: tuple[Edge, ...], shape: tuple[int, ...]) -> None:
        super().__init__(edges)
        self.shape = shape


# ----------------------------------------------------------------- reshape
class ReshapeBackward(_ShapeNode):
    __slots__ = ()

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


def _reshaped(buf: Buffer, shape: tuple[int, ...]) -> Buffer:
    """A view of `buf` with another shape when the strides allow, else a copy (the
    device directly: the shape was checked already)."""
    try:
        return buf.reshape(shape)
    except ValueError:
        return buf.device.copy(buf).reshape(shape)


def reshape(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    if _recipes.in_use and _recipes.noting():  # selective checkpointing
        return _recipes.noted(reshape, (a, shape))
    target = _resolve_shape(tuple(shape), a.numel())
    buf = a.array.buffer
    data = from_buffer(_reshaped(buf, target))
    if not needs_grad(a):
        out = _make(data)
    else:
        out = _make(data, True, ReshapeBackward((edge_of(a),), a.shape))
    if shares_memory(data.buffer, buf):  # a view, as PyTorch's reshape makes one
        aliased(out, a, (reshape, (target,)))
    return out


def view(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    if _recipes.in_use and _recipes.noting():  # selective checkpointing
        return _recipes.noted(view, (a, shape))
    target = _resolve_shape(tuple(shape), a.numel())
    try:
        data = xp.reshape(a.array, target, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride; "
            "use .reshape(...) instead"
        ) from None
    if not needs_grad(a):
        out = _make(data)
    else:
        out = _make(data, True, ReshapeBackward((edge_of(a),), a.shape))
    aliased(out, a, (view, (target,)))
    return out


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    d = _dim(dim, a.ndim + 1)
    return reshape(a, (*a.shape[:d], 1, *a.shape[d:]))


# ------------------------------------------------------- permute, transpose
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
    if _recipes.in_use and _recipes.noting():  # selective checkpointing
        return _recipes.noted(permute, (a, dims))
    order = tuple(_dim(d, a.ndim) for d in dims)
    if sorted(order) != list(range(a.ndim)):
        raise RuntimeError(f"permute: {dims} is not a permutation of {a.ndim} dims")
    data = xp.permute_dims(a.array, order)
    if not needs_grad(a):
        out = _make(data)
    else:
        out = _make(data, True, PermuteBackward((edge_of(a),), order))
    aliased(out, a, (permute, (order,)))
    return out


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    n = a.ndim
    if n < 2:
        return a if n == 0 else reshape(a, a.shape)
    d0, d1 = _dim(dim0, n), _dim(dim1, n)
    order = list(range(n))
    order[d0], order[d1] = order[d1], order[d0]
    return permute(a, tuple(order))


# --------------------------------------------------- expand and unbroadcast
class ExpandBackward(_ShapeNode):
    __slots__ = ()

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
        data = from_buffer(a.array.buffer.broadcast_to(shape))
    except ValueError:
        raise RuntimeError(
            f"expand: shape {a.shape} cannot expand to {shape}"
        ) from None
    if not needs_grad(a):
        out = _make(data)
    else:
        out = _make(data, True, ExpandBackward((edge_of(a),), a.shape))
    repeats = math.prod(shape) != a.numel()  # elements shown more than once
    aliased(out, a, (expand, (shape,)), overlapping=repeats)
    return out


class UnbroadcastBackward(_ShapeNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (expand(g, self.shape),)


_SUM: Final = activation("sum")


def unbroadcast(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum `g` over the axes broadcasting added to `shape` (the gradient of expand;
    PyTorch's sum_to_size)."""
    have = g.shape
    if have == shape:
        return g
    lead = len(have) - len(shape)
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n == 1 and have[lead + i] != 1:
            axes.append(lead + i)
    buf = g.array.buffer
    if axes:  # the device directly, as sum() does
        buf = buf.device.sum(buf, tuple(axes), False)
        buf.info = _SUM
    if buf.shape != shape:
        buf = _reshaped(buf, shape)
    data = from_buffer(buf)
    if not needs_grad(g):
        return _make(data)
    return _make(data, True, UnbroadcastBackward((edge_of(g),), have))


# ---------------------------------------------------------------- copies
class CloneBackward(Node):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        return (grads[0],)


def clone(a: Tensor) -> Tensor:
    data = label(xp.asarray(a.array, copy=True), activation("clone"))
    if not needs_grad(a):
        return _make(data)
    return _make(data, True, CloneBackward((edge_of(a),)))


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
    """a on `device`, in `dtype` (None: as it is); a itself when nothing changes."""
    data = a.array
    if dtype is not None and dtype != data.dtype:
        data = xp.astype(data, dtype)
    if device is not None and device is not data.device:
        data = data.to_device(device)
    if data is a.array:
        return a
    label(data, activation("to"))
    if not (needs_grad(a) and data.dtype in INEXACT):
        return _make(data)
    return _make(data, True, ToBackward((edge_of(a),), a.device, a.dtype))
