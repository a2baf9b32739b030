"""nn.PixelShuffle / nn.PixelUnshuffle: the modules call the functions (checked
against their definition in actnet-neuron's tests) and invert each other."""

from __future__ import annotations

import numpy as np

import actnet.tensor as at
from actnet import nn
from actnet.nn import functional as F


def test_modules() -> None:
    x = at.randn(2, 8, 3, 4)
    up = nn.PixelShuffle(2)
    y = up(x)
    assert y.shape == (2, 2, 6, 8)
    np.testing.assert_array_equal(y.numpy(), F.pixel_shuffle(x, 2).numpy())
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(y).numpy(), x.numpy())
    assert repr(up) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
