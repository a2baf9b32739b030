"""The autograd engine: graphs, hooks, graph freeing, modes, higher order, memory."""

from __future__ import annotations

import gc
import threading
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.device import get_device


def arr(t: at.Tensor | None) -> np.ndarray[Any, Any]:
    assert t is not None
    return np.asarray(t.detach())


def leaf(values: Any, dtype: str = "float64") -> at.Tensor:
    return at.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_simple_gradient() -> None:
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [2.0, 4.0, 6.0])


def test_diamond_graph_adds_both_paths() -> None:
    x = leaf([1.0, 2.0])
    a = x * 3.0
    b = x * x
    (a + b).sum().backward()  # d/dx (3x + x^2) = 3 + 2x
    np.testing.assert_allclose(arr(x.grad), [5.0, 7.0])


def test_reused_input_in_one_operation() -> None:
    x = leaf([1.5, -2.0])
    (x * x * x).sum().backward()
    np.testing.assert_allclose(arr(x.grad), 3 * np.array([1.5, -2.0]) ** 2)


def test_leaf_gradients_accumulate_over_two_backward_calls() -> None:
    x = leaf([1.0, 2.0])
    (x * 2.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [2.0 + 2.0, 2.0 + 4.0])


def test_second_backward_without_retain_graph_raises() -> None:
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(arr(x.grad), [4.0, 8.0])


def test_chain_of_ten_thousand_nodes_needs_no_recursion() -> None:
    x = leaf([1.0])
    y = x
    for _ in range(10_000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), [1.0])


def test_implicit_gradient_needs_a_scalar_output() -> None:
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2.0).backward()
    (x * 2.0).backward(at.tensor(np.array([1.0, 10.0])))
    np.testing.assert_allclose(arr(x.grad), [2.0, 20.0])


def test_backward_of_a_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        at.tensor([1.0]).sum().backward()


def test_hooks_on_leaves_and_intermediates() -> None:
    x = leaf([1.0, 2.0])
    seen: list[np.ndarray[Any, Any]] = []
    y = x * 3.0
    y.register_hook(lambda g: seen.append(arr(g)))
    handle = x.register_hook(lambda g: g * 10.0)  # replaces the leaf's gradient
    y.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(arr(x.grad), [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [3.0, 3.0])


def test_hook_on_intermediate_can_replace_the_gradient() -> None:
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.register_hook(lambda g: g * 0.0)
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), [0.0, 0.0])


def test_retain_grad_keeps_an_intermediate_gradient() -> None:
    x = leaf([1.0, 2.0])
    y = x * x
    y.retain_grad()
    (y * 3.0).sum().backward()
    np.testing.assert_allclose(arr(y.grad), [3.0, 3.0])
    assert (x * 2.0).grad is None


def test_no_grad_and_enable_grad() -> None:
    x = leaf([1.0])
    with at.no_grad():
        y = x * 2.0
        with at.enable_grad():
            z = x * 2.0
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @at.no_grad()
    def f(t: at.Tensor) -> at.Tensor:
        return t * 2.0

    assert not f(x).requires_grad
    assert at.is_grad_enabled()


def test_grad_mode_is_thread_local() -> None:
    results: list[bool] = []
    with at.no_grad():
        thread = threading.Thread(target=lambda: results.append(at.is_grad_enabled()))
        thread.start()
        thread.join()
        assert not at.is_grad_enabled()
    assert results == [True]


def test_higher_order_gradients() -> None:
    x = leaf([2.0, -1.0])
    y = (x * x * x).sum()
    (g,) = at.grad(y, x, create_graph=True)
    np.testing.assert_allclose(arr(g), 3 * np.array([2.0, -1.0]) ** 2)
    (gg,) = at.grad(g.sum(), x)
    np.testing.assert_allclose(arr(gg), 6 * np.array([2.0, -1.0]))


def test_functional_grad_does_not_accumulate() -> None:
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = at.grad(y, [x, w])
    np.testing.assert_allclose(arr(gx), [3.0, 4.0])
    np.testing.assert_allclose(arr(gw), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_of_an_unused_input() -> None:
    x, u = leaf([1.0]), leaf([1.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        at.grad((x * 2.0).sum(), [x, u])
    gx, gu = at.grad((x * 2.0).sum(), [x, u], allow_unused=True)
    assert gu is None and arr(gx).tolist() == [2.0]


def test_backward_with_inputs_accumulates_only_there() -> None:
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x * w).sum().backward(inputs=[x])
    np.testing.assert_allclose(arr(x.grad), [3.0, 4.0])
    assert w.grad is None


def test_intermediate_memory_returns_after_backward() -> None:
    dev = get_device("cpu:6")
    x = at.tensor(np.ones((64, 64)), device=dev, requires_grad=True)
    start = dev.memory_stats().used_bytes
    y = x
    for _ in range(10):
        y = (y * 1.01).exp()  # exp saves its output: memory held for backward
    held = dev.memory_stats().used_bytes
    # exp saves its output for backward: ten of them are held, nothing else
    assert held == start + 10 * 64 * 64 * 8
    y.sum().backward()
    del y
    gc.collect()
    # only the leaf's gradient remains, and the implicit output gradient (a 0-d
    # ones, kept per device and dtype: 256 bytes)
    assert dev.memory_stats().used_bytes == start + 64 * 64 * 8 + 256
    snapshot = dev.memory_snapshot()
    assert {r.info[0] for r in snapshot} <= {"parameter", "gradient", "constant"}


def test_memory_snapshot_labels_what_each_buffer_is() -> None:
    dev = get_device("cpu:7")
    w = at.tensor(np.ones((8, 8)), device=dev, requires_grad=True)
    h = (w * 2.0).exp()
    labels = {r.info for r in dev.memory_snapshot()}
    assert ("parameter", "tensor") in labels
    assert ("saved for backward", "mul") in labels or ("activation", "exp") in labels
    h.sum().backward()
    assert any(r.info[0] == "gradient" for r in dev.memory_snapshot())


def test_detach_shares_values_but_not_history() -> None:
    x = leaf([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    assert d.array is y.array  # immutable values: sharing is safe


def test_requires_grad_rules() -> None:
    with pytest.raises(RuntimeError, match="floating point"):
        at.tensor([1, 2]).requires_grad_()
    y = leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_post_accumulate_grad_hooks_see_the_accumulated_gradient() -> None:
    w = at.tensor([1.0, 2.0], requires_grad=True)
    seen: list[list[float]] = []
    handle = w.register_post_accumulate_grad_hook(
        lambda t: seen.append(t.grad.tolist())  # type: ignore[union-attr]  # set by then
    )
    (w * 3).sum().backward()
    (w * w).sum().backward()  # accumulates: 3 + 2w
    assert seen == [[3.0, 3.0], [5.0, 7.0]]
    handle.remove()
    (w * 3).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="does not require grad"):
        at.ones(2).register_post_accumulate_grad_hook(lambda t: None)


def test_queued_callbacks_run_once_the_whole_graph_is_walked() -> None:
    a = at.tensor([1.0], requires_grad=True)
    b = at.tensor([2.0], requires_grad=True)
    order: list[str] = []

    def first(t: at.Tensor) -> None:
        order.append("hook")
        at.queue_callback(
            lambda: order.append(f"callback {a.grad.tolist()} {b.grad.tolist()}")
        )  # type: ignore[union-attr]  # both set by then

    a.register_post_accumulate_grad_hook(first)
    (a * b * 5).sum().backward()
    assert order == ["hook", "callback [10.0] [5.0]"]
    with pytest.raises(RuntimeError, match="no backward is running"):
        at.queue_callback(lambda: None)
