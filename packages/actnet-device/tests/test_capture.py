"""Tests of Device.capture: recording, planning and replaying kernel calls.

The oracle is the device itself run eagerly: a program recorded on one set of
input values and replayed on another must leave exactly (bitwise) what running
the same operators eagerly on the other values leaves; random draws, host steps
and result checks must happen again at their place; memory must be planned
without overlap and accounted exactly.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actnet.device import Buffer, CaptureError, Device, Generator, get_device

DEVICES = ("cpu", "reference")


def host(buf: Buffer) -> np.ndarray[Any, Any]:
    return buf.device.to_host(buf)


def fill(dev: Device, buf: Buffer, values: np.ndarray[Any, Any]) -> None:
    dev.copy(dev.from_host(values.astype(buf.dtype)), out=buf)


# ----------------------------------------------------- random operator chains
# Each op takes the list of live values and appends one (or writes an output).
def _chain(dev: Device, ops: list[tuple[str, int, int]], ins: list[Buffer]) -> Buffer:
    vals = list(ins)
    for name, i, j in ops:
        a, b = vals[i % len(vals)], vals[j % len(vals)]
        if name == "add":
            vals.append(dev.add(a, b))
        elif name == "mul":
            vals.append(dev.multiply(a, 0.5))
        elif name == "tanh":
            vals.append(dev.tanh(a))
        elif name == "matmul":
            vals.append(dev.matmul(a, b.T))
        elif name == "transpose":
            vals.append(dev.copy(a.T))
        elif name == "sum":
            vals.append(dev.add(a, dev.sum(b, axis=(1,), keepdims=True)))
        elif name == "where":
            vals.append(dev.where(dev.greater(a, 0.0), a, b))
        vals = vals[-4:]  # older values die: their buffers are transient
    return vals[-1]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["add", "mul", "tanh", "matmul", "transpose", "sum", "where"]),
        st.integers(0, 3),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.parametrize("name", DEVICES)
@settings(max_examples=40)
@given(ops=OPS, seed=st.integers(0, 2**16))
def test_replay_on_new_inputs_equals_eager(
    name: str, ops: list[tuple[str, int, int]], seed: int
) -> None:
    dev = get_device(name)
    rng = np.random.default_rng(seed)
    n = 6  # square: every chain is shape-correct
    ins = [dev.alloc((n, n), np.float32) for _ in range(2)]
    out = dev.alloc((n, n), np.float32)
    for buf in ins:
        fill(dev, buf, rng.standard_normal((n, n)))

    def work() -> None:
        dev.copy(_chain(dev, ops, ins), out=out)

    with dev.capture() as cap:
        work()
    program = cap.program
    for _ in range(2):  # new values each time, replayed, against eager
        new = [rng.standard_normal((n, n)) for _ in ins]
        for buf, values in zip(ins, new, strict=True):
            fill(dev, buf, values)
        before = dev.memory_stats().used_bytes
        program.replay()
        assert dev.memory_stats().used_bytes == before  # nothing left allocated
        replayed = host(out).copy()
        work()
        np.testing.assert_array_equal(replayed, host(out))
    plan = program.memory_plan
    assert plan.lower_bound_bytes <= plan.peak_bytes
    for a in plan.buffers:  # buffers live at once never share memory
        for b in plan.buffers:
            if a is not b and a.first_use <= b.last_use and b.first_use <= a.last_use:
                assert (
                    a.offset + a.nbytes <= b.offset or b.offset + b.nbytes <= a.offset
                )


def test_lower_bound_is_the_largest_live_sum() -> None:
    dev = get_device("cpu")
    x = dev.from_host(np.ones((64, 64), np.float32))
    out = dev.alloc((64, 64), np.float32)
    with dev.capture() as cap:
        a = dev.exp(x)  # 16 KiB each
        b = dev.tanh(a)
        c = dev.add(a, b)
        del a, b
        d = dev.multiply(c, 2.0)
        dev.add(c, d, out=out)
        del c, d
    plan = cap.program.memory_plan
    assert plan.kernel_calls == 5
    live = [
        sum(b.nbytes for b in plan.buffers if b.first_use <= i <= b.last_use)
        for i in range(plan.kernel_calls)
    ]
    assert plan.lower_bound_bytes == max(live) == 3 * 64 * 64 * 4
    assert plan.peak_bytes == plan.lower_bound_bytes  # a chain plans perfectly
    assert [b.shape for b in plan.buffers] == [(64, 64)] * 4
    assert plan.state_buffers == 2  # x and out


# ----------------------------------------------------------- state and memory
def test_state_made_inside_is_written_where_it_is() -> None:
    dev = get_device("cpu")
    x = dev.from_host(np.arange(4, dtype=np.float32))
    kept: list[Buffer] = []
    with dev.capture() as cap:
        kept.append(dev.multiply(x, 3.0))  # made inside, alive after: state
    fill(dev, x, np.array([1, 1, 1, 1]))
    cap.program.replay()
    np.testing.assert_array_equal(host(kept[0]), [3, 3, 3, 3])
    assert cap.program.memory_plan.buffers == ()  # nothing transient


def test_memory_of_the_plan_is_exact_and_released_with_the_program() -> None:
    dev = get_device("cpu")
    x = dev.from_host(np.ones(1000, np.float32))
    out = dev.alloc((1000,), np.float32)
    dev.reset_peak_memory_stats()
    before = dev.memory_stats().used_bytes
    with dev.capture() as cap:
        dev.add(dev.exp(x), 1.0, out=out)
    program = cap.program
    peak = program.memory_plan.peak_bytes
    assert peak == 4096  # 4000 bytes, aligned to 256
    assert dev.memory_stats().used_bytes == before + peak  # the planned range
    program.replay()
    assert dev.memory_stats().used_bytes == before + peak
    del cap, program
    gc.collect()
    assert dev.memory_stats().used_bytes == before


def test_freed_state_makes_the_program_invalid() -> None:
    dev = get_device("cpu")
    x = dev.from_host(np.ones(8, np.float32))
    y = dev.alloc((8,), np.float32)
    with dev.capture() as cap:
        dev.exp(x, out=y)
    assert cap.program.valid()
    del x
    gc.collect()
    assert not cap.program.valid()


def test_state_replaced_inside_is_refused() -> None:
    dev = get_device("cpu")
    box = [dev.from_host(np.ones(8, np.float32))]
    with (
        pytest.raises(CaptureError, match="replaced instead of updated in place"),
        dev.capture(),
    ):
        box[0] = dev.add(box[0], 1.0)  # reads the old buffer, which then goes
    assert not dev.capturing
    np.testing.assert_array_equal(host(box[0]), np.full(8, 2.0))  # ran eagerly


# ------------------------------------------------------- what cannot be replayed
def test_host_reads_and_data_dependent_shapes_raise() -> None:
    dev = get_device("cpu")
    x = dev.from_host(np.array([1.0, -1.0, 2.0], np.float32))
    with (
        pytest.raises(CaptureError, match="reads device data on the host"),
        dev.capture(),
    ):
        dev.to_host(dev.exp(x))
    assert not dev.capturing
    with (
        pytest.raises(CaptureError, match="nonzero: its result's shape depends"),
        dev.capture(),
    ):
        dev.nonzero(x)
    assert not dev.capturing
    np.testing.assert_array_equal(host(dev.nonzero(x)[0]), [0, 1, 2])  # eager again


def test_nested_capture_is_refused() -> None:
    dev = get_device("cpu")
    with (
        dev.capture(),
        pytest.raises(CaptureError, match="already capturing"),
        dev.capture(),
    ):
        pass
    assert not dev.capturing


def test_other_threads_are_not_recorded() -> None:
    dev = get_device("cpu")
    x = dev.from_host(np.ones(4, np.float32))
    y = dev.alloc((4,), np.float32)
    seen: list[bool] = []

    def other() -> None:
        seen.append(dev.capturing)
        z = dev.exp(x)  # runs eagerly, unrecorded
        seen.append(bool(np.allclose(host(z), np.e)))  # a host read is allowed

    with dev.capture() as cap:
        dev.negative(x, out=y)
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == [False, True]
    assert cap.program.memory_plan.kernel_calls == 1


def test_bounds_checks_are_replayed() -> None:
    dev = get_device("cpu")
    table = dev.from_host(np.arange(10, dtype=np.float32))
    idx = dev.from_host(np.array([1, 2], np.int64))
    out = dev.alloc((2,), np.float32)
    with dev.capture() as cap:
        dev.take(table, idx, out=out)
    fill(dev, idx, np.array([9, 0]))
    cap.program.replay()
    np.testing.assert_array_equal(host(out), [9, 0])
    fill(dev, idx, np.array([10, 0]))
    with pytest.raises(IndexError, match="out of bounds"):
        cap.program.replay()


# -------------------------------------------------- random draws and host steps
@pytest.mark.parametrize("name", DEVICES)
def test_random_draws_are_reserved_again_by_every_replay(name: str) -> None:
    dev = get_device(name)
    x = dev.from_host(np.ones((8, 8), np.float32))
    out = dev.alloc((8, 8), np.float32)
    masks = dev.alloc((8,), np.uint8)
    g, eager = Generator(5), Generator(5)

    def work(gen: Generator) -> None:
        key, counter = gen.reserve(2 * 64)
        y, mask = dev.dropout(x, 0.5, key, counter)
        dev.add(y, gen.uniform((8, 8), device=dev), out=out)
        dev.copy(mask, out=masks)

    with dev.capture() as cap:
        work(g)
    work(eager)
    for _ in range(3):
        cap.program.replay()
        got = host(out).copy(), host(masks).copy()
        work(eager)
        np.testing.assert_array_equal(got[0], host(out))
        np.testing.assert_array_equal(got[1], host(masks))
    assert g.get_state() == eager.get_state()


def test_host_steps_run_at_their_place_in_every_replay() -> None:
    dev = get_device("cpu")
    x = dev.from_host(np.ones(3, np.float32))
    scale = dev.from_host(np.zeros(3, np.float32))
    out = dev.alloc((3,), np.float32)
    calls: list[float] = []

    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def step(self) -> None:  # reads what the kernel before it wrote
            calls.append(float(host(out)[0]))
            self.n += 1
            fill(dev, scale, np.full(3, float(self.n)))

    counter = Counter()
    with dev.capture() as cap:
        dev.add(x, 1.0, out=out)
        dev.host_step(counter.step)
        dev.multiply(out, scale, out=out)
    cap.program.replay()
    cap.program.replay()
    assert calls == [2.0, 2.0, 2.0] and counter.n == 3
    np.testing.assert_array_equal(host(out), [6.0, 6.0, 6.0])
    assert cap.program.memory_plan.host_steps == 1
    assert cap.program.valid()
    del counter  # a bound method is held weakly: its object gone, the program too
    gc.collect()
    assert not cap.program.valid()


def test_a_host_step_may_not_touch_transient_memory() -> None:
    dev = get_device("cpu")
    x = dev.from_host(np.ones(3, np.float32))
    with pytest.raises(CaptureError, match="host step touched memory"), dev.capture():
        box = [dev.exp(x)]
        dev.host_step(lambda: dev.negative(box[0], out=box[0]))
        box.clear()


def test_host_steps_run_once_outside_a_capture() -> None:
    dev = get_device("cpu")
    ran: list[int] = []
    dev.host_step(lambda: ran.append(1))
    assert ran == [1]


@pytest.mark.parametrize("make", [lambda: 1, lambda: None])
def test_capture_leaves_the_device_as_it_was(make: Callable[[], Any]) -> None:
    dev = get_device("cpu")
    x = dev.from_host(np.ones(3, np.float32))
    with dev.capture() as cap:
        dev.exp(x)
        make()
    calls = cap.program.memory_plan.kernel_calls
    dev.exp(x)  # after the block: not recorded
    assert cap.program.memory_plan.kernel_calls == calls
    assert not dev.capturing
    np.testing.assert_allclose(host(dev.exp(x)), np.e, rtol=1e-6)


def test_a_segment_mapped_where_a_released_one_was_is_found() -> None:
    """The allocator gives back an empty segment before it maps a new one, and
    the new one may lie at the same addresses: the recorder's map of addresses
    to segments must not name the released one (it did, and a second compiled
    GPT step in one process could not record). Here the map is made stale by
    hand, as such a release leaves it: every address in the arena names a
    segment that no longer exists."""
    cpu = get_device("cpu")
    n = 1 << 16
    x = cpu.from_host(np.arange(n, dtype=np.float32))
    with cpu.capture() as cap:
        cap._segments = [
            (base, size, ("gone", key)) for base, size, key in cap._segments
        ]
        y = cpu.add(x, x)
    fill(cpu, x, np.ones(n, np.float32))
    cap.program.replay()
    np.testing.assert_array_equal(host(y), np.full(n, 2, np.float32))


def test_work_on_another_device_while_recording_is_refused() -> None:
    """A program replays one device's kernels: another device's work on the
    recording thread is refused, naming both (it would silently not happen in
    a replay); other threads and the time after the capture are unaffected."""
    cpu, ref = get_device("cpu"), get_device("reference")
    r = ref.from_host(np.ones(4, np.float32))
    done: list[Any] = []
    refused = pytest.raises(
        CaptureError, match=r"ran on reference:0 while cpu:0 records"
    )
    with refused, cpu.capture():
        worker = threading.Thread(target=lambda: done.append(host(ref.add(r, r))))
        worker.start()
        worker.join()
        ref.multiply(r, 2.0)
    np.testing.assert_array_equal(done[0], np.full(4, 2, np.float32))
    with pytest.raises(CaptureError, match="ran on reference:0"), cpu.capture():
        ref.copy(r, out=ref.from_host(np.zeros(4, np.float32)))
    np.testing.assert_array_equal(host(ref.add(r, r)), np.full(4, 2, np.float32))
