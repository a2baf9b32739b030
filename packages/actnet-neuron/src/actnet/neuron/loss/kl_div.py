"""kl_div: the Kullback-Leibler divergence, given log-probabilities."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.neuron.loss._common import float_pair, reduce_array, reduction_of
from actnet.tensor import Function, Tensor, as_tensor, exp, log
from actnet.tensor.amp import autocast_op

_OP = "kl_div"


def _xlogx(t: NDArray) -> NDArray:
    """t log t, 0 where t == 0 (NaN where t < 0, as log is)."""
    zero = t == 0
    return xp.where(zero, xp.zeros_like(t), t * xp.log(xp.where(zero, 1.0, t)))


class KLDiv(Function):
    """target (log target - input) elementwise (exp(target) (target - input) with
    log_target); reduced, 'batchmean' dividing the sum by input's first extent.
    Backward keeps the inputs and is written with tensor operations:
    d/dinput = -target (or -exp(target)); d/dtarget = log target + 1 - input
    (or exp(target) (target + 1 - input))."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        reduction: str,
        log_target: bool,
    ) -> Tensor:
        x, t = input.array, target.array
        loss = xp.exp(t) * (t - x) if log_target else _xlogx(t) - t * x
        if reduction == "batchmean":
            out = xp.sum(loss)
            if x.ndim:
                out = out / x.shape[0]
        else:
            out = reduce_array(loss, reduction)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(input, target)
            ctx.options = (reduction, log_target)
        return as_tensor(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, t = ctx.saved_tensors
        reduction, log_target = ctx.options
        scale = grad
        if reduction == "mean":
            scale = grad / max(x.numel(), 1)
        elif reduction == "batchmean" and x.ndim:
            scale = grad / max(x.shape[0], 1)
        p = exp(t) if log_target else t
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = -p * scale
        if ctx.needs_input_grad[1]:
            if log_target:
                grad_t = p * (t + 1.0 - x) * scale
            else:  # -inf where target is 0 (PyTorch gives NaN there)
                grad_t = (log(t) + 1.0 - x) * scale
        return grad_x, grad_t, None, None


@autocast_op("kl_div")
def kl_div(
    input: Tensor,  # torch's names
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """The pointwise KL divergence target (log target - input) of a target
    distribution from log-probabilities `input` (torch.nn.functional.kl_div).

    reduction is 'none', 'sum', 'mean' (over every element, PyTorch's current
    meaning) or 'batchmean' (the sum over input's first extent: the true KL
    divergence per sample). With `log_target`, target holds log-probabilities.

    >>> kl_div(tensor([[-1.0, -0.5]]), tensor([[0.25, 0.75]]), reduction="batchmean")
    tensor(0.06266484)
    """
    if size_average is not None or reduce is not None:
        reduction = reduction_of(_OP, reduction, size_average, reduce)
    elif reduction not in ("none", "batchmean", "sum", "mean"):
        raise ValueError(
            f"{_OP}: reduction must be 'none', 'batchmean', 'sum' or 'mean', got "
            f"{reduction!r}"
        )
    if not isinstance(log_target, bool):
        raise TypeError(f"{_OP}: log_target must be a bool, got {log_target!r}")
    x, t = float_pair(input, target, _OP, warn=False)
    result: Tensor = KLDiv.apply(x, t, reduction, log_target)
    return result
