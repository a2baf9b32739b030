"""Flatten and Unflatten (torch.nn.Flatten, torch.nn.Unflatten)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import actnet.neuron as F
from actnet.nn._module import Module
from actnet.nn.modules._utils import check_int
from actnet.tensor import Tensor


class Flatten(Module):
    """Merge dims start_dim..end_dim (inclusive) into one; by default every dim
    but the batch dim.

    >>> Flatten()(at.ones(32, 1, 5, 5)).shape
    (32, 25)
    """

    start_dim: int
    end_dim: int

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        name = type(self).__name__
        self.start_dim = check_int(start_dim, name, "start_dim", minimum=None)
        self.end_dim = check_int(end_dim, name, "end_dim", minimum=None)

    def forward(self, input: Tensor) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dim `dim` into `unflattened_size` (a tuple or list of ints, one of
    them may be -1, inferred), as Tensor.unflatten does.

    >>> Unflatten(1, (2, 5, 5))(at.ones(2, 50)).shape
    (2, 2, 5, 5)
    """

    dim: int
    unflattened_size: tuple[int, ...] | list[int]

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = check_int(dim, type(self).__name__, "dim", minimum=None)
        if not isinstance(unflattened_size, tuple | list):
            raise TypeError(
                "unflattened_size must be a tuple of ints, but found type "
                f"{type(unflattened_size).__name__}"
            )
        for i, n in enumerate(unflattened_size):
            if not isinstance(n, int) or isinstance(n, bool):
                raise TypeError(
                    "unflattened_size must be tuple of ints, but found element of "
                    f"type {type(n).__name__} at pos {i}"
                )
        if sum(n == -1 for n in unflattened_size) > 1:
            raise ValueError("unflattened_size: only one dimension can be inferred")
        if any(n < -1 for n in unflattened_size):
            raise ValueError(
                f"unflattened_size: invalid size {unflattened_size} (sizes must be "
                "non-negative, or -1 once)"
            )
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"Unflatten: input must be a Tensor, got {input!r}")
        ndim = input.ndim
        if not -ndim <= self.dim < ndim:
            raise IndexError(
                f"Unflatten: dim {self.dim} is out of range for a tensor of {ndim} "
                f"dimensions (expected in [{-ndim}, {ndim - 1}])"
            )
        d = self.dim % ndim
        size = input.shape[d]
        sizes = list(self.unflattened_size)
        if -1 in sizes:
            known = math.prod(n for n in sizes if n != -1)
            if known == 0 or size % known:
                raise RuntimeError(
                    f"Unflatten: unflattened_size {tuple(sizes)} cannot be inferred "
                    f"for a dim of size {size}"
                )
            sizes[sizes.index(-1)] = size // known
        if math.prod(sizes) != size:
            raise RuntimeError(
                f"Unflatten: provided sizes {tuple(self.unflattened_size)} don't "
                f"multiply up to the size of dim {self.dim} ({size}) in the input "
                f"tensor of shape {input.shape}"
            )
        return F.reshape(input, (*input.shape[:d], *sizes, *input.shape[d + 1 :]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
