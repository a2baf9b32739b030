"""Every byte a device holds is a block of its allocator, and the numbers are exact."""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pytest

from actnet.device import Device, OutOfMemoryError, get_device
from actnet.device._numpy import NumPyBackend
from actnet.mem import Allocator


class CountingBackend(NumPyBackend):
    """A NumPy backend that counts the arenas it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.segments: list[int] = []
        self.released = 0

    def new_segment(self, nbytes: int) -> Any:
        self.segments.append(nbytes)
        return super().new_segment(nbytes)

    def free_segment(self, segment: Any) -> None:
        self.released += 1


def fresh(name: str = "test:0") -> tuple[Device, CountingBackend]:
    backend = CountingBackend()
    return Device(name, backend), backend


def test_no_leak_under_ten_thousand_iterations() -> None:
    d, _ = fresh()
    x = d.from_host(np.ones((16, 16), np.float32))
    start = d.memory_stats().used_bytes
    for i in range(10_000):
        y = d.multiply(d.add(x, float(i)), 0.5)
        z = d.sum(y, axis=0)
        w = d.matmul(y, y).T[::2]
        del y, z, w
    assert d.memory_stats().used_bytes == start
    assert d.memory_stats().live_buffers == 1


def test_memory_stats_are_the_allocators_numbers() -> None:
    d, _ = fresh()
    keep = [d.alloc((n, 7), np.float64) for n in range(1, 50)]
    del keep[::3]
    s = d.memory_stats()
    a = d.allocator.stats()
    assert (s.used_bytes, s.reserved_bytes, s.free_bytes) == (
        a.used_bytes, a.total_bytes, a.free_bytes,
    )  # fmt: skip
    assert (s.peak_bytes, s.peak_reserved_bytes, s.limit) == (
        a.peak_bytes, a.peak_total_bytes, a.limit,
    )  # fmt: skip
    assert (s.largest_free_block, s.segments, s.live_buffers) == (
        a.largest_free_block, a.segments, a.live_blocks,
    )  # fmt: skip
    assert s.used_bytes == sum(
        -(-n * 7 * 8 // 256) * 256 for n in range(1, 50) if (n - 1) % 3
    )


def test_reserved_bytes_are_the_backend_arenas() -> None:
    d, backend = fresh()
    bufs = [d.alloc((1000,), np.float32) for _ in range(3000)]
    assert d.memory_stats().reserved_bytes == sum(backend.segments)
    assert d.memory_stats().segments == len(backend.segments) > 1
    del bufs
    freed = d.empty_cache()
    assert freed == sum(backend.segments)
    assert backend.released == len(backend.segments)
    assert d.memory_stats().reserved_bytes == 0


def test_buffers_live_in_the_arena_at_their_block() -> None:
    d, _ = fresh()
    b = d.alloc((4,), np.float64)
    block = b._hold
    arena = d._segments[block.segment]
    address = np.frombuffer(arena, np.uint8).__array_interface__["data"][0]
    assert b.native.__array_interface__["data"][0] == address + block.offset


def test_reused_blocks_are_seen_with_the_new_shape_and_dtype() -> None:
    """Arrays over a block are kept for reuse (Device._view): a block handed out
    again must show the new buffer's shape, dtype and values, never the old ones."""
    d, _ = fresh()
    x = d.from_host(np.arange(12, dtype=np.float32))
    for shape, dtype in [
        ((12,), np.float32),
        ((3, 4), np.float32),
        ((12,), np.int32),
        ((12,), np.float32),
        ((6,), np.float64),
    ]:
        host = np.arange(12, dtype=np.float32).reshape(-1)[: int(np.prod(shape))]
        b = d.from_host((host * 2).astype(dtype).reshape(shape))
        y = d.add(b, b)
        assert y.shape == shape and y.dtype == dtype
        np.testing.assert_array_equal(
            d.to_host(y), (host * 4).astype(dtype).reshape(shape)
        )
        del b, y
    first = d.add(x, 1.0)
    second = d.add(x, 2.0)  # live together: two blocks, two arrays
    assert first._hold.offset != second._hold.offset
    np.testing.assert_array_equal(d.to_host(first) + 1, d.to_host(second))


def test_released_segments_leave_no_kept_arrays() -> None:
    d, backend = fresh()
    # full, not alloc: arithmetic on uninitialised memory may meet NaN bit patterns
    # (an "invalid value" warning, an error under the test settings)
    bufs = [d.add(d.full((1000,), 1.0, np.float32), 0.0) for _ in range(1000)]
    assert d._views
    del bufs
    d.empty_cache()
    assert backend.released == len(backend.segments)
    assert not d._views  # nothing keeps a released arena alive
    z = d.add(d.from_host(np.ones(5, np.float32)), 1.0)
    np.testing.assert_array_equal(d.to_host(z), np.full(5, 2, np.float32))


def test_a_buffer_is_freed_when_its_last_reference_goes() -> None:
    d, _ = fresh()
    a = d.alloc((100,), np.float32)
    view = a[10:20].reshape(2, 5)
    used = d.memory_stats().used_bytes
    del a
    assert d.memory_stats().used_bytes == used  # the view keeps the block
    del view
    assert d.memory_stats().used_bytes == 0
    gc.collect()
    assert d.memory_stats().used_bytes == 0


def test_snapshot_explains_every_live_block() -> None:
    d, _ = fresh()
    w = d.alloc((3, 4), np.float32, info={"what": "parameter", "name": "w"})
    g = d.add(w, 1.0)
    g.info = {"what": "activation", "op": "add"}
    view = g.T
    view.info = {"what": "activation", "op": "add", "note": "set through a view"}
    snap = d.memory_snapshot()
    assert [(r.shape, r.dtype, r.nbytes) for r in snap] == [
        ((3, 4), np.dtype(np.float32), 256),
        ((3, 4), np.dtype(np.float32), 256),
    ]
    assert [r.info for r in snap] == [
        {"what": "parameter", "name": "w"},
        {"what": "activation", "op": "add", "note": "set through a view"},
    ]
    assert sum(r.nbytes for r in snap) == d.memory_stats().used_bytes


def test_limit_is_enforced_before_any_backend_allocation() -> None:
    d, backend = fresh("budget:0")
    d.set_memory_limit(1 << 20)
    with pytest.raises(OutOfMemoryError) as info:
        d.alloc((1 << 20,), np.float32)  # 4 MiB
    assert backend.segments == []
    message = str(info.value)
    assert message.startswith("budget:0: out of memory: cannot allocate 4194304 bytes")
    assert "limit 1048576 bytes" in message
    small = d.alloc((1000,), np.float32)
    assert backend.segments == [1 << 20]  # the segment was cut to the budget
    d.set_memory_limit(None)
    assert d.alloc((1 << 20,), np.float32).nbytes == 4 << 20
    del small


def test_oom_names_the_registered_device() -> None:
    d = get_device("cpu:3")
    d.set_memory_limit(0)
    try:
        with pytest.raises(OutOfMemoryError, match=r"^cpu:3: out of memory"):
            d.alloc((10,), np.int8)
    finally:
        d.set_memory_limit(None)


def test_backend_refusing_is_out_of_memory() -> None:
    class Full(NumPyBackend):
        def new_segment(self, nbytes: int) -> Any:
            raise MemoryError(f"cannot get {nbytes} bytes")

    d = Device("full:0", Full())
    with pytest.raises(OutOfMemoryError, match="cannot get 2097152 bytes"):
        d.alloc((10,), np.float32)


def test_peak_and_reset() -> None:
    d, _ = fresh()
    a = d.alloc((1000,), np.float64)
    b = d.alloc((1000,), np.float64)
    del a, b
    assert d.memory_stats().peak_bytes == 2 * 8192
    d.reset_peak_memory_stats()
    assert d.memory_stats().peak_bytes == 0


def test_copy_to_allocates_on_the_target_device() -> None:
    one, two = get_device("cpu:0"), get_device("cpu:1")
    before = two.memory_stats().used_bytes
    x = one.from_host(np.arange(10.0), info="x")
    y = one.copy_to(x, two)
    assert y.device is two and y.info == "x"
    assert two.memory_stats().used_bytes == before + 256
    np.testing.assert_array_equal(two.to_host(y), np.arange(10.0))
    del y
    assert two.memory_stats().used_bytes == before


def test_devices_are_registered_once() -> None:
    assert get_device("cpu") is get_device("cpu:0") is get_device(get_device("cpu"))
    assert get_device("cpu:1") is not get_device("cpu")
    assert get_device("no_float64") is get_device("no_float64:0")
    with pytest.raises(ValueError, match=r"unknown device 'tpu'.*cpu, cuda, no_f"):
        get_device("tpu")
    with pytest.raises(ValueError, match="non-negative integer"):
        get_device("cpu:x")
    with pytest.raises(TypeError, match="a device is a name"):
        get_device(0)  # type: ignore[arg-type]  # wrong on purpose


def test_cuda_without_cupy_or_gpu_is_a_clear_error(has_cuda: bool) -> None:
    if has_cuda:
        pytest.skip("a GPU is present: the error path cannot be taken")
    with pytest.raises(RuntimeError, match=r"CuPy|CUDA"):
        get_device("cuda:0")


def test_allocator_is_a_real_actnet_mem_allocator() -> None:
    d, _ = fresh()
    assert isinstance(d.allocator, Allocator)
    assert d.allocator.name == d.name


def test_reset_peak_counts_from_after_the_frees_of_a_collection() -> None:
    """A buffer the garbage collector finalizes (here: in a reference cycle) is
    freed after the collection; the peak restarts from the bytes in use once
    that free is done, not from before it."""
    dev = get_device("cpu:6")
    keep = dev.alloc((16,), np.float32)
    cycle: list[object] = [dev.alloc((4096,), np.float32)]
    cycle.append(cycle)
    del cycle
    gc.collect()
    dev.reset_peak_memory_stats()
    stats = dev.memory_stats()
    assert stats.peak_bytes == stats.used_bytes == 256
    del keep


def test_a_limit_below_the_reserved_bytes_releases_or_refuses() -> None:
    d, backend = fresh("budget:1")
    kept = d.alloc((1000,), np.float32)
    gone = d.alloc((1 << 20,), np.float32)  # a segment of its own (4 MiB)
    assert len(backend.segments) == 2
    del gone
    held = d.memory_stats().reserved_bytes
    d.set_memory_limit(2 << 20)  # the empty arena goes, and the cap is set
    assert d.memory_stats().reserved_bytes == 2 << 20 < held
    assert d.memory_stats().limit == 2 << 20
    with pytest.raises(
        ValueError, match=r"reserve 2097152 bytes \(4096 bytes in use\)"
    ):
        d.set_memory_limit(1 << 20)  # the live buffer's arena cannot go
    assert d.memory_stats().limit == 2 << 20  # the old cap stays
    del kept
    d.set_memory_limit(1 << 16)  # now nothing is held: every arena goes
    assert d.memory_stats().reserved_bytes == 0
    d.set_memory_limit(None)


def test_out_of_memory_names_the_operator() -> None:
    d, _ = fresh("budget:2")
    x = d.alloc((1 << 16,), np.float32)  # 256 KiB
    logits = d.alloc((256, 512), np.float32)
    target = d.from_host(np.zeros(256, np.int64))
    d.set_memory_limit(d.memory_stats().reserved_bytes)
    filler = d.alloc((d.memory_stats().largest_free_block // 4 - 64,), np.float32)
    with pytest.raises(OutOfMemoryError) as info:
        d.exp(x)  # an elementwise operator (their shared code names it in `op`)
    assert info.value.operator == "exp"
    assert info.value.__notes__ == ["raised by the operator 'exp'"]
    with pytest.raises(OutOfMemoryError) as info:
        d.cross_entropy(logits, target)  # the outermost operator is named
    assert info.value.operator == "cross_entropy"
    with pytest.raises(OutOfMemoryError) as info:
        d.alloc((1 << 16,), np.float32)  # not an operator
    assert info.value.operator is None
    del filler
    d.set_memory_limit(None)
