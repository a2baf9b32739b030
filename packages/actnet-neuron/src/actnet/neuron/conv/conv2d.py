"""conv2d: 2-d cross-correlation over (N, C, H, W) (the Function: ConvolutionND)."""

from __future__ import annotations

from typing import Any

from actnet.neuron.conv._convolution import convolution
from actnet.tensor import Tensor
from actnet.tensor.amp import autocast_op


@autocast_op("conv2d")
def conv2d(
    input: Tensor,  # torch's names
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation) of input (N, C, H, W) or (C, H, W) with
    weight (O, C / groups, kH, kW), plus bias (O,) (torch.nn.functional.conv2d).

    stride and dilation are an int or a pair; padding an int, a pair, "valid" or
    "same" (stride 1 only; an odd total pads one more after). Computed as im2col
    over a strided view of the padded input and one matrix product per group.

    >>> x = at.randn(1, 3, 8, 8)
    >>> conv2d(x, at.randn(4, 3, 3, 3), padding="same").shape
    (1, 4, 8, 8)
    """
    return convolution(
        input, weight, bias, stride, padding, dilation, groups, 2, "conv2d"
    )
