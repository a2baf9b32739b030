"""Selective checkpointing: what a policy keeps is kept, the rest is recomputed op
by op in backward.

The oracle of every gradient is the same computation with everything saved
(autograd itself is checked against PyTorch and finite differences elsewhere):
the same kernels on the same values, so the same bits. Memory is read from the
device's allocator; recomputations are counted by the Functions themselves."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.device import get_device
from actnet.tensor import Function
from actnet.tensor.checkpoint import (
    checkpoint,
    dots_saveable,
    nothing_saveable,
    selective_checkpoint,
)

CPU = get_device("cpu")
RUNS: Counter[str] = Counter()  # forward runs per Function


class Dot(Function):
    """x @ w, marked as a contraction."""

    contracts = True

    @staticmethod
    def forward(ctx: Any, x: at.Tensor, w: at.Tensor) -> at.Tensor:
        RUNS["Dot"] += 1
        ctx.save_for_backward(x, w)
        return x @ w

    @staticmethod
    def backward(ctx: Any, grad: at.Tensor) -> tuple[at.Tensor, at.Tensor]:
        x, w = ctx.saved_tensors
        return grad @ w.mT, x.mT @ grad


class Tanh(Function):
    """An elementwise operation that saves its input."""

    @staticmethod
    def forward(ctx: Any, x: at.Tensor) -> at.Tensor:
        RUNS["Tanh"] += 1
        ctx.save_for_backward(x)
        return x.tanh()

    @staticmethod
    def backward(ctx: Any, grad: at.Tensor) -> at.Tensor:
        (x,) = ctx.saved_tensors
        return grad * (1 - x.tanh() ** 2)


class Scale(Function):
    """x * s for a Python float s (a non-tensor argument)."""

    @staticmethod
    def forward(ctx: Any, x: at.Tensor, s: float) -> at.Tensor:
        RUNS["Scale"] += 1
        ctx.s = s
        return x * s

    @staticmethod
    def backward(ctx: Any, grad: at.Tensor) -> tuple[at.Tensor, None]:
        return grad * ctx.s, None


class Noise(Function):
    """x plus uniform noise from the default generator."""

    @staticmethod
    def forward(ctx: Any, x: at.Tensor) -> at.Tensor:
        RUNS["Noise"] += 1
        return x + at.rand(*x.shape, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Any, grad: at.Tensor) -> at.Tensor:
        return grad


def mlp(x: at.Tensor, w1: at.Tensor, w2: at.Tensor) -> at.Tensor:
    """dot -> tanh -> scale -> dot: the second dot saves scale's output, whose
    recipe needs tanh's, whose recipe needs the first dot's (kept)."""
    h = Dot.apply(x, w1)
    a = Scale.apply(Tanh.apply(h), 0.5)
    return Dot.apply(a, w2)


def params(device: str = "cpu", n: int = 32) -> list[at.Tensor]:
    rng = np.random.default_rng(0)
    shapes = ((n, 48), (48, 64), (64, 16))
    return [
        at.tensor(rng.standard_normal(s).astype(np.float32), device=device,
                  requires_grad=True)
        for s in shapes
    ]  # fmt: skip


def gradients(run: Any, tensors: list[at.Tensor]) -> list[np.ndarray[Any, Any]]:
    for t in tensors:
        t.grad = None
    run().sum().backward()
    out = []
    for t in tensors:
        assert t.grad is not None
        out.append(t.grad.numpy())
    return out


@pytest.mark.parametrize("device", ["cpu", "reference"])
def test_gradients_are_bitwise_those_of_saving_everything(device: str) -> None:
    x, w1, w2 = params(device)
    want = gradients(lambda: mlp(x, w1, w2), [x, w1, w2])

    def selective() -> at.Tensor:
        with selective_checkpoint(dots_saveable):
            return mlp(x, w1, w2)

    for got in (
        gradients(selective, [x, w1, w2]),
        gradients(
            lambda: checkpoint(mlp, x, w1, w2, policy=dots_saveable), [x, w1, w2]
        ),
    ):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_dots_are_kept_and_the_rest_recomputed_once() -> None:
    x, w1, w2 = params()
    RUNS.clear()
    with selective_checkpoint(dots_saveable):
        y = mlp(x, w1, w2)
    assert RUNS == {"Dot": 2, "Tanh": 1, "Scale": 1}
    y.sum().backward()
    # scale's output (saved by the second dot) is made again from tanh's, made
    # again from the first dot's; tanh's input is that dot's output, kept
    assert RUNS == {"Dot": 2, "Tanh": 2, "Scale": 2}


def test_nothing_saveable_recomputes_the_dots_too() -> None:
    x, w1, w2 = params()
    want = gradients(lambda: mlp(x, w1, w2), [x, w1, w2])
    RUNS.clear()

    def selective() -> at.Tensor:
        with selective_checkpoint(nothing_saveable):
            return mlp(x, w1, w2)

    got = gradients(selective, [x, w1, w2])
    # the first dot's output is saved by tanh and needed again to remake
    # scale's output: made once in backward, shared by both
    assert RUNS == {"Dot": 3, "Tanh": 2, "Scale": 2}
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_memory_held_for_backward_is_what_the_policy_keeps() -> None:
    """Between forward and backward the selective run holds exactly one buffer
    less: scale's output (32 x 64 float32), which the second dot saved. (Tanh's
    output is held by nothing either way: tanh saves its input, scale nothing.)"""
    x, w1, w2 = params()

    def held(policy: Any) -> int:
        before = CPU.memory_stats().used_bytes
        if policy is None:
            y = mlp(x, w1, w2)
        else:
            with selective_checkpoint(policy):
                y = mlp(x, w1, w2)
        used = CPU.memory_stats().used_bytes - before
        del y
        return used

    before = CPU.memory_stats().used_bytes
    one = at.empty(32, 64)  # the block that scale's output takes
    block = CPU.memory_stats().used_bytes - before
    del one
    assert held(None) - held(dots_saveable) == block


def test_random_operations_keep_their_outputs() -> None:
    """Noise drew random numbers: its output is kept (a recomputation would draw
    others), and gradients equal those of saving everything for the same
    draws."""
    x, w1, w2 = params()

    def noisy() -> at.Tensor:
        return Dot.apply(Tanh.apply(Noise.apply(Dot.apply(x, w1))), w2)

    at.manual_seed(3)
    want = gradients(noisy, [x, w1, w2])
    RUNS.clear()
    at.manual_seed(3)

    def selective() -> at.Tensor:
        with selective_checkpoint(dots_saveable):
            return noisy()

    got = gradients(selective, [x, w1, w2])
    assert RUNS["Noise"] == 1 and RUNS["Tanh"] == 2
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_argument_changed_in_place_before_backward_is_an_error() -> None:
    x, w1, w2 = params()
    h = Dot.apply(x, w1)
    with selective_checkpoint(dots_saveable):
        y = Dot.apply(Scale.apply(h, 2.0), w2)  # scale's output kept as a recipe
    with at.no_grad():
        h.mul_(3)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_compile_with_a_policy_replays_eager_steps_in_less_memory() -> None:
    """Twenty SGD steps of two MLP blocks: compiled with dots_saveable they equal
    eager steps bit for bit, and the recording's planned transient peak is lower
    (the first block's scale output is not held through the second block)."""

    def trainer(policy: Any) -> tuple[Any, list[at.Tensor]]:
        x, w1, w4 = params()
        rng = np.random.default_rng(1)
        w2, w3 = (
            at.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
            for s in ((64, 48), (48, 64))
        )
        x, w = x.detach(), [w1, w2, w3, w4]

        def step() -> at.Tensor:
            for p in w:
                p.grad = None
            loss = mlp(mlp(x, w1, w2), w3, w4).square().mean()
            loss.backward()
            with at.no_grad():
                for p in w:
                    assert p.grad is not None
                    p.sub_(0.1 * p.grad)
            return loss

        return (step if policy is False else at.compile(step, policy=policy)), w

    eager, we = trainer(False)
    plain, wp = trainer(None)
    assert wp is not we
    selective, ws = trainer(dots_saveable)
    for _ in range(20):
        want = float(eager())
        assert float(plain()) == want
        assert float(selective()) == want
    for a, b in zip(ws, we, strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert selective.replays == 18 and plain.replays == 18
    assert plain.memory_plan is not None and selective.memory_plan is not None
    assert selective.memory_plan.peak_bytes < plain.memory_plan.peak_bytes
    assert plain.memory_plan.recomputed == ()
    # each block's scale and tanh outputs (the first saved by the second dot,
    # the other needed to make it), and add's (saved by nothing here but the
    # square, whose output it is not: it is the loss's input)
    assert {r.function for r in selective.memory_plan.recomputed} >= {"Scale", "Tanh"}
    assert all(r.function not in ("Dot",) for r in selective.memory_plan.recomputed)


def test_bad_policies_are_refused() -> None:
    with pytest.raises(TypeError, match="policy must be callable"):
        selective_checkpoint("dots")  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(TypeError, match="compile: policy must be callable"):
        at.compile(lambda: None, policy=3)  # type: ignore[arg-type]  # wrong on purpose


# ------------------------------------------------------------ memory budgets
def budget_trainer(
    budget: Any, runs: list[int] | None = None, device: str = "cpu"
) -> tuple[Any, list[Any]]:
    """SGD steps of four residual MLP blocks (x + dot(scale(tanh(dot(x)))))
    from fixed weights: eager when budget is False, else compiled with it."""
    rng = np.random.default_rng(2)
    x = at.tensor(rng.standard_normal((64, 48)).astype(np.float32), device=device)
    ws = [
        at.tensor(
            0.2 * rng.standard_normal(s).astype(np.float32),
            device=device,
            requires_grad=True,
        )
        for _ in range(4)
        for s in ((48, 96), (96, 48))
    ]

    def step(x: at.Tensor) -> at.Tensor:
        if runs is not None:
            runs.append(1)
        for w in ws:
            w.grad = None
        h = x
        for i in range(4):
            h = h + mlp(h, ws[2 * i], ws[2 * i + 1])
        loss = h.square().mean()
        loss.backward()
        with at.no_grad():
            for w in ws:
                assert w.grad is not None
                w.sub_(0.05 * w.grad)
        return loss

    # x is an argument: a compiled step records on its arguments' device
    if budget is False:
        return (lambda: step(x)), ws
    compiled = at.compile(step, memory_budget=budget)
    return _Bound(compiled, x), ws


class _Bound:
    """A compiled step and its argument: calling it calls the step on x; the
    compiled step's attributes read through."""

    def __init__(self, compiled: Any, x: at.Tensor) -> None:
        self.compiled = compiled
        self.x = x

    def __call__(self) -> at.Tensor:
        result: at.Tensor = self.compiled(self.x)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled, name)


@pytest.mark.parametrize(
    ("budget", "device"), [(0.9, "cpu"), (0.75, "cpu"), (0.75, "reference")]
)
def test_a_memory_budget_fits_the_plan_and_keeps_the_steps_exact(
    budget: float, device: str
) -> None:
    """The plan ends within the budget (a fraction of the unconstrained plan),
    by recomputing saved tensors found over a few recorded calls; every step
    equals the eager step bit for bit."""
    eager, we = budget_trainer(False, device=device)
    free, _ = budget_trainer(None, device=device)
    fitted, wf = budget_trainer(budget, device=device)
    for _ in range(12):
        want = float(eager())
        assert float(free()) == want
        assert float(fitted()) == want
    for a, b in zip(wf, we, strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert free.memory_plan is not None and fitted.memory_plan is not None
    unconstrained = free.memory_plan.peak_bytes
    assert fitted.memory_plan.budget_bytes == int(np.ceil(budget * unconstrained))
    assert fitted.memory_plan.peak_bytes <= fitted.memory_plan.budget_bytes
    assert fitted.recordings >= 2 and fitted.recordings + fitted.replays == 11
    assert fitted.memory_plan.recomputed
    assert {r.function for r in fitted.memory_plan.recomputed} <= {
        "Dot",
        "Tanh",
        "Scale",
        "add",
        "reshape",
        "permute",
        "view",
    }
    assert all(r.nbytes > 0 and r.seconds >= 0 for r in fitted.memory_plan.recomputed)


def test_a_budget_the_step_fits_already_changes_nothing() -> None:
    free, _ = budget_trainer(None)
    fitted, _ = budget_trainer(1 << 40)  # bytes
    for _ in range(4):
        assert float(fitted()) == float(free())
    assert fitted.recordings == 1 and fitted.memory_plan.recomputed == ()
    assert fitted.memory_plan is not None and free.memory_plan is not None
    assert fitted.memory_plan.peak_bytes == free.memory_plan.peak_bytes


def test_a_budget_out_of_reach_is_refused_naming_the_smallest() -> None:
    """The call that finds the budget out of reach raises, naming the smallest
    budget that works (it ran its step); later calls refuse before running."""
    runs: list[int] = []
    fitted, _ = budget_trainer(1024, runs)  # bytes: far below any plan
    smallest = None
    for _ in range(12):
        try:
            fitted()
        except ValueError as exc:
            assert "memory_budget of 1024 bytes" in str(exc)
            assert isinstance(exc, at.MemoryBudgetError)
            smallest = exc.smallest_bytes
            break
    assert smallest is not None
    done = len(runs)
    with pytest.raises(ValueError, match="smallest that works"):
        fitted()
    assert len(runs) == done  # refused without running the step
    again, _ = budget_trainer(smallest)
    for _ in range(12):
        again()
    assert again.memory_plan is not None
    assert again.memory_plan.peak_bytes <= smallest


def test_bad_budgets_are_refused() -> None:
    for bad, kind in ((0.0, ValueError), (1.5, ValueError), (-1, ValueError),
                      ("1GB", TypeError), (True, TypeError)):  # fmt: skip
        with pytest.raises(kind, match="memory_budget"):
            at.compile(lambda: None, memory_budget=bad)
