"""Identity, Linear and Bilinear (torch.nn.Identity, torch.nn.Linear,
torch.nn.Bilinear)."""

from __future__ import annotations

import math
from typing import Any

import actnet.neuron as F
from actnet.nn import init
from actnet.nn._module import Module
from actnet.nn._parameter import Parameter
from actnet.nn.modules._utils import (
    check_bool,
    check_int,
    new_parameter,
    reset_linear_parameters,
)
from actnet.tensor import Tensor


class Identity(Module):
    """Returns its input; any constructor arguments are ignored, as in PyTorch
    (a placeholder where an architecture has an optional layer).

    >>> Identity(54, unused="argument")(at.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x W^T + b for x (*, in_features): weight (out_features, in_features),
    bias (out_features,). PyTorch's initialisation: W ~ U(-1/sqrt(in_features),
    1/sqrt(in_features)) (kaiming_uniform_ with a = sqrt(5)), b likewise.

    >>> Linear(20, 30)(at.randn(128, 20)).shape
    (128, 30)
    """

    in_features: int
    out_features: int
    weight: Parameter
    bias: Parameter | None

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_features = check_int(in_features, name, "in_features")
        self.out_features = check_int(out_features, name, "out_features")
        check_bool(bias, name, "bias")
        self.weight = new_parameter((out_features, in_features), device, dtype)
        if bias:
            self.bias = new_parameter((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_linear_parameters(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear by PyTorch's name for MultiheadAttention's out_proj, so that the
    attention layer's repr reads as PyTorch's."""


class Bilinear(Module):
    """y = x1^T A x2 + b for x1 (*, in1_features), x2 (*, in2_features): weight
    (out_features, in1_features, in2_features), bias (out_features,), both
    PyTorch's U(-1/sqrt(in1_features), 1/sqrt(in1_features)).

    >>> Bilinear(20, 30, 40)(at.randn(128, 20), at.randn(128, 30)).shape
    (128, 40)
    """

    in1_features: int
    in2_features: int
    out_features: int
    weight: Parameter
    bias: Parameter | None

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.in1_features = check_int(in1_features, name, "in1_features")
        self.in2_features = check_int(in2_features, name, "in2_features")
        self.out_features = check_int(out_features, name, "out_features")
        check_bool(bias, name, "bias")
        shape = (out_features, in1_features, in2_features)
        self.weight = new_parameter(shape, device, dtype)
        if bias:
            self.bias = new_parameter((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
