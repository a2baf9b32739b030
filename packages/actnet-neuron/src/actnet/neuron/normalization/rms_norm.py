"""rms_norm: divide by the root mean square over the trailing normalized_shape."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.ndarray import buffer_of, from_buffer
from actnet.neuron._checks import check_tensor
from actnet.neuron.normalization._standardize import (
    check_affine,
    contiguous,
    gradient,
    mixed_types,
    normalized_axes,
    optional_buffer,
)
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled

_OP = "rms_norm"


class RMSNorm(Function):
    """x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + eps) over the trailing
    `axes`: forward is one device call (`rms_norm`) and keeps the input, the
    weight and rstd per row; backward is one device call (`rms_norm_backward`).
    Under create_graph, backward is written with tensor operations instead
    (rstd recomputed from the input), so gradients of any order work."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        weight: Tensor | None,
        axes: tuple[int, ...],
        eps: float,
    ) -> Tensor:
        xb = buffer_of(x.array)
        w = optional_buffer(weight)
        y, rstd = xb.device.rms_norm(contiguous(xb), w, len(axes), eps)
        needs = ctx.needs_input_grad
        if needs[0] or needs[1]:
            ctx.save_for_backward(x, weight if needs[0] else None)
            ctx.rstd = rstd
        ctx.axes, ctx.eps = axes, eps
        return as_tensor(from_buffer(y))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        needs = ctx.needs_input_grad
        x, weight = ctx.saved_tensors
        if is_grad_enabled():  # create_graph: a backward that is differentiable
            return (*_tensor_backward(ctx, grad, x, weight, needs), None, None)
        g = contiguous(buffer_of(grad.array))
        xb = contiguous(buffer_of(x.array))
        grads = xb.device.rms_norm_backward(
            g, xb, ctx.rstd, optional_buffer(weight), len(ctx.axes), needs[:2]
        )
        return (*(gradient(b, _OP) for b in grads), None, None)


def _tensor_backward(
    ctx: Any,
    grad: Tensor,
    x: Tensor,
    weight: Tensor | None,
    needs: tuple[bool, ...],
) -> tuple[Tensor | None, ...]:
    """RMSNorm's gradients with tensor operations (recorded under create_graph):
    with xhat = x * rstd, grad_x = rstd (gw - xhat mean(gw xhat)), gw = grad *
    weight; grad_weight sums grad * xhat over the leading axes."""
    axes: tuple[int, ...] = ctx.axes
    rstd = 1.0 / ((x * x).mean(axes, keepdim=True) + ctx.eps).sqrt()
    xhat = x * rstd
    grad_x = grad_w = None
    if needs[0]:
        gw = grad if weight is None else grad * weight
        grad_x = rstd * (gw - xhat * (gw * xhat).mean(axes, keepdim=True))
    if needs[1]:
        batch_axes = tuple(range(grad.ndim - len(axes)))
        grad_w = (grad * xhat).sum(batch_axes) if batch_axes else grad * xhat
    return grad_x, grad_w


def rms_norm(
    input: Tensor,  # torch's names
    normalized_shape: Any,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """input / sqrt(mean(input ** 2) + eps) * weight, the mean over the last
    len(normalized_shape) dimensions (torch.nn.functional.rms_norm). eps None is
    the machine epsilon of input's dtype.

    >>> rms_norm(at.tensor([[3.0, 4.0]]), (2,))
    tensor([[0.8485, 1.1314]])
    """
    check_tensor(input, _OP, kinds="f")
    if mixed_types(input, weight):
        if eps is None:  # input's own, as PyTorch's mixed kernel takes it
            eps = float(xp.finfo(input.dtype).eps)
        return rms_norm(input.float(), normalized_shape, weight, eps).to(input.dtype)
    axes = normalized_axes(input, normalized_shape, _OP)
    check_affine(weight, "weight", input.shape[axes[0] :], input, _OP)
    if eps is None:
        eps = float(xp.finfo(input.dtype).eps)
    result: Tensor = RMSNorm.apply(input, weight, axes, float(eps))
    return result
