"""pixel_unshuffle: space traded for channels, pixel_shuffle's inverse."""

from __future__ import annotations

from actnet.neuron._checks import check_tensor
from actnet.neuron.array.pixel_shuffle import check_at_least_3d, check_factor
from actnet.tensor import Tensor


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r², H, W), pixel_shuffle's inverse
    (torch.nn.functional.pixel_unshuffle)."""
    op = "pixel_unshuffle"
    check_tensor(input, op, kinds="biufc")
    r = check_factor(op, downscale_factor, "downscale_factor")
    check_at_least_3d(op, input)
    *batch, c, height, width = input.shape
    for size, which in ((height, "height"), (width, "width")):
        if size % r:
            raise RuntimeError(
                f"{op} expects {which} to be divisible by downscale_factor, but "
                f"input.size({-2 if which == 'height' else -1})={size} is not "
                f"divisible by {r}"
            )
    h, w = height // r, width // r
    n = len(batch)
    x = input.reshape((*batch, c, h, r, w, r))
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # c, i, j, h, w
    return x.reshape((*batch, c * r * r, h, w))
