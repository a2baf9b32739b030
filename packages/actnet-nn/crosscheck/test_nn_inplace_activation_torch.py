"""In-place activations beside torch: a DCGAN generator (ConvTranspose2d,
BatchNorm2d, ReLU(True), Tanh) and discriminator (Conv2d, LeakyReLU(0.2,
inplace=True), BatchNorm2d, Sigmoid), written once for torch.nn and actnet.nn
as in PyTorch's DCGAN example (smaller), built from the same weights and
trained side by side for a few steps of the example's loop (BCELoss, Adam with
betas (0.5, 0.999), fake.detach() for the discriminator's step): every loss
and gradient equal within float32 (and float64) tolerance. Then each in-place
layer alone (ReLU, LeakyReLU, ELU, SiLU, Dropout with inplace=True): the input
itself is overwritten, torch's repr, and torch's refusal of a leaf."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn

TOL = {"float32": 1e-5, "float64": 1e-7}
NZ, NGF, NDF, NC = 8, 8, 8, 3  # latent size, feature maps, image channels


def _np(t: Any) -> np.ndarray:
    return np.array(t.detach().numpy())  # a copy: torch accumulates .grad in place


def _generator(lib: Any, dtype: Any) -> Any:
    """z (N, NZ, 1, 1) -> image (N, NC, 16, 16)."""
    f = {"dtype": dtype}
    return lib.Sequential(
        lib.ConvTranspose2d(NZ, NGF * 2, 4, 1, 0, bias=False, **f),
        lib.BatchNorm2d(NGF * 2, **f),
        lib.ReLU(True),
        lib.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False, **f),
        lib.BatchNorm2d(NGF, **f),
        lib.ReLU(True),
        lib.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False, **f),
        lib.Tanh(),
    )


def _discriminator(lib: Any, dtype: Any) -> Any:
    """image (N, NC, 16, 16) -> probability (N, 1, 1, 1)."""
    f = {"dtype": dtype}
    return lib.Sequential(
        lib.Conv2d(NC, NDF, 4, 2, 1, bias=False, **f),
        lib.LeakyReLU(0.2, inplace=True),
        lib.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False, **f),
        lib.BatchNorm2d(NDF * 2, **f),
        lib.LeakyReLU(0.2, inplace=True),
        lib.Conv2d(NDF * 2, 1, 4, 1, 0, bias=False, **f),
        lib.Sigmoid(),
    )


def _train(lib: Any, tensor: Any, optim: Any, g: Any, d: Any, data: Any) -> list[Any]:
    """The DCGAN example's loop, written once for both libraries: the losses of
    each step and the gradients after each optimizer step."""
    criterion = lib.BCELoss()
    opt_d = optim.Adam(d.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_g = optim.Adam(g.parameters(), lr=2e-3, betas=(0.5, 0.999))
    record: list[Any] = []
    for real_np, noise_np in data:
        real, noise = tensor(real_np), tensor(noise_np)
        batch = real.shape[0]
        d.zero_grad()
        label = tensor(np.ones(batch, dtype=real_np.dtype))
        err_d_real = criterion(d(real).view(-1), label)
        err_d_real.backward()
        fake = g(noise)
        label = tensor(np.zeros(batch, dtype=real_np.dtype))
        err_d_fake = criterion(d(fake.detach()).view(-1), label)
        err_d_fake.backward()
        opt_d.step()
        record.append(("loss_d", _np(err_d_real) + _np(err_d_fake)))
        record += [(f"D.{k}", _np(p.grad)) for k, p in d.named_parameters()]
        g.zero_grad()
        label = tensor(np.ones(batch, dtype=real_np.dtype))
        err_g = criterion(d(fake).view(-1), label)
        err_g.backward()
        opt_g.step()
        record.append(("loss_g", _np(err_g)))
        record += [(f"G.{k}", _np(p.grad)) for k, p in g.named_parameters()]
        record += [(f"G.{k} after", _np(p)) for k, p in g.named_parameters()]
    return record


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dcgan_with_in_place_activations_trains_like_torch(dtype: str) -> None:
    tol = TOL[dtype]
    torch.manual_seed(0)
    tg = _generator(torch.nn, getattr(torch, dtype))
    td = _discriminator(torch.nn, getattr(torch, dtype))
    ag = _generator(nn, getattr(at, dtype))
    ad = _discriminator(nn, getattr(at, dtype))
    for ours, theirs in ((ag, tg), (ad, td)):
        ours.load_state_dict(
            {k: at.tensor(_np(v)) for k, v in theirs.state_dict().items()}
        )
    rng = np.random.default_rng(1)
    data = [
        (
            rng.uniform(-1, 1, (4, NC, 16, 16)).astype(dtype),
            rng.standard_normal((4, NZ, 1, 1)).astype(dtype),
        )
        for _ in range(3)
    ]
    theirs = _train(torch.nn, torch.tensor, torch.optim, tg, td, data)
    ours = _train(nn, at.tensor, nn.optim, ag, ad, data)
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    for (key, mine), (_, peer) in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, peer, rtol=tol, atol=tol, err_msg=key)
    # the running statistics that batch norm keeps went the same way
    for ours_m, theirs_m in ((ag, tg), (ad, td)):
        theirs_state = theirs_m.state_dict()
        for key, value in ours_m.state_dict().items():
            np.testing.assert_allclose(
                _np(value), _np(theirs_state[key]), rtol=tol, atol=tol, err_msg=key
            )


LAYERS: list[tuple[str, dict[str, Any]]] = [
    ("ReLU", {"inplace": True}),
    ("LeakyReLU", {"negative_slope": 0.2, "inplace": True}),
    ("ELU", {"alpha": 0.5, "inplace": True}),
    ("SiLU", {"inplace": True}),
    ("Dropout", {"p": 0.0, "inplace": True}),
    ("Dropout", {"p": 1.0, "inplace": True}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("name", "kwargs"), LAYERS, ids=[f"{n}-{k}" for n, k in LAYERS]
)
def test_in_place_layer_matches_torch(
    name: str, kwargs: dict[str, Any], dtype: str
) -> None:
    tol = TOL[dtype]
    theirs = getattr(torch.nn, name)(**kwargs)
    ours = getattr(nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    values = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(dtype)
    weight = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(dtype)
    tx = torch.tensor(values, requires_grad=True)
    ax = at.tensor(values, requires_grad=True)
    ty, ay = tx * 2.0, ax * 2.0  # intermediates: a leaf is refused by both
    assert theirs(ty) is ty and ours(ay) is ay
    np.testing.assert_allclose(_np(ay), _np(ty), rtol=tol, atol=tol)
    (ty * torch.tensor(weight)).sum().backward()
    (ay * at.tensor(weight)).sum().backward()
    np.testing.assert_allclose(_np(ax.grad), _np(tx.grad), rtol=tol, atol=tol)
    if kwargs.get("p") == 0.0:
        return  # dropout with p=0 returns the input untouched: no refusal
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        theirs(torch.tensor(values, requires_grad=True))
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        ours(at.tensor(values, requires_grad=True))
