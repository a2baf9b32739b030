"""layer_norm: normalize over the trailing normalized_shape, then scale and shift."""

from __future__ import annotations

from typing import Any

from actnet.ndarray import buffer_of, from_buffer
from actnet.neuron._checks import check_tensor
from actnet.neuron.normalization._standardize import (
    check_affine,
    contiguous,
    gradient,
    mixed_types,
    normalized_axes,
    optional_buffer,
    standardize_grad,
    tensor_moments,
)
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled

_OP = "layer_norm"


class LayerNorm(Function):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing `axes`, in
    one Function (the transformer's hot path): forward is one device call
    (`layer_norm`) and keeps the input, the weight and the mean and rstd per row
    (as PyTorch's native_layer_norm does); backward is one device call
    (`layer_norm_backward`), which recomputes the normalized input from them.
    Under create_graph, backward is written with tensor operations instead (the
    moments recomputed from the input), so double backward is exact."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        weight: Tensor | None,
        bias: Tensor | None,
        axes: tuple[int, ...],
        eps: float,
    ) -> Tensor:
        xb = buffer_of(x.array)
        dev = xb.device
        w, b = optional_buffer(weight), optional_buffer(bias)
        y, mean, rstd = dev.layer_norm(contiguous(xb), w, b, len(axes), eps)
        needs = ctx.needs_input_grad
        if needs[0] or needs[1]:
            ctx.save_for_backward(x, weight if needs[0] else None)
            ctx.stats = (mean, rstd)
        ctx.axes, ctx.eps = axes, eps
        return as_tensor(from_buffer(y))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        needs = ctx.needs_input_grad
        axes: tuple[int, ...] = ctx.axes
        if is_grad_enabled():  # create_graph: a backward that is differentiable
            return (*_tensor_backward(ctx, grad, needs, axes), None, None)
        if not (needs[0] or needs[1]):  # bias only: x was not kept
            batch = tuple(range(grad.ndim - len(axes)))
            return None, None, grad.sum(batch) if batch else grad, None, None
        g = contiguous(buffer_of(grad.array))
        x, weight = ctx.saved_tensors
        xb = contiguous(buffer_of(x.array))
        mean, rstd = ctx.stats
        grads = xb.device.layer_norm_backward(
            g, xb, mean, rstd, optional_buffer(weight), len(axes), needs[:3]
        )
        return (*(gradient(b, _OP) for b in grads), None, None)


def _tensor_backward(
    ctx: Any, grad: Tensor, needs: tuple[bool, ...], axes: tuple[int, ...]
) -> tuple[Tensor | None, ...]:
    """LayerNorm's gradients with tensor operations (recorded under create_graph)."""
    batch_axes = tuple(range(grad.ndim - len(axes)))
    grad_x = grad_w = grad_b = None
    if needs[0] or needs[1]:
        x, weight = ctx.saved_tensors
        mean, rstd = tensor_moments(x, axes, ctx.eps)
        xhat = (x - mean) * rstd
        if needs[0]:
            grad_xhat = grad if weight is None else grad * weight
            grad_x = standardize_grad(grad_xhat, xhat, rstd, axes)
        if needs[1]:
            grad_w = (grad * xhat).sum(batch_axes) if batch_axes else grad * xhat
    if needs[2]:
        grad_b = grad.sum(batch_axes) if batch_axes else grad
    return grad_x, grad_w, grad_b


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
    check_tensor(input, _OP, kinds="f")
    if mixed_types(input, weight, bias):
        y = layer_norm(input.float(), normalized_shape, weight, bias, eps)
        return y.to(input.dtype)
    axes = normalized_axes(input, normalized_shape, _OP)
    shape = input.shape[axes[0] :]
    check_affine(weight, "weight", shape, input, _OP)
    check_affine(bias, "bias", shape, input, _OP)
    result: Tensor = LayerNorm.apply(input, weight, bias, axes, float(eps))
    return result
