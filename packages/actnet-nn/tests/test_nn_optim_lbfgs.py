"""LBFGS against the algorithm written out in NumPy (float64): its first
iterations by hand, convergence on a quadratic to the solution of the linear
system, the stopping rules, the state, and its refusals.
crosscheck/test_nn_optim_lbfgs_torch.py runs it beside torch.optim.LBFGS."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.nn import Parameter
from actnet.nn.optim import LBFGS

RNG = np.random.default_rng(11)
M = RNG.standard_normal((6, 6))
A = M @ M.T + 6 * np.eye(6)  # symmetric positive definite
B = RNG.standard_normal(6)


def quadratic(x: Parameter) -> Any:
    """0.5 x'Ax - b'x; its minimum is at A^-1 b."""
    a, b = at.tensor(A), at.tensor(B)
    return 0.5 * (x * (a @ x)).sum() - (b * x).sum()


def closure_of(x: Parameter, opt: LBFGS, losses: list[float]) -> Any:
    def closure() -> Any:
        opt.zero_grad()
        loss = quadratic(x)
        losses.append(loss.item())
        loss.backward()
        return loss

    return closure


def test_the_first_iterations_by_hand() -> None:
    # iteration 1: d = -g, t = min(1, 1/sum|g|) * lr; iteration 2: the two-loop
    # recursion with one pair (s, y), H_diag = y's / y'y, t = lr
    x0 = RNG.standard_normal(6)
    x = Parameter(at.tensor(x0))
    opt = LBFGS([x], lr=0.5, max_iter=2, max_eval=10)  # (by default 2 * 5 // 4)
    losses: list[float] = []
    opt.step(closure_of(x, opt, losses))
    g0 = A @ x0 - B
    t0 = min(1.0, 1.0 / np.abs(g0).sum()) * 0.5
    x1 = x0 - t0 * g0
    g1 = A @ x1 - B
    s, y = -t0 * g0, g1 - g0
    rho = 1.0 / (y @ s)
    alpha = rho * (s @ -g1)
    q = -g1 - alpha * y
    r = (y @ s) / (y @ y) * q
    r = r + s * (alpha - rho * (y @ r))
    x2 = x1 + 0.5 * r
    np.testing.assert_allclose(x.detach().numpy(), x2, rtol=1e-12)
    assert len(losses) == 2  # no evaluation after the last iteration
    state = opt.state[x]
    assert state["n_iter"] == 2 and state["func_evals"] == 2
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == 1


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_converges_to_the_solution_of_a_quadratic(line_search_fn: str | None) -> None:
    x = Parameter(at.zeros(6, dtype=at.float64))
    opt = LBFGS([x], lr=1, line_search_fn=line_search_fn, history_size=10)
    losses: list[float] = []
    for _ in range(5):
        opt.step(closure_of(x, opt, losses))
    # (it stops once the loss changes by under tolerance_change, 1e-9)
    np.testing.assert_allclose(x.detach().numpy(), np.linalg.solve(A, B), atol=1e-5)


def test_stops_on_max_eval_and_history_size() -> None:
    x = Parameter(at.zeros(6, dtype=at.float64))
    opt = LBFGS([x], lr=0.1, max_iter=50, max_eval=7, history_size=3)
    losses: list[float] = []
    opt.step(closure_of(x, opt, losses))
    assert len(losses) == 7
    assert len(opt.state[x]["old_dirs"]) == 3  # the oldest pairs dropped


def test_one_element_losses_and_several_parameters() -> None:
    # the flat vector spans parameters of several shapes; a loss of shape (1,)
    w = Parameter(at.tensor(RNG.standard_normal((2, 3))))
    v = Parameter(at.tensor(RNG.standard_normal(3)))
    target = at.tensor(RNG.standard_normal(3))
    opt = LBFGS([w, v], line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        loss = ((w.sum(0) + v - target) ** 2).sum().reshape(1)
        loss.backward()
        return loss

    first = opt.step(closure)
    assert first.shape == (1,)
    assert float(closure()) < 1e-10


def test_refusals() -> None:
    x = Parameter(at.zeros(2))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        LBFGS([x], lr=-0.1)
    with pytest.raises(ValueError, match="per-parameter options"):
        LBFGS([{"params": [x]}, {"params": [Parameter(at.zeros(1))]}])
    with pytest.raises(RuntimeError, match="only 'strong_wolfe'"):
        LBFGS([x], line_search_fn="armijo")
    with pytest.raises(TypeError, match="needs a closure"):
        LBFGS([x]).step()
