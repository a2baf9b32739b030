"""sum_of_squares: the compiled one-pass kernel (every axis of a contiguous
float32 or float64 array, serial and threaded) against a float64 oracle; the
reference kernel for the rest (other axes, strided, small), against the same
oracle bit for bit. (Every axis and dtype of the table: test_reductions.py.)"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from _helpers import CPU, get, put

from actnet.device import _compiled_reductions as cr
from actnet.device import get_device, get_num_threads, set_num_threads

REF = get_device("reference")


def _oracle(x: np.ndarray[Any, Any], axis: Any = None) -> np.ndarray[Any, Any]:
    wide = x.astype(np.float64)
    return np.asarray(np.sum(wide * wide, axis=axis))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [cr.COMPILED_MIN, cr.COMPILED_MIN * 3 + 7, 2_000_003])
@pytest.mark.parametrize("threads", [1, 2])
def test_compiled_matches_the_float64_sum(dtype: Any, n: int, threads: int) -> None:
    rng = np.random.default_rng(n + threads)
    x = (rng.standard_normal(n) * 3).astype(dtype)
    calls: list[int] = []
    original = cr.compiled

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    before = get_num_threads()
    set_num_threads(threads)
    try:
        cr.compiled = counted  # type: ignore[assignment]  # counts the kernel's use
        got = get(CPU.sum_of_squares(put(x.reshape(-1, 1)), keepdims=True))
    finally:
        cr.compiled = original  # type: ignore[assignment]  # restored
        set_num_threads(before)
    assert calls, "the compiled kernel did not run"
    assert got.shape == (1, 1) and got.dtype == dtype
    want = _oracle(x)
    if dtype == np.float32:  # the float64 sum rounded once: the float32 nearest
        assert got[0, 0] == np.float32(want) or abs(got[0, 0] - want) <= np.spacing(
            np.float32(want)
        )
    else:
        np.testing.assert_allclose(got[0, 0], want, rtol=1e-14)


def test_special_values_and_empty() -> None:
    x = np.ones(cr.COMPILED_MIN, np.float32)
    x[5] = np.inf
    assert get(CPU.sum_of_squares(put(x))) == np.inf
    x[6] = np.nan
    assert np.isnan(get(CPU.sum_of_squares(put(x))))
    big = np.full(cr.COMPILED_MIN, 1e30, np.float32)  # the sum overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # quietly: inf is the answer
        assert get(CPU.sum_of_squares(put(big))) == np.inf
    assert get(CPU.sum_of_squares(put(big.astype(np.float64)))) == pytest.approx(
        float(big[0]) ** 2 * cr.COMPILED_MIN, rel=1e-12
    )
    assert get(CPU.sum_of_squares(put(np.zeros(0, np.float32)))) == 0


@pytest.mark.parametrize("device", [CPU, REF], ids=["cpu", "reference"])
def test_other_axes_layouts_and_sizes_take_the_reference(device: Any) -> None:
    """Bit for bit the oracle's: the reference kernel is NumPy's float64 sum."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 70)).astype(np.float32)
    whole = put(x, device)
    cases = [
        (whole, 1),  # one axis
        (whole.transpose(), None),  # every axis, not contiguous
        (whole[::2], (0, 1)),  # every axis, strided rows
        (put(x[:3], device), None),  # below COMPILED_MIN
    ]
    for buf, axis in cases:
        got = get(device.sum_of_squares(buf, axis))
        np.testing.assert_array_equal(got, _oracle(get(buf), axis).astype(np.float32))
