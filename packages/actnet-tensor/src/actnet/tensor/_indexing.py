"""Indexing: t[key] and its gradient index_add, gather and its gradient
scatter_add; cat and stack.

The operations follow the pattern of _shape.py.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._alias import aliased
from actnet.tensor._autocast import autocast_op
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._promotion import result_dtype
from actnet.tensor._saved import activation, label
from actnet.tensor._shape import unsqueeze
from actnet.tensor._tensor_base import TensorBase, _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


# ------------------------------------------------------ t[key], index_add
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


def key_values(key: Any) -> tuple[Any, ...]:
    """An index key with Tensors replaced by their values (and lists by arrays)."""
    items = key if isinstance(key, tuple) else (key,)
    out = []
    for item in items:
        if isinstance(item, TensorBase):
            out.append(item.array)
        elif isinstance(item, list | range):  # [] selects nothing, as PyTorch's
            item = list(item)  # empty index; a range is its list, as in PyTorch
            out.append(xp.asarray(item) if item else xp.asarray(item, dtype=xp.int64))
        elif isinstance(item, np.ndarray):  # NumPy's index arrays and masks
            out.append(xp.asarray(item))
        else:
            out.append(item)
    return tuple(out)


def _check_masks(shape: tuple[int, ...], key: tuple[Any, ...]) -> None:
    """PyTorch's IndexError for a bool mask whose shape is not the indexed axes'."""
    explicit = builtins.sum(
        (i.ndim if i.dtype == xp.bool else 1) if type(i) is NDArray else 1
        for i in key
        if i is not None and i is not Ellipsis
    )
    axis = 0
    for item in key:
        if item is Ellipsis:
            axis += len(shape) - explicit
        elif type(item) is NDArray and item.dtype == xp.bool:
            for j, n in enumerate(item.shape):
                if axis + j < len(shape) and shape[axis + j] != n:
                    raise IndexError(
                        f"The shape of the mask {list(item.shape)} at index {j} does "
                        f"not match the shape of the indexed tensor {list(shape)} at "
                        f"index {axis + j}"
                    )
            axis += item.ndim
        elif item is not None:
            axis += 1


def index(a: Tensor, key: Any) -> Tensor:
    k = key_values(key)
    if not is_basic(k):
        _check_masks(a.shape, k)
    data = label(a.array[k], activation("index"))  # a view keeps its owner's label
    if not needs_grad(a):
        out = _make(data)
    else:
        out = _make(data, True, IndexBackward((edge_of(a),), a.shape, k))
    if is_basic(k):  # a view (advanced indexing copies, as in PyTorch)
        aliased(out, a, (index, (k,)))
    return out


def is_basic(key: tuple[Any, ...]) -> bool:
    """Whether an index key selects a view: ints, slices, None and Ellipsis."""
    for i in key:
        if not (type(i) is int or type(i) is slice or i is None or i is Ellipsis):
            return False
    return True


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
    data = label(zeros.at[key].add(values.array), activation("index backward"))
    if not needs_grad(values):
        return _make(data)
    return _make(data, True, IndexAddBackward((edge_of(values),), key))


# ------------------------------------------------------ gather, scatter_add
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
        return (scatter_add(self.shape, self.dim, _make(self.index), g),)


def gather(a: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j][k] = a[i][index[i][j][k]][k] for dim 1 (PyTorch's gather)."""
    if not isinstance(index, TensorBase) or index.dtype.kind not in "iu":
        raise TypeError("gather: index must be an integer Tensor")
    d = _dim(dim, a.ndim)
    if index.ndim != a.ndim:
        raise RuntimeError(f"gather: index has {index.ndim} dims, input has {a.ndim}")
    for i, (n, m) in enumerate(zip(index.shape, a.shape, strict=True)):
        if i != d and n > m:
            raise RuntimeError(
                f"gather: index extent {n} > input extent {m} at dim {i}"
            )
    data = label(a.array[_full_index(index.array, d)], activation("gather"))
    if not needs_grad(a):
        return _make(data)
    return _make(data, True, GatherBackward((edge_of(a),), a.shape, d, index.array))


class ScatterAddBackward(Node):
    __slots__ = ("dim", "index")

    def __init__(self, edges: tuple[Edge, ...], dim: int, index: NDArray) -> None:
        super().__init__(edges)
        self.dim, self.index = dim, index

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (gather(g, self.dim, _make(self.index)),)


def scatter_add(shape: tuple[int, ...], dim: int, index: Tensor, src: Tensor) -> Tensor:
    """zeros(shape) with src added at index along dim (the gradient of gather)."""
    zeros = xp.zeros(shape, dtype=src.dtype, device=src.device)
    key = _full_index(index.array, dim)
    data = label(zeros.at[key].add(src.array), activation("scatter_add"))
    if not needs_grad(src):
        return _make(data)
    return _make(data, True, ScatterAddBackward((edge_of(src),), dim, index.array))


# ------------------------------------------------------------- cat, stack
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


@autocast_op("cat")
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along an existing dim (dtypes promoted as in PyTorch)."""
    tensors = list(tensors)
    if not tensors or any(not isinstance(t, TensorBase) for t in tensors):
        raise TypeError("cat: expected a non-empty sequence of Tensors")
    d = _dim(dim, tensors[0].ndim)
    target = tensors[0].dtype
    for t in tensors[1:]:
        target = result_dtype(target, t.dtype)
    arrays = [
        t.array if t.dtype == target else xp.astype(t.array, target) for t in tensors
    ]
    data = label(xp.concat(arrays, axis=d), activation("cat"))
    if not needs_grad(*tensors):
        return _make(data)
    edges = tuple(edge_of(t) for t in tensors)
    return _make(data, True, CatBackward(edges, d, [t.shape[d] for t in tensors]))


@autocast_op("stack")
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors (of one shape) joined along a new dim."""
    tensors = list(tensors)
    if not tensors or any(not isinstance(t, TensorBase) for t in tensors):
        raise TypeError("stack: expected a non-empty sequence of Tensors")
    shape = tensors[0].shape
    if any(t.shape != shape for t in tensors):
        raise RuntimeError("stack expects each tensor to be equal size")
    d = _dim(dim, len(shape) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)
