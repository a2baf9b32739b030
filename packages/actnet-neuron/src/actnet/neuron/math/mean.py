"""mean: the mean over dims (or all)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actnet.neuron._arguments import cast, check_dims
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def mean(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """The mean of input over dim (an int, a tuple of ints; None or () for all)
    (torch.mean). The input must be floating (or complex); with dtype, it is
    converted to it first (the gradient is converted back).

    >>> mean(tensor([[1.0, 2.0], [3.0, 4.0]]), dim=0)
    tensor([2., 3.])
    """
    if dtype is not None:
        check_tensor(input, "mean", kinds="biufc")
        input = cast(input, dtype, "mean")
    check_tensor(input, "mean", kinds="fc")
    dims = check_dims(dim, input.ndim, "mean")
    if not dims or input.ndim == 0:  # (): all, as PyTorch; a 0-d input has one
        dims = None
    return input.mean(dims, keepdim)
