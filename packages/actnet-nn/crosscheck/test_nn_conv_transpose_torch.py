"""ConvTranspose1d and ConvTranspose2d against torch.nn's: each built with the
same arguments in both libraries, torch's state dict loaded into ours, then
outputs (with and without output_size), input and parameter gradients, repr,
state-dict keys and parameter shapes compared, in float32 and float64; and the
initialisation's bounds against torch's own draws."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn

TOL = {"float32": 1e-5, "float64": 1e-7}

# (id, class name, constructor arguments, input shape, forward's output_size)
CASES: list[tuple[str, str, dict[str, Any], tuple[int, ...], Any]] = [
    ("2d", "ConvTranspose2d", {"in_channels": 3, "out_channels": 4,
     "kernel_size": 3}, (2, 3, 5, 4), None),
    ("2d-dcgan", "ConvTranspose2d", {"in_channels": 8, "out_channels": 4,
     "kernel_size": 4, "stride": 2, "padding": 1, "bias": False}, (2, 8, 4, 4), None),
    ("2d-args", "ConvTranspose2d", {"in_channels": 4, "out_channels": 6,
     "kernel_size": (3, 2), "stride": (2, 3), "padding": (1, 2),
     "output_padding": (1, 2), "groups": 2, "dilation": (1, 2)}, (2, 4, 5, 6), None),
    ("2d-dilation-output-padding", "ConvTranspose2d", {"in_channels": 2,
     "out_channels": 2, "kernel_size": 3, "dilation": 2, "output_padding": 1},
     (1, 2, 4, 4), None),
    ("2d-depthwise", "ConvTranspose2d", {"in_channels": 3, "out_channels": 3,
     "kernel_size": 3, "groups": 3, "stride": 2}, (2, 3, 3, 3), None),
    ("2d-output-size", "ConvTranspose2d", {"in_channels": 3, "out_channels": 2,
     "kernel_size": 3, "stride": 3, "padding": 1}, (2, 3, 4, 5), [12, 14]),
    ("2d-output-size-whole-shape", "ConvTranspose2d", {"in_channels": 3,
     "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1},
     (2, 3, 4, 5), [2, 2, 8, 9]),
    ("2d-unbatched-output-size", "ConvTranspose2d", {"in_channels": 3,
     "out_channels": 2, "kernel_size": 2, "stride": 2}, (3, 4, 5), [2, 9, 11]),
    ("1d", "ConvTranspose1d", {"in_channels": 3, "out_channels": 4,
     "kernel_size": 3}, (2, 3, 7), None),
    ("1d-args", "ConvTranspose1d", {"in_channels": 4, "out_channels": 6,
     "kernel_size": 4, "stride": 3, "padding": 2, "output_padding": 1,
     "groups": 2, "dilation": 2}, (2, 4, 6), None),
    ("1d-unbatched-output-size", "ConvTranspose1d", {"in_channels": 3,
     "out_channels": 2, "kernel_size": 3, "stride": 2}, (3, 6), [14]),
]  # fmt: skip


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("name", "cls", "kwargs", "shape", "output_size"), CASES, ids=[c[0] for c in CASES]
)
def test_conv_transpose_matches_torch(
    name: str,
    cls: str,
    kwargs: dict[str, Any],
    shape: tuple[int, ...],
    output_size: Any,
    dtype: str,
) -> None:
    tol = TOL[dtype]
    torch.manual_seed(0)
    tm = getattr(torch.nn, cls)(**kwargs, dtype=getattr(torch, dtype))
    am = getattr(nn, cls)(**kwargs, dtype=getattr(at, dtype))
    assert repr(am) == repr(tm)
    assert list(am.state_dict()) == list(tm.state_dict())
    for key, value in tm.state_dict().items():
        assert am.state_dict()[key].shape == tuple(value.shape), key
    am.load_state_dict({k: at.tensor(_np(v)) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    ax = at.tensor(x, requires_grad=True)
    ty = tm(tx, output_size=output_size)
    ay = am(ax, output_size=output_size)
    assert ay.shape == tuple(ty.shape)
    np.testing.assert_allclose(_np(ay), _np(ty), rtol=tol, atol=tol)
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    (ty * torch.tensor(g)).sum().backward()
    (ay * at.tensor(g)).sum().backward()
    assert ax.grad is not None and tx.grad is not None
    np.testing.assert_allclose(_np(ax.grad), _np(tx.grad), rtol=tol, atol=tol)
    theirs = dict(tm.named_parameters())
    for key, p in am.named_parameters():
        assert p.grad is not None, key
        np.testing.assert_allclose(
            _np(p.grad), _np(theirs[key].grad), rtol=tol, atol=tol, err_msg=key
        )


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((64, 16, 3), {"groups": 2}), ((8, 64, (2, 3)), {}), ((4, 2000, 1), {})],
    ids=str,
)
def test_init_draws_within_torchs_bounds(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Torch's ConvTranspose2d and ours draw from the same uniform ranges: the
    bound is 1/sqrt(weight.shape[1] * kernel), and the largest draw of either
    library comes close to it (within 1% for thousands of draws), the spread
    within 5% of b/sqrt(3)."""
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose2d(*args, **kwargs, dtype=torch.float64)
    am = nn.ConvTranspose2d(*args, **kwargs, dtype=at.float64)
    fan_in = tm.weight.shape[1] * math.prod(tm.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)
    for which in ("weight", "bias"):
        t = _np(getattr(tm, which))
        a = _np(getattr(am, which))
        assert t.shape == a.shape
        assert np.abs(t).max() <= bound and np.abs(a).max() <= bound
        if t.size >= 1000:
            for draws in (t, a):
                assert np.abs(draws).max() > 0.99 * bound
                assert abs(draws.std() / (bound / math.sqrt(3)) - 1) < 0.05


def test_output_size_refusals_match_torch() -> None:
    tm = torch.nn.ConvTranspose2d(4, 4, 3, stride=2)
    am = nn.ConvTranspose2d(4, 4, 3, stride=2)
    for shape, size in (((1, 4, 3, 3), [9, 9]), ((4, 3, 3), [1, 4, 8, 7])):
        with pytest.raises(ValueError) as theirs:
            tm(torch.ones(shape), output_size=size)
        with pytest.raises(ValueError) as ours:
            am(at.ones(*shape), output_size=size)
        # torch prints the input's spatial size as a torch.Size
        expected = str(theirs.value).replace("torch.Size([3, 3])", "(3, 3)")
        assert str(ours.value) == expected
    with pytest.raises(ValueError) as theirs:
        torch.nn.ConvTranspose2d(4, 4, 3, padding_mode="circular")
    with pytest.raises(ValueError) as ours:
        nn.ConvTranspose2d(4, 4, 3, padding_mode="circular")
    assert str(ours.value) == str(theirs.value)


def _generator(lib: Any, dtype: Any) -> Any:
    """DCGAN's generator (the PyTorch example's, smaller), written once for
    torch.nn and actnet.nn: ported code changes only its imports."""
    f = {"dtype": dtype}
    return lib.Sequential(
        lib.ConvTranspose2d(8, 16, 4, 1, 0, bias=False, **f),
        lib.BatchNorm2d(16, **f),
        lib.ReLU(True),  # the example's in-place ReLU
        lib.ConvTranspose2d(16, 8, 4, 2, 1, bias=False, **f),
        lib.BatchNorm2d(8, **f),
        lib.ReLU(True),
        lib.ConvTranspose2d(8, 3, 4, 2, 1, bias=False, **f),
        lib.Tanh(),
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dcgan_generator_step_matches_torch(dtype: str) -> None:
    tol = TOL[dtype] * 10  # three layers deep, through two batch norms
    torch.manual_seed(0)
    tg = _generator(torch.nn, getattr(torch, dtype))
    ag = _generator(nn, getattr(at, dtype))
    ag.load_state_dict({k: at.tensor(_np(v)) for k, v in tg.state_dict().items()})
    rng = np.random.default_rng(1)
    z = rng.standard_normal((4, 8, 1, 1)).astype(dtype)
    target = rng.uniform(-1, 1, (4, 3, 16, 16)).astype(dtype)
    tloss = torch.nn.functional.mse_loss(tg(torch.tensor(z)), torch.tensor(target))
    aloss = nn.functional.mse_loss(ag(at.tensor(z)), at.tensor(target))
    np.testing.assert_allclose(float(aloss.item()), tloss.item(), rtol=tol)
    tloss.backward()
    aloss.backward()
    theirs = dict(tg.named_parameters())
    for key, p in ag.named_parameters():
        assert p.grad is not None, key
        np.testing.assert_allclose(
            _np(p.grad), _np(theirs[key].grad), rtol=tol, atol=tol, err_msg=key
        )
