"""Dropout2d (whole channels, against the definition) and Softmax2d (against
NumPy's softmax over the channel axis)."""

from __future__ import annotations

import numpy as np
import pytest

import actnet.device as ad
import actnet.tensor as at
from actnet import nn


def test_dropout2d_zeroes_whole_channels() -> None:
    ad.manual_seed(0)
    values = np.random.default_rng(0).uniform(1, 2, (8, 64, 3, 4))
    x = at.tensor(values.astype(np.float32), requires_grad=True)
    y = nn.Dropout2d(p=0.25)(x)
    out, inp = y.detach().numpy(), x.detach().numpy()
    kept = np.all(out != 0, axis=(2, 3))
    dropped = np.all(out == 0, axis=(2, 3))
    assert np.all(kept | dropped)  # each channel whole: kept or dropped
    np.testing.assert_allclose(out[kept], (inp / 0.75)[kept], rtol=1e-6)
    assert abs(dropped.mean() - 0.25) < 0.1  # 512 channels: 5 sigma is 0.096
    y.sum().backward()
    grad = x.grad.numpy()  # type: ignore[union-attr]  # set by backward
    want = np.where(kept[..., None, None], 1 / 0.75, 0.0)
    np.testing.assert_allclose(grad, np.broadcast_to(want, grad.shape), rtol=1e-6)
    drop = nn.Dropout2d(0.5).eval()
    assert drop(x) is x


def test_dropout2d_groups_by_the_first_two_dims_as_pytorch_does() -> None:
    # PyTorch 2.13: a 3-D input is (N, C, L), with a warning; a 2-D one is
    # plain dropout (each (n, c) its own "channel"), with another; 5-D groups
    # by (N, C) too; 1-D is refused
    ad.manual_seed(1)
    with pytest.warns(UserWarning, match=r"interpreted as shape \(N, C, L\)"):
        three = nn.Dropout2d(0.5)(at.ones(16, 8, 3)).numpy()
    assert set(np.unique(three)) <= {0.0, 2.0}
    assert np.all(three == three[:, :, :1])  # whole (n, c) rows
    assert 0 < np.mean(three[:, :, 0] == 0) < 1  # not whole n: per (n, c)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        two = nn.Dropout2d(0.5)(at.ones(64, 32)).numpy()
    assert set(np.unique(two)) <= {0.0, 2.0}
    assert abs(np.mean(two == 0) - 0.5) < 0.05  # 2048 draws: 4.5 sigma
    with pytest.warns(UserWarning, match="Received a 5-D input to dropout2d"):
        five = nn.Dropout2d(0.5)(at.ones(4, 8, 2, 2, 2)).numpy()
    assert np.all(five == five[:, :, :1, :1, :1])
    with (
        pytest.warns(UserWarning, match="Received a 1-D input"),
        pytest.raises(RuntimeError, match="at least 2 dimensions"),
    ):
        nn.Dropout2d()(at.ones(3))


def test_softmax2d() -> None:
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    got = nn.Softmax2d()(at.tensor(x)).numpy()
    e = np.exp(x - x.max(axis=-3, keepdims=True))
    np.testing.assert_allclose(got, e / e.sum(axis=-3, keepdims=True), rtol=1e-12)
    with pytest.raises(ValueError, match="expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(at.ones(2, 3))
