"""Layout as model code calls it at the top level (`torch.reshape(t, ...)`):
flip, roll, diag, diagonal, reshape, flatten, squeeze, broadcast_to, meshgrid,
hstack, vstack; and the methods repeat, view_as and reshape_as.

flip and roll have their own nodes (each is its own inverse, with the shifts
negated for roll); the others are compositions of the differentiable
operations of _shape.py and _indexing.py, so their gradients (and higher ones)
come from those.
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import actnet.ndarray as xp
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._indexing import cat, index, index_add
from actnet.tensor._saved import activation, label
from actnet.tensor._shape import clone, expand, permute
from actnet.tensor._shape import reshape as _reshape
from actnet.tensor._shape import view as _view
from actnet.tensor._tensor_base import TensorBase, _dim, _make, _shape_args

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _check(a: Any, op: str) -> None:
    if not isinstance(a, TensorBase):
        raise TypeError(f"{op}(): input must be a Tensor, not {type(a).__name__}")


def _ints(value: Any, op: str, name: str) -> tuple[builtins.int, ...]:
    """An int or a sequence of ints as a tuple (PyTorch's IntArrayRef)."""
    items = (value,) if isinstance(value, builtins.int) else tuple(value)
    for v in items:
        if type(v) is not builtins.int:
            raise TypeError(f"{op}(): argument '{name}' must be a tuple of ints")
    return items


# ---------------------------------------------------------------- flip, roll
class FlipBackward(Node):
    __slots__ = ("dims",)

    def __init__(self, edges: tuple[Edge, ...], dims: tuple[builtins.int, ...]):
        super().__init__(edges)
        self.dims = dims

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (flip(g, self.dims),)


def flip(input: Tensor, dims: Sequence[builtins.int]) -> Tensor:
    """input with the order of its elements reversed along each of `dims`.

    >>> flip(tensor([[1, 2], [3, 4]]), (1,))
    tensor([[2, 1], [4, 3]])
    """
    _check(input, "flip")
    if isinstance(dims, builtins.int):
        raise TypeError("flip(): argument 'dims' must be tuple of ints, not int")
    axes = tuple(_dim(d, input.ndim) for d in _ints(dims, "flip", "dims"))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dims has duplicates, original flip dims size={dims}")
    values = input.array
    if axes and input.ndim:
        values = xp.asarray(xp.flip(values, axis=axes), copy=True)
    else:
        values = xp.asarray(values, copy=True)
    data = label(values, activation("flip"))
    if not needs_grad(input):
        return _make(data)
    return _make(data, True, FlipBackward((edge_of(input),), axes))


class RollBackward(Node):
    __slots__ = ("dims", "shifts")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        shifts: tuple[builtins.int, ...],
        dims: tuple[builtins.int, ...] | None,
    ) -> None:
        super().__init__(edges)
        self.shifts, self.dims = shifts, dims

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        back = tuple(-s for s in self.shifts)
        return (roll(g, back, () if self.dims is None else self.dims),)


def roll(
    input: Tensor,
    shifts: builtins.int | Sequence[builtins.int],
    dims: builtins.int | Sequence[builtins.int] | None = None,
) -> Tensor:
    """input's elements shifted along `dims` (each by its shift), wrapping
    around; without dims, over the flattened tensor, shape kept."""
    _check(input, "roll")
    steps = _ints(shifts, "roll", "shifts")
    axes = () if dims is None else _ints(dims, "roll", "dims")
    if not axes:
        if len(steps) != 1:
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(steps)}, dims:0"
            )
        flat = xp.reshape(input.array, (-1,))
        values = xp.reshape(xp.roll(flat, steps[0]), input.shape)
        kept: tuple[builtins.int, ...] | None = None
    else:
        if len(steps) != len(axes):
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(steps)}, "
                f"dims:{len(axes)}"
            )
        kept = tuple(_dim(d, input.ndim) for d in axes)
        values = xp.roll(input.array, steps, axis=kept)
    data = label(xp.asarray(values, copy=True), activation("roll"))
    if not needs_grad(input):
        return _make(data)
    return _make(data, True, RollBackward((edge_of(input),), steps, kept))


# ------------------------------------------------------------ diag, diagonal
def _diagonal_key(
    rows: builtins.int, cols: builtins.int, offset: builtins.int, device: Any
) -> tuple[Any, Any]:
    """The (row, column) index arrays of the `offset`-th diagonal."""
    start_r, start_c = builtins.max(-offset, 0), builtins.max(offset, 0)
    length = builtins.max(builtins.min(rows - start_r, cols - start_c), 0)
    steps = xp.arange(length, dtype=xp.int64, device=device)
    return steps + start_r, steps + start_c


def diagonal(
    input: Tensor,
    offset: builtins.int = 0,
    dim1: builtins.int = 0,
    dim2: builtins.int = 1,
) -> Tensor:
    """The `offset`-th diagonal of the matrices along dim1 and dim2, appended as
    the last dim (torch.diagonal).

    >>> diagonal(tensor([[1, 2], [3, 4]]))
    tensor([1, 4])
    """
    _check(input, "diagonal")
    if input.ndim < 2:
        raise RuntimeError("diagonal(): expected a tensor of at least 2 dimensions")
    d1, d2 = _dim(dim1, input.ndim), _dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = [d for d in range(input.ndim) if d not in (d1, d2)]
    moved = permute(input, (*rest, d1, d2))
    rows, cols = _diagonal_key(input.shape[d1], input.shape[d2], offset, input.device)
    return index(moved, (Ellipsis, rows, cols))


def diag(input: Tensor, diagonal: builtins.int = 0) -> Tensor:
    """A 1-d input as the `diagonal`-th diagonal of a square matrix; of a 2-d
    input, that diagonal (torch.diag)."""
    _check(input, "diag")
    if input.ndim == 1:
        n = input.shape[0] + builtins.abs(diagonal)
        key = _diagonal_key(n, n, diagonal, input.device)
        return index_add((n, n), key, input)
    if input.ndim == 2:
        height, width = input.shape
        rows, cols = _diagonal_key(height, width, diagonal, input.device)
        return index(input, (rows, cols))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


# -------------------------------------------------------- reshaping functions
def reshape(input: Tensor, shape: Sequence[builtins.int]) -> Tensor:
    """input's elements in `shape` (one -1 inferred); a view when it can be."""
    _check(input, "reshape")
    return _reshape(input, _shape_args((shape,)))


def flatten(
    input: Tensor, start_dim: builtins.int = 0, end_dim: builtins.int = -1
) -> Tensor:
    """input with dims start_dim..end_dim merged into one (a 0-d input: 1-d)."""
    _check(input, "flatten")
    shape = input.shape
    if not shape:
        return _reshape(input, (1,))
    s, e = _dim(start_dim, len(shape)), _dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError(
            "flatten() has invalid args: start_dim cannot come after end_dim"
        )
    size = 1
    for n in shape[s : e + 1]:
        size *= n
    return _reshape(input, (*shape[:s], size, *shape[e + 1 :]))


def squeeze(
    input: Tensor, dim: builtins.int | Sequence[builtins.int] | None = None
) -> Tensor:
    """input without its size-1 dims (of `dim` only, an int or a tuple: other
    sizes there are left alone)."""
    _check(input, "squeeze")
    shape = input.shape
    if dim is None:
        return _reshape(input, tuple(n for n in shape if n != 1))
    axes = {_dim(d, len(shape)) for d in _ints(dim, "squeeze", "dim")}
    kept = tuple(n for i, n in enumerate(shape) if i not in axes or n != 1)
    return _reshape(input, kept)


def broadcast_to(input: Tensor, size: Sequence[builtins.int]) -> Tensor:
    """input expanded to `size` (-1 keeps a dim): a view, as expand."""
    _check(input, "broadcast_to")
    return expand(input, _shape_args((size,)))


def broadcast_shapes(*shapes: Any) -> tuple[builtins.int, ...]:
    """The shape that tensors of `shapes` broadcast to (torch.broadcast_shapes;
    an int is a 1-d shape); RuntimeError when they do not."""
    sizes = [(s,) if isinstance(s, builtins.int) else tuple(s) for s in shapes]
    result: list[builtins.int] = []
    for i in range(max((len(s) for s in sizes), default=0)):
        n = 1
        for s in sizes:
            m = s[len(s) - 1 - i] if i < len(s) else 1
            if m < 0:
                raise RuntimeError(
                    f"Trying to create tensor with negative dimension {m}: {s}"
                )
            if m != 1 and n not in (1, m):
                raise RuntimeError(
                    f"Shape mismatch: objects cannot be broadcast to a single "
                    f"shape. Mismatch is between {n} and {m} at dim {-1 - i}"
                )
            n = m if m != 1 else n
        result.append(n)
    return tuple(reversed(result))


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common shape (torch.broadcast_tensors):
    views, as expand."""
    for t in tensors:
        _check(t, "broadcast_tensors")
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return _view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return _reshape(input, other.shape)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """input tiled `sizes` times along each dim (leading sizes add dims), as
    Tensor.repeat: a size-1 dim inserted before each, expanded, merged."""
    reps = _shape_args(sizes)
    if len(reps) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number "
            "of dimensions of tensor"
        )
    if builtins.any(n < 0 for n in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {reps}")
    shape = (1,) * (len(reps) - input.ndim) + input.shape
    spread: list[builtins.int] = []
    for n in shape:
        spread += [1, n]
    tiled: list[builtins.int] = []
    for r, n in zip(reps, shape, strict=True):
        tiled += [r, n]
    big = expand(_reshape(input, tuple(spread)), tuple(tiled))
    out = _reshape(big, tuple(r * n for r, n in zip(reps, shape, strict=True)))
    # torch's repeat allocates: where the reshape kept a view (of the input, or
    # overlapping through the expanded dims), copy it
    return out if out._alias is None else clone(out)


# ------------------------------------------------- meshgrid, hstack, vstack
def _tensor_list(tensors: tuple[Any, ...], op: str) -> list[Tensor]:
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    for t in tensors:
        if not isinstance(t, TensorBase):
            raise TypeError(f"{op}(): expected Tensors, got {type(t).__name__}")
    return list(tensors)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids of 0-d or 1-d tensors: with indexing='ij' the i-th grid
    varies along dim i; with 'xy' the first two dims are swapped (NumPy's
    default). Without indexing, 'ij' and PyTorch's warning.

    >>> ys, xs = meshgrid(arange(3), arange(4), indexing="ij")
    """
    items = _tensor_list(tensors, "meshgrid")
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass "
            "the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            'torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
            f"{indexing}"
        )
    if not items:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in items:
        if t.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                f"got: {t.ndim}D"
            )
        if t.dtype != items[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    order = list(range(len(items)))
    if indexing == "xy" and len(items) >= 2:
        order[0], order[1] = 1, 0
    sizes = [t.numel() for t in items]
    shape = [0] * len(items)
    for i, place in enumerate(order):
        shape[place] = sizes[i]
    grids = []
    for i, t in enumerate(items):
        lined = [1] * len(items)
        lined[order[i]] = sizes[i]
        grids.append(expand(_reshape(t, tuple(lined)), tuple(shape)))
    return tuple(grids)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined along dim 1 (along dim 0 when they are 1-d; 0-d ones
    count as 1-d)."""
    items = [
        t if t.ndim else _reshape(t, (1,)) for t in _tensor_list((tensors,), "hstack")
    ]
    if not items:
        raise RuntimeError("hstack expects a non-empty TensorList")
    return cat(items, 0 if items[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors, each made at least 2-d (a 1-d one as a row), joined along
    dim 0."""
    items = _tensor_list((tensors,), "vstack")
    if not items:
        raise RuntimeError("vstack expects a non-empty TensorList")
    rows = [t if t.ndim >= 2 else _reshape(t, (1, t.numel())) for t in items]
    return cat(rows, 0)
