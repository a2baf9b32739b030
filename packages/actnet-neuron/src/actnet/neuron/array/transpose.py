"""transpose: two dims swapped (a view)."""

from __future__ import annotations

from actnet.neuron._arguments import check_dim
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """input with dims dim0 and dim1 swapped, a view (torch.transpose).

    >>> transpose(tensor([[1.0, 2.0]]), 0, 1)
    tensor([[1.],
            [2.]])
    """
    check_tensor(input, "transpose", kinds="biufc")
    ndim = input.ndim
    d0 = check_dim(dim0, ndim, "transpose", "dim0")
    d1 = check_dim(dim1, ndim, "transpose", "dim1")
    return input.transpose(d0, d1)
