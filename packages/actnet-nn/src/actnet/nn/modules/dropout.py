"""Dropout (torch.nn.Dropout)."""

from __future__ import annotations

import actnet.neuron as F
from actnet.nn._module import Module
from actnet.nn.modules._utils import check_bool, check_number
from actnet.tensor import Tensor


class Dropout(Module):
    """In training, zero each element with probability p and scale the others by
    1 / (1 - p); in eval mode, the identity. The masks come from actnet.device's
    default generator (seed it with actnet.device.manual_seed). With
    inplace=True the input itself is overwritten and returned, as in PyTorch.

    >>> drop = Dropout(p=0.2)
    >>> drop.eval()(at.ones(3))     # identity in eval mode
    tensor([1., 1., 1.])
    """

    p: float
    inplace: bool

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        check_number(p, name, "p")
        if p < 0 or p > 1:
            raise ValueError(
                f"dropout probability has to be between 0 and 1, but got {p}"
            )
        self.p = p
        self.inplace = check_bool(inplace, name, "inplace")

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """In training, zero each channel of (N, C, H, W) with probability p and
    scale the others by 1 / (1 - p) (`F.dropout2d`, which takes other ranks as
    PyTorch 2.13 does: 3-D as (N, C, L)); in eval mode, the identity."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)
