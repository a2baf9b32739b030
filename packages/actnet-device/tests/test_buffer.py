"""Buffer views against the NumPy view of the same name: shape, element strides,
element offset, contiguity and values; memory shared with (and kept alive by) the
owner; and what a Buffer refuses."""

from __future__ import annotations

import copy
import gc
import pickle
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from _helpers import CPU, assert_identical, get, put
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from actnet.device import Buffer, Device, get_device
from actnet.device._numpy import NumPyBackend

Host = np.ndarray[Any, Any]
# (id, the Buffer view, the same view of a NumPy array), on a (2, 3, 4) owner.
VIEWS: list[tuple[str, Callable[[Buffer], Buffer], Callable[[Host], Host]]] = [
    ("reshape", lambda b: b.reshape(6, 4), lambda h: h.reshape(6, 4)),
    ("reshape-tuple", lambda b: b.reshape((4, -1, 2)), lambda h: h.reshape(4, 3, 2)),
    ("reshape-flat", lambda b: b.reshape(-1), lambda h: h.reshape(-1)),
    (
        "reshape-0d",
        lambda b: b[0, 0, :1].reshape(()),
        lambda h: h[0, 0, :1].reshape(()),
    ),
    ("transpose", lambda b: b.transpose(), lambda h: h.transpose()),
    ("transpose-axes", lambda b: b.transpose(2, 0, 1), lambda h: h.transpose(2, 0, 1)),
    (
        "transpose-neg",
        lambda b: b.transpose((-1, 0, -2)),
        lambda h: h.transpose(2, 0, 1),
    ),
    ("permute", lambda b: b.permute(1, 2, 0), lambda h: h.transpose(1, 2, 0)),
    ("T", lambda b: b.T, lambda h: h.T),
    ("T-2d", lambda b: b[1].T, lambda h: h[1].T),
    ("swapaxes", lambda b: b.swapaxes(0, -1), lambda h: h.swapaxes(0, 2)),
    ("getitem-int", lambda b: b[1], lambda h: h[1]),
    ("getitem-neg", lambda b: b[-1, -2], lambda h: h[-1, -2]),
    ("getitem-all-ints", lambda b: b[1, 2, 3], lambda h: h[1, 2, 3, ...]),
    ("getitem-np-int", lambda b: b[np.int64(1), :, np.int32(2)], lambda h: h[1, :, 2]),
    ("getitem-slices", lambda b: b[:, 1:, ::2], lambda h: h[:, 1:, ::2]),
    ("getitem-reverse", lambda b: b[::-1, ::-2], lambda h: h[::-1, ::-2]),
    ("getitem-none", lambda b: b[None, :, None, 1], lambda h: h[None, :, None, 1]),
    ("getitem-ellipsis", lambda b: b[..., 1:3], lambda h: h[..., 1:3]),
    ("getitem-ellipsis-int", lambda b: b[1, ..., 2], lambda h: h[1, ..., 2]),
    ("getitem-empty", lambda b: b[:, 2:1], lambda h: h[:, 2:1]),
    ("getitem-0d-of-0d", lambda b: b[1, 2, 3][()], lambda h: h[1, 2, 3, ...][...]),
    (
        "broadcast_to",
        lambda b: b[:, :1].broadcast_to(5, 2, 3, 4),
        lambda h: np.broadcast_to(h[:, :1], (5, 2, 3, 4)),
    ),
    (
        "expand",
        lambda b: b[1, :, :1].expand((3, 4)),
        lambda h: np.broadcast_to(h[1, :, :1], (3, 4)),
    ),
    ("expand_dims", lambda b: b.expand_dims(1), lambda h: np.expand_dims(h, 1)),
    ("expand_dims-neg", lambda b: b.expand_dims(-1), lambda h: np.expand_dims(h, -1)),
    ("squeeze", lambda b: b[:, :1, None].squeeze(), lambda h: h[:, :1, None].squeeze()),
    ("squeeze-axis", lambda b: b[:1, :1].squeeze(1), lambda h: h[:1, :1].squeeze(1)),
    (
        "squeeze-axes",
        lambda b: b[:1, :, :1].squeeze((0, -1)),
        lambda h: h[:1, :, :1].squeeze((0, 2)),
    ),
    (
        "squeeze-to-0d",
        lambda b: b[:1, 2:, 3:].squeeze(),
        lambda h: h[:1, 2:, 3:].squeeze(),
    ),
    ("flip", lambda b: b.flip(), lambda h: np.flip(h)),
    ("flip-axis", lambda b: b.flip(1), lambda h: np.flip(h, 1)),
    ("flip-axes", lambda b: b.flip((0, -1)), lambda h: np.flip(h, (0, 2))),
    ("diagonal", lambda b: b.diagonal(), lambda h: np.diagonal(h, 0, -2, -1)),
    ("diagonal-offset", lambda b: b.diagonal(1), lambda h: np.diagonal(h, 1, 1, 2)),
    ("diagonal-neg", lambda b: b.diagonal(-1, 0, 1), lambda h: np.diagonal(h, -1)),
    ("diagonal-axes", lambda b: b.diagonal(0, 2, 0), lambda h: np.diagonal(h, 0, 2, 0)),
    (
        "diagonal-of-view",
        lambda b: b[:, ::-1].diagonal(1, 0, 2),
        lambda h: np.diagonal(h[:, ::-1], 1, 0, 2),
    ),
    (
        "as_strided",
        lambda b: b.as_strided((3, 3), (6, 1), 2),
        lambda h: np.lib.stride_tricks.as_strided(
            h.reshape(-1)[2:], (3, 3), (6 * h.itemsize, h.itemsize)
        ),
    ),
    (
        "as_strided-negative",
        lambda b: b.as_strided((4,), (-5,), 23),
        lambda h: h.reshape(-1)[23::-5][:4],
    ),
    (
        "as_strided-zero",
        lambda b: b[1].as_strided((2, 3), (0, 4), 1),
        lambda h: np.lib.stride_tricks.as_strided(
            h.reshape(-1)[1:], (2, 3), (0, 4 * h.itemsize)
        ),
    ),
    (
        "chain",
        lambda b: b.T[1:].transpose(2, 1, 0).reshape(6, 3)[::2].swapaxes(0, 1),
        lambda h: h.T[1:].transpose(2, 1, 0).reshape(6, 3)[::2].swapaxes(0, 1),
    ),
]
VIEW_IDS = [v[0] for v in VIEWS]
# Views that show each element once (broadcasts are read-only, and a write
# through a view that repeats elements has no single answer).
WRITABLE = [
    v for v in VIEWS if v[0] not in ("broadcast_to", "expand", "as_strided-zero")
]


def address(arr: Host) -> int:
    return int(arr.__array_interface__["data"][0])


def host_owner(dtype: Any = np.float64) -> Host:
    return np.arange(24).astype(dtype).reshape(2, 3, 4)


def assert_same_view(view: Buffer, owner: Buffer, host_view: Host, host: Host) -> None:
    itemsize = host.itemsize
    assert view.shape == host_view.shape
    assert view.ndim == host_view.ndim
    assert view.size == host_view.size
    assert view.nbytes == host_view.nbytes
    assert view.dtype == host_view.dtype
    # Strides in elements; an axis of extent 1 is never stepped, so its stride is
    # free (NumPy itself gives 0 or the next axis's, depending on the route).
    stepped = [i for i, n in enumerate(host_view.shape) if n > 1]
    assert [view.strides[i] for i in stepped] == [
        host_view.strides[i] // itemsize for i in stepped
    ]
    if host_view.size:
        assert view.offset == (address(host_view) - address(host)) // itemsize
    assert view.is_contiguous == host_view.flags.c_contiguous
    assert view.base is owner
    assert view.device is owner.device
    assert_identical(get(view), host_view)


@pytest.mark.parametrize("dtype", [np.float64, np.int16, np.bool_, np.complex64])
@pytest.mark.parametrize(("name", "make", "make_host"), VIEWS, ids=VIEW_IDS)
def test_views_match_numpy(
    name: str, make: Callable[..., Buffer], make_host: Callable[..., Host], dtype: Any
) -> None:
    host = host_owner(dtype)
    owner = put(host)
    assert owner.base is None and owner.offset == 0 and owner.is_contiguous
    assert_same_view(make(owner), owner, make_host(host), host)


@pytest.mark.parametrize(("name", "make", "make_host"), WRITABLE, ids=str)
def test_views_write_through_to_the_owner(
    name: str, make: Callable[..., Buffer], make_host: Callable[..., Host]
) -> None:
    host = host_owner(np.float64)
    owner = put(host)
    view = make(owner)
    # An operator writing into the view (out=view) writes the owner's memory: the
    # elements the same view of an array of flat positions names.
    CPU.add(view, 100.0, out=view)
    positions = make_host(np.arange(host.size).reshape(host.shape))
    want = host.copy()
    want.reshape(-1)[positions] += 100.0
    assert_identical(owner, want)
    # And the view reads the owner's later writes.
    CPU.multiply(owner, -1.0, out=owner)
    assert_identical(view, -make_host(want))


def test_views_of_views_share_the_owner() -> None:
    owner = put(host_owner())
    a = owner[1:]
    b = a.swapaxes(1, 2)[0, ::2]
    assert a.base is owner and b.base is owner
    assert b.info is owner.info is None
    CPU.full(b.shape, 7.0, np.float64, out=b)
    want = host_owner()
    want[1:].swapaxes(1, 2)[0, ::2] = 7.0
    assert_identical(owner, want)


@settings(max_examples=60)
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    data=st.data(),
)
def test_basic_indexing_matches_numpy(shape: tuple[int, ...], data: Any) -> None:
    key = data.draw(hnp.basic_indices(shape, allow_newaxis=True))
    host = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    owner = put(host)
    view = owner[key]
    # NumPy gives a scalar for an int per axis; the Buffer is still a 0-d view
    # (as NumPy's with a trailing Ellipsis).
    items = key if isinstance(key, tuple) else (key,)
    if not any(item is Ellipsis for item in items):
        items = (*items, Ellipsis)
    want = host[items]
    assert_same_view(view, owner, want, host)


# ------------------------------------------------------------ keeping alive
def test_a_view_keeps_the_owners_block_alive() -> None:
    gc.collect()
    start = CPU.memory_stats().live_buffers
    owner = put(np.arange(1000.0))
    view = owner[10:20]
    assert CPU.memory_stats().live_buffers == start + 1  # views hold no block
    del owner
    gc.collect()
    assert CPU.memory_stats().live_buffers == start + 1
    # The memory is still the view's: other allocations do not reuse it.
    others = [put(np.full(1000, -1.0)) for _ in range(4)]
    assert_identical(view, np.arange(10.0, 20.0))
    inner = view.T[::2]
    del view
    gc.collect()
    assert CPU.memory_stats().live_buffers == start + 1 + len(others)
    assert_identical(inner, np.arange(10.0, 20.0, 2.0))
    del inner, others
    gc.collect()
    assert CPU.memory_stats().live_buffers == start


class Node:
    """An object in a reference cycle: only the garbage collector frees it."""

    buf: Buffer
    me: Node


def test_buffers_the_garbage_collector_frees_cause_no_deadlock() -> None:
    # A collection can start inside the allocator's critical section (on any
    # allocation there) and finalize an owner in a cycle; freeing its block then
    # must not wait for the allocator's lock, which this very thread holds.
    d = Device("gc-test:0", NumPyBackend())  # its own lock, should this hang

    def churn() -> None:
        for _ in range(300):
            node = Node()
            node.buf = d.full((4,), 1.0, np.float32)
            node.me = node
            del node
            d.add(d.full((4,), 2.0, np.float32), 1.0)

    thresholds = gc.get_threshold()
    gc.set_threshold(1)  # collect on (nearly) every allocation
    try:
        worker = threading.Thread(target=churn, daemon=True)
        worker.start()
        worker.join(timeout=20)
    finally:
        gc.set_threshold(*thresholds)
    assert not worker.is_alive(), "deadlock: a finalized buffer waited on the lock"
    gc.collect()
    assert d.memory_stats().live_buffers == 0
    assert d.memory_stats().used_bytes == 0


def test_owners_in_cycles_are_freed_by_the_collector() -> None:
    d = Device("gc-test:1", NumPyBackend())
    node = Node()
    node.buf = d.alloc((100,), np.float64)
    node.me = node
    keep = node.buf[::2]  # a view: the block stays while it lives
    del node
    gc.collect()
    assert d.memory_stats().live_buffers == 1
    del keep
    gc.collect()
    assert d.memory_stats().live_buffers == 0
    assert [r.info for r in d.memory_snapshot()] == []


# ------------------------------------------------------------------ refusals
def test_reshape_that_needs_a_copy_is_refused() -> None:
    owner = put(host_owner())
    with pytest.raises(ValueError, match="without copying; copy it first"):
        owner.T.reshape(-1)
    with pytest.raises(ValueError, match="without copying"):
        owner[:, ::2].reshape(4, 4)
    # A reshape that keeps the non-contiguous axes separate is a view.
    assert owner[:, ::2].reshape(2, 2, 1, 4).shape == (2, 2, 1, 4)
    with pytest.raises(ValueError):
        owner.reshape(5, 5)
    with pytest.raises(TypeError, match="reshape takes ints"):
        owner.reshape(2.0, 12)
    with pytest.raises(TypeError, match="reshape takes ints"):
        owner.reshape(True, 24)


def test_as_strided_must_stay_inside_the_block() -> None:
    owner = put(np.arange(24.0))
    view = owner[20:]  # offsets are from the start of the owner's block
    assert_identical(view.as_strided((2,), (1,), 0), np.array([0.0, 1.0]))
    assert_identical(
        owner.as_strided((2, 2), (12, 10), 1), np.array([[1.0, 11.0], [13.0, 23.0]])
    )
    assert_identical(owner.as_strided((4,), (7,), 2), np.array([2.0, 9, 16, 23]))
    for shape, strides, offset in [
        ((25,), (1,), 0),
        ((4,), (7,), 3),  # 3 + 21 = 24: one past the end
        ((2,), (1,), -1),
        ((3,), (-1,), 1),  # reaches -1
        ((2, 2), (0, 24), 0),
        ((1,), (1,), 24),
    ]:
        with pytest.raises(ValueError, match="reaches outside"):
            owner.as_strided(shape, strides, offset)
    with pytest.raises(ValueError, match="differ in length"):
        owner.as_strided((2, 2), (1,))
    with pytest.raises(ValueError, match="negative extent"):
        owner.as_strided((-1,), (1,))
    assert owner.as_strided((0, 5), (100, 100), 0).shape == (0, 5)


def test_view_argument_errors() -> None:
    owner = put(host_owner())
    with pytest.raises(ValueError, match="not a permutation"):
        owner.transpose(0, 0, 1)
    with pytest.raises(ValueError, match="not a permutation"):
        owner.transpose(0, 1)
    with pytest.raises(IndexError, match="out of range"):
        owner.transpose(0, 1, 3)
    with pytest.raises(IndexError, match="out of range"):
        owner.swapaxes(0, 3)
    with pytest.raises(ValueError, match=r"cannot broadcast shape \(2, 3, 4\)"):
        owner.broadcast_to(2, 3, 5)
    with pytest.raises(ValueError, match="cannot squeeze axis 1 of size 3"):
        owner.squeeze(1)
    with pytest.raises(IndexError, match="out of range"):
        owner.expand_dims(4)
    with pytest.raises(IndexError, match="out of range"):
        owner.flip(3)
    with pytest.raises(ValueError, match="axis1 and axis2 must differ"):
        owner.diagonal(0, 1, -2)
    for key in ([0, 1], 1.5, True, (0, np.array([1])), owner):
        with pytest.raises(TypeError, match=r"Device\.index"):
            owner[key]
    with pytest.raises(IndexError, match=r"buffer shape \(2, 3, 4\)"):
        owner[2]
    with pytest.raises(IndexError):
        owner[0, 0, 0, 0]


def test_broadcast_views_are_read_only() -> None:
    row = put(np.arange(3.0))
    wide = row.broadcast_to(4, 3)
    assert wide.strides == (0, 1)
    with pytest.raises(ValueError, match="read-only"):
        CPU.add(wide, 1.0, out=wide)
    # Views of a broadcast stay read-only (the diagonal too, writable elsewhere).
    diagonal = row.broadcast_to(3, 3).diagonal()
    assert_identical(diagonal, np.arange(3.0))
    with pytest.raises(ValueError, match="read-only"):
        CPU.add(diagonal, 1.0, out=diagonal)
    assert_identical(row, np.arange(3.0))


def test_a_buffer_cannot_be_constructed_directly() -> None:
    with pytest.raises(TypeError, match="cannot be created directly"):
        Buffer()
    with pytest.raises(TypeError, match="cannot be created directly"):
        Buffer.__new__(Buffer)
    with pytest.raises(TypeError):

        class Sub(Buffer):  # type: ignore[misc]  # final
            pass

        Sub.__new__(Sub)


def test_truth_value_pickle_and_copy_are_refused() -> None:
    buf = put(np.ones(1))
    with pytest.raises(TypeError, match="no truth value"):
        bool(buf)
    with pytest.raises(TypeError, match="no truth value"):
        if buf:
            pass
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(buf, protocol)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(buf[0])
    with pytest.raises(TypeError, match="cannot be pickled"):
        copy.copy(buf)


def test_len_and_repr() -> None:
    buf = put(np.zeros((3, 2), np.float32))
    assert len(buf) == 3 and len(buf.T) == 2
    with pytest.raises(TypeError, match="len"):
        len(buf[0, 0])
    assert repr(buf) == "<Buffer shape=(3, 2) dtype=float32 device='cpu:0'>"
    assert repr(buf.T).startswith("<view shape=(2, 3)")
    assert buf.itemsize == 4 and buf.nbytes == 24 and buf[1:].nbytes == 16


# ----------------------------------------------------------------------- info
def test_info_set_on_a_view_shows_on_the_owner_and_in_the_snapshot() -> None:
    owner = CPU.from_host(np.zeros((5, 7), np.int8), info="weights")
    assert owner.info == "weights" and owner[1:].info == "weights"
    view = owner.T[::2]
    view.info = {"layer": 3}
    assert owner.info == {"layer": 3}
    records = [r for r in CPU.memory_snapshot() if r.info == {"layer": 3}]
    assert len(records) == 1
    record = records[0]
    assert record.shape == (5, 7) and record.dtype == np.int8  # the owner's
    assert record.nbytes >= 35
    owner.info = "renamed"
    assert view.info == "renamed"
    assert not [r for r in CPU.memory_snapshot() if r.info == {"layer": 3}]


def test_operators_label_their_result_as_they_make_it() -> None:
    a = CPU.from_host(np.arange(6.0), info="a")
    made = {
        "exp": CPU.exp(a, info=("activation", "exp")),
        "add": CPU.add(a, a, info=("activation", "add")),
        "scalar": CPU.multiply(a, 2.0, info=("activation", "mul")),
        "unlabelled": CPU.add(a, 1.0),
    }
    assert made["exp"].info == ("activation", "exp")
    assert made["add"].info == ("activation", "add")
    assert made["scalar"].info == ("activation", "mul")
    assert made["unlabelled"].info is None
    infos = [r.info for r in CPU.memory_snapshot()]
    for label in (("activation", "exp"), ("activation", "add"), "a"):
        assert infos.count(label) == 1
    out = CPU.alloc((6,), np.float64, info="out")
    CPU.add(a, a, out=out)
    assert out.info == "out"
    CPU.add(a, a, out=out, info="sum")
    assert out.info == "sum"
    assert_identical(get(out), np.arange(6.0) * 2)


def test_views_on_another_device_stay_there() -> None:
    other = get_device("cpu:1")
    owner = other.from_host(np.arange(6.0).reshape(2, 3))
    view = owner.T
    assert view.device is other
    with pytest.raises(ValueError, match="cpu:1"):
        CPU.to_host(view)
    assert_identical(other.to_host(view), np.arange(6.0).reshape(2, 3).T)
