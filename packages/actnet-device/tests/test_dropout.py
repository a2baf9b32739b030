"""dropout and dropout_backward: the masks are Generator.bernoulli's, bit for bit,
on the compiled `cpu` device and on `reference`; the generator moves on as a
bernoulli draw moves it (`Generator.reserve`); the values are x * (1 / (1 - p))
in x's dtype; the mask is one bit an element; and the refusals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _helpers import BFLOAT16, assert_identical, get, put

from actnet.device import Generator, get_device
from actnet.device._compiled_dropout import CHUNK, _dropout, _dropout_backward
from actnet.device._philox import round_keys

CPU = get_device("cpu")
REF = get_device("reference")
DEVICES = [CPU, REF]


def _expected(x: np.ndarray[Any, Any], keep: np.ndarray[Any, Any], p: float) -> Any:
    scale = x.dtype.type(0.0 if p == 1 else 1 / (1 - p))
    with np.errstate(over="ignore"):
        return np.where(keep, x * scale, x.dtype.type(0))


@pytest.mark.parametrize("device", DEVICES, ids=["cpu", "reference"])
@pytest.mark.parametrize(
    "n", [0, 1, 7, 8, 9, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5, 70_001]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, BFLOAT16])
def test_the_mask_is_bernoullis(device: Any, n: int, dtype: Any) -> None:
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    for p in (0.0, 0.1, 0.5, 1.0):
        drawn, reserved = Generator(99), Generator(99)
        drawn.uniform((3,))  # somewhere in the stream
        reserved.uniform((3,))
        keep = get(drawn.bernoulli(1 - p, (n,), device=device))
        key, counter = reserved.reserve(2 * n)
        assert reserved.get_state() == drawn.get_state()
        y, mask = device.dropout(put(x, device), p, key, counter)
        assert_identical(y, _expected(x, keep, p))
        assert_identical(mask, np.packbits(keep, bitorder="little"))
        g = rng.standard_normal(n).astype(dtype)
        assert_identical(
            device.dropout_backward(put(g, device), mask, p), _expected(g, keep, p)
        )


@pytest.mark.parametrize("device", DEVICES, ids=["cpu", "reference"])
def test_views_counters_that_wrap_and_in_place(device: Any) -> None:
    """A transposed input is masked in its own C order; the counter wraps mod
    2**64 as Philox's does; out may be x, and the backward's out its grad."""
    x = np.random.default_rng(0).standard_normal((70, 90)).astype(np.float32)
    key, counter = (5, 6), 2**64 - 7
    words = get(REF.random_bits(key, counter, 2 * x.size)).astype(np.uint64)
    k53 = (words[0::2] >> np.uint64(5)) << np.uint64(26) | words[1::2] >> np.uint64(6)
    keep = (k53 < math.ceil(0.7 * 2**53)).reshape(90, 70)
    y, mask = device.dropout(put(x, device).T, 0.3, key, counter)
    assert_identical(y, _expected(x.T, keep, 0.3))
    assert_identical(mask, np.packbits(keep.reshape(-1), bitorder="little"))
    buf = put(x.T.copy(), device)
    out, _ = device.dropout(buf, 0.3, key, counter, out=buf)
    assert out is buf
    assert_identical(buf, _expected(x.T, keep, 0.3))
    grad = put(x.T.copy(), device)
    assert device.dropout_backward(grad, mask, 0.3, out=grad) is grad
    assert_identical(grad, _expected(x.T, keep, 0.3))


def test_reserve_moves_the_generator_as_a_draw() -> None:
    g = Generator(2**40 + 3)
    assert g.reserve(5) == ((3, 2**8), 0)  # 5 words: two counters
    assert g.get_state() == {"seed": 2**40 + 3, "counter": 2}
    assert g.reserve(0) == ((3, 2**8), 2)
    assert g.get_state()["counter"] == 2
    # the words reserved are those random_bits draws
    a, b = Generator(7), Generator(7)
    key, counter = a.reserve(10)
    np.testing.assert_array_equal(
        get(CPU.random_bits(key, counter, 10)), get(b.random_bits((10,)))
    )
    with pytest.raises(ValueError, match="n_words must be a non-negative int"):
        g.reserve(-1)


def test_the_mask_takes_a_bit_an_element() -> None:
    y, mask = CPU.dropout(put(np.ones((1000, 33), np.float32)), 0.5, (1, 2), 0)
    assert mask.shape == (-(-33_000 // 8),) and mask.dtype == np.uint8
    assert mask.nbytes * 32 >= y.nbytes > (mask.nbytes - 1) * 32


def test_the_kernels_run_as_plain_python() -> None:
    """A kernel is a Python function first (prange is range): same bits."""
    n = 2 * CHUNK + 3
    x = np.random.default_rng(1).standard_normal(n)
    out, mask = np.empty_like(x), np.empty(-(-n // 8), np.uint8)
    keys = np.array(round_keys((11, 12)), np.uint64)
    threshold = math.ceil(0.75 * 2**53)
    with np.errstate(over="ignore"):  # the packing multiply wraps, as compiled
        _dropout(x, out, mask, keys, np.uint64(3), np.uint64(threshold), 4 / 3)
    y, want = CPU.dropout(put(x), 0.25, (11, 12), 3)
    np.testing.assert_array_equal(out, get(y))
    np.testing.assert_array_equal(mask, get(want))
    back = np.empty_like(x)
    _dropout_backward(x, mask, back, 4 / 3)
    np.testing.assert_array_equal(back, out)


def test_refusals() -> None:
    x = put(np.zeros(10, np.float32))
    with pytest.raises(
        ValueError, match=r"dropout: p must be a probability in \[0, 1\]"
    ):
        CPU.dropout(x, 1.5, (0, 0), 0)
    with pytest.raises(ValueError, match="dropout: p must be a probability"):
        CPU.dropout(x, True, (0, 0), 0)  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ValueError, match="dropout: key must be two 32-bit ints"):
        CPU.dropout(x, 0.5, (0, 2**32), 0)
    with pytest.raises(ValueError, match="dropout: counter must be an int"):
        CPU.dropout(x, 0.5, (0, 0), -1)
    with pytest.raises(TypeError, match="dropout does not take int32"):
        CPU.dropout(put(np.zeros(3, np.int32)), 0.5, (0, 0), 0)
    with pytest.raises(ValueError, match="out shares memory with an input"):
        CPU.dropout(x, 0.5, (0, 0), 0, out=x[::1])
    _, mask = CPU.dropout(x, 0.5, (0, 0), 0)
    with pytest.raises(ValueError, match=r"mask must be uint8 of shape \(3,\)"):
        CPU.dropout_backward(put(np.zeros(17, np.float32)), mask, 0.5)
    with pytest.raises(ValueError, match="mask must be uint8"):
        CPU.dropout_backward(x, put(np.zeros(2, np.int8)), 0.5)
    with pytest.raises(ValueError, match="dropout_backward: p must be a probability"):
        CPU.dropout_backward(x, mask, -0.1)
