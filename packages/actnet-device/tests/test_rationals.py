"""The compiled exact gelu's rational functions (`_rationals.py`) are as accurate
as their module says: 1/2 + x P(x**2) / Q(x**2) against mpmath (40 digits) on
|x| <= 4, exactly (the fit) and in float64 Horner arithmetic (what the kernels
compute); the CDF's coefficients all positive, so that nothing cancels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath as mp
import numpy as np
import pytest

from actnet.device import _rationals

POINTS = np.linspace(-4.0, 4.0, 801)  # steps of 0.01, both ends included


def _cdf(x: Any) -> Any:
    return mp.ncdf(x)


def _slope(x: Any) -> Any:
    return mp.ncdf(x) + x * mp.npdf(x)


def _horner(coefficients: tuple[float, ...], y: float) -> float:
    value = coefficients[0]
    for c in coefficients[1:]:
        value = value * y + c
    return value


@pytest.mark.parametrize(
    ("name", "f", "fitted", "evaluated"),
    [("CDF", _cdf, 3e-17, 3.5e-16), ("SLOPE", _slope, 3e-17, 3.5e-16)],
)
def test_the_rational_functions_are_as_accurate_as_documented(
    name: str, f: Callable[[Any], Any], fitted: float, evaluated: float
) -> None:
    p = getattr(_rationals, f"{name}_P")
    q = getattr(_rationals, f"{name}_Q")
    assert len(p) == 9 and len(q) == 10 and q[-1] == 1.0  # (8, 9), Q(0) = 1
    worst_fit = worst_float = 0.0
    with mp.workdps(40):
        for x in POINTS:
            want = f(mp.mpf(x))
            y = mp.mpf(x) ** 2
            exact = mp.mpf(1) / 2 + x * (mp.polyval(p, y) / mp.polyval(q, y))
            worst_fit = max(worst_fit, float(abs(exact - want)))
            yf = float(x) * float(x)
            value = 0.5 + float(x) * (_horner(p, yf) / _horner(q, yf))
            worst_float = max(worst_float, float(abs(mp.mpf(value) - want)))
    assert worst_fit <= fitted, f"{name}: fit off by {worst_fit:.3g}"
    assert worst_float <= evaluated, f"{name}: float64 off by {worst_float:.3g}"


def test_the_cdf_has_no_cancelling_terms() -> None:
    assert all(c > 0 for c in _rationals.CDF_P + _rationals.CDF_Q)
