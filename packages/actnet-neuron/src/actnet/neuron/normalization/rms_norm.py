"""rms_norm: divide by the root mean square over the trailing normalized_shape."""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.neuron._checks import check_tensor
from actnet.neuron.normalization._standardize import check_affine, normalized_axes
from actnet.tensor import Tensor


def rms_norm(
    input: Tensor,  # torch's names
    normalized_shape: Any,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """input / sqrt(mean(input ** 2) + eps) * weight, the mean over the last
    len(normalized_shape) dimensions (torch.nn.functional.rms_norm). eps None is
    the machine epsilon of input's dtype.

    A composition of differentiable operations (no Function): its gradients, of
    any order, are theirs.

    >>> rms_norm(at.tensor([[3.0, 4.0]]), (2,))
    tensor([[0.8485, 1.1314]])
    """
    op = "rms_norm"
    check_tensor(input, op, kinds="f")
    axes = normalized_axes(input, normalized_shape, op)
    check_affine(weight, "weight", input.shape[axes[0] :], input, op)
    if eps is None:
        eps = float(xp.finfo(input.dtype).eps)
    mean_square = (input * input).mean(axes, keepdim=True)
    result = input * (1.0 / (mean_square + eps).sqrt())
    return result if weight is None else result * weight
