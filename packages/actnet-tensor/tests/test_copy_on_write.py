"""The copy-on-write rule (`sole_buffer`): its reference counts, and its users.

`sole_buffer` decides by CPython reference counts whether a tensor alone holds
its buffer. These tests pin down each count it relies on, both ways: a CPython
that counted these idioms differently would either never write in place (the
first test fails) or write into memory someone else sees (the others fail).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import actnet.ndarray as xp
import actnet.tensor as at
from actnet.ndarray import buffer_of
from actnet.tensor._copy_on_write import sole_buffer


def address(t: at.Tensor) -> int:
    interface: dict[str, Any] = t.array.buffer.native.__array_interface__
    return int(interface["data"][0])


def test_a_tensor_alone_holds_its_buffer() -> None:
    t = at.tensor(np.arange(4.0))
    buf = sole_buffer(t)
    assert buf is not None and buf is t.array.buffer


def test_another_reference_to_the_ndarray_shares_it() -> None:
    t = at.tensor(np.arange(4.0))
    held = t.array
    assert sole_buffer(t) is None
    del held
    assert sole_buffer(t) is not None


def test_another_tensor_over_the_same_ndarray_shares_it() -> None:
    t = at.tensor(np.arange(4.0))
    other = at.as_tensor(t.array)  # not an alias: it must never change
    assert sole_buffer(t) is None and sole_buffer(other) is None
    del other
    assert sole_buffer(t) is not None


def test_aliases_over_the_same_ndarray_write_in_place_together() -> None:
    """t.detach() and t.data show t's NDArray and are to see its in-place
    changes: they do not stop t (or each other) writing into the buffer, and
    they see the change, versions counted; an NDArray someone holds still
    never changes."""
    t = at.tensor(np.arange(4.0))
    detached, data = t.detach(), t.data
    address = buffer_of(t.array).native.__array_interface__["data"][0]
    # one assert each: pytest's rewriting keeps the first Buffer while it
    # evaluates the second
    assert sole_buffer(t) is not None
    assert sole_buffer(data) is not None
    data.add_(1.0)
    t.mul_(2.0)
    assert buffer_of(t.array).native.__array_interface__["data"][0] == address
    for u in (t, detached, data):
        np.testing.assert_array_equal(np.asarray(u.array), (np.arange(4.0) + 1) * 2)
    assert (t._version, detached._version, data._version) == (2, 2, 2)
    keep = detached.array
    t.add_(1.0)  # keep holds the NDArray: a copy
    np.testing.assert_array_equal(np.asarray(keep), (np.arange(4.0) + 1) * 2)
    np.testing.assert_array_equal(np.asarray(data.array), (np.arange(4.0) + 1) * 2 + 1)


def test_another_reference_to_the_buffer_shares_it() -> None:
    t = at.tensor(np.arange(4.0))
    buf = t.array.buffer
    assert sole_buffer(t) is None
    del buf
    assert sole_buffer(t) is not None


def test_a_view_shares_its_owner_and_is_not_writable_itself() -> None:
    t = at.tensor(np.arange(4.0))
    view = t[1:]
    assert sole_buffer(t) is None  # the view holds the owner's buffer
    assert sole_buffer(view) is None  # a view shows its owner's memory
    del view
    assert sole_buffer(t) is not None


def test_writable_buffer_writes_in_place_or_copies() -> None:
    t = at.tensor(np.arange(4.0))
    before = address(t)
    buf = at.writable_buffer(t)
    assert buf.native.__array_interface__["data"][0] == before
    assert t._version == 1
    del buf
    held = t.array
    buf = at.writable_buffer(t)  # someone holds the values: t gets a copy
    buf.native[...] = -1.0
    np.testing.assert_array_equal(np.asarray(held), np.arange(4.0))
    np.testing.assert_array_equal(t.numpy(), [-1.0] * 4)
    assert t._version == 2


def test_gradients_accumulate_in_place() -> None:
    w = at.tensor(np.ones(8), requires_grad=True)
    (w * 2.0).sum().backward()
    assert w.grad is not None
    before = address(w.grad)
    for _ in range(3):
        (w * 2.0).sum().backward()
    assert address(w.grad) == before
    np.testing.assert_array_equal(w.grad.numpy(), [8.0] * 8)


def test_leaves_sharing_an_incoming_gradient_keep_their_own() -> None:
    # An addition passes one gradient to both inputs: each leaf's .grad is its
    # own tensor, and accumulating into one leaves the other alone.
    a = at.tensor([1.0, 2.0], requires_grad=True)
    b = at.tensor([1.0, 2.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not None and b.grad is not None and a.grad is not b.grad
    (a * 3.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_the_implicit_output_gradient_is_never_written() -> None:
    x = at.tensor(2.0, requires_grad=True)
    x.backward()
    x.backward()  # accumulates into x.grad, not into the shared ones
    y = at.tensor(3.0, requires_grad=True)
    y.backward()
    assert x.grad is not None and y.grad is not None
    assert x.grad.item() == 2.0 and y.grad.item() == 1.0


def test_as_tensor_shares_memory_but_never_sees_a_later_write() -> None:
    """as_tensor over an NDArray shares its memory (no copy); a later write to
    the NDArray (value semantics) copies first, so the tensor, and what backward
    saved of it, keep their values."""
    x = xp.asarray([1.0, 2.0, 3.0])
    t = at.as_tensor(x)
    assert t.array.buffer is x.buffer  # shared, not copied
    x[0] = 100.0
    x += 1.0
    assert t.tolist() == [1.0, 2.0, 3.0]
    assert np.asarray(x).tolist() == [101.0, 3.0, 4.0]
