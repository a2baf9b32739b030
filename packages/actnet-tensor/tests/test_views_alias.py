"""Views alias (in-place changes write through to the base and every other
view), against NumPy, whose views alias the same way; the NDArrays taken from a
tensor never change; the optimizers' entry (writable_buffer) with live aliases.
The same programs against PyTorch, with gradients: crosscheck/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actnet.tensor as at
from actnet.ndarray import buffer_of

# (name, on an actnet tensor, on a NumPy array, least ndim)
VIEWS: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], int]] = [
    ("[1]", lambda t: t[1], lambda a: a[1, ...], 1),  # NumPy: a view even at 0-d
    ("[..., ::2]", lambda t: t[..., ::2], lambda a: a[..., ::2], 1),
    ("[None, -1]", lambda t: t[None, -1], lambda a: a[None, -1, ...], 1),
    ("transpose(0, -1)", lambda t: t.transpose(0, -1), lambda a: a.swapaxes(0, -1), 2),
    ("permute", lambda t: t.permute(*reversed(range(t.ndim))), lambda a: a.T, 1),
    ("flatten", lambda t: t.reshape(-1), lambda a: a.reshape(-1), 1),
    ("unsqueeze(0)", lambda t: t.unsqueeze(0), lambda a: a[None], 0),
    ("narrow(0, 1, 1)", lambda t: t.narrow(0, 1, 1), lambda a: a[1:2], 1),
    ("select(-1, 0)", lambda t: t.select(-1, 0), lambda a: a[..., 0], 1),
    (
        "chunk(2, 0)[1]",
        lambda t: t.chunk(2, 0)[1],
        lambda a: a[-(-a.shape[0] // 2) :],
        1,
    ),
    ("detach()", lambda t: t.detach(), lambda a: a, 0),
    (".data", lambda t: t.data, lambda a: a, 0),
]

WRITES: list[tuple[str, Callable[[Any], None], Callable[[Any], None]]] = [
    ("add_(2)", lambda t: t.add_(2.0), lambda a: a.__iadd__(2.0)),
    ("mul_(-3)", lambda t: t.mul_(-3.0), lambda a: a.__imul__(-3.0)),
    ("fill_(7)", lambda t: t.fill_(7.0), lambda a: a.fill(7.0)),
    ("[...] = 5", lambda t: t.__setitem__(Ellipsis, 5.0),
     lambda a: a.__setitem__(Ellipsis, 5.0)),
    ("[0] = -1", lambda t: t.__setitem__(0, -1.0), lambda a: a.__setitem__(0, -1.0)),
    ("exp_()", lambda t: t.exp_(), lambda a: _exp_in_place(a)),
]  # fmt: skip


def _exp_in_place(a: np.ndarray[Any, Any]) -> None:
    with np.errstate(over="ignore"):  # repeated exp_ reaches inf, as actnet's
        np.exp(a, out=a)


def _fits(view: tuple[str, Any, Any, int], a: np.ndarray[Any, Any]) -> bool:
    name, _, _, least = view
    if a.ndim < least:
        return False
    return not (name in ("[1]", "narrow(0, 1, 1)", "chunk(2, 0)[1]") and a.shape[0] < 2)


@settings(max_examples=200, deadline=None)
@given(
    chains=st.lists(
        st.lists(st.integers(0, len(VIEWS) - 1), min_size=1, max_size=3),
        min_size=1,
        max_size=3,
    ),
    writes=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, len(WRITES) - 1)),
        min_size=1,
        max_size=4,
    ),
)
def test_writes_through_any_view_show_in_all_of_them_as_numpy_views(
    chains: list[list[int]], writes: list[tuple[int, int]]
) -> None:
    oracle = np.arange(24.0).reshape(4, 3, 2) / 8 - 1
    ours = at.tensor(oracle.copy())
    taken = ours.array  # an NDArray taken before: it never changes
    tensors = [("x", ours, oracle)]
    for chain in chains:
        name, t, a = "x", ours, oracle
        for i in chain:
            if _fits(VIEWS[i], a):
                name, t, a = f"{name}.{VIEWS[i][0]}", VIEWS[i][1](t), VIEWS[i][2](a)
        tensors.append((name, t, a))
    done = []
    for which, w in writes:
        name, t, a = tensors[which % len(tensors)]
        if name.endswith("[None, -1]") and WRITES[w][0] == "[0] = -1":
            continue
        if a.ndim == 0 and WRITES[w][0] == "[0] = -1":
            continue
        WRITES[w][1](t)
        WRITES[w][2](a)
        done.append(f"{name}.{WRITES[w][0]}")
        for other, ot, oa in tensors:
            np.testing.assert_allclose(
                np.asarray(ot), oa, rtol=1e-12, err_msg=f"{other} after {done}"
            )
    np.testing.assert_array_equal(
        np.asarray(taken), np.arange(24.0).reshape(4, 3, 2) / 8 - 1
    )


def test_data_rebinding_leaves_the_views_with_the_old_values() -> None:
    p = at.tensor([1.0, 2.0, 3.0])
    v = p[1:]
    d = p.detach()
    p.data = at.tensor([7.0, 8.0, 9.0])
    np.testing.assert_array_equal(np.asarray(v), [2.0, 3.0])
    v.add_(10.0)  # v and d still alias each other, not p
    np.testing.assert_array_equal(np.asarray(d), [1.0, 12.0, 13.0])
    np.testing.assert_array_equal(np.asarray(p), [7.0, 8.0, 9.0])


def test_views_outlive_their_base() -> None:
    x = at.arange(6.0).reshape(2, 3)
    a, b = x[0], x[:, 1]  # they overlap at x[0, 1]
    del x
    a.mul_(10.0)
    np.testing.assert_array_equal(np.asarray(b), [10.0, 4.0])


def test_dead_views_are_forgotten() -> None:
    x = at.zeros(4)
    for _ in range(1000):
        x[0].add_(1.0)
    info = x._alias
    assert info is not None and len(info.storage.members) < 40
    assert float(x[0]) == 1000.0


def _address(t: at.Tensor) -> int:
    native = buffer_of(t.array).native
    return int(native.__array_interface__["data"][0])


def test_writable_buffer_writes_in_place_under_aliases_of_the_same_values() -> None:
    p = at.tensor([1.0, 2.0])
    alias = p.detach()  # as state_dict() holds parameters
    address = _address(p)
    buf = at.writable_buffer(p)
    buf.device.multiply(buf, 3.0, out=buf)
    assert _address(p) == address  # no copy
    np.testing.assert_array_equal(np.asarray(alias), [3.0, 6.0])


def test_writable_buffer_never_writes_an_ndarray_someone_holds() -> None:
    p = at.tensor([1.0, 2.0])
    alias = p.detach()
    view = p[1:]
    held = p.array
    buf = at.writable_buffer(p)
    buf.device.multiply(buf, 3.0, out=buf)
    np.testing.assert_array_equal(np.asarray(held), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(p), [3.0, 6.0])
    np.testing.assert_array_equal(np.asarray(alias), [3.0, 6.0])
    np.testing.assert_array_equal(np.asarray(view), [6.0])


def test_expanded_views_refuse_writes() -> None:
    x = at.zeros(3)
    with pytest.raises(RuntimeError, match="more than one element"):
        x.expand(2, 3).fill_(1.0)
    x.expand(1, 3).fill_(1.0)  # nothing repeated: a plain view
    np.testing.assert_array_equal(np.asarray(x), [1.0, 1.0, 1.0])


def test_a_reshape_that_copies_is_no_view() -> None:
    x = at.arange(6.0).reshape(2, 3)
    flat = x.t().reshape(-1)  # not expressible over x's strides: a copy, as torch's
    flat.add_(100.0)
    np.testing.assert_array_equal(np.asarray(x), np.arange(6.0).reshape(2, 3))
