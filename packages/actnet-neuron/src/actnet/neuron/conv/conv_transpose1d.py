"""conv_transpose1d: 1-d transposed convolution over (N, C, L) (the Function:
ConvTransposeND)."""

from __future__ import annotations

from typing import Any

from actnet.neuron.conv._conv_transpose import conv_transpose
from actnet.tensor import Tensor
from actnet.tensor.amp import autocast_op


@autocast_op("conv_transpose1d")
def conv_transpose1d(
    input: Tensor,  # torch's names
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """1-d transposed convolution of input (N, C, L) or (C, L) with weight
    (C, O / groups, k), plus bias (O,) (torch.nn.functional.conv_transpose1d):
    conv1d's gradient with respect to its input.

    stride, padding, output_padding and dilation are an int or a 1-tuple. The
    output is (L - 1) * stride - 2 * padding + dilation * (k - 1) +
    output_padding + 1 long; output_padding must be smaller than the stride or
    the dilation.

    >>> x = at.randn(2, 4, 10)
    >>> conv_transpose1d(x, at.randn(4, 6, 3), stride=2).shape
    (2, 6, 21)
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
        1,
        "conv_transpose1d",
    )
