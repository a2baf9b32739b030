"""Elementwise special cases of the standard where NumPy (and so array_api_strict)
gives other values: complex expm1 and tanh, floor_divide by or of infinity. The
expected values are the standard's own (its "Special cases" lists), written out;
everything else about these functions is NumPy's, checked in actnet-device."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _oracle import host

import actnet.ndarray as xp

INF, NAN = math.inf, math.nan


def same(got: Any, want: Any) -> bool:
    """Equal, NaN equal to NaN, and the sign of zero counts."""
    return bool(
        (math.isnan(got) and math.isnan(want))
        or (got == want and math.copysign(1, got) == math.copysign(1, want))
    )


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize(
    ("name", "z", "want"),
    [
        ("expm1", complex(-0.0, 0.0), complex(0.0, 0.0)),
        ("expm1", complex(INF, 0.0), complex(INF, 0.0)),
        ("expm1", complex(-INF, INF), complex(-1.0, 0.0)),
        ("expm1", complex(INF, INF), complex(INF, NAN)),
        ("expm1", complex(-INF, NAN), complex(-1.0, 0.0)),
        ("expm1", complex(INF, NAN), complex(INF, NAN)),
        ("expm1", complex(NAN, 0.0), complex(NAN, 0.0)),
        ("expm1", complex(2.0, INF), complex(NAN, NAN)),
        ("tanh", complex(INF, 3.0), complex(1.0, 0.0)),
        ("tanh", complex(INF, 1.0), complex(1.0, 0.0)),
        ("tanh", complex(-INF, -3.0), complex(-1.0, -0.0)),
    ],
    ids=str,
)
def test_complex_special_cases(
    name: str, z: complex, want: complex, dtype: str
) -> None:
    x = xp.asarray(np.array([z, 0.5 - 0.25j], dtype=dtype))
    got = host(getattr(xp, name)(x))
    assert got.dtype == np.dtype(dtype)
    assert same(got[0].real, want.real) and same(got[0].imag, want.imag), got[0]
    finite = getattr(np, name)(np.array(0.5 - 0.25j, dtype=dtype))
    np.testing.assert_allclose(got[1], finite, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_floor_divide_by_or_of_infinity(dtype: str) -> None:
    cases = [  # (x1, x2, the standard's x1 // x2)
        (INF, 2.0, INF), (INF, -2.0, -INF), (-INF, 2.0, -INF), (-INF, -2.0, INF),
        (1.5, -INF, -0.0), (-1.5, INF, -0.0), (1.5, INF, 0.0), (-1.5, -INF, 0.0),
        (INF, INF, NAN), (7.0, -2.0, -4.0),
    ]  # fmt: skip
    a, b, want = (np.array(column, dtype=dtype) for column in zip(*cases, strict=True))
    x1, x2 = xp.asarray(a), xp.asarray(b)
    for got in (xp.floor_divide(x1, x2), x1 // x2):
        assert all(map(same, host(got), want)), host(got)
    assert all(map(same, host(x1[:4] // 2.0), want[[0, 0, 2, 2]]))


@pytest.mark.parametrize("dtype", ["int8", "int64", "uint8", "uint32"])
def test_integers_divide_in_the_default_float(dtype: str) -> None:
    """The standard leaves integer true division to the implementation;
    array_api_strict refuses it, NumPy gives float64, PyTorch and JAX their
    default float: actnet gives its default float, float32 (clients such as
    scikit-learn's balanced_accuracy_score divide integer counts)."""
    a = np.array([7, 1, 0, 100], dtype=dtype)
    b = np.array([2, 3, 5, 7], dtype=dtype)
    x1, x2 = xp.asarray(a), xp.asarray(b)
    want = (a.astype(np.float32) / b.astype(np.float32)).astype(np.float32)
    for got in (x1 / x2, xp.divide(x1, x2), x1 / 3, 3 / x2, xp.divide(7, x2)):
        assert got.dtype == xp.float32
    np.testing.assert_array_equal(host(x1 / x2), want)
    np.testing.assert_array_equal(host(3 / x2), np.float32(3) / b.astype(np.float32))
    flags = xp.asarray([True, False])
    assert host(flags / flags).dtype == np.float32  # bools too, as in PyTorch
    with pytest.raises(TypeError, match="float"):
        x1 / 2.5  # an integer array and a Python float still do not mix
    with pytest.raises(TypeError, match="divide"):
        x1 /= x2  # in place, x keeps its integer dtype: refused
