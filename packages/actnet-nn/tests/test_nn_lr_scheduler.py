"""Learning-rate schedulers against their closed forms (hand-computed values)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

import actnet.tensor as at
from actnet import nn
from actnet.nn import Parameter
from actnet.nn.optim import SGD, AdamW, Optimizer
from actnet.nn.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    SequentialLR,
    StepLR,
)


def _sgd(lr: float = 0.1, groups: int = 1, **kw: Any) -> SGD:
    return SGD(
        [{"params": [Parameter(at.tensor([1.0]))]} for _ in range(groups)], lr=lr, **kw
    )


def _lrs(opt: Optimizer, sched: LRScheduler, steps: int) -> list[float]:
    """The lr of group 0 before each of `steps` optimizer steps."""
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_step_lr() -> None:
    opt = _sgd(0.5)
    sched = StepLR(opt, step_size=3, gamma=0.1)
    got = _lrs(opt, sched, 10)
    assert got == pytest.approx([0.5 * 0.1 ** (e // 3) for e in range(10)], rel=1e-12)
    assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
    assert sched.last_epoch == 10
    assert sched.base_lrs == [0.5]


def test_multi_step_lr_counts_repeated_milestones() -> None:
    opt = _sgd(1.0)
    sched = MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.5)
    assert _lrs(opt, sched, 7) == pytest.approx(
        [1.0, 1.0, 0.5, 0.5, 0.5, 0.125, 0.125], rel=1e-12
    )


def test_exponential_lr() -> None:
    opt = _sgd(2.0)
    sched = ExponentialLR(opt, gamma=0.9)
    assert _lrs(opt, sched, 6) == pytest.approx(
        [2.0 * 0.9**e for e in range(6)], rel=1e-12
    )


@pytest.mark.parametrize("eta_min", [0.0, 0.01])
def test_cosine_annealing_follows_the_closed_form_and_its_period(
    eta_min: float,
) -> None:
    opt = _sgd(0.1)
    t_max = 10
    sched = CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)
    got = _lrs(opt, sched, 3 * t_max)
    expected = [
        eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2
        for e in range(3 * t_max)
    ]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-14)
    assert got[t_max] == pytest.approx(eta_min, abs=1e-15)


def test_linear_lr_warmup() -> None:
    opt = _sgd(0.3)
    sched = LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=4)
    got = _lrs(opt, sched, 7)
    expected = [0.3 * (0.25 + 0.75 * min(e, 4) / 4) for e in range(7)]
    assert got == pytest.approx(expected, rel=1e-12)


def test_linear_lr_validates_its_factors() -> None:
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        LinearLR(_sgd(), start_factor=0.0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        LinearLR(_sgd(), end_factor=1.5)


def test_lambda_lr_one_function_per_group() -> None:
    opt = _sgd(1.0, groups=2)
    opt.param_groups[1]["lr"] = 2.0
    sched = LambdaLR(opt, [lambda e: 0.5**e, lambda e: 1.0 / (e + 1)])
    for _ in range(3):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == pytest.approx([0.125, 0.5])
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        LambdaLR(opt, [lambda e: 1.0])


def test_sequential_warmup_then_cosine() -> None:
    opt = AdamW([Parameter(at.tensor([1.0]))], lr=1.0)
    warmup = LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=4)
    cosine = CosineAnnealingLR(opt, T_max=6, eta_min=0.0)
    sched = SequentialLR(opt, schedulers=[warmup, cosine], milestones=[4])
    got = _lrs(opt, sched, 10)
    expected = [0.1 + 0.9 * e / 4 for e in range(4)] + [
        (1 + math.cos(math.pi * e / 6)) / 2 for e in range(6)
    ]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_sequential_lr_checks_its_arguments() -> None:
    opt = _sgd()
    a = StepLR(opt, 2)
    with pytest.raises(ValueError, match="number of milestones"):
        SequentialLR(opt, [a, ExponentialLR(opt, 0.9)], milestones=[])
    with pytest.raises(ValueError, match="same optimizer"):
        SequentialLR(opt, [a, StepLR(_sgd(), 2)], milestones=[3])


def _one_cycle_expected(
    step: int, total: int, max_lr: float, pct: float, cos: bool, three: bool
) -> tuple[float, float]:
    """OneCycleLR's lr and momentum at `step`, by the paper's piecewise schedule."""
    initial, low_m, high_m = max_lr / 25.0, 0.85, 0.95
    final = initial / 1e4

    def anneal(a: float, b: float, x: float) -> float:
        if cos:
            return b + (a - b) / 2 * (math.cos(math.pi * x) + 1)
        return a + (b - a) * x

    up = pct * total - 1
    if three:
        phases = [
            (up, initial, max_lr, high_m, low_m),
            (2 * pct * total - 2, max_lr, initial, low_m, high_m),
            (total - 1, initial, final, high_m, high_m),
        ]
    else:
        phases = [
            (up, initial, max_lr, high_m, low_m),
            (total - 1, max_lr, final, low_m, high_m),
        ]
    start = 0.0
    for i, (end, lr0, lr1, m0, m1) in enumerate(phases):
        if step <= end or i == len(phases) - 1:
            x = (step - start) / (end - start)
            return anneal(lr0, lr1, x), anneal(m0, m1, x)
        start = end
    raise AssertionError


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_with_momentum(strategy: Any, three_phase: bool) -> None:
    opt = _sgd(0.1, momentum=0.9)
    total = 20
    sched = OneCycleLR(
        opt,
        max_lr=1.0,
        total_steps=total,
        anneal_strategy=strategy,
        three_phase=three_phase,
    )
    for step in range(total):
        lr, m = _one_cycle_expected(
            step, total, 1.0, 0.3, strategy == "cos", three_phase
        )
        assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(m, rel=1e-12)
        opt.step()
        if step < total - 1:
            sched.step()
    sched.step()  # last_epoch == total_steps is allowed ...
    with pytest.raises(ValueError, match="Tried to step 21 times"):
        sched.step()  # ... one more is not


def test_one_cycle_cycles_beta1_of_adam_like_optimizers() -> None:
    opt = AdamW([Parameter(at.tensor([1.0]))], lr=0.1, betas=(0.9, 0.99))
    OneCycleLR(opt, max_lr=0.5, epochs=2, steps_per_epoch=5)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.02)


def test_one_cycle_argument_errors() -> None:
    with pytest.raises(ValueError, match="either total_steps OR"):
        OneCycleLR(_sgd(momentum=0.9), max_lr=1.0)
    with pytest.raises(ValueError, match="positive integer total_steps"):
        OneCycleLR(_sgd(momentum=0.9), max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        OneCycleLR(
            _sgd(momentum=0.9),
            max_lr=1.0,
            total_steps=5,
            anneal_strategy="step",  # type: ignore[arg-type]  # the error under test
        )
    with pytest.raises(ValueError, match="support momentum or beta1"):

        class Bare(Optimizer):
            pass

        OneCycleLR(Bare([Parameter(at.tensor([1.0]))], {"lr": 0.1}), 1.0, 5)


def test_stepping_the_scheduler_first_warns() -> None:
    opt = _sgd()
    sched = StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_replacing_optimizer_step_after_the_scheduler_warns() -> None:
    opt = _sgd()
    sched = StepLR(opt, step_size=1)
    step: Callable[..., Any] = SGD.step.__get__(opt)
    opt.step = step  # type: ignore[method-assign]  # the case under test
    opt.step()
    with pytest.warns(UserWarning, match="has been overridden"):
        sched.step()


def test_get_lr_outside_step_warns_and_epoch_argument_is_deprecated() -> None:
    opt = _sgd(1.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match="use `get_last_lr\\(\\)`"):
        sched.get_lr()
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(5)  # closed form: 1.0 * 0.5 ** (5 // 2)
    assert opt.param_groups[0]["lr"] == 0.25


def test_state_dict_round_trip() -> None:
    opt = _sgd(0.1)
    sched = CosineAnnealingLR(opt, T_max=8)
    _lrs(opt, sched, 3)
    saved = sched.state_dict()
    assert "optimizer" not in saved
    assert saved["last_epoch"] == 3
    twin_opt = _sgd(0.1)
    twin = CosineAnnealingLR(twin_opt, T_max=100)
    twin.load_state_dict(saved)
    twin_opt.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    assert _lrs(twin_opt, twin, 4) == _lrs(opt, sched, 4)


def test_sequential_state_dict_round_trip() -> None:
    def make() -> tuple[SGD, SequentialLR]:
        opt = _sgd(1.0)
        a = LinearLR(opt, start_factor=0.5, total_iters=2)
        b = ExponentialLR(opt, gamma=0.5)
        return opt, SequentialLR(opt, [a, b], milestones=[2])

    opt, sched = make()
    _lrs(opt, sched, 3)
    twin_opt, twin = make()
    twin.load_state_dict(sched.state_dict())
    twin_opt.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    assert _lrs(twin_opt, twin, 3) == _lrs(opt, sched, 3)


def test_resuming_needs_initial_lr() -> None:
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(_sgd(), step_size=2, last_epoch=3)


def test_reachable_from_the_package() -> None:
    assert nn.optim.lr_scheduler.CosineAnnealingLR is CosineAnnealingLR
    with pytest.raises(TypeError, match="is not an Optimizer"):
        StepLR(object(), 1)  # type: ignore[arg-type]  # the error under test
