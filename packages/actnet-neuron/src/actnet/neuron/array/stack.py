"""stack: tensors of one shape joined along a new dim."""

from __future__ import annotations

from collections.abc import Sequence

import actnet.tensor as at
from actnet.neuron._arguments import check_dim
from actnet.neuron.array.cat import check_tensors
from actnet.tensor import Tensor


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors, all of one shape, joined along a new dim at position dim, in
    [-ndim-1, ndim] (torch.stack).

    >>> stack([tensor([1.0, 2.0]), tensor([3.0, 4.0])], dim=1)
    tensor([[1., 3.],
            [2., 4.]])
    """
    tensors = check_tensors(tensors, "stack")
    first = tensors[0].shape
    d = check_dim(dim, len(first) + 1, "stack")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != first:
            raise RuntimeError(
                f"stack: the tensors must have one shape: tensors[0] has shape "
                f"{first}, tensors[{i}] has {t.shape}"
            )
    return at.stack(tensors, d)
