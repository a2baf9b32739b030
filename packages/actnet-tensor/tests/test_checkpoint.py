"""Activation checkpointing and the saved-tensor hooks it stands on.

The oracle of every gradient here is the same computation without checkpoint
(autograd itself is checked against PyTorch and finite differences elsewhere);
memory is read from the device's allocator."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.device import default_generator, get_device
from actnet.tensor.checkpoint import CheckpointError, checkpoint


def chain(x: at.Tensor, w: at.Tensor) -> at.Tensor:
    """Eight operations that each save tensors for backward."""
    for _ in range(4):
        x = (x * w).exp()
        x = x * 0.5 + x.sqrt()
    return x


def grad_of(t: at.Tensor) -> np.ndarray[Any, Any]:
    assert t.grad is not None
    return t.grad.numpy()


def grads(fn: Any, *tensors: at.Tensor) -> list[np.ndarray[Any, Any]]:
    for t in tensors:
        t.grad = None
    fn().sum().backward()
    return [grad_of(t) for t in tensors]


def inputs(n: int = 64) -> tuple[at.Tensor, at.Tensor]:
    rng = np.random.default_rng(0)
    x = at.tensor(rng.uniform(0.1, 0.5, n), requires_grad=True)
    w = at.tensor(rng.uniform(0.1, 0.5, n), requires_grad=True)
    return x, w


def test_gradients_equal_those_without_checkpoint() -> None:
    x, w = inputs()
    want = grads(lambda: chain(x, w), x, w)
    got = grads(lambda: checkpoint(chain, x, w), x, w)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)  # the same operations: the same bits


def test_the_function_runs_again_once_per_backward() -> None:
    x, w = inputs()
    calls = []

    def counted(x: at.Tensor, w: at.Tensor) -> at.Tensor:
        calls.append(1)
        return chain(x, w)

    y = checkpoint(counted, x, w).sum()
    assert len(calls) == 1
    y.backward(retain_graph=True)
    assert len(calls) == 2  # one recomputation serves every node of the segment
    first = grad_of(x).copy()
    y.backward()  # retain_graph: what the first backward read is recomputed
    assert len(calls) == 3
    np.testing.assert_array_equal(grad_of(x), 2 * first)


def test_activations_are_not_kept_until_backward() -> None:
    device = get_device("cpu")
    n = 1 << 18  # 2 MiB of float64 per activation
    x = at.tensor(np.full(n, 0.25), requires_grad=True)
    w = at.tensor(np.full(n, 0.5), requires_grad=True)

    def held_after_forward(fn: Any) -> int:
        before = device.memory_stats().used_bytes
        y = fn()
        held = device.memory_stats().used_bytes - before
        y.sum().backward()
        return held

    plain = held_after_forward(lambda: chain(x, w))
    checkpointed = held_after_forward(lambda: checkpoint(chain, x, w))
    assert checkpointed == n * 8  # the output alone
    assert plain >= 12 * n * 8  # the saved activations of the eight operations


def test_random_operations_draw_the_same_values_when_recomputed() -> None:
    x, w = inputs()

    def noisy(x: at.Tensor, w: at.Tensor) -> at.Tensor:
        keep = at.rand(x.shape) < 0.5  # dropout's mask, from default_generator
        return chain(x * keep, w)

    default_generator.manual_seed(3)
    want = grads(lambda: noisy(x, w), x, w)
    after = default_generator.get_state()
    default_generator.manual_seed(3)
    got = grads(lambda: checkpoint(noisy, x, w), x, w)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    # the recomputation leaves the generator where the first run left it
    assert default_generator.get_state() == after
    default_generator.manual_seed(3)
    other = grads(lambda: checkpoint(noisy, x, w, preserve_rng_state=False), x, w)
    assert not np.array_equal(other[0], want[0])  # another mask in backward


def test_grad_and_inputs_that_need_no_grad_work_through_it() -> None:
    x, w = inputs()
    x.requires_grad_(False)  # only the captured w needs a gradient
    (want,) = at.grad(chain(x, w).sum(), [w])
    (got,) = at.grad(checkpoint(chain, x, w).sum(), [w])
    assert got is not None and want is not None
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_a_recomputation_that_saves_otherwise_is_an_error() -> None:
    x, w = inputs()
    runs = []

    def fickle(x: at.Tensor, w: at.Tensor) -> at.Tensor:
        runs.append(1)
        return chain(x, w) if len(runs) == 1 else (x * w).exp()

    y = checkpoint(fickle, x, w).sum()
    with pytest.raises(CheckpointError, match=r"saved 3 tensors .* first run saved 16"):
        y.backward()


def test_refusals() -> None:
    x, w = inputs()
    with pytest.raises(ValueError, match="use_reentrant=True is not available"):
        checkpoint(chain, x, w, use_reentrant=True)
    with pytest.raises(TypeError, match="function must be callable"):
        checkpoint(3, x)  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(TypeError, match="preserve_rng_state must be a bool"):
        checkpoint(chain, x, w, preserve_rng_state=1)  # type: ignore[arg-type]  # on purpose


# ---------------------------------------------------------- saved_tensors_hooks
def test_hooks_replace_what_backward_keeps() -> None:
    x, w = inputs(8)
    packed: list[Any] = []

    def pack(t: at.Tensor) -> np.ndarray[Any, Any]:
        packed.append(t)
        return t.detach().numpy()

    with at.saved_tensors_hooks(pack, at.tensor):
        y = (x * w).exp()  # mul saves x and w, exp its output
    assert len(packed) == 3
    z = (x * w).exp()  # outside the context: kept as usual
    assert len(packed) == 3
    y.sum().backward()
    gx = grad_of(x).copy()
    x.grad = None
    z.sum().backward()
    np.testing.assert_array_equal(gx, grad_of(x))


def test_hooks_keep_the_version_check_and_check_what_unpack_returns() -> None:
    x, w = inputs(8)
    with at.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = (x * w).sum()
    with at.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()
    with at.saved_tensors_hooks(lambda t: 0, lambda p: p):
        y = (x * w).sum()
    with pytest.raises(TypeError, match="unpack_hook must return a Tensor, got int"):
        y.backward()
    with pytest.raises(TypeError, match="two callables"):
        at.saved_tensors_hooks(None, None)  # type: ignore[arg-type]  # on purpose
