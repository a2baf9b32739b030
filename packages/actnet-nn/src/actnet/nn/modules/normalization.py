"""LayerNorm, RMSNorm and GroupNorm (torch.nn's, with its defaults)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import actnet.neuron as F
from actnet.nn import init
from actnet.nn._module import Module
from actnet.nn._parameter import Parameter
from actnet.nn.modules._utils import (
    affine_parameters,
    check_bool,
    check_int,
    check_number,
    new_parameter,
    reset_affine,
)
from actnet.tensor import Tensor


def _normalized_shape(value: Any, layer: str) -> tuple[int, ...]:
    """An int or a sequence of ints, as a tuple (PyTorch's _shape_t)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(
            f"{layer}: normalized_shape must be an int or a sequence of ints, got "
            f"{value!r}"
        )
    return tuple(check_int(n, layer, "normalized_shape") for n in value)


class LayerNorm(Module):
    """Normalize over the last len(normalized_shape) dims to mean 0 and variance
    1 (biased), then * weight + bias (ones and zeros at first).

    >>> LayerNorm(10)(at.randn(20, 5, 10)).shape
    (20, 5, 10)
    """

    normalized_shape: tuple[int, ...]
    eps: float
    elementwise_affine: bool
    weight: Parameter | None
    bias: Parameter | None

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.normalized_shape = _normalized_shape(normalized_shape, name)
        self.eps = check_number(eps, name, "eps")
        self.elementwise_affine = check_bool(
            elementwise_affine, name, "elementwise_affine"
        )
        check_bool(bias, name, "bias")
        affine_parameters(
            self, self.normalized_shape, elementwise_affine, bias, device, dtype
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(
            input, self.normalized_shape, self.weight, self.bias, self.eps
        )

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """x / sqrt(mean(x**2) + eps) * weight, the mean over the last
    len(normalized_shape) dims; eps None is the machine epsilon of the input's
    dtype (PyTorch 2.13's default).

    >>> RMSNorm([2, 3])(at.randn(2, 2, 3)).shape
    (2, 2, 3)
    """

    normalized_shape: tuple[int, ...]
    eps: float | None
    elementwise_affine: bool
    weight: Parameter | None

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.normalized_shape = _normalized_shape(normalized_shape, name)
        self.eps = None if eps is None else check_number(eps, name, "eps")
        self.elementwise_affine = check_bool(
            elementwise_affine, name, "elementwise_affine"
        )
        if elementwise_affine:
            self.weight = new_parameter(self.normalized_shape, device, dtype)
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}"
        )


class GroupNorm(Module):
    """Split the channels of (N, C, *) into num_groups groups and normalize each
    (sample, group) to mean 0 and variance 1, then * weight + bias per channel.

    >>> GroupNorm(3, 6)(at.randn(20, 6, 10, 10)).shape
    (20, 6, 10, 10)
    """

    num_groups: int
    num_channels: int
    eps: float
    affine: bool
    weight: Parameter | None
    bias: Parameter | None

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_groups = check_int(num_groups, name, "num_groups", minimum=1)
        self.num_channels = check_int(num_channels, name, "num_channels")
        if num_channels % num_groups != 0:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups})"
            )
        self.eps = check_number(eps, name, "eps")
        self.affine = check_bool(affine, name, "affine")
        check_bool(bias, name, "bias")
        affine_parameters(self, (num_channels,), affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
            f"affine={self.affine}, bias={self.bias is not None}"
        )
