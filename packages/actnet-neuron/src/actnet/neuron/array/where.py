"""where: input where the condition holds, else other (broadcast)."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
import actnet.tensor as at
from actnet.neuron._arguments import check_operand
from actnet.tensor import Tensor, as_tensor


def where(
    condition: Tensor,
    input: Tensor | float | None = None,
    other: Tensor | float | None = None,
) -> Any:
    """input where condition is True, else other, all broadcast together
    (torch.where); either may be a Python number, dtypes promote as in PyTorch,
    and the gradient goes to the side that was picked. where(condition) alone is
    the tuple of indices of the True elements, one int64 tensor per dim.

    >>> where(tensor([True, False]), tensor([1.0, 2.0]), 0.0)
    tensor([1., 0.])
    """
    if not isinstance(condition, Tensor) or condition.dtype.kind != "b":
        got = condition.dtype if isinstance(condition, Tensor) else type(condition)
        raise TypeError(f"where: condition must be a bool Tensor, got {got}")
    if input is None and other is None:
        data = condition.array
        if data.ndim == 0:  # as PyTorch: one dim of one element
            data = xp.reshape(data, (1,))
        return tuple(as_tensor(i) for i in xp.nonzero(data))
    if input is None or other is None:
        raise TypeError("where: input and other must both be given (or neither)")
    check_operand(input, "where", "input")
    check_operand(other, "where", "other")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = at.tensor(input, device=condition.device)  # float32, int64, bool
    return at.where(condition, input, other)
