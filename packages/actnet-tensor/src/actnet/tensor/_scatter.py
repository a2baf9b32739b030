"""Writing along an index: scatter, scatter_add, scatter_reduce and their
in-place methods; index_fill, take_along_dim, index_put; numel.

The scatter family writes src[i][j][k] at out[index[i][j][k]][j][k] (dim 0),
as PyTorch's, through the NDArray's `.at[...]` updates (repeated indices
accumulate). Their gradients are PyTorch's (scatter_reduce_backward):

    grad_self = grad * A          grad_src = gather(grad * B, dim, index) * C

with A, B, C arrays fixed at forward time (any of them may be 1): the
positions written without include_self get no gradient for self; mean divides
by the count; amax and amin share the gradient among the elements equal to
the result; prod passes the product of the other elements (exactly, with
zeros among them).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._arithmetic import add, mul
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._indexing import _full_index, gather, index_add, key_values
from actnet.tensor._inplace import _history, _rebase, setitem_
from actnet.tensor._math import where
from actnet.tensor._shape import clone, expand, reshape, to
from actnet.tensor._tensor_base import Scalar, TensorBase, _dim, _make
from actnet.tensor._views import before_write, changed

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_TORCH_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "uint8": "Byte",
    "bool": "Bool",
}


def _torch_name(dtype: Any) -> str:
    return _TORCH_NAMES.get(str(dtype), str(dtype))


# -------------------------------------------------------------------- checks
def _check(
    op: str, input: Any, dim: builtins.int, index: Any, src: Any
) -> builtins.int:
    """PyTorch's checks of a scatter; the dim, made non-negative."""
    if not isinstance(input, TensorBase):
        raise TypeError(f"{op}(): input must be a Tensor, not {type(input).__name__}")
    if not isinstance(index, TensorBase):
        raise TypeError(f"{op}(): index must be a Tensor, not {type(index).__name__}")
    d = _dim(dim, builtins.max(input.ndim, 1))
    if index.dtype not in (xp.int32, xp.int64):
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")
    if index.ndim != input.ndim and index.numel():
        raise RuntimeError(
            "Index tensor must have the same number of dimensions as self tensor"
        )
    if isinstance(src, TensorBase):
        if src.dtype != input.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
        if src.ndim != index.ndim and index.numel():
            raise RuntimeError(
                "Index tensor must have the same number of dimensions as src tensor"
            )
    if not index.numel():
        return d
    for i, n in enumerate(index.shape):
        too_big = i != d and n > input.shape[i]
        if too_big or (isinstance(src, TensorBase) and n > src.shape[i]):
            message = (
                f"Expected index {list(index.shape)} to be no larger than self "
                f"{list(input.shape)} apart from dimension {d}"
            )
            if isinstance(src, TensorBase):
                message += f" and to be no larger size than src {list(src.shape)}"
            raise RuntimeError(message)
    size = input.shape[d] if input.ndim else 1
    bad = xp.logical_or(index.array < 0, index.array >= size)
    if builtins.bool(xp.any(bad)):
        value = builtins.int(index.array[bad][0])
        raise RuntimeError(
            f"index {value} is out of bounds for dimension {d} with size {size}"
        )
    return d


def _src_part(src: NDArray, index: NDArray) -> NDArray:
    """The part of src that index reaches (src may be larger)."""
    if src.shape == index.shape:
        return src
    return src[tuple(slice(0, n) for n in index.shape)]


# ------------------------------------------------------------------ backward
class ScatterBackward(Node):
    __slots__ = ("dim", "factors", "index", "src_shape")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        dim: builtins.int,
        index: NDArray,
        src_shape: tuple[builtins.int, ...] | None,
        factors: tuple[NDArray | None, NDArray | None, NDArray | None],
    ) -> None:
        super().__init__(edges)
        self.dim, self.index, self.src_shape = dim, index, src_shape
        self.factors = factors

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        a, b, c = self.factors
        out: list[Tensor | None] = [g if a is None else mul(g, _make(a))]
        if self.src_shape is None:
            return out
        h = g if b is None else mul(g, _make(b))
        s = gather(h, self.dim, _make(self.index))
        if c is not None:
            s = mul(s, _make(c))
        if s.shape != self.src_shape:
            key = tuple(slice(0, n) for n in s.shape)
            s = index_add(self.src_shape, key, s)
        out.append(s)
        return out


class ScatterReduceBackward(ScatterBackward):
    __slots__ = ()


class ScatterWithReduceBackward(ScatterBackward):
    """scatter(..., reduce=...): PyTorch has no derivative for it."""

    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        raise RuntimeError(
            "the derivative for 'scatter' with reduce is not implemented"
        )


def _exclusive(v: NDArray, zeros: NDArray, product: NDArray) -> NDArray:
    """The product of the other contributors to v's position: `product` of the
    nonzero ones, and `zeros` of them are 0."""
    one = xp.ones_like(v)
    safe = xp.where(v == 0, one, v)
    when_zero = xp.where(zeros == 1, product, 0 * one)
    when_not = xp.where(zeros == 0, product / safe, 0 * one)
    return xp.where(v == 0, when_zero, when_not)


def _factors(
    reduce: str,
    include_self: builtins.bool,
    x: NDArray,
    key: tuple[NDArray, ...],
    src: NDArray,
    out: NDArray,
) -> tuple[NDArray | None, NDArray | None, NDArray | None]:
    """A, B, C of the module docstring for a scatter_reduce."""
    scattered = xp.zeros(x.shape, dtype=xp.bool, device=x.device).at[key].set(True)
    keep = xp.astype(xp.logical_not(scattered), x.dtype)
    if reduce == "set":
        return keep, None, None
    a: NDArray | None = None if include_self else keep
    b: NDArray | None = None
    c: NDArray | None = None
    if reduce == "mean":
        start = xp.ones_like(x) if include_self else xp.zeros_like(x)
        count = start.at[key].add(xp.ones_like(src))
        b = 1 / xp.where(count == 0, xp.ones_like(count), count)
        a = b if include_self else b * keep
    elif reduce in ("amax", "amin"):
        self_hit = xp.astype(x == out, x.dtype)
        src_hit = xp.astype(src == out[key], x.dtype)
        count = self_hit.at[key].add(src_hit)
        b = 1 / xp.where(count == 0, xp.ones_like(count), count)
        a = self_hit * b if include_self else self_hit * b * keep
        c = src_hit
    elif reduce == "prod":
        one = xp.ones_like(x)
        start_zeros = xp.astype(x == 0, x.dtype) if include_self else 0 * one
        start_prod = xp.where(x == 0, one, x) if include_self else one
        zeros = start_zeros.at[key].add(xp.astype(src == 0, x.dtype))
        nonzero = xp.where(src == 0, xp.ones_like(src), src)
        product = start_prod.at[key].multiply(nonzero)
        a = _exclusive(x, zeros, product) if include_self else keep
        c = _exclusive(src, zeros[key], product[key])
    return a, b, c


# ----------------------------------------------------------- the reductions
def _identity(reduce: str, dtype: Any) -> Any:
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype == xp.bool:
        return reduce == "amin"
    info = xp.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _reduced(
    reduce: str, include_self: builtins.bool, x: NDArray, key: Any, src: NDArray
) -> NDArray:
    if reduce == "set":
        return x.at[key].set(src)
    base = x if include_self else x.at[key].set(_identity(reduce, x.dtype))
    if reduce in ("sum", "mean"):
        out = base.at[key].add(src)
    elif reduce == "prod":
        out = base.at[key].multiply(src)
    elif reduce == "amax":
        out = base.at[key].max(src)
    else:
        out = base.at[key].min(src)
    if reduce == "mean":
        start = xp.ones_like(x) if include_self else xp.zeros_like(x)
        count = start.at[key].add(xp.ones_like(src))
        count = xp.where(count == 0, xp.ones_like(count), count)
        if x.dtype.kind in "iu":
            return xp.floor_divide(out, count)
        return xp.astype(out / count, x.dtype)
    return out


def _scatter_reduce(
    input: Tensor,
    d: builtins.int,
    index: Tensor,
    src: Tensor,
    reduce: str,
    include_self: builtins.bool,
    node: type[ScatterBackward],
) -> Tensor:
    idx = index.array
    x = input.array
    part = _src_part(src.array, idx)
    key = _full_index(idx, d) if input.ndim else ()
    out = _reduced(reduce, include_self, x, key, part) if idx.size else x
    if not needs_grad(input, src):
        return _make(out)
    factors = _factors(reduce, include_self, x, key, part, out)
    edges = (edge_of(input), edge_of(src))
    return _make(out, True, node(edges, d, idx, src.shape, factors))


# ------------------------------------------------------------ public: scatter
def scatter(
    input: Tensor,
    dim: builtins.int,
    index: Tensor,
    src: Tensor | Scalar | None = None,
    *,
    value: Scalar | None = None,
    reduce: str | None = None,
) -> Tensor:
    """input with src's elements (or `value`) written at index along dim:
    out[index[i][j]][j] = src[i][j] for dim 0; reduce="add" or "multiply"
    combines them with input's instead.

    >>> scatter(zeros(3), 0, tensor([2, 0]), tensor([1.0, 2.0]))
    tensor([2., 0., 1.])
    """
    if not isinstance(src, TensorBase):
        if src is not None and value is not None:
            raise TypeError("scatter(): give src or value, not both")
        value = src if value is None else value
        src = None
        if value is None:
            raise TypeError("scatter() missing required argument 'src' or 'value'")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError(
            f"reduce argument must be either add or multiply, got {reduce}"
        )
    d = _check("scatter", input, dim, index, src)
    if isinstance(src, TensorBase):
        if reduce is not None:
            mode = "sum" if reduce == "add" else "prod"
            node: type[ScatterBackward] = ScatterWithReduceBackward
            return _scatter_reduce(input, d, index, src, mode, True, node)
        return _scatter_reduce(input, d, index, src, "set", True, ScatterBackward)
    return _scatter_value(input, d, index, value, reduce)


def _scatter_value(
    input: Tensor, d: builtins.int, index: Tensor, value: Any, reduce: str | None
) -> Tensor:
    if isinstance(value, TensorBase):
        value = value.item()
    x = input.array
    idx = index.array
    if not idx.size:
        return _make(x) if not needs_grad(input) else mul(input, 1)
    key = _full_index(idx, d) if input.ndim else ()
    fill = xp.astype(xp.full(idx.shape, value, device=x.device), x.dtype)
    if reduce == "add":
        out = x.at[key].add(fill)
    elif reduce == "multiply":
        out = x.at[key].multiply(fill)
    else:
        out = x.at[key].set(fill)
    if not needs_grad(input):
        return _make(out)
    keep = xp.astype(xp.ones_like(x).at[key].set(0) != 0, x.dtype)
    node = ScatterBackward if reduce is None else ScatterWithReduceBackward
    factors = (keep, None, None)
    return _make(out, True, node((edge_of(input),), d, idx, None, factors))


def scatter_add(input: Tensor, dim: builtins.int, index: Tensor, src: Tensor) -> Tensor:
    """input with src's elements added at index along dim (repeats accumulate).

    >>> scatter_add(zeros(2), 0, tensor([1, 1]), tensor([1.0, 2.0]))
    tensor([0., 3.])
    """
    d = _check("scatter_add", input, dim, index, src)
    _need_tensor("scatter_add", src)
    return _scatter_reduce(input, d, index, src, "sum", True, ScatterBackward)


def scatter_reduce(
    input: Tensor,
    dim: builtins.int,
    index: Tensor,
    src: Tensor,
    reduce: str,
    *,
    include_self: builtins.bool = True,
) -> Tensor:
    """input with src's elements combined at index along dim by `reduce` (sum,
    prod, mean, amax, amin), input's own element among them unless
    include_self=False.

    >>> scatter_reduce(zeros(2), 0, tensor([1, 1]), tensor([1.0, 3.0]), "mean")
    tensor([0., 1.3333])
    """
    d = _check("scatter_reduce", input, dim, index, src)
    _need_tensor("scatter_reduce", src)
    if reduce not in _REDUCTIONS:
        raise RuntimeError(
            "reduce argument must be either sum, prod, mean, amax or amin, got "
            f"{reduce}"
        )
    return _scatter_reduce(
        input, d, index, src, reduce, include_self, ScatterReduceBackward
    )


def _need_tensor(op: str, src: Any) -> None:
    if not isinstance(src, TensorBase):
        raise TypeError(f"{op}(): src must be a Tensor, not {type(src).__name__}")


def _in_place(
    t: Tensor, op: str, operands: tuple[Any, ...], compute: Callable[[Tensor], Tensor]
) -> Tensor:
    """t replaced by compute(t): recorded as PyTorch records an in-place op."""
    before_write(t, op)
    if needs_grad(t, *[o for o in operands if isinstance(o, TensorBase)]):
        return _rebase(t, compute(_history(t)))
    t.array = compute(_make(t.array)).array
    return changed(t)


def scatter_(
    t: Tensor,
    dim: builtins.int,
    index: Tensor,
    src: Tensor | Scalar | None = None,
    *,
    value: Scalar | None = None,
    reduce: str | None = None,
) -> Tensor:
    def compute(x: Tensor) -> Tensor:
        return scatter(x, dim, index, src, value=value, reduce=reduce)

    return _in_place(t, "scatter_", (src,), compute)


def scatter_add_(t: Tensor, dim: builtins.int, index: Tensor, src: Tensor) -> Tensor:
    return _in_place(
        t, "scatter_add_", (src,), lambda x: scatter_add(x, dim, index, src)
    )


def scatter_reduce_(
    t: Tensor,
    dim: builtins.int,
    index: Tensor,
    src: Tensor,
    reduce: str,
    *,
    include_self: builtins.bool = True,
) -> Tensor:
    def compute(x: Tensor) -> Tensor:
        return scatter_reduce(x, dim, index, src, reduce, include_self=include_self)

    return _in_place(t, "scatter_reduce_", (src,), compute)


# ---------------------------------------------------------------- index_fill
def index_fill(
    input: Tensor, dim: builtins.int, index: Tensor, value: Tensor | Scalar
) -> Tensor:
    """input with its slices at `index` along dim set to value (a scalar or a
    0-d tensor, which then gets their gradient).

    >>> index_fill(zeros(2, 2), 1, tensor([0]), 5.0)
    tensor([[5., 0.], [5., 0.]])
    """
    if not isinstance(input, TensorBase):
        raise TypeError(f"index_fill(): input must be a Tensor, not {type(input)}")
    if not isinstance(index, TensorBase) or index.dtype != xp.int64:
        raise RuntimeError("index_fill_(): Expected dtype int64 for index.")
    if index.ndim > 1:
        raise IndexError("Index has to be a vector/scalar")
    d = _dim(dim, builtins.max(input.ndim, 1))
    size = input.shape[d] if input.ndim else 1
    picks = xp.reshape(index.array, (-1,))
    if picks.size and not builtins.bool(xp.all((picks >= -size) & (picks < size))):
        raise IndexError("index out of range in self")
    mask = xp.zeros((size,), dtype=xp.bool, device=input.device)
    mask = mask.at[picks % size if size else picks].set(True)
    if input.ndim:
        shape = [1] * input.ndim
        shape[d] = size
        mask = xp.reshape(mask, tuple(shape))
    else:
        mask = xp.reshape(mask, ())
    if isinstance(value, TensorBase):
        if value.ndim:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got "
                f"tensor with {value.ndim} dimension(s)."
            )
        fill = to(value, None, input.dtype)
    else:
        fill = _make(xp.astype(xp.asarray(value, device=input.device), input.dtype))
    return where(_make(mask), fill, input)


def index_fill_(
    t: Tensor, dim: builtins.int, index: Tensor, value: Tensor | Scalar
) -> Tensor:
    return _in_place(
        t, "index_fill_", (value,), lambda x: index_fill(x, dim, index, value)
    )


# ------------------------------------------------------------ take_along_dim
def take_along_dim(
    input: Tensor, indices: Tensor, dim: builtins.int | None = None
) -> Tensor:
    """input's elements at `indices` along dim (broadcast against each other in
    the other dims); without dim, of the flattened input.

    >>> take_along_dim(tensor([[10, 30, 20]]), tensor([[1, 2]]), 1)
    tensor([[30, 20]])
    """
    if not isinstance(input, TensorBase) or not isinstance(indices, TensorBase):
        raise TypeError("take_along_dim(): input and indices must be Tensors")
    if indices.dtype != xp.int64:
        raise RuntimeError(
            "torch.take_along_dim(): dtype of indices should be Long but got "
            f"{_torch_name(indices.dtype)}"
        )
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    if input.ndim != indices.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number "
            f"of dimensions, but got {input.ndim} dimensions for input, and "
            f"{indices.ndim} dimensions for indices"
        )
    d = _dim(dim, builtins.max(input.ndim, 1))
    if input.ndim == 0:
        return gather(input, 0, indices)
    ones = [list(input.shape), list(indices.shape)]
    for s in ones:
        s[d] = 1
    shape = list(np.broadcast_shapes(tuple(ones[0]), tuple(ones[1])))
    in_shape, ix_shape = list(shape), list(shape)
    in_shape[d], ix_shape[d] = input.shape[d], indices.shape[d]
    return gather(expand(input, tuple(in_shape)), d, expand(indices, tuple(ix_shape)))


# ---------------------------------------------------------------- index_put
def _check_values(input: Any, values: Any) -> None:
    if not isinstance(input, TensorBase) or not isinstance(values, TensorBase):
        raise TypeError("index_put(): input and values must be Tensors")
    if values.dtype != input.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{_torch_name(input.dtype)} for the destination and "
            f"{_torch_name(values.dtype)} for the source."
        )


def _accumulated(input: Tensor, indices: Sequence[Any], values: Tensor) -> Tensor:
    key = key_values(tuple(indices))
    selected = input.array[key].shape
    return add(input, index_add(input.shape, key, expand(values, selected)))


def index_put(
    input: Tensor,
    indices: Sequence[Tensor | None],
    values: Tensor,
    accumulate: builtins.bool = False,
) -> Tensor:
    """A copy of input with `input[indices] = values` (or `+=` with
    accumulate, where repeated indices add up).

    >>> index_put(zeros(3), (tensor([0, 0]),), tensor(1.0), accumulate=True)
    tensor([2., 0., 0.])
    """
    _check_values(input, values)
    if accumulate:
        return _accumulated(input, indices, values)
    out = clone(input)
    setitem_(out, tuple(indices), values)
    return out


def index_put_(
    t: Tensor,
    indices: Sequence[Tensor | None],
    values: Tensor,
    accumulate: builtins.bool = False,
) -> Tensor:
    _check_values(t, values)
    if not accumulate:
        setitem_(t, tuple(indices), values)
        return t
    return _in_place(
        t, "index_put_", (values,), lambda x: _accumulated(x, indices, values)
    )


def numel(input: Tensor) -> builtins.int:
    """The number of elements of input.

    >>> numel(zeros(2, 3))
    6
    """
    if not isinstance(input, TensorBase):
        raise TypeError(f"numel(): argument 'input' must be Tensor, not {type(input)}")
    return input.numel()
