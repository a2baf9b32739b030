"""The schedulers against torch.optim.lr_scheduler (PyTorch 2.13.0): the same
lr (and momentum / betas) at every step, to the last bit where the arithmetic is
the same."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import SGD, AdamW, Optimizer
from actnet.nn.optim import lr_scheduler as ours

theirs = torch.optim.lr_scheduler
STEPS = 60


def _pair(kind: str, **kw: Any) -> tuple[Optimizer, Any]:
    """Two param groups with different lrs, in each library."""
    a, b = Parameter(at.tensor([1.0])), Parameter(at.tensor([2.0]))
    ta, tb = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
    if kind == "sgd":
        return (
            SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, **kw),
            torch.optim.SGD(
                [{"params": [ta]}, {"params": [tb], "lr": 0.05}], lr=0.1, **kw
            ),
        )
    return (
        AdamW([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, **kw),
        torch.optim.AdamW(
            [{"params": [ta]}, {"params": [tb], "lr": 0.05}], lr=0.1, **kw
        ),
    )


def _trace(opt: Any, sched: Any, steps: int, keys: tuple[str, ...]) -> list[float]:
    """The groups' values of `keys` before each step, then the last lrs, flat."""
    out: list[float] = []
    for _ in range(steps):
        for g in opt.param_groups:
            for k in keys:
                out += list(g[k]) if isinstance(g[k], tuple) else [g[k]]
        opt.step()
        sched.step()
    return out + list(sched.get_last_lr())


Make = Callable[[Any, Any], Any]
CASES: list[tuple[str, Make]] = [
    ("StepLR", lambda m, o: m.StepLR(o, step_size=7, gamma=0.3)),
    ("MultiStepLR", lambda m, o: m.MultiStepLR(o, [5, 12, 12, 40], gamma=0.5)),
    ("ExponentialLR", lambda m, o: m.ExponentialLR(o, gamma=0.97)),
    ("CosineAnnealingLR", lambda m, o: m.CosineAnnealingLR(o, T_max=17)),
    ("CosineAnnealingLR-eta", lambda m, o: m.CosineAnnealingLR(o, 25, eta_min=1e-3)),
    ("LinearLR", lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=13)),
    ("LinearLR-down", lambda m, o: m.LinearLR(o, 1.0, 0.2, total_iters=30)),
    ("LambdaLR", lambda m, o: m.LambdaLR(o, lambda e: 1.0 / (1.0 + 0.1 * e))),
    (
        "SequentialLR",
        lambda m, o: m.SequentialLR(
            o,
            [
                m.LinearLR(o, start_factor=0.01, total_iters=10),
                m.CosineAnnealingLR(o, T_max=50, eta_min=1e-4),
            ],
            milestones=[10],
        ),
    ),
    (
        "SequentialLR-3",
        lambda m, o: m.SequentialLR(
            o,
            [
                m.ExponentialLR(o, gamma=0.9),
                m.StepLR(o, step_size=4),
                m.LinearLR(o, start_factor=0.5, total_iters=5),
            ],
            milestones=[8, 20],
        ),
    ),
]


@pytest.mark.parametrize("kind", ["sgd", "adamw"])
@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_values_match_torch(kind: str, name: str, make: Make) -> None:
    opt, topt = _pair(kind)
    got = _trace(opt, make(ours, opt), STEPS, ("lr",))
    expected = _trace(topt, make(theirs, topt), STEPS, ("lr",))
    assert got == expected  # the same arithmetic in the same order: bitwise


@pytest.mark.parametrize("kind", ["sgd", "adamw"])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_matches_torch(kind: str, strategy: str, three_phase: bool) -> None:
    extra = {"momentum": 0.9} if kind == "sgd" else {}
    opt, topt = _pair(kind, **extra)
    key = "momentum" if kind == "sgd" else "betas"
    kw = {
        "max_lr": [1.0, 0.5],
        "total_steps": STEPS,
        "anneal_strategy": strategy,
        "three_phase": three_phase,
        "pct_start": 0.25,
    }
    got = _trace(opt, ours.OneCycleLR(opt, **kw), STEPS - 1, ("lr", key))
    expected = _trace(topt, theirs.OneCycleLR(topt, **kw), STEPS - 1, ("lr", key))
    assert got == expected


def test_cosine_matches_torch_bitwise_over_many_periods() -> None:
    opt, topt = _pair("sgd")
    got = _trace(opt, ours.CosineAnnealingLR(opt, T_max=9), 200, ("lr",))
    expected = _trace(topt, theirs.CosineAnnealingLR(topt, T_max=9), 200, ("lr",))
    assert got == expected


def test_state_dict_keys_match_torch() -> None:
    opt, topt = _pair("sgd")
    ours_sd = ours.CosineAnnealingLR(opt, T_max=10).state_dict()
    theirs_sd = theirs.CosineAnnealingLR(topt, T_max=10).state_dict()
    assert set(ours_sd) == set(theirs_sd)
    for key in (
        "T_max",
        "eta_min",
        "base_lrs",
        "last_epoch",
        "_step_count",
        "_last_lr",
    ):
        assert ours_sd[key] == theirs_sd[key]


def test_warns_like_torch_when_the_scheduler_steps_first() -> None:
    opt, topt = _pair("sgd")
    sched, tsched = ours.StepLR(opt, 2), theirs.StepLR(topt, 2)
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        tsched.step()
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        sched.step()
    assert [str(w.message) for w in got] == [str(w.message) for w in expected]


@pytest.mark.parametrize(
    "make",
    [
        lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS, three_phase=True),
        lambda m, o: m.CosineAnnealingLR(o, T_max=13, eta_min=1e-3),
        lambda m, o: m.MultiStepLR(o, [5, 30], gamma=0.5),
    ],
    ids=["OneCycleLR", "CosineAnnealingLR", "MultiStepLR"],
)
def test_torch_state_dict_continues_here(make: Make) -> None:
    opt, topt = _pair("sgd", momentum=0.9)
    sched, tsched = make(ours, opt), make(theirs, topt)
    _trace(topt, tsched, 20, ("lr",))
    _trace(opt, sched, 3, ("lr",))  # elsewhere: the state dicts put it right
    for group, tgroup in zip(opt.param_groups, topt.param_groups, strict=True):
        for key in group:
            if key != "params":
                group[key] = tgroup[key]
    sched.load_state_dict(tsched.state_dict())
    keys = ("lr", "momentum")
    got = _trace(opt, sched, 20, keys)
    assert got == _trace(topt, tsched, 20, keys)
