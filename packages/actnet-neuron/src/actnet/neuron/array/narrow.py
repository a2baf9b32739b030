"""narrow: a run of consecutive positions along a dim (a view)."""

from __future__ import annotations

from actnet.neuron._arguments import check_dim, check_int
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def narrow(input: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:
    """input[..., start : start + length, ...] along dim, a view (torch.narrow);
    start may be negative (counted from the end) or a 0-d integer tensor.

    >>> narrow(tensor([[1.0, 2.0, 3.0]]), 1, 1, 2)
    tensor([[2., 3.]])
    """
    check_tensor(input, "narrow", kinds="biufc")
    if input.ndim == 0:
        raise RuntimeError("narrow: input must have at least one dimension")
    d = check_dim(dim, input.ndim, "narrow")
    if isinstance(start, Tensor):
        check_tensor(start, "narrow", argument="start", kinds="iu")
        if start.ndim != 0:
            raise TypeError(f"narrow: a start Tensor must be 0-d, got {start.shape}")
        start = int(start)
    check_int(start, "narrow", "start")
    check_int(length, "narrow", "length")
    size = input.shape[d]
    if not -size <= start <= size:
        raise IndexError(
            f"narrow: start {start} is out of range for dim {d} of size {size}"
        )
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise RuntimeError(
            f"narrow: start ({start}) + length ({length}) must be within the size "
            f"({size}) of dim {d}, length non-negative"
        )
    return input[(*(slice(None),) * d, slice(start, start + length))]
