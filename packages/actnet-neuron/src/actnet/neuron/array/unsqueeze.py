"""unsqueeze: a dim of size 1 inserted (a view)."""

from __future__ import annotations

from actnet.neuron._arguments import check_dim
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """input with a new dim of size 1 at position dim, in [-ndim-1, ndim]
    (torch.unsqueeze). A view.

    >>> unsqueeze(tensor([1.0, 2.0]), 0).shape
    (1, 2)
    """
    check_tensor(input, "unsqueeze", kinds="biufc")
    shape = input.shape
    d = check_dim(dim, len(shape) + 1, "unsqueeze")
    return input.reshape((*shape[:d], 1, *shape[d:]))
