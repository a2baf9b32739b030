"""Source coordinates for grid_sample along one axis: a grid value in [-1, 1]
unnormalized to the axis's pixel coordinates, then padded (clipped for
'border', reflected then clipped for 'reflection') as PyTorch's GridSampler.h
does, with its gradients: 1 strictly inside the clip range and 0 where a
coordinate is clipped; -1 on a reflected stretch. Then the taps each mode reads
along the axis: (pixel, in-range mask, weight) triples."""

from __future__ import annotations

from typing import NamedTuple

import actnet.tensor as at
from actnet.tensor import Tensor

# PyTorch's cubic convolution constant (OpenCV's); PIL uses -0.5.
CUBIC_A = -0.75


class Tap(NamedTuple):
    """One source position per output point along an axis (all (P, 1))."""

    pixel: Tensor  # int64, 0 where out of range
    valid: Tensor  # bool: inside the axis (else the tap reads a zero)
    weight: Tensor  # the input's dtype; its graph reaches the grid


def unnormalize(g: Tensor, size: int, align_corners: bool) -> Tensor:
    """-1 and 1 are the centres of the end pixels with align_corners, their outer
    edges without."""
    if align_corners:
        return (g + 1) * ((size - 1) / 2)
    return (g + 1) * (size / 2) - 0.5


def pad(c: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Coordinates as padding_mode takes them ('zeros': unchanged)."""
    if padding_mode == "border":
        return _clip(c, size)
    if padding_mode == "reflection":
        if align_corners:
            c = _reflect(c, 0, 2 * (size - 1))
        else:
            c = _reflect(c, -1, 2 * size - 1)
        return _clip(c, size)
    return c


def linear_taps(c: Tensor, size: int) -> list[Tap]:
    """The two neighbours of c, weighted (low + 1 - c) and (c - low) as PyTorch
    writes them (its nw/se weights)."""
    low = at.floor(c.detach())
    return [
        _tap(low, size, (low + 1) - c),
        _tap(low + 1, size, c - low),
    ]


def nearest_tap(c: Tensor, size: int) -> Tap:
    """The nearest pixel, halves to even (PyTorch's nearbyint). The weight is 1
    with a zero gradient, so the grid gets PyTorch's zero gradient rather than
    none."""
    return _tap(at.round(c.detach()), size, with_zero_gradient(c, 1.0))


def cubic_taps(
    c: Tensor, size: int, padding_mode: str, align_corners: bool
) -> list[Tap]:
    """The four pixels around the unpadded coordinate c, weighted by the cubic
    convolution of their distances; each tap's position padded on its own (its
    pixel carries no gradient: the grid's goes through the weights alone)."""
    low = at.floor(c.detach())
    t = c - low
    weights = [
        _cubic_far(t + 1),
        _cubic_near(t),
        _cubic_near(1 - t),
        _cubic_far(2 - t),
    ]
    taps = []
    for offset, weight in zip((-1, 0, 1, 2), weights, strict=True):
        position = pad(low + offset, size, padding_mode, align_corners)
        taps.append(_tap(at.trunc(position), size, weight))
    return taps


def with_zero_gradient(c: Tensor, value: float) -> Tensor:
    """`value` in c's shape and dtype, inside c's graph with a zero gradient
    (PyTorch's `*grad_in = 0` branches give zeros, not no gradient)."""
    never = at.zeros(c.shape, dtype=at.bool, device=c.device)
    return at.where(never, c, value)


def _tap(position: Tensor, size: int, weight: Tensor) -> Tap:
    """position: integer-valued floats, detached."""
    valid = (position >= 0) & (position <= size - 1)
    pixel = at.where(valid, position, 0.0).long()
    return Tap(pixel, valid, weight)


def _clip(c: Tensor, size: int) -> Tensor:
    """c limited to [0, size - 1]; the gradient 1 strictly inside, else 0
    (clip_coordinates_set_grad: a coordinate on the bound counts as clipped)."""
    d = c.detach()
    inside = (d > 0) & (d < size - 1)
    return at.where(inside, c, at.clamp(d, 0, size - 1))


def _reflect(c: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """c reflected into [low, high] by the bounds, repeatedly
    (reflect_coordinates_set_grad: bounds halved so that -0.5 is an int)."""
    if twice_low == twice_high:  # a one-pixel axis, align_corners
        return with_zero_gradient(c, 0.0)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    d = c.detach()
    distance = at.where(d < low, low - c, c - low)  # |c - low|, gradient -1 or 1
    flips = at.floor(distance.detach() / span)
    extra = distance - flips * span  # fmod(distance, span)
    odd = at.remainder(flips, 2) == 1
    return at.where(odd, (span + low) - extra, extra + low)


def _cubic_near(x: Tensor) -> Tensor:
    """The cubic convolution kernel for |x| <= 1."""
    a = CUBIC_A
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_far(x: Tensor) -> Tensor:
    """The cubic convolution kernel for 1 < |x| < 2."""
    a = CUBIC_A
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
