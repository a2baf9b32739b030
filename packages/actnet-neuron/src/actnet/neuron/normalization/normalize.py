"""normalize: each vector along `dim` divided by its p-norm (at least eps)."""

from __future__ import annotations

import actnet.tensor as at
from actnet.neuron._arguments import check_dim
from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12
) -> Tensor:
    """input / max(||input||_p along dim, eps) (torch.nn.functional.normalize),
    differentiable.

    >>> normalize(tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    op = "normalize"
    check_tensor(input, op, kinds="fc")
    d = check_dim(dim, max(input.ndim, 1), op, "dim")
    if isinstance(eps, bool) or not isinstance(eps, int | float) or eps < 0:
        raise ValueError(f"{op}: eps must be a number >= 0, got {eps!r}")
    norm = at.norm(input, p, dim=d, keepdim=True)
    return input / at.clamp(norm, min=eps)
