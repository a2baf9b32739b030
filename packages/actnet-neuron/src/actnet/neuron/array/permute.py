"""permute: the dims reordered (a view)."""

from __future__ import annotations

from collections.abc import Sequence

from actnet.neuron._arguments import check_dim
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    """input with its dims in the order given: dim i of the result is dim dims[i]
    of input, a view (torch.permute).

    >>> permute(tensor([[1.0, 2.0]]), (1, 0)).shape
    (2, 1)
    """
    check_tensor(input, "permute", kinds="biufc")
    if not isinstance(dims, tuple | list):
        raise TypeError(
            f"permute: dims must be a tuple of ints, got {type(dims).__name__}"
        )
    ndim = input.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            f"permute: dims {tuple(dims)} has {len(dims)} entries, the input "
            f"{ndim} dims"
        )
    order = tuple(check_dim(d, ndim, "permute", "dims") for d in dims)
    if len(set(order)) != ndim:
        raise RuntimeError(f"permute: dims {tuple(dims)} repeats a dim")
    return input.permute(order)
