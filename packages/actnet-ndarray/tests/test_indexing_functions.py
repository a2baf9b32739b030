"""take and take_along_axis: semantics against array_api_strict, values against
NumPy (negative indices count from the end; out-of-range ones are errors)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from _oracle import check, sample
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp

INDEX_DTYPES = ["int64", "int32", "uint8", "int8"]


@settings(max_examples=80)
@given(data=st.data())
def test_take(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    a = sample(
        data.draw(st.sampled_from(["float32", "int16", "bool", "complex64"])), shape
    )
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    n = a.size if axis is None else shape[axis]
    dtype = np.dtype(data.draw(st.sampled_from(INDEX_DTYPES)))
    low = 0 if dtype.kind == "u" else -n
    idx = np.asarray(data.draw(st.lists(st.integers(low, n - 1), max_size=5)), dtype)
    check("take", lambda v, i, axis: np.take(v, i, axis=axis), a, idx, axis=axis)


@pytest.mark.parametrize(
    ("shape", "indices", "axis", "error"),
    [
        ((2, 3), [0], None, ValueError),  # axis is required beyond 1-d
        ((3,), [[0]], None, ValueError),  # indices must be 1-d
        ((3,), [0.0], None, TypeError),
        ((3,), [3], None, IndexError),
        ((3,), [-4], None, IndexError),
        ((2, 3), [0], 2, IndexError),
    ],
)
def test_take_errors(
    shape: tuple[int, ...], indices: Any, axis: int | None, error: type
) -> None:
    x = xp.asarray(sample("float32", shape))
    with pytest.raises(error):
        xp.take(x, xp.asarray(indices), axis=axis)


@settings(max_examples=80)
@given(data=st.data())
def test_take_along_axis(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    a = sample(data.draw(st.sampled_from(["float64", "uint16", "bool"])), shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    # other axes: x's extent or 1 (broadcast both ways), the axis: any length
    ishape = [data.draw(st.sampled_from([m, 1])) for m in shape]
    ishape[axis] = data.draw(st.integers(0, 4))
    if data.draw(st.booleans()):  # x broadcast along an axis where indices is wider
        a = a[
            tuple(
                slice(0, 1) if i != axis % a.ndim else slice(None)
                for i in range(a.ndim)
            )
        ]
        ishape = [s if i == axis % a.ndim else shape[i] for i, s in enumerate(ishape)]
    dtype = data.draw(st.sampled_from(INDEX_DTYPES))
    low = 0 if np.dtype(dtype).kind == "u" else -n
    idx = data.draw(hnp.arrays(dtype, tuple(ishape), elements=st.integers(low, n - 1)))
    check(
        "take_along_axis",
        lambda v, i, axis: np.take_along_axis(v, i, axis),
        a,
        idx,
        axis=axis,
    )


def test_take_along_axis_errors() -> None:
    x = xp.asarray(sample("float32", (2, 3)))
    with pytest.raises(ValueError, match="axes"):
        xp.take_along_axis(x, xp.asarray([0, 1]))
    with pytest.raises(TypeError, match="integer dtype"):
        xp.take_along_axis(x, xp.asarray([[0.0]]))
    with pytest.raises(IndexError):
        xp.take_along_axis(x, xp.asarray([[3]]))
    with pytest.raises(ValueError, match="broadcast"):
        xp.take_along_axis(x, xp.zeros((3, 1), dtype=xp.int64), axis=1)
    with pytest.raises(ValueError, match="cpu:1"):
        xp.take_along_axis(x, xp.zeros((2, 1), dtype=xp.int64, device="cpu:1"))
