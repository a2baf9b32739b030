"""pixel_shuffle: channels traded for space (sub-pixel convolution's
rearrangement), as views and one copy, differentiable."""

from __future__ import annotations

from actnet.neuron._checks import check_tensor
from actnet.tensor import Tensor


def check_factor(op: str, value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {value}")
    return value


def check_at_least_3d(op: str, input: Tensor) -> None:
    if input.ndim < 3:
        raise RuntimeError(
            f"{op} expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r², H, W) -> (*, C, H r, W r): out[..., c, h r + i, w r + j] =
    input[..., c r² + i r + j, h, w] (torch.nn.functional.pixel_shuffle).

    >>> pixel_shuffle(ones(1, 4, 2, 3), 2).shape
    (1, 1, 4, 6)
    """
    op = "pixel_shuffle"
    check_tensor(input, op, kinds="biufc")
    r = check_factor(op, upscale_factor, "upscale_factor")
    check_at_least_3d(op, input)
    *batch, channels, h, w = input.shape
    if channels % (r * r):
        raise RuntimeError(
            f"{op} expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={channels} is not "
            f"divisible by {r * r}"
        )
    c = channels // (r * r)
    n = len(batch)
    x = input.reshape((*batch, c, r, r, h, w))
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # c, h, i, w, j
    return x.reshape((*batch, c, h * r, w * r))
