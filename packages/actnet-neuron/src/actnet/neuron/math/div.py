"""div: input / other, true division or rounded (trunc, floor)."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.device import is_bfloat16
from actnet.neuron._arguments import check_operand
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor, zeros


class RoundedDiv(Function):
    """trunc(a / b) or floor(a / b) (Python's a // b, exact for integers).
    Piecewise constant: backward gives zero gradients, as PyTorch does, and
    keeps nothing but the inputs' shapes."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor | float, mode: str) -> Tensor:
        # PyTorch's result dtype, from the operator's promotion of two 0-d probes
        b_probe = zeros((), dtype=b.dtype) if isinstance(b, Tensor) else b
        dtype = (zeros((), dtype=a.dtype) + b_probe).dtype
        da = a.array if a.dtype == dtype else xp.astype(a.array, dtype)
        db: Any = b
        if isinstance(b, Tensor):
            db = b.array if b.dtype == dtype else xp.astype(b.array, dtype)
        if mode == "floor":
            out = xp.floor_divide(da, db)
        elif dtype.kind in "fc" or is_bfloat16(dtype):
            out = xp.trunc(da / db)
        else:  # integers: floor, then one up where the exact quotient was negative
            out = xp.floor_divide(da, db)
            inexact = (da - out * db) != 0
            negative = (da < 0) != (db < 0)
            out = out + xp.astype(xp.logical_and(inexact, negative), dtype)
        ctx.metas = [
            (t.shape, t.dtype) if isinstance(t, Tensor) else None for t in (a, b)
        ]
        return as_tensor(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        grads: list[Tensor | None] = []
        for needed, meta in zip(ctx.needs_input_grad[:2], ctx.metas, strict=True):
            grads.append(
                zeros(meta[0], dtype=meta[1], device=grad.device) if needed else None
            )
        return grads[0], grads[1], None


def div(
    input: Tensor, other: Tensor | float, *, rounding_mode: str | None = None
) -> Tensor:
    """input / other, broadcast (torch.div): true division (integers give
    float32) when rounding_mode is None; with "trunc" or "floor" the quotient
    rounded toward zero or down, in the promoted dtype (integers stay integers),
    and a zero gradient.

    >>> div(tensor([-7.0, 7.0]), 2.0, rounding_mode="floor")
    tensor([-4.,  3.])
    """
    check_tensor(input, "div", kinds="biufc")
    check_operand(other, "div")
    if rounding_mode is None:
        return input / other
    if rounding_mode != "trunc" and rounding_mode != "floor":
        raise ValueError(
            "div: rounding_mode must be None, 'trunc' or 'floor', "
            f"got {rounding_mode!r}"
        )
    result: Tensor = RoundedDiv.apply(input, other, rounding_mode)
    return result
