"""Reductions: sum, mean, max, min (with `dim`: values and indices), argmax and
argmin.

The operations follow the pattern of _shape.py; `sum` of floats over all axes,
which ends every loss, calls the device directly and tests `needs_grad` inline.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import actnet.ndarray as xp
from actnet.ndarray import NDArray, from_buffer
from actnet.tensor._arithmetic import div, mul
from actnet.tensor._floating import INEXACT
from actnet.tensor._grad_mode import _state
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._indexing import scatter_add
from actnet.tensor._promotion import as_dtype
from actnet.tensor._saved import SavingNode, activation, label
from actnet.tensor._shape import expand, reshape, unsqueeze
from actnet.tensor._tensor_base import _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _axes(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = [_dim(d, ndim) for d in dims]
    for i, axis in enumerate(axes):
        if axis in axes[:i]:  # PyTorch refuses (0, 0) and (0, -2) of a matrix alike
            raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
    if ndim == 0:  # PyTorch: a 0-d tensor reduces over dim 0 or -1, and nothing moves
        return ()
    return tuple(sorted(axes))


def _restore_dims(
    g: Tensor, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdim: bool
) -> Tensor:
    """g (a reduction's gradient) with the reduced axes back, broadcast to shape."""
    if axes is None:
        if not keepdim:  # a 0-d gradient broadcasts to any shape as it is
            if not _state.enabled:  # no graph to record: the view directly
                return _make(from_buffer(g.array.buffer.broadcast_to(shape)))
            return expand(g, shape)
        axes = tuple(range(len(shape)))
    if not keepdim:
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        g = reshape(g, kept)
    return expand(g, shape)


# --------------------------------------------------------------- sum, mean
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


_SUM: Final = activation("sum")


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
        data.buffer.info = _SUM
        if _state.enabled and a._requires_grad:
            # edge_of(a), inlined for an input that an operation made
            node = a.grad_fn
            edge = (node, a._output_nr) if node is not None else edge_of(a)
            shape = buf.native.shape
            return _make(data, True, SumBackward((edge,), shape, None, keepdim))
        return _make(data)
    axes = _axes(dim, a.ndim)
    if buf.dtype.kind == "b":  # PyTorch counts: bools sum as int64
        buf = buf.device.astype(buf, xp.int64)
    if dtype is None:
        dtype = xp.int64 if buf.dtype.kind in "iu" else None  # PyTorch sums ints wide
    else:
        dtype = as_dtype(dtype)
    # the device directly: the array namespace's checks were done here already
    data = label(from_buffer(buf.device.sum(buf, axes, keepdim, dtype=dtype)), _SUM)
    if not needs_grad(a):
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
    if a.dtype not in INEXACT and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype: input dtype is {a.dtype}, "
            "give a floating dtype"
        )
    axes = _axes(dim, a.ndim)
    values = a.array if dtype is None else xp.astype(a.array, as_dtype(dtype))
    buf = values.buffer
    data = label(from_buffer(buf.device.mean(buf, axes, keepdim)), activation("mean"))
    if not needs_grad(a):
        return _make(data)
    node = MeanBackward((edge_of(a),), a.shape, axes, keepdim)
    count = 1
    for i in axes if axes is not None else range(a.ndim):
        count *= a.shape[i]
    node.count = builtins.max(count, 1)
    return _make(data, True, node)


# ---------------------------------------------------- max, min, argmax, argmin
MinMax = namedtuple("MinMax", ["values", "indices"])


class MaxBackward(SavingNode):
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
        return (mul(expand(g, mask.shape), _make(weights)),)


class MaxDimBackward(SavingNode):
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
        return (scatter_add(self.shape, self.dim, _make(indices), g),)


def _extreme(a: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Any:
    op = "max" if largest else "min"
    reduce = xp.max if largest else xp.min
    if a.numel() == 0:
        raise RuntimeError(f"{op}(): expected a non-empty tensor")
    if dim is None:
        value = label(reduce(a.array), activation(op))
        if not needs_grad(a):
            return _make(value)
        mask = a.array == value
        return _make(value, True, MaxBackward((edge_of(a),), mask))
    if a.ndim == 0:  # PyTorch: dim 0 or -1 of a 0-d tensor is the tensor itself
        _dim(dim, 1)
        return _extreme(reshape(a, (1,)), 0, False, largest)
    d = _dim(dim, a.ndim)
    arg = xp.argmax if largest else xp.argmin
    indices = arg(a.array, axis=d, keepdims=keepdim)
    values = label(reduce(a.array, axis=d, keepdims=keepdim), activation(op))
    index_tensor = _make(indices)
    if not needs_grad(a):
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
