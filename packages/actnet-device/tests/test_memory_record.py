"""Device.record_memory: one sample per outermost operator, with the exact bytes in
use after it (checked against memory_stats() read between the operators), split
by label, the peak within it, and which call made each block; nothing is left
installed afterwards."""

from __future__ import annotations

import cProfile
import sys
import threading
from typing import Any

import numpy as np
import pytest

from actnet.device import Buffer, Device, MemoryRecording
from actnet.device._numpy import NumPyBackend

ALIGN = 256  # the allocator's default alignment: every block is a multiple


def fresh(name: str, cls: type[Device] = Device) -> Device:
    """A device of its own, so other tests' buffers do not move its numbers."""
    return cls(name, NumPyBackend())


def rounded(nbytes: int) -> int:
    return max(-(-nbytes // ALIGN) * ALIGN, ALIGN)


def test_one_sample_per_operator_exact_against_memory_stats() -> None:
    d = fresh("record:exact")
    x = d.from_host(np.ones((8, 8), np.float32), info=("input", "x"))
    one = rounded(8 * 8 * 4)
    stats: list[int] = []  # memory_stats() read before each next operator
    with d.record_memory() as rec:
        y = d.add(x, x)
        stats.append(d.memory_stats().used_bytes)
        z = d.multiply(y, 2.0)
        del y  # freed before the next operator: multiply's sample sees it gone
        stats.append(d.memory_stats().used_bytes)
        s = d.sum(z)
        del z
        stats.append(d.memory_stats().used_bytes)
    assert [m.operator for m in rec.samples] == ["add", "multiply", "sum"]
    assert [m.used_bytes for m in rec.samples] == stats == [2 * one, 2 * one, 2 * one]
    for m in rec.samples:  # the blocks, grouped by label, and the counter agree
        assert sum(m.by_label.values()) == m.used_bytes
    assert rec.samples[0].by_label == {("input", "x"): one, None: one}
    assert rec.samples[-1].by_label == {("input", "x"): one, None: ALIGN}
    assert s.shape == ()


def test_the_peak_within_an_operator_is_the_allocators() -> None:
    d = fresh("record:peak")
    x = d.from_host(np.ones((4, 100), np.float32))
    peaks: list[int] = []  # the allocator's own peak, restarted per operator
    with d.record_memory() as rec:
        d.reset_peak_memory_stats()
        y = d.exp(d.add(x, x))  # add's result is live while exp allocates
        peaks.append(d.memory_stats().peak_bytes)  # (the peak of add and exp)
        d.reset_peak_memory_stats()
        e = d.erf(y)  # float32 erf works in float64 scratch
        peaks.append(d.memory_stats().peak_bytes)
    one = rounded(4 * 100 * 4)
    add, exp, erf = rec.samples
    assert add.peak_bytes == 2 * one  # x and its result
    assert exp.peak_bytes == 3 * one == peaks[0]  # x, add's result, exp's result
    assert exp.used_bytes == 2 * one  # add's result freed as exp returned
    assert erf.peak_bytes == peaks[1] > erf.used_bytes == 3 * one
    assert e.shape == (4, 100)


def test_blocks_made_by_operators_unlabelled_and_labelled() -> None:
    d = fresh("record:labels")
    old = d.alloc((64,), np.float32)  # unlabelled, from before the recording
    with d.record_memory() as rec:
        a = d.from_host(np.zeros(64, np.float32))  # an allocating method: sampled
        b = d.add(a, 1.0)
        b.info = ("activation", "add")  # labelled by the layer above
        c = d.multiply(b, b)
    assert [m.operator for m in rec.samples] == ["from_host", "add", "multiply"]
    last = rec.samples[-1]
    assert last.by_label == {None: 3 * ALIGN, ("activation", "add"): ALIGN}
    assert last.unlabelled_made_bytes == 2 * ALIGN  # a and c, not old
    # the peak (the first sample with the most bytes in use) and who made what
    assert rec.peak_index == 2
    made = sorted(
        (repr(blk.info), -1 if blk.made_by is None else blk.made_by)
        for blk in rec.peak_blocks
    )
    assert made == [
        ("('activation', 'add')", 1),  # b
        ("None", -1),  # old, from before the recording
        ("None", 0),  # a (from_host)
        ("None", 2),  # c
    ]
    assert sum(blk.nbytes for blk in rec.peak_blocks) == last.used_bytes
    assert old.shape == c.shape


class NestingDevice(Device):
    """A device whose exp runs add inside it: only exp is the outermost."""

    def exp(self, x: Buffer, out: Buffer | None = None, *, info: Any = None) -> Buffer:
        doubled = self.add(x, x)
        return super().exp(doubled, out, info=info)


def test_only_the_outermost_operator_is_sampled() -> None:
    d = fresh("record:nesting", NestingDevice)
    x = d.from_host(np.ones(10, np.float32))
    with d.record_memory() as rec:
        d.exp(x)
        d.run("negative", [x])  # run is not an operator: the one it runs is
    assert [m.operator for m in rec.samples] == ["exp", "negative"]
    assert rec.samples[0].peak_bytes == 3 * ALIGN  # x, the inner add, exp's


def test_context_other_devices_and_threads() -> None:
    d = fresh("record:context")
    other = fresh("record:other")
    x = d.from_host(np.ones(4, np.float32))
    ox = other.from_host(np.ones(4, np.float32))
    calls = iter(range(100))
    in_thread: list[Buffer] = []
    with d.record_memory(context=lambda: next(calls)) as rec:
        other.add(ox, ox)  # another device's operator: not a sample
        t = threading.Thread(target=lambda: in_thread.append(d.add(x, x)))
        t.start()
        t.join()  # another thread's operator: not a sample (its memory counts)
        n = d.negative(x)
        d.negative(n)
    assert [(m.operator, m.context) for m in rec.samples] == [
        ("negative", 0),
        ("negative", 1),
    ]
    assert rec.samples[0].used_bytes == 3 * ALIGN  # x, the thread's add, negative
    assert rec.samples[0].unlabelled_made_bytes == ALIGN  # only the recorded one


def test_nothing_is_left_installed_and_errors_end_the_recording() -> None:
    d = fresh("record:cleanup")
    x = d.from_host(np.ones(4, np.float32))
    malloc = d._malloc
    with pytest.raises(TypeError), d.record_memory() as rec:
        d.add(x, x)
        d.add(x, "a")  # type: ignore[arg-type]  # refused: still a sample
    assert [m.operator for m in rec.samples] == ["add", "add"]
    assert sys.getprofile() is None
    assert d._malloc == malloc
    with d.record_memory() as rec2:  # a second recording starts afresh
        d.add(x, x)
    assert len(rec2.samples) == 1
    assert isinstance(rec2, MemoryRecording)


def test_refused_while_a_profiler_runs() -> None:
    d = fresh("record:profiler")
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        with (
            pytest.raises(RuntimeError, match="profile function is already set"),
            d.record_memory(),
        ):
            pass
    finally:
        profiler.disable()
    assert d._malloc == d.allocator.malloc
    with (
        pytest.raises(RuntimeError, match="already set"),
        d.record_memory(),
        d.record_memory(),
    ):
        pass
    assert sys.getprofile() is None
