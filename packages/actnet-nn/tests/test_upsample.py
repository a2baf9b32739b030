"""nn.Upsample calls F.interpolate (tested against its definition in
actnet-neuron) with its settings."""

from __future__ import annotations

import numpy as np

import actnet.tensor as at
from actnet import nn
from actnet.nn import functional as F


def test_upsample() -> None:
    x = at.randn(1, 2, 3, 4)
    up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
    np.testing.assert_array_equal(
        up(x).numpy(),
        F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True).numpy(),
    )
    assert up(x).shape == (1, 2, 6, 8)
    assert repr(up) == "Upsample(scale_factor=2.0, mode='bilinear')"
    assert nn.Upsample(size=(5, 5))(x).shape == (1, 2, 5, 5)
