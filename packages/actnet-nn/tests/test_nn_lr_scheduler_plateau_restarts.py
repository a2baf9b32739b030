"""ReduceLROnPlateau and CosineAnnealingWarmRestarts against hand-computed
values."""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import SGD
from actnet.nn.optim.lr_scheduler import (
    EPOCH_DEPRECATION_WARNING,
    CosineAnnealingWarmRestarts,
    ReduceLROnPlateau,
)


def _sgd(lr: float = 1.0, groups: int = 1) -> SGD:
    return SGD(
        [{"params": [Parameter(at.tensor([1.0]))]} for _ in range(groups)], lr=lr
    )


def _plateau(metrics: list[float], **kw: Any) -> list[float]:
    """The lr after each step(metric)."""
    opt = _sgd()
    sched = ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        sched.step(m)
        out.append(opt.param_groups[0]["lr"])
    assert sched.get_last_lr() == [out[-1]]
    return out


def test_plateau_leaves_the_lr_alone_when_built() -> None:
    opt = _sgd(0.3)
    sched = ReduceLROnPlateau(opt)
    assert opt.param_groups[0]["lr"] == 0.3
    assert "initial_lr" not in opt.param_groups[0]
    assert sched.get_last_lr() == [0.3]
    assert sched.last_epoch == 0


def test_plateau_reduces_after_patience_bad_steps() -> None:
    got = _plateau([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], patience=2, factor=0.5)
    # step 1 sets best; 2, 3 are bad (patience); the third bad one reduces
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    got = _plateau([1.0, 2.0, 0.5, 0.6, 0.7], patience=1, factor=0.5)
    assert got == [1.0, 1.0, 1.0, 1.0, 0.5]


def test_plateau_patience_zero_and_cooldown() -> None:
    got = _plateau([1.0] * 6, patience=0, factor=0.5, cooldown=2)
    # reduce, then two steps of cooldown, then reduce again
    assert got == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_plateau_max_mode_and_thresholds() -> None:
    # rel: 1.05 is not above 1.0 * (1 + 0.1)
    assert _plateau([1.0, 1.05], mode="max", patience=0, threshold=0.1) == [1.0, 0.1]
    assert _plateau([1.0, 1.2], mode="max", patience=0, threshold=0.1) == [1.0, 1.0]
    # abs: 0.95 is not below 1.0 - 0.1
    got = _plateau([1.0, 0.95], patience=0, threshold=0.1, threshold_mode="abs")
    assert got == [1.0, 0.1]
    got = _plateau([1.0, 0.85], patience=0, threshold=0.1, threshold_mode="abs")
    assert got == [1.0, 1.0]


def test_plateau_min_lr_per_group_and_eps() -> None:
    opt = _sgd(1.0, groups=2)
    sched = ReduceLROnPlateau(opt, patience=0, factor=0.1, min_lr=[0.05, 0.0])
    for _ in range(4):
        sched.step(1.0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.05, 1e-3])
    # a reduction smaller than eps is skipped
    opt = _sgd(1e-8)
    sched = ReduceLROnPlateau(opt, patience=0, factor=0.5)
    sched.step(1.0)
    sched.step(1.0)
    assert opt.param_groups[0]["lr"] == 1e-8


def test_plateau_takes_a_tensor_metric_and_warns_on_epoch() -> None:
    opt = _sgd()
    sched = ReduceLROnPlateau(opt, patience=0)
    sched.step(at.tensor(2.0))
    assert sched.best == 2.0
    with pytest.warns(UserWarning) as record:
        sched.step(3.0, epoch=7)
    assert str(record[0].message) == EPOCH_DEPRECATION_WARNING
    assert sched.last_epoch == 7


def test_plateau_errors() -> None:
    opt = _sgd()
    with pytest.raises(ValueError, match=r"Factor should be < 1.0."):
        ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        ReduceLROnPlateau(opt, mode="avg")  # type: ignore[arg-type]  # under test
    with pytest.raises(ValueError, match="threshold mode x is unknown!"):
        ReduceLROnPlateau(opt, threshold_mode="x")  # type: ignore[arg-type]  # ditto
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ReduceLROnPlateau(object())  # type: ignore[arg-type]  # under test


def test_plateau_new_group_takes_the_default_min_lr_or_raises() -> None:
    opt = _sgd()
    sched = ReduceLROnPlateau(opt, patience=0, min_lr=0.2)
    opt.add_param_group({"params": [Parameter(at.tensor([1.0]))], "lr": 0.3})
    sched.step(1.0)
    sched.step(1.0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.2, 0.2])
    opt = _sgd()
    sched = ReduceLROnPlateau(opt, patience=0, min_lr=[0.0])
    opt.add_param_group({"params": [Parameter(at.tensor([1.0]))]})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="differs from when `ReduceLROnPlateau`"):
        sched.step(1.0)


def test_plateau_state_dict_round_trip() -> None:
    opt = _sgd()
    sched = ReduceLROnPlateau(opt, mode="max", patience=1, cooldown=1)
    for m in (1.0, 0.5, 0.4):
        sched.step(m)
    state = sched.state_dict()
    assert "optimizer" not in state
    assert state["best"] == 1.0 and state["cooldown_counter"] == 1
    twin = ReduceLROnPlateau(_sgd())
    twin.load_state_dict(state)
    assert twin.mode == "max" and twin.mode_worse == -math.inf
    assert twin.state_dict() == state


# -------------------------------------------------- CosineAnnealingWarmRestarts
def _cosine(t_cur: float, t_i: float, eta_min: float = 0.0, base: float = 1.0) -> float:
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def _restarts(sched: CosineAnnealingWarmRestarts, opt: SGD, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_restarts_with_a_constant_period() -> None:
    opt = _sgd(0.5)
    sched = CosineAnnealingWarmRestarts(opt, T_0=4, eta_min=0.1)
    got = _restarts(sched, opt, 9)
    expected = [_cosine(e % 4, 4, 0.1, 0.5) for e in range(9)]
    assert got == pytest.approx(expected, rel=1e-12)
    assert got[4] == 0.5  # restarted


def test_restarts_with_growing_periods() -> None:
    opt = _sgd()
    sched = CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3)
    got = _restarts(sched, opt, 2 + 6 + 18 + 3)
    expected = (
        [_cosine(t, 2) for t in range(2)]
        + [_cosine(t, 6) for t in range(6)]
        + [_cosine(t, 18) for t in range(18)]
        + [_cosine(t, 54) for t in range(3)]
    )
    assert got == pytest.approx(expected, rel=1e-12)
    assert sched.T_i == 54


def test_restarts_fractional_epochs() -> None:
    opt = _sgd()
    sched = CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    for epoch, t_cur, t_i in [(0.5, 0.5, 2), (2.5, 0.5, 4), (7.25, 1.25, 8)]:
        sched.step(epoch)
        assert sched.T_cur == pytest.approx(t_cur)
        assert sched.T_i == t_i
        assert opt.param_groups[0]["lr"] == pytest.approx(_cosine(t_cur, t_i))
        assert sched.last_epoch == math.floor(epoch)
    sched.step()  # goes on from epoch 7: T_cur 2.25
    assert sched.T_cur == pytest.approx(2.25)
    sched.step(1.5)  # back into the first period
    assert (sched.T_i, sched.T_cur) == (2, 1.5)


def test_restarts_step_with_an_epoch_does_not_warn() -> None:
    opt = _sgd()
    sched = CosineAnnealingWarmRestarts(opt, T_0=3)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step(4.5)
    assert sched.T_cur == pytest.approx(1.5)


def test_restarts_errors() -> None:
    opt = _sgd()
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        CosineAnnealingWarmRestarts(opt, T_0=2.5)  # type: ignore[arg-type]  # under test
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 0"):
        CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="Expected float or int eta_min"):
        CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0")  # type: ignore[arg-type]  # under test
    sched = CosineAnnealingWarmRestarts(opt, T_0=2)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        sched.step(-1)


def test_restarts_state_dict_round_trip() -> None:
    opt = _sgd()
    sched = CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    _restarts(sched, opt, 5)
    state = sched.state_dict()
    opt2 = _sgd()
    twin = CosineAnnealingWarmRestarts(opt2, T_0=3, T_mult=2)
    twin.load_state_dict(state)
    assert _restarts(twin, opt2, 6)[1:] == _restarts(sched, opt, 6)[1:]
