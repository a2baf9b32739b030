"""nn.Bilinear: PyTorch's initialisation bounds, the function it calls, repr."""

from __future__ import annotations

import numpy as np

import actnet.tensor as at
from actnet import nn
from actnet.nn import functional as F


def test_bilinear_module() -> None:
    at.manual_seed(0)
    m = nn.Bilinear(16, 4, 8)
    bound = 1 / np.sqrt(16)
    for p in (m.weight, m.bias):
        assert p is not None
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound
        assert values.std() > bound / 3  # spread over the range, not constant
    assert m.weight.shape == (8, 16, 4)
    x1, x2 = at.randn(3, 16), at.randn(3, 4)
    np.testing.assert_array_equal(
        m(x1, x2).detach().numpy(),
        F.bilinear(x1, x2, m.weight, m.bias).detach().numpy(),
    )
    assert nn.Bilinear(2, 3, 4, bias=False).bias is None
    assert (
        repr(m)
        == "Bilinear(in1_features=16, in2_features=4, out_features=8, bias=True)"
    )
