"""PixelShuffle and PixelUnshuffle (torch.nn.PixelShuffle, torch.nn.PixelUnshuffle)."""

from __future__ import annotations

import actnet.neuron as F
from actnet.nn._module import Module
from actnet.tensor import Tensor


class PixelShuffle(Module):
    """(*, C r², H, W) -> (*, C, H r, W r) (`F.pixel_shuffle`).

    >>> PixelShuffle(2)(at.ones(1, 8, 3, 3)).shape
    (1, 2, 6, 6)
    """

    upscale_factor: int

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r², H, W) (`F.pixel_unshuffle`)."""

    downscale_factor: int

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
