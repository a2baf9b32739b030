"""Tests of actnet.tensor.compile on steps written with tensor operations alone
(the models, optimizers and schedulers are actnet-nn's tests). The oracle is the
same step run eagerly from the same state."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at


def _data(n: int, seed: int = 0) -> list[tuple[at.Tensor, at.Tensor]]:
    rng = np.random.default_rng(seed)
    return [
        (
            at.tensor(rng.standard_normal((8, 3)).astype(np.float32)),
            at.tensor(rng.standard_normal((8, 1)).astype(np.float32)),
        )
        for _ in range(n)
    ]


def _regression(lr: float = 0.1) -> tuple[Callable[..., at.Tensor], list[at.Tensor]]:
    """Linear regression by hand: the gradient step in place under no_grad, the
    gradients dropped after it (made and freed within each step)."""
    at.manual_seed(0)
    w = at.randn(3, 1, requires_grad=True)
    b = at.zeros(1, requires_grad=True)

    def step(x: at.Tensor, y: at.Tensor) -> at.Tensor:
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with at.no_grad():
            for p in (w, b):
                assert p.grad is not None
                p.sub_(lr * p.grad)
                p.grad = None
        return loss

    return step, [w, b]


def test_replayed_steps_equal_eager_steps_bitwise() -> None:
    data = _data(30)
    eager, eager_params = _regression()
    eager_losses = [float(eager(x, y)) for x, y in data]
    step, params = _regression()
    compiled = at.compile(step)
    losses = [float(compiled(x, y)) for x, y in data]
    assert losses == eager_losses
    for p, q in zip(params, eager_params, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        assert p.grad is None  # as after every eager step
    assert (compiled.recordings, compiled.replays) == (1, 28)
    plan = compiled.memory_plan
    assert plan is not None and plan.buffers  # the gradients are transient
    assert plan.lower_bound_bytes <= plan.peak_bytes


def test_random_numbers_are_drawn_anew_by_every_replay() -> None:
    x = at.ones(4, 4)

    def noisy(x: at.Tensor) -> at.Tensor:
        return x * at.rand(4, 4) + at.randn(4, 4)

    at.manual_seed(3)
    eager = [noisy(x).numpy() for _ in range(6)]
    at.manual_seed(3)
    compiled = at.compile(noisy)
    got = [compiled(x).numpy() for _ in range(6)]
    for a, b in zip(got, eager, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(got[3], got[4])
    assert compiled.replays == 4


def test_results_are_fresh_and_keep_their_structure() -> None:
    w = at.ones(2)

    def step(x: at.Tensor, tag: str) -> dict[str, Any]:
        with at.no_grad():
            w.add_(x)
        return {"w": w * 1.0, "pair": (x + 1, tag), "n": 3}

    compiled = at.compile(step)
    for _ in range(3):
        compiled(at.tensor([1.0, 1.0]), "a")
    kept = compiled(at.tensor([2.0, 2.0]), "a")  # a replay
    assert compiled.replays == 2
    np.testing.assert_array_equal(kept["w"].numpy(), [6.0, 6.0])
    assert kept["pair"][1] == "a" and kept["n"] == 3
    assert kept["w"].grad_fn is None and not kept["w"].requires_grad
    compiled(at.tensor([5.0, 5.0]), "a")
    np.testing.assert_array_equal(kept["w"].numpy(), [6.0, 6.0])  # unchanged
    np.testing.assert_array_equal(kept["pair"][0].numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(w.numpy(), [11.0, 11.0])


def test_signatures_each_get_a_recording_in_a_bounded_cache() -> None:
    def step(x: at.Tensor, scale: float) -> at.Tensor:
        return (x * scale).sum()

    compiled = at.compile(step, cache_size=2)
    shapes = [(3,), (4,), (3,), (4,), (3,), (4,)]
    results = [float(compiled(at.ones(*s), 2.0)) for s in shapes]
    assert results == [6.0, 8.0] * 3
    assert (compiled.recordings, compiled.replays) == (2, 2)
    assert float(compiled(at.ones(3), 3.0)) == 9.0  # a new value: a new signature
    assert float(compiled(at.ones(3), 3.0)) == 9.0
    assert compiled.recordings == 3
    compiled(at.ones(4), 2.0)  # used last before: still there, replayed
    assert (compiled.recordings, compiled.replays) == (3, 3)
    compiled(at.ones(3), 2.0)  # the least recently used: gone, eager again
    compiled(at.ones(3), 2.0)
    assert (compiled.recordings, compiled.replays) == (4, 3)
    assert compiled.__name__ == "step"


def test_rebinding_state_records_again() -> None:
    w = at.ones(3)

    def step(x: at.Tensor) -> at.Tensor:
        return (x * w).sum()

    compiled = at.compile(step)
    for _ in range(3):
        compiled(at.ones(3))
    assert compiled.recordings == 1
    w.data = at.full((3,), 2.0).array  # the old buffer goes
    gc.collect()
    assert float(compiled(at.ones(3))) == 6.0
    assert compiled.recordings == 2


def test_host_reads_inside_the_step_raise_capture_error() -> None:
    def step(x: at.Tensor) -> at.Tensor:
        y = x * 2
        if float(y.sum()) > 0:  # control flow on a device value
            return y
        return -y

    compiled = at.compile(step)
    compiled(at.ones(2))  # eager: fine
    with pytest.raises(at.CaptureError, match=r"float\(\).*test_compile.py"):
        compiled(at.ones(2))
    assert not at.ones(1).device.capturing


def test_bad_arguments_are_named() -> None:
    compiled = at.compile(lambda x, s: x)
    with pytest.raises(ValueError, match="argument 0 requires grad"):
        compiled(at.ones(2, requires_grad=True), 1)
    with pytest.raises(TypeError, match="argument 's' is a set"):
        compiled(at.ones(2), s={1})
    with pytest.raises(TypeError, match="compile takes a function"):
        at.compile(3)  # type: ignore[call-overload]  # the refusal is tested
    with pytest.raises(ValueError, match="cache_size"):
        at.compile(lambda x: x, cache_size=0)
    assert at.compile(lambda x: x).memory_plan is None


def test_a_step_is_recorded_on_its_arguments_device() -> None:
    """With a tensor argument on `reference`, the step records and replays
    there (each replay updates the state); with none, it is recorded on cpu, and
    work on another device is refused by name rather than left out of the
    replay (which would return the recording's values forever)."""
    w = at.tensor(np.ones(4, np.float32), device="reference")

    def step(g: at.Tensor) -> at.Tensor:
        with at.no_grad():
            w.sub_(0.1 * g)
        return w.sum()

    f = at.compile(step)
    g = at.tensor(np.full(4, 0.5, np.float32), device="reference")
    got = [float(f(g)) for _ in range(4)]
    np.testing.assert_allclose(got, [3.8, 3.6, 3.4, 3.2], rtol=1e-6)
    assert f.replays == 2

    def no_arguments() -> at.Tensor:
        return step(g)

    h = at.compile(no_arguments)
    h()  # call 1 runs eagerly
    with pytest.raises(at.CaptureError, match="pass it a tensor on reference:0"):
        h()
