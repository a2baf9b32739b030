"""layer_norm: normalize over the trailing normalized_shape, then scale and shift."""

from __future__ import annotations

from typing import Any

from actnet.neuron._checks import check_tensor
from actnet.neuron.normalization._standardize import (
    check_affine,
    moments,
    normalized_axes,
    saved_moments,
    standardize_grad,
)
from actnet.tensor import Function, Tensor, as_tensor


class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing `axes`, in
    one Function (the transformer's hot path): forward makes one output; backward
    keeps the input, the weight, and the mean and rstd per row, and recomputes the
    normalized input from them (as PyTorch's native_layer_norm does)."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        weight: Tensor | None,
        bias: Tensor | None,
        axes: tuple[int, ...],
        eps: float,
    ) -> Tensor:
        mean, _, rstd, centered = moments(x.array, axes, eps)
        y = centered * rstd
        if weight is not None:
            y = y * weight.array
        if bias is not None:
            y = y + bias.array
        needs = ctx.needs_input_grad
        ctx.save_for_backward(
            x if needs[0] or needs[1] else None, weight if needs[0] else None
        )
        ctx.mean, ctx.rstd = as_tensor(mean), as_tensor(rstd)
        ctx.axes, ctx.eps = axes, eps
        return as_tensor(y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        axes: tuple[int, ...] = ctx.axes
        batch_axes = tuple(range(grad.ndim - len(axes)))
        grad_x = grad_w = grad_b = None
        if needs[0] or needs[1]:
            mean, rstd = saved_moments(ctx, x)
            xhat = (x - mean) * rstd
            if needs[0]:
                grad_xhat = grad if weight is None else grad * weight
                grad_x = standardize_grad(grad_xhat, xhat, rstd, axes)
            if needs[1]:
                grad_w = (grad * xhat).sum(batch_axes) if batch_axes else grad * xhat
        if needs[2]:
            grad_b = grad.sum(batch_axes) if batch_axes else grad
        return grad_x, grad_w, grad_b, None, None


def layer_norm(
    input: Tensor,  # torch's names
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize input over its last len(normalized_shape) dimensions to mean 0
    and variance 1 (biased), then * weight + bias, both of normalized_shape
    (torch.nn.functional.layer_norm).

    >>> layer_norm(at.tensor([[1.0, 2.0, 3.0]]), (3,))
    tensor([[-1.2247,  0.0000,  1.2247]])
    """
    op = "layer_norm"
    check_tensor(input, op, kinds="f")
    axes = normalized_axes(input, normalized_shape, op)
    shape = input.shape[axes[0] :]
    check_affine(weight, "weight", shape, input, op)
    check_affine(bias, "bias", shape, input, op)
    result: Tensor = LayerNorm.apply(input, weight, bias, axes, float(eps))
    return result
