"""ReduceLROnPlateau and CosineAnnealingWarmRestarts against
torch.optim.lr_scheduler (PyTorch 2.13.0): the same learning rates at every
step, bit for bit (the same arithmetic in the same order), the same state-dict
keys and values, the same errors; a state dict of PyTorch's continues here."""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import SGD, Optimizer
from actnet.nn.optim import lr_scheduler as ours

theirs = torch.optim.lr_scheduler


def _pair(momentum: float = 0.0) -> tuple[Optimizer, Any]:
    """Two param groups with different lrs, in each library."""
    a, b = Parameter(at.tensor([1.0])), Parameter(at.tensor([2.0]))
    ta, tb = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
    groups: list[dict[str, Any]] = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    tgroups: list[dict[str, Any]] = [{"params": [ta]}, {"params": [tb], "lr": 0.05}]
    return (
        SGD(groups, lr=0.1, momentum=momentum),
        torch.optim.SGD(tgroups, lr=0.1, momentum=momentum),
    )


def _lrs(opt: Any) -> list[float]:
    return [g["lr"] for g in opt.param_groups]


def _metrics(n: int, seed: int) -> list[float]:
    """A loss that falls, stalls and wobbles: plateaus of equal values included."""
    rng = np.random.default_rng(seed)
    out, value = [], 1.0
    for i in range(n):
        if i % 17 < 6:
            value *= 0.9
        elif i % 17 < 9:
            pass  # exactly equal values
        else:
            value *= 1.0 + 0.02 * float(rng.standard_normal())
        out.append(value)
    return out


PLATEAU_OPTIONS: list[dict[str, Any]] = [
    {
        "mode": mode,
        "threshold_mode": threshold_mode,
        "patience": patience,
        "cooldown": cooldown,
        "factor": 0.5,
        "threshold": threshold,
    }
    for mode, threshold_mode, patience, cooldown, threshold in itertools.product(
        ("min", "max"), ("rel", "abs"), (0, 3), (0, 2), (1e-4, 0.01)
    )
] + [
    {"min_lr": 1e-3},
    {"min_lr": [0.02, 1e-3], "factor": 0.3, "patience": 1},
    {"eps": 1e-3, "factor": 0.9, "patience": 0},
    {},
]


@pytest.mark.parametrize("options", PLATEAU_OPTIONS, ids=repr)
def test_plateau_matches_torch(options: dict[str, Any]) -> None:
    opt, topt = _pair()
    sched = ours.ReduceLROnPlateau(opt, **options)
    tsched = theirs.ReduceLROnPlateau(topt, **options)
    for i, metric in enumerate(_metrics(120, seed=len(repr(options)))):
        if i == 60:  # a 0-d tensor metric, as a validation loss often is
            sched.step(at.tensor(metric, dtype="float64"))
            tsched.step(torch.tensor(metric, dtype=torch.float64))
        else:
            sched.step(metric)
            tsched.step(metric)
        assert _lrs(opt) == _lrs(topt), i
        assert sched.get_last_lr() == tsched.get_last_lr()
    mine, expected = sched.state_dict(), tsched.state_dict()
    assert list(mine) == list(expected)
    assert mine == expected


def test_plateau_torch_state_dict_continues_here() -> None:
    opt, topt = _pair()
    options: dict[str, Any] = {"patience": 2, "cooldown": 1, "factor": 0.5}
    sched = ours.ReduceLROnPlateau(opt, **options)
    tsched = theirs.ReduceLROnPlateau(topt, **options)
    metrics = _metrics(80, seed=3)
    for metric in metrics[:40]:
        tsched.step(metric)
    for group, tgroup in zip(opt.param_groups, topt.param_groups, strict=True):
        group["lr"] = tgroup["lr"]
    sched.load_state_dict(tsched.state_dict())
    for metric in metrics[40:]:
        sched.step(metric)
        tsched.step(metric)
        assert _lrs(opt) == _lrs(topt)


def test_plateau_epoch_warning_and_errors_match_torch() -> None:
    opt, topt = _pair()
    sched, tsched = ours.ReduceLROnPlateau(opt), theirs.ReduceLROnPlateau(topt)
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        tsched.step(1.0, epoch=5)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        sched.step(1.0, epoch=5)
    assert [str(w.message) for w in got] == [str(w.message) for w in expected]
    assert sched.last_epoch == tsched.last_epoch == 5
    for kwargs in (
        {"factor": 1.5},
        {"mode": "middle"},
        {"threshold_mode": "relative"},
        {"min_lr": [0.1]},
    ):
        with pytest.raises(ValueError) as texc:
            theirs.ReduceLROnPlateau(topt, **kwargs)
        with pytest.raises(ValueError) as exc:
            ours.ReduceLROnPlateau(opt, **kwargs)
        assert str(exc.value) == str(texc.value)


RESTART_CASES: list[dict[str, Any]] = [
    {"T_0": t0, "T_mult": t_mult, "eta_min": eta_min}
    for t0, t_mult, eta_min in itertools.product((1, 5, 7), (1, 2, 3), (0.0, 1e-3))
]


@pytest.mark.parametrize("options", RESTART_CASES, ids=repr)
def test_restarts_match_torch(options: dict[str, Any]) -> None:
    opt, topt = _pair()
    sched = ours.CosineAnnealingWarmRestarts(opt, **options)
    tsched = theirs.CosineAnnealingWarmRestarts(topt, **options)
    assert _lrs(opt) == _lrs(topt)
    for i in range(150):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert _lrs(opt) == _lrs(topt), i
        assert (sched.T_i, sched.T_cur) == (tsched.T_i, tsched.T_cur)
    mine, expected = sched.state_dict(), tsched.state_dict()
    assert list(mine) == list(expected)
    assert mine == expected


@pytest.mark.parametrize("options", RESTART_CASES[::2], ids=repr)
def test_restarts_fractional_epochs_match_torch(options: dict[str, Any]) -> None:
    # step(epoch + i / iters) once per batch, then a jump and plain steps
    opt, topt = _pair()
    sched = ours.CosineAnnealingWarmRestarts(opt, **options)
    tsched = theirs.CosineAnnealingWarmRestarts(topt, **options)
    iters = 7
    schedule: list[float | None] = [
        epoch + i / iters for epoch in range(12) for i in range(iters)
    ]
    schedule += [26, None, None, 3.5, None, 0, None]
    for epoch in schedule:
        sched.step(epoch)
        tsched.step(epoch)
        assert _lrs(opt) == _lrs(topt), epoch
        assert sched.last_epoch == tsched.last_epoch
        assert (sched.T_i, sched.T_cur) == (tsched.T_i, tsched.T_cur)


def test_restarts_torch_state_dict_continues_here() -> None:
    opt, topt = _pair(momentum=0.9)
    options: dict[str, Any] = {"T_0": 4, "T_mult": 2, "eta_min": 1e-4}
    sched = ours.CosineAnnealingWarmRestarts(opt, **options)
    tsched = theirs.CosineAnnealingWarmRestarts(topt, **options)
    for _ in range(9):
        topt.step()
        tsched.step()
    for group, tgroup in zip(opt.param_groups, topt.param_groups, strict=True):
        group["lr"] = tgroup["lr"]
    sched.load_state_dict(tsched.state_dict())
    for _ in range(30):
        sched.step()
        tsched.step()
        assert _lrs(opt) == _lrs(topt)


def test_restarts_resume_with_last_epoch_matches_torch() -> None:
    opt, topt = _pair()
    for group, tgroup in zip(opt.param_groups, topt.param_groups, strict=True):
        group["initial_lr"] = tgroup["initial_lr"] = group["lr"]
    sched = ours.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, last_epoch=4)
    tsched = theirs.CosineAnnealingWarmRestarts(topt, T_0=3, T_mult=2, last_epoch=4)
    for _ in range(20):
        assert _lrs(opt) == _lrs(topt)
        sched.step()
        tsched.step()


@pytest.mark.parametrize(
    "kwargs",
    [{"T_0": 0}, {"T_0": 2.0}, {"T_0": 2, "T_mult": 0}, {"T_0": 2, "eta_min": "0"}],
    ids=repr,
)
def test_restarts_errors_match_torch(kwargs: dict[str, Any]) -> None:
    opt, topt = _pair()
    with pytest.raises(ValueError) as texc:
        theirs.CosineAnnealingWarmRestarts(topt, **kwargs)
    with pytest.raises(ValueError) as exc:
        ours.CosineAnnealingWarmRestarts(opt, **kwargs)
    assert str(exc.value) == str(texc.value)
    sched = ours.CosineAnnealingWarmRestarts(opt, T_0=2)
    tsched = theirs.CosineAnnealingWarmRestarts(topt, T_0=2)
    with pytest.raises(ValueError) as texc:
        tsched.step(-0.5)
    with pytest.raises(ValueError) as exc:
        sched.step(-0.5)
    assert str(exc.value) == str(texc.value)
    assert not math.isnan(sched.get_last_lr()[0])
