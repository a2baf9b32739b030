"""dropout2d: whole channels zeroed at random, the rest scaled by 1 / (1 - p)."""

from __future__ import annotations

import actnet.tensor as at
from actnet.device import Generator
from actnet.neuron._checks import check_tensor
from actnet.neuron.noise.dropout import dropout
from actnet.tensor import Tensor

_OP = "dropout2d"


def dropout2d(
    input: Tensor,  # torch's names
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """Each channel of (N, C, H, W) (or of unbatched (C, H, W)) zeroed with
    probability `p`, the others scaled by 1 / (1 - p)
    (torch.nn.functional.dropout2d): the mask is `dropout`'s, drawn once per
    channel from the same generator, and broadcast over H and W. With
    inplace, input itself is overwritten (`mul_`) and returned, as in PyTorch."""
    check_tensor(input, _OP, kinds="f")
    if input.ndim not in (3, 4):
        raise ValueError(
            f"{_OP}: expects a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
            f"{input.ndim}-D"
        )
    if not training or p == 0:
        dropout(input, p, training, inplace, generator=generator)  # its checks
        return input
    shape = (*input.shape[:-2], 1, 1)
    ones = at.ones(shape, dtype=input.dtype, device=input.device)
    mask = dropout(ones, p, training, generator=generator)
    if inplace:
        return input.mul_(mask)
    return input * mask
