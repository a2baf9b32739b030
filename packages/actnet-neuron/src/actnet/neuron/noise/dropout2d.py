"""dropout2d: whole channels zeroed at random, the rest scaled by 1 / (1 - p)."""

from __future__ import annotations

import warnings

import actnet.tensor as at
from actnet.device import Generator
from actnet.neuron._checks import check_tensor
from actnet.neuron.noise.dropout import dropout
from actnet.tensor import Tensor

_OP = "dropout2d"

# torch 2.13's warnings, word for word
_NOT_2D = (
    "dropout2d: Received a {}-D input to dropout2d, which is deprecated and will "
    "result in an error in a future release. To retain the behavior and silence "
    "this warning, please use dropout instead. Note that dropout2d exists to "
    "provide channel-wise dropout on inputs with 2 spatial dimensions, a channel "
    "dimension, and an optional batch dimension (i.e. 3D or 4D inputs)."
)
_THREE_D = (
    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
    "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
    "where C is the channel dim. This behavior will change in a future release to "
    "interpret the input as one without a batch dimension, i.e. shape (C, H, W). "
    "To maintain the 1D channel-wise dropout behavior, please switch to using "
    "dropout1d instead."
)


def dropout2d(
    input: Tensor,  # torch's names
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """Each channel of (N, C, H, W) zeroed with probability `p`, the others
    scaled by 1 / (1 - p) (torch.nn.functional.dropout2d): the mask is
    `dropout`'s, drawn once per (n, c) from the same generator, and broadcast
    over the dims after the first two. With inplace, input itself is
    overwritten (`mul_`) and returned, as in PyTorch.

    As PyTorch 2.13 does (with its warnings): a 3-D input is taken as
    (N, C, L), not as an unbatched (C, H, W); any other input of 2 dims or
    more has its elements grouped by its first two dims (2-D: plain dropout);
    one of fewer dims is refused.

    >>> y = dropout2d(x, 0.2)  # x: (N, C, H, W)
    """
    check_tensor(input, _OP, kinds="f")
    if input.ndim not in (3, 4):
        warnings.warn(_NOT_2D.format(input.ndim), UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn(_THREE_D, UserWarning, stacklevel=2)
    if input.ndim < 2:
        raise RuntimeError(
            "Feature dropout requires at least 2 dimensions in the input"
        )
    if not training or p == 0:
        dropout(input, p, training, inplace, generator=generator)  # its checks
        return input
    shape = (*input.shape[:2], *(1,) * (input.ndim - 2))
    ones = at.ones(shape, dtype=input.dtype, device=input.device)
    mask = dropout(ones, p, training, generator=generator)
    if inplace:
        return input.mul_(mask)
    return input * mask
