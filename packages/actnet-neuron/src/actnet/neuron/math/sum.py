"""sum: the sum over dims (or all)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actnet.neuron._arguments import cast, check_dims
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def sum(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """The sum of input over dim (an int, a tuple of ints; None or () for all)
    (torch.sum). Bool and integer inputs sum to int64; with dtype, input is
    converted to it first (the gradient is converted back).

    >>> sum(tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)
    tensor([3., 7.])
    """
    check_tensor(input, "sum", kinds="biufc")
    dims = check_dims(dim, input.ndim, "sum")
    if not dims or input.ndim == 0:  # (): all, as PyTorch; a 0-d input has one
        dims = None
    if dtype is None and input.dtype.kind == "b":
        dtype = "int64"  # PyTorch counts in int64; Tensor.sum refuses bools
    return cast(input, dtype, "sum").sum(dims, keepdim)
