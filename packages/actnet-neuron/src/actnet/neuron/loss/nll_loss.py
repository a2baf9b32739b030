"""nll_loss: the negative log likelihood of class indices, given log-probabilities."""

from __future__ import annotations

from typing import Any

from actnet.ndarray import buffer_of, from_buffer
from actnet.neuron.loss._common import (
    check_class_targets,
    class_indices,
    gather_targets,
    mean_divisor,
    reduction_of,
)
from actnet.tensor import Function, Tensor, as_tensor
from actnet.tensor.amp import autocast_op

_OP = "nll_loss"


class NLLLoss(Function):
    """loss[n] = -w[y] input[n, y], zero where y is ignore_index. Backward keeps
    the per-sample targets and weights only: the gradient is -w[y] at the target,
    zero elsewhere."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        weight: Tensor | None,
        ignore_index: int,
        reduction: str,
    ) -> Tensor:
        x = buffer_of(input.array)
        dev = x.device
        valid, safe = class_indices(dev, target, ignore_index)
        picked = gather_targets(dev, x, safe, _OP)  # (N, 1, d1, ...)
        wv = dev.astype(valid, x.dtype)
        if weight is not None:
            w = buffer_of(weight.array)
            wv = dev.multiply(dev.take(w, safe.reshape(-1), 0).reshape(safe.shape), wv)
        loss = dev.negative(dev.multiply(picked, wv))
        denom = None
        if reduction == "none":
            out = loss.squeeze(1)
        elif reduction == "sum":
            out = dev.sum(loss)
        else:  # PyTorch's mean: over the weights of the targets not ignored
            denom = dev.sum(wv)
            out = dev.divide(dev.sum(loss), denom)
        if ctx.needs_input_grad[0]:
            ctx.parts = (x.shape, safe, wv, denom, reduction)
        return as_tensor(from_buffer(out))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.needs_input_grad[2]:
            raise RuntimeError(f"{_OP}: the derivative for 'weight' is not implemented")
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None
        shape, safe, wv, denom, reduction = ctx.parts
        g = buffer_of(grad.array)
        dev = g.device
        if reduction == "none":
            coef = g.expand_dims(1)
        elif reduction == "mean":
            coef = dev.divide(g, mean_divisor(dev, denom))
        else:
            coef = g
        values = dev.negative(dev.multiply(coef, wv))
        zeros = dev.full(shape, 0, g.dtype)
        # one target per (n, d1, ...): a scatter into the fresh zeros, in place
        dev.scatter(zeros, safe, values, 1, out=zeros)
        return as_tensor(from_buffer(zeros)), None, None, None, None


@autocast_op("nll_loss")
def nll_loss(
    input: Tensor,  # torch's names
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The negative log likelihood of class indices `target` (N, d1, ...) or ()
    under log-probabilities `input` (N, C, d1, ...) or (C,)
    (torch.nn.functional.nll_loss).

    Targets equal to `ignore_index` add nothing; 'mean' divides by the summed
    `weight` of the targets counted (NaN when none is). `weight` gets no gradient.

    >>> nll_loss(tensor([[-0.5, -1.0], [-2.0, -0.1]]), tensor([0, 1]))
    tensor(0.3)
    """
    reduction = reduction_of(_OP, reduction, size_average, reduce)
    check_class_targets(input, target, weight, _OP)
    if type(ignore_index) is not int:
        raise TypeError(f"{_OP}: ignore_index must be an int, got {ignore_index!r}")
    if input.ndim == 1:  # one sample: as a batch of one
        batch = input.reshape(1, input.shape[0])
        out: Tensor = NLLLoss.apply(
            batch, target.reshape(1), weight, ignore_index, reduction
        )
        return out.reshape(()) if reduction == "none" else out
    result: Tensor = NLLLoss.apply(input, target, weight, ignore_index, reduction)
    return result
