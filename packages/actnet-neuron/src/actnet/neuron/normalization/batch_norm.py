"""batch_norm: normalize each channel over the batch and spatial axes."""

from __future__ import annotations

from actnet.neuron._checks import check_tensor
from actnet.neuron.normalization._standardize import (
    Standardize,
    check_affine,
    mixed_types,
)
from actnet.tensor import Tensor, no_grad


def _update(running: Tensor, value: Tensor, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * value, in place."""
    with no_grad():
        running.mul_(1.0 - momentum).add_(value.to(running.dtype) * momentum)


def batch_norm(
    input: Tensor,  # torch's names
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel of input (N, C, *) to mean 0 and variance 1, then
    * weight + bias, all (C,) (torch.nn.functional.batch_norm).

    training: the batch's statistics (biased variance) normalize, and the running
    ones, when given, move toward them in place: running = (1 - momentum) *
    running + momentum * batch, with the unbiased variance, as PyTorch does.
    Otherwise the running statistics normalize (and must be given).

    >>> mean, var = at.zeros(3), at.ones(3)
    >>> y = batch_norm(at.randn(8, 3), mean, var, training=True)
    >>> mean          # moved a tenth of the way to the batch's mean
    """
    op = "batch_norm"
    check_tensor(input, op, kinds="f")
    if mixed_types(input, running_mean, running_var, weight, bias):
        wide = batch_norm(
            input.float(), running_mean, running_var, weight, bias, training,
            momentum, eps,
        )  # fmt: skip
        return wide.to(input.dtype)
    if input.ndim < 2:
        raise ValueError(
            f"{op}: input must be (N, C, *), at least 2-d, got shape {input.shape}"
        )
    channels = input.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        check_affine(t, name, (channels,), input, op)
    if not isinstance(momentum, int | float) or isinstance(momentum, bool):
        raise TypeError(f"{op}: momentum must be a number, got {momentum!r}")
    shape = (channels,) + (1,) * (input.ndim - 2)
    y: Tensor
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training, got "
                f"input of shape {input.shape}"
            )
        axes = (0, *range(2, input.ndim))
        y, mean, var = Standardize.apply(input, axes, float(eps))
        if running_mean is not None:
            _update(running_mean, mean.reshape(channels), momentum)
        if running_var is not None:
            unbiased = var.reshape(channels) * (count / (count - 1))
            _update(running_var, unbiased, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                f"{op}: running_mean and running_var must be given when training=False"
            )
        std = (running_var.reshape(shape) + eps).sqrt()
        y = (input - running_mean.reshape(shape)) / std
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y
