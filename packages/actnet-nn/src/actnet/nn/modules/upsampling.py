"""Upsample (torch.nn.Upsample): `F.interpolate` as a layer."""

from __future__ import annotations

from collections.abc import Sequence

import actnet.neuron as F
from actnet.nn._module import Module
from actnet.tensor import Tensor


class Upsample(Module):
    """Resample (N, C, *spatial) to `size` or by `scale_factor`, with `mode`
    'nearest', 'linear', 'bilinear' or 'trilinear' (see `F.interpolate`).

    >>> Upsample(scale_factor=2, mode="bilinear")(at.ones(1, 3, 4, 4)).shape
    (1, 3, 8, 8)
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
    ) -> None:
        super().__init__()
        self.size = size
        self.scale_factor = scale_factor
        self.mode = mode
        self.align_corners = align_corners

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(
            input, self.size, self.scale_factor, self.mode, self.align_corners
        )

    def extra_repr(self) -> str:
        what = (
            f"scale_factor={float(self.scale_factor)}"
            if isinstance(self.scale_factor, int | float)
            else f"size={self.size}"
            if self.size is not None
            else f"scale_factor={self.scale_factor}"
        )
        return f"{what}, mode='{self.mode}'"
