"""group_norm: normalize each group of channels over it and the spatial axes."""

from __future__ import annotations

from actnet.neuron._checks import check_tensor
from actnet.neuron.normalization._standardize import (
    Standardize,
    check_affine,
    mixed_types,
)
from actnet.tensor import Tensor


def group_norm(
    input: Tensor,  # torch's names
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the C channels of input (N, C, *) into num_groups groups, normalize
    each (sample, group) to mean 0 and variance 1 (biased), then * weight + bias,
    both (C,) (torch.nn.functional.group_norm). The Function: Standardize.

    >>> group_norm(at.randn(2, 4, 5, 5), 2).shape
    (2, 4, 5, 5)
    """
    op = "group_norm"
    check_tensor(input, op, kinds="f")
    if mixed_types(input, weight, bias):
        y = group_norm(input.float(), num_groups, weight, bias, eps)
        return y.to(input.dtype)
    if input.ndim < 2:
        raise ValueError(
            f"{op}: input must be (N, C, *), at least 2-d, got shape {input.shape}"
        )
    if (
        not isinstance(num_groups, int)
        or isinstance(num_groups, bool)
        or (num_groups < 1)
    ):
        raise ValueError(f"{op}: num_groups must be a positive int, got {num_groups!r}")
    channels = input.shape[1]
    if channels % num_groups:
        raise ValueError(
            f"{op}: the input's {channels} channels (shape {input.shape}) are not "
            f"divisible by num_groups={num_groups}"
        )
    check_affine(weight, "weight", (channels,), input, op)
    check_affine(bias, "bias", (channels,), input, op)
    grouped = input.reshape(input.shape[0], num_groups, -1)
    xhat: Tensor = Standardize.apply(grouped, (2,), float(eps))[0]
    y = xhat.reshape(input.shape)
    shape = (channels,) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y
