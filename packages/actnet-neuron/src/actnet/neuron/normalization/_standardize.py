"""What the normalizations share: the moments, the gradient of standardization,
`Standardize`, the Function behind batch_norm and group_norm, and the helpers of
layer_norm and rms_norm, which call the device's fused operators.

Their backwards follow one rule: without create_graph they use the mean and
1 / std that forward kept (as PyTorch saves mean and rstd); under create_graph
they recompute both from the saved input with differentiable operations, so the
gradient carries the input's graph and double backward is exact.
"""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.device import Buffer, is_bfloat16
from actnet.ndarray import NDArray, buffer_of, from_buffer
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled


def contiguous(buf: Buffer) -> Buffer:
    """buf, or a contiguous copy of it: the device's compiled kernels read rows of
    contiguous memory (a broadcast gradient or a transposed input takes the
    slower reference kernel)."""
    return buf if buf.is_contiguous else buf.device.copy(buf)


def optional_buffer(t: Tensor | None) -> Buffer | None:
    """The device buffer under an optional tensor (weight, bias)."""
    return None if t is None else buffer_of(t.array)


def gradient(buf: Buffer | None, op: str) -> Tensor | None:
    """A gradient the device computed, as a Tensor, labelled for memory_snapshot
    as a temporary of `op`'s backward: actnet-tensor relabels it ("gradient")
    when it becomes a leaf's `.grad`."""
    if buf is None:
        return None
    buf.info = ("activation", f"{op} backward")
    return as_tensor(from_buffer(buf))


def moments(data: NDArray, axes: tuple[int, ...], eps: float) -> tuple[NDArray, ...]:
    """mean, biased variance and 1 / sqrt(var + eps) over `axes` (kept as size 1),
    and the centered data."""
    mean = xp.mean(data, axis=axes, keepdims=True)
    centered = data - mean
    var = xp.mean(centered * centered, axis=axes, keepdims=True)
    rstd = 1.0 / xp.sqrt(var + eps)
    return mean, var, rstd, centered


def tensor_moments(
    x: Tensor, axes: tuple[int, ...], eps: float
) -> tuple[Tensor, Tensor]:
    """mean and 1 / sqrt(var + eps) with differentiable operations."""
    mean = x.mean(axes, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(axes, keepdim=True)
    return mean, 1.0 / (var + eps).sqrt()


def saved_moments(ctx: Any, x: Tensor) -> tuple[Tensor, Tensor]:
    """mean and rstd for backward: forward's, or recomputed under create_graph."""
    if is_grad_enabled():
        return tensor_moments(x, ctx.axes, ctx.eps)
    return ctx.mean, ctx.rstd


def standardize_grad(
    grad: Tensor, xhat: Tensor, rstd: Tensor, axes: tuple[int, ...]
) -> Tensor:
    """The gradient of x -> xhat = (x - mean) * rstd, given grad of xhat:
    rstd * (grad - mean(grad) - xhat * mean(grad * xhat)), means over `axes`."""
    return rstd * (
        grad
        - grad.mean(axes, keepdim=True)
        - xhat * (grad * xhat).mean(axes, keepdim=True)
    )


class Standardize(Function):
    """(x - mean) / sqrt(var + eps) over `axes` (biased variance). Also returns the
    mean and the variance, not differentiable (batch_norm's running statistics).
    Backward keeps the input, and the mean and rstd (one per reduced slice)."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, axes: tuple[int, ...], eps: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        mean, var, rstd, centered = moments(x.array, axes, eps)
        mean_t, var_t = as_tensor(mean), as_tensor(var)
        ctx.mark_non_differentiable(mean_t, var_t)
        ctx.save_for_backward(x)
        ctx.mean, ctx.rstd = mean_t, as_tensor(rstd)
        ctx.axes, ctx.eps = axes, eps
        return as_tensor(centered * rstd), mean_t, var_t

    @staticmethod
    def backward(
        ctx: Any, grad: Tensor, grad_mean: Tensor, grad_var: Tensor
    ) -> tuple[Tensor, None, None]:
        (x,) = ctx.saved_tensors
        mean, rstd = saved_moments(ctx, x)
        xhat = (x - mean) * rstd
        return standardize_grad(grad, xhat, rstd, ctx.axes), None, None


def normalized_axes(input: Tensor, normalized_shape: Any, op: str) -> tuple[int, ...]:
    """The trailing axes that normalized_shape (an int or ints) names, after
    checking they end input's shape."""
    shape = (
        tuple(normalized_shape)
        if isinstance(normalized_shape, tuple | list)
        else (normalized_shape,)
    )
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
        raise TypeError(
            f"{op}: normalized_shape must be an int or a sequence of ints, got "
            f"{normalized_shape!r}"
        )
    k = len(shape)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k :] != shape:
        raise ValueError(
            f"{op}: normalized_shape={list(shape)} must be the last dimensions of "
            f"the input, got input of shape {input.shape}"
        )
    return tuple(range(input.ndim - k, input.ndim))


def mixed_types(input: Tensor, *params: Tensor | None) -> bool:
    """Whether input is bfloat16 or float16 and the parameters given (weight,
    bias, running statistics) are float32: what a float32 norm layer receives
    inside an autocast region. PyTorch's CPU kernels take such a mix and compute
    in float32, the result rounded to input's dtype; the norms do that by
    running on input.float() and casting back (differentiable: input's gradient
    comes back in its dtype, the parameters' in float32)."""
    given = [p for p in params if p is not None]
    return (
        (input.dtype == xp.float16 or is_bfloat16(input.dtype))
        and bool(given)
        and all(isinstance(p, Tensor) and p.dtype == xp.float32 for p in given)
    )


def check_affine(
    t: Tensor | None,
    name: str,
    shape: tuple[int, ...],
    input: Tensor,
    op: str,
) -> None:
    """weight, bias or a running statistic: None, or a tensor of `shape` and the
    input's dtype."""
    if t is None:
        return
    check_tensor(t, op, name, kinds="f")
    if t.shape != shape:
        raise ValueError(f"{op}: {name} must have shape {shape}, got {t.shape}")
    if t.dtype != input.dtype:
        raise TypeError(
            f"{op}: {name} has dtype {t.dtype}, input has {input.dtype}; they must "
            "match"
        )
