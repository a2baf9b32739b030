"""split: a tensor cut into consecutive pieces along a dim (views)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import actnet.tensor as at
from actnet.neuron._arguments import check_dim, check_int
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor


class Split(Function):
    """Views of consecutive pieces of the given sizes along dim. Backward keeps
    only dim: the input's gradient is the pieces' gradients joined (one cat, not
    one full-size scatter per piece; the engine gives zeros for unused pieces)."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, sizes: tuple[int, ...], dim: int
    ) -> tuple[Tensor, ...]:
        data = x.array
        head = (slice(None),) * dim
        pieces = []
        start = 0
        for n in sizes:
            pieces.append(as_tensor(data[(*head, slice(start, start + n))]))
            start += n
        ctx.dim = dim
        return tuple(pieces)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor, None, None]:
        return at.cat(grads, ctx.dim), None, None


def even_sizes(total: int, size: int) -> tuple[int, ...]:
    """Pieces of `size` covering `total`, the last one shorter when it must."""
    whole, rest = divmod(total, size)
    return (size,) * whole + ((rest,) if rest else ())


def split(
    tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """tensor cut along dim into pieces of split_size_or_sections elements (an
    int: the last piece may be shorter) or of the listed sizes, which must sum to
    the dim's size (torch.split). The pieces are views.

    >>> [p.shape for p in split(tensor([[1.0, 2.0, 3.0]]), [1, 2], dim=1)]
    [(1, 1), (1, 2)]
    """
    check_tensor(tensor, "split", argument="tensor", kinds="biufc")
    if tensor.ndim == 0:
        raise RuntimeError("split: tensor must have at least one dimension")
    d = check_dim(dim, tensor.ndim, "split")
    total = tensor.shape[d]
    if isinstance(split_size_or_sections, tuple | list):
        sizes = tuple(
            check_int(n, "split", "split_size_or_sections")
            for n in split_size_or_sections
        )
        if any(n < 0 for n in sizes) or sum(sizes) != total:
            raise RuntimeError(
                f"split: the sizes {list(sizes)} must be non-negative and sum to "
                f"{total}, the size of dim {d}"
            )
    else:
        size = check_int(split_size_or_sections, "split", "split_size_or_sections")
        if size < 0 or (size == 0 and total != 0):
            raise RuntimeError(
                f"split: split_size_or_sections must be positive (0 only for an "
                f"empty dim), got {size} for dim {d} of size {total}"
            )
        sizes = even_sizes(total, size) if total else (0,)
    result: tuple[Tensor, ...] = Split.apply(tensor, sizes, d)
    return result
