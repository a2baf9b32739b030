"""The scratch memory of an operator is arena memory: memory_stats sees it (the
peak during the operator passes what its result holds by the scratch), and it is
all given back when the operator returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from _helpers import get, put

from actnet.device import Buffer, Device, OutOfMemoryError, get_device
from actnet.device._compiled import CompiledBackend
from actnet.device._compiled_attention import BLOCK_Q, HEAD_TASKS
from actnet.device._kernels import SCALED_CHUNK
from actnet.device._numpy import NumPyBackend
from actnet.device._philox import PHILOX_CHUNK


def fresh(name: str, **kwargs: Any) -> Device:
    """A device of its own, so other tests' buffers do not move its numbers."""
    return Device(name, NumPyBackend(), **kwargs)


def scratch_of(device: Device, op: Callable[[], Any]) -> tuple[int, int, Any]:
    """(the peak bytes above what was in use and what the result holds, the bytes
    the result holds, the result). No scratch is left when the operator returns."""
    device.reset_peak_memory_stats()
    before = device.memory_stats().used_bytes
    result = op()
    stats = device.memory_stats()
    assert not [b for b in device.memory_snapshot() if b.info == "scratch"]
    return stats.peak_bytes - stats.used_bytes, stats.used_bytes - before, result


def test_add_scaled_into_a_takes_its_product_from_the_arena() -> None:
    d = fresh("scratch:add_scaled")
    n = 3 * SCALED_CHUNK + 5  # more than one chunk: the scratch is one chunk
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal(n).astype(np.float32)
    b_np = rng.standard_normal(n).astype(np.float32)
    a, b = put(a_np, d), put(b_np, d)
    d._backend._axpy = {}  # the ufunc path (BLAS's axpy needs no scratch)
    extra, kept, out = scratch_of(d, lambda: d.add_scaled(a, b, 0.5, out=a))
    assert out is a
    assert kept == 0  # into a: all the bytes the operator took are given back
    assert extra >= SCALED_CHUNK * 4
    product = (b_np * np.float32(0.5)).astype(np.float32)
    np.testing.assert_array_equal(get(a), a_np + product)


def test_add_scaled_into_a_strided_takes_b_sized_scratch() -> None:
    d = fresh("scratch:add_scaled_strided")
    a_host = np.arange(40, dtype=np.float64).reshape(5, 8)
    b_host = np.ones((8, 5), np.float64)
    base = put(a_host, d)
    a = base.T  # not contiguous: the product is one scratch of b's size
    b = put(b_host, d)
    extra, kept, out = scratch_of(d, lambda: d.add_scaled(a, b, 2.0, out=a))
    assert out is a
    assert kept == 0
    assert extra >= b.nbytes
    np.testing.assert_array_equal(get(base), a_host + 2.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_erf_works_in_arena_scratch(dtype: Any) -> None:
    d = fresh(f"scratch:erf:{np.dtype(dtype)}")
    x_np = np.linspace(-7.0, 7.0, 1001).astype(dtype)  # every region of erf
    x = put(x_np, d)
    before = d.memory_stats().used_bytes
    extra, kept, y = scratch_of(d, lambda: d.erf(x))
    assert kept >= y.nbytes  # the result's block, and nothing else
    # |x|, the result and the masks at x's size, in float64, at the least
    assert extra >= x_np.size * (2 * 8 + 4)
    cpu = get_device("cpu")
    np.testing.assert_array_equal(get(y), get(cpu.erf(put(x_np, cpu))))
    del y
    assert d.memory_stats().used_bytes == before


def test_erf_scratch_on_a_device_without_float64() -> None:
    """The float64 work lives in the arena's bytes of a device that holds no
    float64 buffers."""
    d = get_device("no_float64")
    x_np = np.linspace(-7.0, 7.0, 501).astype(np.float32)
    x = put(x_np, d)
    before = d.memory_stats().used_bytes
    extra, kept, y = scratch_of(d, lambda: d.erf(x))
    assert kept >= y.nbytes
    assert extra >= x_np.size * (3 * 8 + 4)
    cpu = get_device("cpu")
    np.testing.assert_array_equal(get(y), get(cpu.erf(put(x_np, cpu))))
    del y
    assert d.memory_stats().used_bytes == before


def test_random_bits_work_in_arena_scratch() -> None:
    d = fresh("scratch:random_bits")
    n = 4 * PHILOX_CHUNK + 3  # two passes, the last ends inside a block
    before = d.memory_stats().used_bytes
    extra, kept, bits = scratch_of(d, lambda: d.random_bits((7, 9), 123, n))
    assert isinstance(bits, Buffer)
    assert kept >= bits.nbytes
    assert extra >= 6 * PHILOX_CHUNK * 8  # four counter words and two products
    cpu = get_device("cpu")
    np.testing.assert_array_equal(get(bits), get(cpu.random_bits((7, 9), 123, n)))
    del bits
    assert d.memory_stats().used_bytes == before


def test_scratch_counts_against_the_memory_limit() -> None:
    """A budget that holds the result but not the scratch refuses the operator,
    and leaves nothing behind."""
    d = fresh("scratch:limit", segment_size=1 << 16)
    x = put(np.linspace(-5.0, 5.0, 2048), d)  # 16 KiB
    d.set_memory_limit(1 << 16)
    before = d.memory_stats().used_bytes
    with pytest.raises(OutOfMemoryError):
        d.erf(x)  # 16 KiB of result, and 3 x 16 KiB of float64 scratch and more
    assert d.memory_stats().used_bytes == before


def compiled_device(name: str) -> Device:
    return Device(name, CompiledBackend())


@pytest.mark.parametrize("rows", [4, 512])  # one call; parts on the threads
def test_compiled_softmax_rows_work_in_arena_scratch(rows: int) -> None:
    d = compiled_device(f"scratch:softmax{rows}")
    x_np = np.random.default_rng(0).standard_normal((rows, 256)).astype(np.float32)
    x = put(x_np, d)
    extra, kept, y = scratch_of(d, lambda: d.softmax(x))
    assert kept == x_np.nbytes
    assert extra >= 256 * 8  # a float64 row (per thread)
    g = put(np.ones_like(x_np), d)
    extra, _, _ = scratch_of(d, lambda: d.log_softmax_backward(g, y))
    assert extra >= 4 * 8  # the sums of a block of rows (4 of 256), per thread
    extra, _, _ = scratch_of(d, lambda: d.softmax_backward(g, y))
    assert extra == 0  # none: sum(g y), then each row in place
    reference = get_device("reference")
    expected = reference.to_host(reference.softmax(reference.from_host(x_np)))
    np.testing.assert_allclose(get(y), expected, rtol=1e-6)


@pytest.mark.parametrize("rows", [4, 512])
def test_compiled_cross_entropy_works_in_arena_scratch(rows: int) -> None:
    d = compiled_device(f"scratch:cross_entropy{rows}")
    rng = np.random.default_rng(1)
    x = put(rng.standard_normal((rows, 256)).astype(np.float32), d)
    # int32 targets: their int64 copy is scratch too
    t = put(rng.integers(0, 256, rows).astype(np.int32), d)
    extra, _, (_loss, stats) = scratch_of(d, lambda: d.cross_entropy(x, t))
    # the per-row losses and the int64 targets (the exponentials are summed as
    # they are made: no row of them)
    assert extra >= rows * 8 + rows * 8
    one = put(np.ones((), np.float32), d)
    extra, _, _ = scratch_of(d, lambda: d.cross_entropy_backward(one, x, t, stats))
    assert extra >= 256 * 8 + rows * 8


def test_compiled_attention_backward_works_in_arena_scratch() -> None:
    """The backward's per-thread copies of a head's q and grad (transposed by
    blocks, so they grow with the sequence) are arena slabs, one per thread."""
    d = compiled_device("scratch:sdpa")
    rng = np.random.default_rng(2)
    # HEAD_TASKS heads: one task a head, no dq parts in scratch to hide the slabs
    heads, length, width = HEAD_TASKS, 300, 16
    q, k, v, g = (
        put(rng.standard_normal((heads, length, width)).astype(np.float32), d)
        for _ in range(4)
    )
    out, lse = d.sdpa(q, k, v, causal=True)
    extra, _, _ = scratch_of(d, lambda: d.sdpa_backward(g, q, k, v, out, lse, True))
    blocks = -(-length // BLOCK_Q) * BLOCK_Q
    assert extra >= blocks * (width + width) * 4 + length * 4  # one slab at least
