"""astype and result_type against array_api_strict (2024.12: Python scalars are
weak in result_type) and NumPy's casts."""

from __future__ import annotations

import itertools
from typing import Any

import array_api_strict as strict
import numpy as np
import pytest
from _oracle import API_VERSION, STANDARD, check, compatible, host, sample, strict_dtype
from hypothesis import given, settings
from hypothesis import strategies as st

import actnet.ndarray as xp


@pytest.mark.parametrize(
    ("source", "target"), list(itertools.product(STANDARD, repeat=2))
)
def test_astype_matches_strict_and_numpy(source: str, target: str) -> None:
    a = sample(source, (2, 3))

    def cast(v: Any, dtype: Any) -> Any:
        return v.astype(dtype)

    check(
        "astype",
        lambda v, d: cast(v, target),
        a,
        getattr(strict, target),
        xp_args=(xp.asarray(a), getattr(xp, target)),
    )


def test_astype_truncates_floats_toward_zero() -> None:
    x = xp.asarray([1.7, -1.7, 0.5])
    np.testing.assert_array_equal(host(xp.astype(x, xp.int32)), [1, -1, 0])


def test_astype_copy_and_device() -> None:
    x = xp.asarray([1.0, 2.0])
    assert xp.astype(x, xp.float32, copy=False) is x
    same = xp.astype(x, xp.float32)
    assert same is not x and same.buffer.base is None and same.buffer is not x.buffer
    moved = xp.astype(x, xp.float32, device="cpu:1")
    assert moved.device.name == "cpu:1"
    assert xp.astype(x, xp.float64, copy=False, device="cpu:1").device.name == "cpu:1"
    np.testing.assert_array_equal(host(moved), host(x))
    with pytest.raises(TypeError, match="complex"):
        xp.astype(xp.asarray([1j]), xp.float64)
    with pytest.raises(TypeError, match="data type"):
        xp.astype(x, "not a dtype")
    with pytest.raises(TypeError, match="x must be an NDArray"):
        xp.astype([1.0], xp.float32)  # type: ignore[arg-type]


def test_astype_to_a_dtype_the_device_lacks() -> None:
    x = xp.asarray([1.0], device="no_float64")
    with pytest.raises(TypeError, match="float64"):
        xp.astype(x, xp.float64)


SCALARS = [True, -3, 300, 2.5, 1j]


@settings(max_examples=150)
@given(
    items=st.lists(st.sampled_from(STANDARD) | st.sampled_from(SCALARS), max_size=4),
    arrays=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_result_type(items: list[Any], arrays: list[bool]) -> None:
    # a dtype name is passed as the dtype, or (when `arrays` says) as an array
    ours: list[Any] = []
    theirs: list[Any] = []
    for item, as_array in zip(items, arrays, strict=False):
        if isinstance(item, str) and as_array:
            ours.append(xp.asarray(sample(item, (2,))))
            theirs.append(strict.asarray(sample(item, (2,))))
        elif isinstance(item, str):
            ours.append(getattr(xp, item))
            theirs.append(getattr(strict, item))
        else:
            ours.append(item)
            theirs.append(item)
    try:
        with strict.ArrayAPIStrictFlags(api_version=API_VERSION):
            expected = strict_dtype(strict.result_type(*theirs))
    except (TypeError, ValueError, OverflowError) as exc:
        with pytest.raises(Exception) as info:  # checked below
            xp.result_type(*ours)
        assert compatible(info.value, exc), f"{info.value!r} vs {exc!r}"
        return
    assert xp.result_type(*ours) == expected


def test_result_type_messages() -> None:
    with pytest.raises(ValueError, match="at least one array or dtype"):
        xp.result_type(1, 2.0)
    with pytest.raises(TypeError, match="Python float does not combine with int8"):
        xp.result_type(xp.int8, 1.0)
    with pytest.raises(TypeError, match="do not promote"):
        xp.result_type(xp.int8, xp.float32)
    assert xp.result_type(xp.float32, 1j) == xp.complex64
    assert xp.result_type(xp.float64, 1j) == xp.complex128
