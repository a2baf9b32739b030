"""instance_norm: normalize each (sample, channel) over the spatial axes."""

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


def instance_norm(
    input: Tensor,  # torch's names
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each (sample, channel) of input (N, C, *) to mean 0 and variance
    1 (biased) over its spatial axes, then * weight + bias, both (C,)
    (torch.nn.functional.instance_norm). The Function: Standardize.

    use_input_stats: each instance's statistics normalize, and the running ones
    (C,), when given, move toward their mean over the batch in place: running =
    (1 - momentum) * running + momentum * batch, with each instance's unbiased
    variance, as PyTorch does. Otherwise the running statistics normalize (and
    must be given), as batch_norm's do in eval mode.

    >>> instance_norm(at.randn(2, 4, 5, 5)).shape
    (2, 4, 5, 5)
    """
    op = "instance_norm"
    check_tensor(input, op, kinds="f")
    if mixed_types(input, running_mean, running_var, weight, bias):
        wide = instance_norm(
            input.float(), running_mean, running_var, weight, bias,
            use_input_stats, momentum, eps,
        )  # fmt: skip
        return wide.to(input.dtype)
    if input.ndim < 2:
        raise ValueError(
            f"{op}: input must be (N, C, *), at least 2-d, got shape {input.shape}"
        )
    n, channels = input.shape[0], input.shape[1]
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
    if use_input_stats:
        count = input.numel() // max(n * channels, 1)
        if count == 1:  # PyTorch's rule: the variance of one value is no statistic
            raise ValueError(
                f"{op}: expected more than 1 spatial element when use_input_stats=True"
                f", got input of shape {input.shape}"
            )
        flat = input.reshape(n, channels, -1)
        y, mean, var = Standardize.apply(flat, (2,), float(eps))
        y = y.reshape(input.shape)
        if running_mean is not None:
            _update(running_mean, mean.reshape(n, channels).mean(0), momentum)
        if running_var is not None:
            unbiased = var.reshape(n, channels) * (count / (count - 1))
            _update(running_var, unbiased.mean(0), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                f"{op}: running_mean and running_var must be given when "
                "use_input_stats=False"
            )
        std = (running_var.reshape(shape) + eps).sqrt()
        y = (input - running_mean.reshape(shape)) / std
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y
