"""cat (concat): tensors joined along an existing dim."""

from __future__ import annotations

from collections.abc import Sequence

import actnet.tensor as at
from actnet.neuron._arguments import check_dim
from actnet.tensor import Tensor


def check_tensors(tensors: Sequence[Tensor], op: str) -> list[Tensor]:
    """`tensors` as a list, after checking it is a non-empty sequence of Tensors."""
    if not isinstance(tensors, tuple | list):
        raise TypeError(
            f"{op}: tensors must be a sequence of Tensors, got {type(tensors).__name__}"
        )
    if not tensors:
        raise ValueError(f"{op}: tensors must not be empty")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{op}: tensors[{i}] must be a Tensor, got {type(t).__name__}"
            )
    return list(tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along dim; their other dims must agree, their dtypes
    are promoted as in PyTorch (torch.cat; torch.concat is the same).

    >>> cat([tensor([1.0]), tensor([2.0, 3.0])])
    tensor([1., 2., 3.])
    """
    tensors = check_tensors(tensors, "cat")
    first = tensors[0].shape
    d = check_dim(dim, len(first), "cat")
    if not first:
        raise RuntimeError("cat: zero-dimensional tensors cannot be concatenated")
    for i, t in enumerate(tensors[1:], 1):
        shape = t.shape
        if len(shape) != len(first) or any(
            n != m for k, (n, m) in enumerate(zip(shape, first, strict=True)) if k != d
        ):
            raise RuntimeError(
                f"cat: the shapes must agree except in dim {d}: tensors[0] has "
                f"shape {first}, tensors[{i}] has {shape}"
            )
    return at.cat(tensors, d)


def concat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """cat's alias (torch.concat).

    >>> concat([tensor([1.0]), tensor([2.0])])
    tensor([1., 2.])
    """
    return cat(tensors, dim)
