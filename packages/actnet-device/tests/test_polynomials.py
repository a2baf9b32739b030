"""The compiled activations' polynomials (`_polynomials.py`) are what their
recipe gives: refitted here in 50-digit arithmetic (mpmath, a test requirement),
each coefficient equal to the one in the module, and the truncation error below
1e-17 of the function on its interval."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath as mp
import pytest

from actnet.device import _polynomials

NODES = 64  # Chebyshev points of the interpolation


def _cdf_small(y: Any) -> Any:
    """(Phi(x) - 1/2) / x as a function of y = x**2."""
    if y == 0:
        return 1 / mp.sqrt(2 * mp.pi)
    x = mp.sqrt(y)
    return (mp.ncdf(x) - mp.mpf(1) / 2) / x


def _slope_small(y: Any) -> Any:
    """(Phi(x) - 1/2) / x + phi(x) as a function of y = x**2."""
    return _cdf_small(y) + mp.exp(-y / 2) / mp.sqrt(2 * mp.pi)


def _erfcx(t: Any) -> Any:
    """(u + 2) exp(u**2) erfc(u) for u = 2 (1 + t) / (1 - t)."""
    if t == 1:
        return 1 / mp.sqrt(mp.pi)
    u = 2 * (1 + t) / (1 - t)
    return (u + 2) * mp.exp(u * u) * mp.erfc(u)


def _chebyshev(f: Callable[[Any], Any], a: Any, b: Any) -> tuple[list[Any], Any]:
    """f's Chebyshev coefficients on [a, b] (interpolation at NODES points), and
    f's smallest magnitude at them."""
    mid, half = (a + b) / 2, (b - a) / 2
    angles = [mp.pi * (k + mp.mpf(1) / 2) / NODES for k in range(NODES)]
    values = [f(mid + half * mp.cos(t)) for t in angles]
    coefficients = [
        (2 if j else 1)
        * mp.fsum(v * mp.cos(j * t) for v, t in zip(values, angles, strict=True))
        / NODES
        for j in range(NODES)
    ]
    return coefficients, min(abs(v) for v in values)


def _powers(coefficients: list[Any]) -> list[Any]:
    """sum c_j T_j(s) as powers of s, lowest first."""
    n = len(coefficients)
    t = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]
    while len(t) < n:  # T_{j+1} = 2 s T_j - T_{j-1}
        nxt = [mp.mpf(0)] + [2 * v for v in t[-1]]
        for i, v in enumerate(t[-2]):
            nxt[i] -= v
        t.append(nxt)
    return [
        mp.fsum(coefficients[j] * t[j][i] for j in range(n) if i < len(t[j]))
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("name", "f", "interval", "unit"),
    [
        ("CDF_SMALL", _cdf_small, (0, 16), None),
        ("SLOPE_SMALL", _slope_small, (0, 16), None),
        ("ERFCX", _erfcx, (-1, 1), None),
        ("EXP", mp.exp, ("-log2/2", "log2/2"), 1),
    ],
)
def test_the_polynomials_are_their_fits(
    name: str, f: Callable[[Any], Any], interval: tuple[Any, Any], unit: Any
) -> None:
    stored = getattr(_polynomials, name)
    with mp.workdps(50):
        if unit is None:
            a, b = (mp.mpf(v) for v in interval)
        else:  # exp on [-log(2)/2, log(2)/2], in powers of r itself
            a, b = -mp.log(2) / 2, mp.log(2) / 2
        coefficients, smallest = _chebyshev(f, a, b)
        n = len(stored)
        dropped = mp.fsum(abs(c) for c in coefficients[n:])
        assert dropped < mp.mpf("1e-17") * smallest, (name, dropped, smallest)
        powers = _powers(coefficients[:n])
        if unit is not None:  # s = r / half: the power i of s is r**i / half**i
            half = (b - a) / 2
            powers = [p / half**i for i, p in enumerate(powers)]
        assert tuple(float(p) for p in reversed(powers)) == stored, name
