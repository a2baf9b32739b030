"""bfloat16 arithmetic as PyTorch's CPU does it (`_kernels_bfloat16.py`): matmul,
sums, products, means, variances and cumulative sums accumulate in float32 and
round once; elementwise operators compute each element in float32 and round once.
Oracles: float64 (or float32 where that is the definition) rounded to bfloat16,
on both the `cpu` device (compiled backend, threaded matmul) and `reference`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _helpers import BFLOAT16, get, put, rng_for

from actnet.device import OPS, float32, get_device

DEVICES = [get_device("cpu"), get_device("reference")]
BF16_EPS = 2.0**-7  # bfloat16's machine epsilon: 8 significand bits


def _bf16(x: Any) -> np.ndarray[Any, Any]:
    return np.asarray(x).astype(BFLOAT16)


def _ulps(got: np.ndarray[Any, Any], want: np.ndarray[Any, Any]) -> float:
    """The largest difference in units of bfloat16's last place at `want`."""
    w = want.astype(np.float64)
    spacing = np.maximum(np.abs(w), np.finfo(np.float32).tiny) * BF16_EPS
    return float(np.max(np.abs(got.astype(np.float64) - w) / spacing))


# ------------------------------------------------------------------- matmul
MATMUL_SHAPES = [
    ((7, 33), (33, 5)),
    ((33,), (33, 6)),
    ((4, 33), (33,)),
    ((2, 3, 9, 40), (40, 11)),  # folds into one product on cpu
    ((2, 1, 9, 40), (3, 40, 11)),  # broadcast batch
    ((300, 256), (256, 300)),  # large enough for cpu's threads
]


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.name)
@pytest.mark.parametrize(("sa", "sb"), MATMUL_SHAPES)
def test_matmul_rounds_a_float32_product_once(device: Any, sa: Any, sb: Any) -> None:
    rng = rng_for("matmul", sa, sb)
    a = _bf16(rng.standard_normal(sa))
    b = _bf16(rng.standard_normal(sb))
    got = get(device.matmul(put(a, device), put(b, device)))
    assert got.dtype == BFLOAT16 and got.shape == np.matmul(a, b).shape
    # the definition: the float32 product of the (exactly) widened operands
    assert np.array_equal(got, _bf16(a.astype(np.float32) @ b.astype(np.float32)))
    # and an independent oracle: float64, rounded once. float32's sums are off by
    # at most K * 2**-24 * sum |a_i b_i| (the standard bound), which may put a
    # value across a rounding boundary: one last place, plus that bound where
    # cancellation leaves a result small beside its terms
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    want = _bf16(a64 @ b64).astype(np.float64)
    bound = sa[-1] * 2.0**-24 * (np.abs(a64) @ np.abs(b64))
    diff = np.abs(got.astype(np.float64) - want)
    assert np.all(diff <= np.abs(want) * BF16_EPS + bound)


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.name)
def test_matmul_of_transposed_views(device: Any) -> None:
    rng = rng_for("matmul views")
    a = _bf16(rng.standard_normal((50, 20)))
    b = _bf16(rng.standard_normal((30, 50)))
    ba, bb = put(a, device), put(b, device)
    got = get(device.matmul(ba.T, bb.T))  # (20, 50) @ (50, 30), both strided
    assert np.array_equal(got, _bf16(a.T.astype(np.float32) @ b.T.astype(np.float32)))


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.name)
def test_matmul_returns_its_scratch(device: Any) -> None:
    a = put(_bf16(np.ones((64, 64))), device)
    device.matmul(a, a)  # warm: the result's and scratch blocks exist
    before = device.memory_stats().used_bytes
    out = device.matmul(a, a)
    assert device.memory_stats().used_bytes - before == out.nbytes
    assert np.all(get(out) == 64)


def test_matmul_refuses_mixed_dtypes() -> None:
    cpu = DEVICES[0]
    a = put(_bf16(np.ones((2, 2))))
    with pytest.raises(TypeError, match="bfloat16 and float32"):
        cpu.matmul(a, put(np.ones((2, 2), np.float32)))


# --------------------------------------------------------------- reductions
@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.name)
def test_sum_accumulates_in_float32(device: Any) -> None:
    # 1000 ones: bfloat16 accumulation stops at 256 (256 + 1 rounds to 256)
    ones = put(_bf16(np.ones(1000)), device)
    assert get(device.sum(ones)) == 1000
    assert get(device.mean(ones)) == 1
    assert get(device.cumulative_sum(ones))[-1] == 1000


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.name)
@pytest.mark.parametrize("axis", [None, 0, (1, 2)])
def test_reductions_round_once(device: Any, axis: Any) -> None:
    rng = rng_for("reductions", axis)
    x = _bf16(rng.standard_normal((6, 7, 40)))
    x64 = x.astype(np.float64)
    bx = put(x, device)
    for got, want in [
        (device.sum(bx, axis), x64.sum(axis)),
        (device.mean(bx, axis), x64.mean(axis)),
        (device.var(bx, axis, correction=1.0), x64.var(axis, ddof=1)),
        (device.max(bx, axis), x64.max(axis)),
        (device.min(bx, axis), x64.min(axis)),
    ]:
        result = get(got)
        assert result.dtype == BFLOAT16
        # float32 sums of up to 1680 terms, then one rounding: within a last
        # place of the float64 value rounded, except where cancellation leaves
        # a small value whose float32 error is large beside it (absolute term)
        w = _bf16(want).astype(np.float64)
        tol = np.abs(w) * BF16_EPS + 1e-4 * np.abs(x64).max()
        assert np.all(np.abs(result.astype(np.float64) - w) <= tol)


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.name)
def test_prod_and_cumulative_prod_round_once(device: Any) -> None:
    rng = rng_for("prod")
    x = _bf16(1 + 0.1 * rng.standard_normal((5, 30)))
    want = x.astype(np.float32).prod(1)
    assert np.array_equal(get(device.prod(put(x, device), 1)), _bf16(want))
    want_c = np.cumprod(x.astype(np.float32), axis=1)
    got_c = get(device.cumulative_prod(put(x, device), 1))
    assert got_c.dtype == BFLOAT16
    assert np.array_equal(got_c, _bf16(want_c))


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.name)
def test_argmax_and_sort(device: Any) -> None:
    x = _bf16([[3.0, -1.0, 7.5, 2.0], [0.5, 9.0, -3.0, 9.0]])
    bx = put(x, device)
    assert get(device.argmax(bx, 1)).tolist() == [2, 1]
    assert (
        get(device.sort(bx, 1)).astype(float).tolist()
        == np.sort(x.astype(float), 1).tolist()
    )


# ---------------------------------------------------------------- elementwise
def test_every_operator_that_takes_float32_takes_bfloat16() -> None:
    for name, spec in OPS.items():
        if spec.kind in ("unary", "binary", "reduce", "arg_reduce", "cumulative"):
            result = spec.dtypes.get(float32)
            if result is not None:
                want = BFLOAT16 if result == float32 else result
                assert spec.dtypes.get(BFLOAT16) == want, name
    assert OPS["matmul"].dtypes[BFLOAT16] == BFLOAT16


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.name)
def test_elementwise_rounds_a_float32_result_once(device: Any) -> None:
    rng = rng_for("elementwise")
    a = _bf16(rng.standard_normal(500))
    b = _bf16(rng.standard_normal(500))
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    ba, bb = put(a, device), put(b, device)
    assert np.array_equal(get(device.add(ba, bb)), _bf16(a32 + b32))
    assert np.array_equal(get(device.multiply(ba, bb)), _bf16(a32 * b32))
    assert np.array_equal(get(device.divide(ba, bb)), _bf16(a32 / b32))
    assert np.array_equal(get(device.exp(ba)), _bf16(np.exp(a32)))
    assert np.array_equal(get(device.tanh(ba)), _bf16(np.tanh(a32)))
    assert np.array_equal(get(device.multiply(ba, 3)), _bf16(a32 * 3))
    assert get(device.greater(ba, bb)).tolist() == (a32 > b32).tolist()
    # erf is computed in float64 and rounded once
    want = _bf16([math.erf(v) for v in a.astype(np.float64)])
    assert _ulps(get(device.erf(ba)), want) <= 0.5 + 1e-9
