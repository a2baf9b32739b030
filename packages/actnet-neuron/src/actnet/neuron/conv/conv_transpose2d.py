"""conv_transpose2d: 2-d transposed convolution over (N, C, H, W) (the Function:
ConvTransposeND)."""

from __future__ import annotations

from typing import Any

from actnet.neuron.conv._conv_transpose import conv_transpose
from actnet.tensor import Tensor
from actnet.tensor.amp import autocast_op


@autocast_op("conv_transpose2d")
def conv_transpose2d(
    input: Tensor,  # torch's names
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """2-d transposed convolution ("deconvolution") of input (N, C, H, W) or
    (C, H, W) with weight (C, O / groups, kH, kW), plus bias (O,)
    (torch.nn.functional.conv_transpose2d): conv2d's gradient with respect to its
    input.

    stride, padding, output_padding and dilation are an int or a pair. The output
    is (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1
    high (and likewise wide); output_padding, which adds rows and columns after
    the output, must be smaller than the stride or the dilation. Computed as one
    matrix product per group and col2im onto the output grid.

    >>> x = at.randn(1, 8, 4, 4)
    >>> conv_transpose2d(x, at.randn(8, 3, 3, 3), stride=2, padding=1,
    ...                  output_padding=1).shape
    (1, 3, 8, 8)
    """
    return conv_transpose(
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        2,
        "conv_transpose2d",
    )
