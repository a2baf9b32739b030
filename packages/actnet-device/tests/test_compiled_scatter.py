"""The compiled scatter-add of rows (`index_update(..., "add")` with one index
array, as an embedding's backward makes it) against the reference device's
`np.add.at`: the same sums in the same order, so the same bits; and the cases it
leaves to the reference."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from _helpers import get, put

from actnet.device import _compiled_scatter as cs
from actnet.device import get_device

CPU = get_device("cpu")
REF = get_device("reference")


def _both(x: Any, key: Any, values: Any) -> tuple[Any, Any]:
    got = []
    for device in (CPU, REF):
        k = tuple(put(i, device) if isinstance(i, np.ndarray) else i for i in key)
        v = put(values, device) if isinstance(values, np.ndarray) else values
        got.append(get(device.index_update(put(x, device), k, v, "add")))
    return got[0], got[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row", [(), (7,), (3, 5)])
def test_rows_added_in_order_equal_numpy_add_at(
    dtype: Any, row: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(len(row))
    x = rng.standard_normal((11, *row)).astype(dtype)
    index = rng.integers(-11, 11, 300)  # repeated and negative indices
    values = rng.standard_normal((300, *row)).astype(dtype)
    want = x.copy()
    np.add.at(want, (index,), values)
    cpu, ref = _both(x, (index,), values)
    np.testing.assert_array_equal(cpu, want)
    np.testing.assert_array_equal(ref, want)


def test_other_cases_take_the_reference() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    index = np.array([1, 1, 5])
    cases = [
        ((index,), 2.0),  # a scalar: broadcast
        ((index,), rng.standard_normal((3, 4)).astype(np.float32)[:, ::-1]),  # strided
        ((index, slice(0, 2)), rng.standard_normal((3, 2)).astype(np.float32)),
        (
            (np.array([[0, 1], [1, 5]]),),
            rng.standard_normal((2, 2, 4)).astype(np.float32),
        ),
    ]
    for key, values in cases:
        want = x.copy()
        np.add.at(want, key, values)
        cpu, ref = _both(x, key, values)
        np.testing.assert_array_equal(cpu, want)
        np.testing.assert_array_equal(ref, want)
    ints = np.arange(12).reshape(6, 2)
    cpu, ref = _both(ints, (index,), np.ones((3, 2), np.int64))
    np.testing.assert_array_equal(cpu, ref)
    assert cs._rows("add", ints, (index,), np.ones((3, 2), np.int64)) is None


def test_the_kernel_runs_as_plain_python() -> None:
    out = np.zeros((3, 2))
    cs._add_rows(
        out, np.array([2, -1, 0]), np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    )
    np.testing.assert_array_equal(out, [[5.0, 6.0], [0.0, 0.0], [4.0, 6.0]])
