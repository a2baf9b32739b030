"""LBFGS against torch.optim.LBFGS (PyTorch 2.13.0, CPU): the same objective,
written once for both libraries, from the same parameters. The closure runs
as many times under both (the line search's calls included: the same branches
are taken), and every loss it computes, the parameters after each step, the
state's names and counters agree: float64 within 1e-6 of the values' scale,
float32 within 1e-4.

Not closer in float64: the first losses agree to an ulp, but PyTorch's fused
multiply-adds (`add_(alpha=)`) and BLAS dot products round differently, and
the quasi-Newton steps on these ill-conditioned problems (Rosenbrock's valley,
fixed steps of lr=1) grow that by about a factor of ten every few
evaluations: 60 evaluations on in float64, 1e-8 relative is seen. A wrong
formula differs at once, and by much more.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import LBFGS
from actnet.nn.optim._strong_wolfe import cubic_interpolate

torch.set_num_threads(2)
TOL = {"float64": 1e-6, "float32": 1e-4}


def _mlp_data(dtype: str) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((20, 3)).astype(dtype)
    y = np.sin(x.sum(1, keepdims=True)).astype(dtype)
    shapes = [(3, 8), (8,), (8, 1), (1,)]
    return [0.5 * rng.standard_normal(s).astype(dtype) for s in shapes], x, y


def _mlp(lib: ModuleType, params: list[Any], x: Any, y: Any) -> Any:
    """A small regression: tanh(x W1 + b1) W2 + b2 against y, mean squared."""
    w1, b1, w2, b2 = params
    out = lib.tanh(x @ w1 + b1) @ w2 + b2
    return ((out - y) ** 2).mean()


def _rosenbrock(lib: ModuleType, params: list[Any], x: Any, y: Any) -> Any:
    """Rosenbrock's valley in two parameters (shape (1,) each)."""
    a, b = params
    return ((1 - a) ** 2 + 100 * (b - a**2) ** 2).sum()


def _rosenbrock_data(dtype: str) -> tuple[list[np.ndarray], None, None]:
    return [np.array([-1.5], dtype), np.array([2.0], dtype)], None, None


PROBLEMS: dict[str, tuple[Callable[..., Any], Callable[[str], Any]]] = {
    "mlp": (_mlp, _mlp_data),
    "rosenbrock": (_rosenbrock, _rosenbrock_data),
}


class Run:
    """One library's parameters, LBFGS and closure on a problem; `losses` has
    every value the closure computed."""

    def __init__(
        self, lib: ModuleType, problem: str, dtype: str, options: dict[str, Any]
    ) -> None:
        objective, make = PROBLEMS[problem]
        init, x, y = make(dtype)
        if lib is torch:
            self.params = [torch.nn.Parameter(torch.tensor(v)) for v in init]
            self.opt: Any = torch.optim.LBFGS(self.params, **options)
        else:
            self.params = [Parameter(at.tensor(v)) for v in init]
            self.opt = LBFGS(self.params, **options)
        self.x = None if x is None else lib.tensor(x)
        self.y = None if y is None else lib.tensor(y)
        self.lib, self.objective = lib, objective
        self.losses: list[float] = []

    def closure(self) -> Any:
        self.opt.zero_grad()
        loss = self.objective(self.lib, self.params, self.x, self.y)
        self.losses.append(loss.item())
        loss.backward()
        return loss

    def step(self) -> float:
        return float(self.opt.step(self.closure).detach())

    def values(self) -> list[np.ndarray]:
        return [p.detach().numpy().copy() for p in self.params]


def _close(ours: list[Any], theirs: list[Any], tol: float, what: str) -> None:
    assert len(ours) == len(theirs), (what, len(ours), len(theirs))
    for a, b in zip(ours, theirs, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        scale = max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale, err_msg=what)


def _run_both(
    problem: str, dtype: str, options: dict[str, Any], steps: int
) -> tuple[Run, Run]:
    ours, theirs = Run(at, problem, dtype, options), Run(torch, problem, dtype, options)
    tol = TOL[dtype]
    for step in range(steps):
        returned = ours.step(), theirs.step()
        _close([returned[0]], [returned[1]], tol, f"step {step}'s returned loss")
        _close(ours.losses, theirs.losses, tol, f"losses up to step {step}")
        _close(ours.values(), theirs.values(), tol, f"parameters after step {step}")
    ours_state = ours.opt.state[ours.params[0]]
    theirs_state = theirs.opt.state[theirs.params[0]]
    assert list(ours_state) == list(theirs_state)
    for key in ("func_evals", "n_iter"):
        assert ours_state[key] == theirs_state[key], key
    if "old_dirs" in theirs_state:
        assert len(ours_state["old_dirs"]) == len(theirs_state["old_dirs"])
    return ours, theirs


OPTIONS = [
    {},  # PyTorch's defaults: lr=1, max_iter=20, history_size=100, no line search
    {"lr": 0.5, "max_iter": 7, "history_size": 3},  # the history is shifted
    {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 30},
    {"line_search_fn": "strong_wolfe", "lr": 1e-3},  # extrapolates first
    {"line_search_fn": "strong_wolfe", "lr": 300.0},  # zooms in a long bracket
    {"lr": 0.8, "max_eval": 9},  # stops on evaluations
    {"tolerance_change": 1e-3, "tolerance_grad": 1e-3},  # stops on progress
]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("problem", ["mlp", "rosenbrock"])
def test_lbfgs_steps_as_torch_in_float64(problem: str, options: dict[str, Any]) -> None:
    ours, _ = _run_both(problem, "float64", options, steps=3)
    assert ours.losses[-1] < ours.losses[0]


@pytest.mark.parametrize("options", [{}, {"line_search_fn": "strong_wolfe"}], ids=str)
def test_lbfgs_steps_as_torch_in_float32(options: dict[str, Any]) -> None:
    # a few steps: the float32 comparisons of the line search stay the same
    _run_both("mlp", "float32", {**options, "max_iter": 6}, steps=2)


def test_lbfgs_rosenbrock_with_strong_wolfe_converges_as_torch() -> None:
    ours, _ = _run_both(
        "rosenbrock", "float64", {"line_search_fn": "strong_wolfe"}, steps=4
    )
    np.testing.assert_allclose(np.concatenate(ours.values()), [1.0, 1.0], atol=1e-5)
    assert len(ours.losses) > 20  # the line search evaluated between iterations


def test_lbfgs_stops_at_once_on_a_small_gradient() -> None:
    # max|g| <= tolerance_grad: one evaluation, nothing moves, no state but counts
    ours, _ = _run_both("mlp", "float64", {"tolerance_grad": 1e3}, steps=2)
    assert len(ours.losses) == 2
    assert set(ours.opt.state[ours.params[0]]) == {"func_evals", "n_iter"}


def _power_closure(used: Any, optimizer: Any, target: Any) -> Callable[[], Any]:
    def closure() -> Any:
        optimizer.zero_grad()
        loss = ((used - target) ** 4).sum()
        loss.backward()
        return loss

    return closure


def test_lbfgs_takes_a_missing_gradient_as_zero() -> None:
    # a parameter the loss does not use: its part of the flat gradient is 0
    rng = np.random.default_rng(1)
    target = rng.standard_normal(4)
    runs = []
    for lib, make, opt in (
        (torch, torch.nn.Parameter, torch.optim.LBFGS),
        (at, Parameter, LBFGS),
    ):
        used, unused = (
            make(lib.zeros(4, dtype=lib.float64)),
            make(lib.ones(2, dtype=lib.float64)),
        )
        optimizer = opt([used, unused], history_size=4)

        closure = _power_closure(used, optimizer, lib.tensor(target))
        for _ in range(2):
            optimizer.step(closure)
        assert unused.grad is None
        runs.append((used.detach().numpy().copy(), unused.detach().numpy().copy()))
    _close(list(runs[1]), list(runs[0]), 1e-10, "parameters")


def test_lbfgs_tensor_lr_is_kept_as_a_tensor() -> None:
    # a 1-element lr tensor steps by its (float32) value, as PyTorch's does
    ours = Run(at, "mlp", "float64", {"lr": at.tensor([0.8])})
    theirs = Run(torch, "mlp", "float64", {"lr": torch.tensor([0.8])})
    for _ in range(2):
        ours.step()
        theirs.step()
    _close(ours.losses, theirs.losses, TOL["float64"], "losses")
    _close(ours.values(), theirs.values(), TOL["float64"], "parameters")
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        LBFGS(ours.params, lr=at.tensor([0.1, 0.2]))


def test_lbfgs_state_dict_continues() -> None:
    # a state_dict taken mid-run, loaded into a fresh optimizer on the same
    # parameters, continues exactly as the uninterrupted run
    straight = Run(at, "mlp", "float64", {"history_size": 4})
    resumed = Run(at, "mlp", "float64", {"history_size": 4})
    for run in (straight, resumed):
        run.step()
    saved = resumed.opt.state_dict()
    resumed.opt = LBFGS(resumed.params, history_size=4)
    resumed.opt.load_state_dict(saved)
    for run in (straight, resumed):
        run.step()
        run.step()
    _close(resumed.values(), straight.values(), 0.0, "parameters")
    theirs = Run(torch, "mlp", "float64", {"history_size": 4})
    assert sorted(saved["state"][0]) == sorted(_torch_state_keys(theirs))


def _torch_state_keys(run: Run) -> list[str]:
    run.step()
    return list(run.opt.state_dict()["state"][0])


def test_lbfgs_refuses_what_torch_refuses() -> None:
    w = Parameter(at.zeros(2))
    for lib, param in ((at, w), (torch, torch.nn.Parameter(torch.zeros(2)))):
        opt = LBFGS if lib is at else torch.optim.LBFGS
        with pytest.raises(ValueError, match="Invalid learning rate: -1"):
            opt([param], lr=-1)
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            opt([{"params": [param]}, {"params": [lib.zeros(1, requires_grad=True)]}])
    # PyTorch says this at the first step; actnet at construction
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        LBFGS([w], line_search_fn="backtracking")
    with pytest.raises(TypeError, match="closure"):
        LBFGS([w]).step()
    with pytest.raises(TypeError, match="floating-point"):
        LBFGS([Parameter(at.zeros(2, dtype=at.int64), requires_grad=False)])


def _slopes_as(lib: ModuleType, args: tuple[float, ...]) -> list[Any]:
    """(x1, f1, g1, x2, f2, g2) with the slopes g1, g2 float64 0-d tensors."""
    return [
        lib.tensor(v, dtype=lib.float64) if i in (2, 5) else v
        for i, v in enumerate(args)
    ]


def test_cubic_interpolate_as_torch() -> None:
    # the minimiser of the cubic, bounded or not, either order of the points,
    # and the midpoint where the cubic has no minimum (d2^2 < 0); slopes as
    # float64 tensors, as float64 parameters make them (in float32, PyTorch's
    # sqrt is not correctly rounded on this CPU: 1 ulp off for 17% of inputs)
    from torch.optim.lbfgs import _cubic_interpolate as theirs

    rng = np.random.default_rng(3)
    seen_midpoint = False
    for _ in range(200):
        x1, f1, g1, x2, f2, g2 = rng.standard_normal(6)
        bounds = (
            tuple(sorted(rng.standard_normal(2) * 3)) if rng.random() < 0.5 else None
        )
        args = (float(x1), float(f1), float(g1), float(x2), float(f2), float(g2))
        t = theirs(*_slopes_as(torch, args), bounds=bounds)
        o = cubic_interpolate(*_slopes_as(at, args), bounds=bounds)
        np.testing.assert_allclose(float(o), float(t), rtol=1e-12, atol=1e-12)
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        seen_midpoint |= d1**2 - g1 * g2 < 0
    assert seen_midpoint
