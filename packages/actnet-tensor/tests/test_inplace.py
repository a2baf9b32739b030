"""In-place methods: copy-on-write, the version counter, and recorded history."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.ndarray import buffer_of


def arr(t: Any) -> np.ndarray[Any, Any]:
    return np.asarray(t.detach() if isinstance(t, at.Tensor) else t)


def test_in_place_writes_into_an_unshared_buffer() -> None:
    t = at.tensor(np.arange(4.0))
    buf = buffer_of(t.array)
    address = buf.native.__array_interface__["data"][0]
    del buf
    t.add_(1.0).mul_(2.0)
    assert buffer_of(t.array).native.__array_interface__["data"][0] == address
    np.testing.assert_array_equal(arr(t), (np.arange(4.0) + 1) * 2)
    assert t._version == 2


def test_in_place_never_changes_an_ndarray_someone_holds() -> None:
    t = at.tensor(np.arange(4.0))
    held = t.array  # someone keeps the NDArray
    view = t[1:]  # a view, and an alias: both show t's changes (PyTorch's)
    detached = t.detach()
    view_values = view.array
    t.add_(10.0)
    t[0] = -1.0
    np.testing.assert_array_equal(np.asarray(held), np.arange(4.0))
    np.testing.assert_array_equal(np.asarray(view_values), np.arange(1.0, 4.0))
    np.testing.assert_array_equal(arr(view), [11.0, 12.0, 13.0])
    np.testing.assert_array_equal(arr(detached), [-1.0, 11.0, 12.0, 13.0])
    np.testing.assert_array_equal(arr(t), [-1.0, 11.0, 12.0, 13.0])


@pytest.mark.parametrize(
    ("method", "args", "expected"),
    [
        ("add_", (at.tensor([1.0, 2.0]),), [2.0, 3.0]),
        ("sub_", (1.0,), [0.0, 0.0]),
        ("mul_", (3.0,), [3.0, 3.0]),
        ("div_", (at.tensor([2.0, 4.0]),), [0.5, 0.25]),
        ("fill_", (7.0,), [7.0, 7.0]),
        ("zero_", (), [0.0, 0.0]),
        ("clamp_", (0.0, 0.5), [0.5, 0.5]),
        ("copy_", (at.tensor([9.0, 8.0]),), [9.0, 8.0]),
        ("addcmul_", (at.tensor([2.0, 2.0]), at.tensor([3.0, 1.0])), [7.0, 3.0]),
        ("addcdiv_", (at.tensor([2.0, 2.0]), at.tensor([4.0, 1.0])), [1.5, 3.0]),
        ("lerp_", (at.tensor([3.0, 5.0]), 0.5), [2.0, 3.0]),
    ],
)
def test_in_place_methods(
    method: str, args: tuple[Any, ...], expected: list[float]
) -> None:
    for shared in (False, True):
        t = at.tensor(np.ones(2))
        keep = t.array if shared else None  # the copy path when shared
        result = getattr(t, method)(*args)
        assert result is t
        np.testing.assert_allclose(arr(t), expected)
        if keep is not None:
            np.testing.assert_array_equal(np.asarray(keep), np.ones(2))


def test_alpha_and_value_keywords() -> None:
    t = at.tensor(np.ones(2))
    t.add_(at.tensor([1.0, 2.0]), alpha=-2.0)
    np.testing.assert_allclose(arr(t), [-1.0, -3.0])
    t.addcmul_(at.tensor([1.0, 1.0]), at.tensor([1.0, 2.0]), value=0.5)
    np.testing.assert_allclose(arr(t), [-0.5, -2.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_with_alpha_in_one_pass(dtype: str) -> None:
    """add_(other, alpha=) of one shape and dtype is one device pass
    (add_scaled): into t's own buffer when unshared, else a new one, and never
    into an NDArray someone holds; through a view (p.data) the parameter
    changes; other showing t's memory reads the old values; versions count."""
    dt = getattr(at, dtype)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4))
    t = at.tensor(a, dtype=dt)
    address = buffer_of(t.array).native.__array_interface__["data"][0]
    t.add_(at.tensor(b, dtype=dt), alpha=-0.25)
    assert buffer_of(t.array).native.__array_interface__["data"][0] == address
    expected = a.astype(dtype) + np.asarray(-0.25, dtype) * b.astype(dtype)
    np.testing.assert_allclose(arr(t), expected, rtol=1e-6)
    assert t._version == 1
    keep = t.array
    before = np.asarray(keep).copy()
    t.add_(t, alpha=3)  # other is t's own memory
    np.testing.assert_allclose(arr(t), 4 * before, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(keep), before)
    p = at.tensor(a, dtype=dt, requires_grad=True)
    row = p.data[0]
    p.data.add_(at.ones(3, 4, dtype=dt), alpha=2.0)
    np.testing.assert_allclose(arr(p), a.astype(dtype) + 2, rtol=1e-6)
    np.testing.assert_allclose(arr(row), a[0].astype(dtype) + 2, rtol=1e-6)
    x = at.tensor(a, dtype=dt, requires_grad=True)
    y = x * 1.0
    saved = y * y  # keeps y for its backward
    with at.no_grad():  # one pass, unrecorded: the version still counts
        y.add_(at.ones(3, 4, dtype=dt), alpha=2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        saved.sum().backward()
    x2 = at.tensor(a, dtype=dt, requires_grad=True)
    z = x2 * 1.0
    z.add_(x2, alpha=2.0)
    z.sum().backward()
    np.testing.assert_allclose(arr(x2.grad), np.full((3, 4), 3.0))
    flat = at.tensor(rng.standard_normal(24), dtype=dt)
    w = at.tensor(a, dtype=dt)
    w.add_(flat[4:16].view(3, 4), alpha=0.5)  # other a view (its buffer has a base)
    np.testing.assert_allclose(
        arr(w), a.astype(dtype) + 0.5 * arr(flat)[4:16].reshape(3, 4), rtol=1e-6
    )
    flat.add_(flat[::-1].clone(), alpha=1.0)  # t itself a base of views


def test_random_in_place() -> None:
    t = at.zeros(1000)
    t.uniform_(-2.0, 3.0)
    values = arr(t)
    assert values.min() >= -2.0 and values.max() < 3.0
    t.normal_(1.0, 0.1)
    assert abs(arr(t).mean() - 1.0) < 0.05


def test_in_place_on_a_leaf_that_requires_grad() -> None:
    w = at.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1.0)
    with at.no_grad():
        w.add_(1.0)
    np.testing.assert_array_equal(arr(w), [2.0, 2.0, 2.0])


def test_modifying_a_saved_tensor_breaks_backward() -> None:
    x = at.tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    z = y * y  # saves y
    with at.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_modifying_a_saved_output_breaks_backward() -> None:
    x = at.tensor(np.ones(3), requires_grad=True)
    y = (x * 1.0).exp()  # saves its output
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_in_place_is_recorded_on_non_leaves() -> None:
    x = at.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * 2.0
    y.add_(1.0)
    y.mul_(x)  # y = (2x + 1) * x
    y[0] = 0.0
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), [0.0, 4 * 2.0 + 1, 4 * 3.0 + 1])


def test_setitem_with_a_tensor_that_requires_grad() -> None:
    t = at.zeros(4)
    v = at.tensor(np.array([5.0, 6.0]), requires_grad=True)
    t[1:3] = v
    assert t.requires_grad and t.grad_fn is not None
    (t * at.tensor(np.arange(4.0))).sum().backward()
    np.testing.assert_allclose(arr(v.grad), [1.0, 2.0])


def test_in_place_refuses_a_dtype_change() -> None:
    t = at.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        t.mul_(0.5)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        at.zeros(2).add_(at.ones(3, 2))


def test_optimizer_style_updates_keep_memory_flat() -> None:
    from actnet.device import get_device

    dev = get_device("cpu:8")
    w = at.tensor(np.ones((32, 32)), device=dev, requires_grad=True)
    m = at.zeros(32, 32, dtype="float64", device=dev)
    for step in range(5):
        w.grad = None
        (w * w).sum().backward()
        with at.no_grad():
            m.mul_(0.9).add_(w.grad, alpha=0.1)  # type: ignore[arg-type]
            w.add_(m, alpha=-0.01)
        if step == 1:
            used = dev.memory_stats().used_bytes
    assert dev.memory_stats().used_bytes == used
