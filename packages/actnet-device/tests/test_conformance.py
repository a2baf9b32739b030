"""The conformance kit runs on the fake devices (and on CUDA where present), and it
catches backends that are wrong in the ways a real backend goes wrong."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from actnet.device import Device, get_device
from actnet.device._numpy import NumPyBackend
from actnet.device.testing import (
    Stream,
    check_conformance,
    compare,
    random_stream,
    replay,
    standard_streams,
)


def test_standard_streams_cover_the_whole_operator_set() -> None:
    from actnet.device import OPS

    ran = {
        s.name for stream in standard_streams() for s in stream.steps if s.kind == "run"
    }
    assert ran == set(OPS)


def test_standard_streams_read_a_lot() -> None:
    reads = sum(len(replay(s, "cpu")) for s in standard_streams())
    assert reads > 500


@pytest.mark.parametrize("name", ["cpu", "cpu:1", "no_float64"])
def test_fake_devices_conform(name: str) -> None:
    check_conformance(get_device(name))


@pytest.mark.gpu
def test_cuda_conforms() -> None:
    check_conformance(get_device("cuda:0"))


def test_random_streams_are_deterministic() -> None:
    a = replay(random_stream(3), "cpu")
    b = replay(random_stream(3), "cpu:1")
    assert len(a) == len(b) > 20
    assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))
    c = replay(random_stream(4), "cpu")
    assert len(c) != len(a) or any(
        x.shape != y.shape or not np.array_equal(x, y)
        for x, y in zip(a, c, strict=True)
    )


class _WrongAdd(NumPyBackend):
    """add is off in the fourth digit: a kernel bug that only shows in the values."""

    def __init__(self) -> None:
        super().__init__()
        right = self.ufuncs["add"]

        def add(a: Any, b: Any, out: Any) -> None:
            right(a, b, out=out)
            if out.dtype.kind == "f":
                np.multiply(out, 1.0001, out=out)

        self.ufuncs["add"] = add


class _UnstableSort(NumPyBackend):
    """Sorts ties in reverse order of position, as an unstable sort may."""

    def sort(
        self, x: Any, axis: int, descending: bool, indices: bool, out: Any
    ) -> None:
        moved = np.moveaxis(x, axis, -1)
        position = np.broadcast_to(np.arange(moved.shape[-1]), moved.shape)
        key = -moved.astype(np.float64) if descending else moved
        order = np.moveaxis(np.lexsort((-position, key), axis=-1), -1, axis)
        np.copyto(out, order if indices else np.take_along_axis(x, order, axis=axis))


class _ReusesTooEarly(NumPyBackend):
    """Hands every allocation the same memory: a broken arena."""

    def array_at(
        self, shape: Any, dtype: Any, segment: Any, offset: int, strides: Any = None
    ) -> Any:
        return np.ndarray(shape, dtype, segment, 0, strides)


@pytest.mark.parametrize(
    ("backend", "op"),
    [(_WrongAdd, "add"), (_UnstableSort, "argsort"), (_ReusesTooEarly, None)],
)
def test_the_kit_catches_a_wrong_backend(
    backend: type[NumPyBackend], op: str | None
) -> None:
    device = Device(f"wrong-{backend.__name__}:0", backend())
    with pytest.raises(AssertionError, match="disagrees with reference:0") as info:
        check_conformance(device)
    if op is not None:
        assert f"(made by {op})" in str(info.value)


def test_compare_reports_the_read_and_the_op() -> None:
    s = Stream("tiny")
    x = s.load(np.array([1.0, 2.0], np.float32))
    s.read(s.run("add", x, x))
    [mismatch] = compare(s, Device("wrong:0", _WrongAdd()))
    assert (mismatch.stream, mismatch.read, mismatch.op) == ("tiny", 0, "add")
    assert "beyond rtol" in mismatch.detail


def test_integers_must_match_exactly() -> None:
    s = Stream("ints")
    x = s.load(np.array([1, 2], np.int32))
    s.read(s.run("add", x, x))

    class OffByOne(NumPyBackend):
        def __init__(self) -> None:
            super().__init__()
            self.ufuncs["add"] = lambda a, b, out: np.add(np.add(a, b), 1, out=out)

    [mismatch] = compare(s, Device("off:0", OffByOne()))
    assert "2 elements differ" in mismatch.detail


def test_a_device_that_raises_is_reported() -> None:
    s = Stream("f64")
    s.read(s.load(np.zeros(2)))
    [mismatch] = compare(s, "no_float64")
    assert "does not support dtype float64" in mismatch.detail


def test_unknown_operator_is_refused_when_recorded() -> None:
    with pytest.raises(ValueError, match="unknown operator 'frobnicate'"):
        Stream().run("frobnicate")
