"""conv1d: 1-d cross-correlation over (N, C, L) (the Function: ConvolutionND)."""

from __future__ import annotations

from typing import Any

from actnet.neuron.conv._convolution import convolution
from actnet.tensor import Tensor
from actnet.tensor.amp import autocast_op


@autocast_op("conv1d")
def conv1d(
    input: Tensor,  # torch's names
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution (cross-correlation) of input (N, C, L) or (C, L) with weight
    (O, C / groups, k), plus bias (O,) (torch.nn.functional.conv1d).

    stride and dilation are an int or a 1-tuple; padding an int, a 1-tuple,
    "valid" or "same" (stride 1 only; an odd total pads one more after).

    >>> x = at.randn(2, 3, 10)
    >>> conv1d(x, at.randn(4, 3, 3), stride=2).shape
    (2, 4, 4)
    """
    return convolution(
        input, weight, bias, stride, padding, dilation, groups, 1, "conv1d"
    )
