"""Dtype names (`as_dtype`) and PyTorch's type promotion, one table."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import actnet.tensor as at
from actnet.tensor._promotion import result_dtype, scalar_dtype


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("float", at.float32),
        ("double", at.float64),
        ("half", at.float16),
        ("long", at.int64),
        ("int", at.int32),
        ("short", at.int16),
        ("byte", at.uint8),
        ("cfloat", at.complex64),
        ("cdouble", at.complex128),
        ("float32", at.float32),
        ("torch.float64", at.float64),
        ("torch.long", at.int64),
        ("bfloat16", at.bfloat16),
        (np.float32, at.float32),
        (at.int8, at.int8),
    ],
)
def test_as_dtype_takes_pytorchs_names(name: object, expected: object) -> None:
    assert at.as_dtype(name) == expected


@pytest.mark.parametrize("bad", ["foo", "object", str, "torch.foo"])
def test_as_dtype_refuses_what_actnet_does_not_hold(bad: object) -> None:
    with pytest.raises(TypeError, match="not a data type of actnet"):
        at.as_dtype(bad)


def test_the_promotion_table_is_symmetric_and_stays_in_the_higher_category() -> None:
    dtypes = [at.bool, at.int8, at.int64, at.uint8, at.float16, at.float32]
    dtypes += [at.float64, at.complex64, at.complex128]
    for a, b in itertools.product(dtypes, repeat=2):
        result = result_dtype(a, b)
        assert result == result_dtype(b, a)
        assert result in (a, b) or {a.kind, b.kind} <= {"i", "u"} or result.kind == "c"
    assert result_dtype(at.int8, at.uint8) == at.int16  # the array API's table
    assert result_dtype(at.float64, at.complex64) == at.complex128


def test_dtypes_without_a_common_one_raise() -> None:
    # (bfloat16 and float32 promote to float32 now, as in PyTorch: see
    # test_autocast.py's test_bfloat16_promotes_as_in_pytorch)
    with pytest.raises(TypeError, match="do not promote"):
        result_dtype(np.dtype("uint64"), at.int64)


def test_python_scalars_widen_only_a_lower_category() -> None:
    assert scalar_dtype(at.int64, 0.5) == at.float32
    assert scalar_dtype(at.float16, 0.5) == at.float16
    assert scalar_dtype(at.bool, 2) == at.int64
    assert scalar_dtype(at.int8, 2) == at.int8
    assert scalar_dtype(at.float64, 1j) == at.complex128
    assert scalar_dtype(at.float32, 1j) == at.complex64
    assert scalar_dtype(at.float32, np.float64(1.0)) == at.float32  # not a scalar


def test_operators_refuse_what_is_not_a_tensor_or_a_scalar() -> None:
    t = at.ones(2)
    for other in (None, [1.0, 2.0], np.ones(2)):
        for op in (t.__add__, t.__sub__, t.__mul__, t.__truediv__):
            with pytest.raises(TypeError, match="Tensors or Python or NumPy scalars"):
                op(other)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="as_tensor"):  # the way to take an array
        t + np.ones(2)  # type: ignore[operator]


def test_numpy_scalars_are_taken_as_python_scalars() -> None:
    """As PyTorch does (`scores * (1 / np.sqrt(d))`): a float32 tensor stays
    float32, an int64 tensor times a NumPy float is float32, and the reflected
    operators win over NumPy's (no ndarray made through __array__)."""
    t = at.ones(2)
    for got in (t * (1 / np.sqrt(64)), np.float32(2) * t, t - np.int64(1)):
        assert isinstance(got, at.Tensor) and got.dtype == at.float32
    assert (at.ones(2, dtype=at.int64) * np.float64(2.5)).dtype == at.float32
    assert np.asarray(t * np.float64(0.125)).tolist() == [0.125, 0.125]
