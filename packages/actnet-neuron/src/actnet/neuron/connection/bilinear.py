"""bilinear: y = x1^T A x2 + b, one A per output feature."""

from __future__ import annotations

import actnet.tensor as at
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor
from actnet.tensor.amp import autocast_op

_OP = "bilinear"


@autocast_op("bilinear")
def bilinear(
    input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
) -> Tensor:
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]
    (torch.nn.functional.bilinear): input1 (*, in1), input2 (*, in2), weight
    (out, in1, in2), bias (out,); differentiable in all four."""
    for t, name in ((input1, "input1"), (input2, "input2"), (weight, "weight")):
        check_tensor(t, _OP, name, kinds="fc")
    if weight.ndim != 3:
        raise RuntimeError(
            f"{_OP}(): weight must be three-dimensional, got {weight.ndim}-D"
        )
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"{_OP}(): input batch dimensions do not match: got "
            f"{tuple(input1.shape[:-1])} and {tuple(input2.shape[:-1])}"
        )
    _, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(
            f"{_OP}(): input sizes {input1.shape[-1]} and {input2.shape[-1]} do not "
            f"match weight's {in1} and {in2}"
        )
    y = at.einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is not None:
        check_tensor(bias, _OP, "bias", kinds="fc")
        if bias.shape != (weight.shape[0],):
            raise RuntimeError(
                f"{_OP}(): bias must be ({weight.shape[0]},), got {tuple(bias.shape)}"
            )
        y = y + bias
    return y
