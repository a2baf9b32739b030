"""Cutting a tensor into pieces along a dim: split, chunk and unbind.

The pieces are views of the input, all outputs of one node, whose backward is
one cat of the pieces' gradients (zeros for a piece that got none), not a
full-size scatter per piece.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import actnet.ndarray as xp
from actnet.tensor._alias import aliased
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._indexing import cat, index
from actnet.tensor._shape import reshape
from actnet.tensor._tensor_base import TensorBase, _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


class SplitBackward(Node):
    __slots__ = ("dim", "metas", "num_outputs")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        dim: builtins.int,
        metas: list[tuple[tuple[builtins.int, ...], Any, Any]],
    ) -> None:
        super().__init__(edges)
        self.dim, self.metas = dim, metas
        self.num_outputs = len(metas)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        filled = [
            g if g is not None else _make(xp.zeros(shape, dtype=dtype, device=device))
            for g, (shape, dtype, device) in zip(grads, self.metas, strict=True)
        ]
        return (cat(filled, self.dim),)


def _pieces(
    a: Tensor, sizes: Sequence[builtins.int], d: builtins.int
) -> tuple[Tensor, ...]:
    """Views of consecutive pieces of `sizes` along dim d (summing to its size)."""
    data = a.array
    head = (slice(None),) * d
    views = []
    keys = []
    start = 0
    for n in sizes:
        keys.append((*head, slice(start, start + n)))
        views.append(data[keys[-1]])
        start += n
    if not needs_grad(a):
        pieces = tuple(_make(v) for v in views)
    else:
        metas = [(v.shape, v.dtype, v.device) for v in views]
        node = SplitBackward((edge_of(a),), d, metas)
        pieces = tuple(_make(v, True, node, nr) for nr, v in enumerate(views))
    for piece, key in zip(pieces, keys, strict=True):
        aliased(piece, a, (index, (key,)))
    return pieces


def _even(total: builtins.int, size: builtins.int) -> tuple[builtins.int, ...]:
    """Pieces of `size` covering `total`, the last one shorter when it must."""
    whole, rest = divmod(total, size)
    return (size,) * whole + ((rest,) if rest else ())


def _check(a: Tensor, op: str) -> None:
    if not isinstance(a, TensorBase):
        raise TypeError(f"{op}(): input must be a Tensor, not {type(a).__name__}")
    if a.ndim == 0:
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor")


def split(
    tensor: Tensor,
    split_size_or_sections: builtins.int | Sequence[builtins.int],
    dim: builtins.int = 0,
) -> tuple[Tensor, ...]:
    """tensor cut along dim into pieces of split_size_or_sections elements (an
    int: the last piece may be shorter) or of the sizes listed, which sum to the
    dim's size (torch.split). The pieces are views.

    >>> [p.shape for p in split(ones(5, 2), [1, 4])]
    [(1, 2), (4, 2)]
    """
    _check(tensor, "split")
    d = _dim(dim, tensor.ndim)
    total = tensor.shape[d]
    if isinstance(split_size_or_sections, Sequence):
        sizes = tuple(split_size_or_sections)
        if any(type(n) is not builtins.int for n in sizes):
            raise TypeError(f"split(): sizes must be ints, got {list(sizes)}")
        if any(n < 0 for n in sizes):
            raise RuntimeError(
                "split_with_sizes expects split_sizes have only non-negative "
                f"entries, but got split_sizes={list(sizes)}"
            )
        if builtins.sum(sizes) != total:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {total} "
                f"(input tensor's size at dimension {d}), but got "
                f"split_sizes={list(sizes)}"
            )
        return _pieces(tensor, sizes, d)
    size = split_size_or_sections
    if type(size) is not builtins.int:
        raise TypeError(f"split(): split_size must be an int, got {size!r}")
    if size < 0:
        raise RuntimeError(
            f"split expects split_size be non-negative, but got split_size={size}"
        )
    if size == 0 and total != 0:
        raise RuntimeError(
            "split_size can only be 0 if dimension size is 0, but got dimension "
            f"size of {total}"
        )
    return _pieces(tensor, _even(total, size) if total else (0,), d)


def chunk(
    input: Tensor, chunks: builtins.int, dim: builtins.int = 0
) -> tuple[Tensor, ...]:
    """input cut along dim into pieces of ceil(size / chunks) elements, the last
    one shorter, so there may be fewer than `chunks` (torch.chunk). Views.

    >>> [p.shape for p in chunk(ones(5), 2)]
    [(3,), (2,)]
    """
    _check(input, "chunk")
    if type(chunks) is not builtins.int:
        raise TypeError(f"chunk(): chunks must be an int, got {chunks!r}")
    if chunks <= 0:
        raise RuntimeError(
            f"chunk expects `chunks` to be greater than 0, got: {chunks}"
        )
    d = _dim(dim, input.ndim)
    total = input.shape[d]
    # an empty dim gives `chunks` empty pieces, as PyTorch's
    sizes = _even(total, -(-total // chunks)) if total else (0,) * chunks
    return _pieces(input, sizes, d)


def unbind(input: Tensor, dim: builtins.int = 0) -> tuple[Tensor, ...]:
    """The slices of input along dim, that dim removed (torch.unbind).

    >>> q, k, v = unbind(qkv, 0)
    """
    _check(input, "unbind")
    d = _dim(dim, input.ndim)
    shape = input.shape[:d] + input.shape[d + 1 :]
    pieces = _pieces(input, (1,) * input.shape[d], d)
    return tuple(reshape(p, shape) for p in pieces)
