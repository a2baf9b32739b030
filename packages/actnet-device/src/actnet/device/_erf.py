"""erf to double precision, written once against an array module.

The Maclaurin series for |x| <= 1, Cody's rational approximations beyond, computed
in float64 and rounded once into `out`. Every array it works in is scratch from
the device's arena (`Kernels.scratch`): the float64 copy, |x|, the result and the
region masks at x's size, then the values of each region (gathered with
`compress`) and their terms, in rows of the largest region's size. The operations,
and so the bits, are those of the plain expressions in the comments, done in place.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np

Array = Any  # a numpy.ndarray or cupy.ndarray
Scratch = Callable[[tuple[int, ...], np.dtype[Any]], Any]  # Kernels.scratch

_F64: Final = np.dtype(np.float64)
_BOOL: Final = np.dtype(np.bool_)

# W. J. Cody, "Rational Chebyshev approximations for the error function" (Math.
# Comp. 1969), the coefficients of SPECFUN's CALERF for |x| > 1: relative error
# below 1e-16.
_ERF_C: Final = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
    2.15311535474403846e-8,
)
_ERF_D: Final = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
_ERF_P: Final = (
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
    1.63153871373020978e-2,
)
_ERF_Q: Final = (
    2.56852019228982242e00,
    1.87295284992346725e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)
_INV_SQRT_PI: Final = 5.6418958354775628695e-1


def _erf_taylor(terms: int) -> tuple[float, ...]:
    """c[n] with erf(x) = x + x * sum(c[n] * (x*x)**n) (the Maclaurin series
    2/sqrt(pi) * sum((-1)**n * x**(2n+1) / (n! (2n+1))) less its leading x), each
    rounded once from 40 digits."""
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        two_over_sqrt_pi = decimal.Decimal("1.128379167095512573896158903121545171688")
        coefficients = [float(two_over_sqrt_pi - 1)]
        for n in range(1, terms):
            term = two_over_sqrt_pi / (math.factorial(n) * (2 * n + 1))
            coefficients.append(float(-term if n % 2 else term))
    return tuple(coefficients)


# On [0, 1] the sum is a correction below 0.16 added to x, so erf is rounded about
# once (Cody's rational forms there round three or four times: up to 5 ulp). The
# 20th term is below 3e-19.
_ERF_TAYLOR: Final = _erf_taylor(20)


def erf(xp: Any, scratch: Scratch, x: Array, out: Array) -> None:
    """out = erf(x), from float64 rounded once to out's dtype."""
    work = scratch((3, *x.shape), _F64)  # x in float64, y = |x|, the result
    flags = scratch((4, *x.shape), _BOOL)  # the three regions' masks, a spare
    xd, y, result = (work.native[i, ...] for i in range(3))
    small, mid, large, spare = (flags.native[i, ...] for i in range(4))
    if x.dtype == _F64:
        xd = x  # only read
    else:
        xp.copyto(xd, x)
    xp.absolute(xd, y)
    xp.less_equal(y, 1.0, small)  # y <= 1
    xp.greater(y, 1.0, mid)  # (y > 1) & (y <= 4)
    xp.less_equal(y, 4.0, spare)
    xp.logical_and(mid, spare, mid)
    xp.greater(y, 4.0, large)  # y > 4
    regions = ((small, _small), (mid, _mid), (large, _large))
    counts = [int(xp.count_nonzero(mask)) for mask, _ in regions]
    # One scratch for the regions' terms, five rows of the largest region's size.
    terms = scratch((5, max(counts)), _F64)
    for (mask, formula), k in zip(regions, counts, strict=True):
        if k:
            values = terms.native[:, :k]
            xp.compress(mask.reshape(-1), y.reshape(-1), out=values[0])
            formula(xp, values)
            result[mask] = values[0]
    xp.isnan(y, spare)
    if spare.any():
        result[spare] = xp.nan
    xp.copysign(result, xd, result)
    xp.copyto(out, result, casting="unsafe")


def _small(xp: Any, terms: Array) -> None:
    """ys + ys * series(ys * ys), the Taylor sum for y <= 1."""
    ys, z, series = terms[0], terms[1], terms[2]
    xp.multiply(ys, ys, z)
    series.fill(_ERF_TAYLOR[-1])
    for c in reversed(_ERF_TAYLOR[:-1]):
        series *= z
        series += c
    xp.multiply(ys, series, series)
    xp.add(ys, series, ys)


def _mid(xp: Any, terms: Array) -> None:
    """1 - scaled_exp(ym) * r(ym), Cody's rational function for 1 < y <= 4."""
    ym, num, den, e1, e2 = terms[0], terms[1], terms[2], terms[3], terms[4]
    xp.multiply(ym, _ERF_C[8], num)  # num = C8 * ym
    xp.copyto(den, ym)  # den = ym
    for i in range(7):
        xp.add(num, _ERF_C[i], num)  # num = (num + C[i]) * ym
        xp.multiply(num, ym, num)
        xp.add(den, _ERF_D[i], den)  # den = (den + D[i]) * ym
        xp.multiply(den, ym, den)
    xp.add(num, _ERF_C[7], num)  # r = (num + C7) / (den + D7)
    xp.add(den, _ERF_D[7], den)
    xp.divide(num, den, num)
    _scaled_exp(xp, ym, den, e1, e2)  # into e1; den is spare now
    xp.multiply(e1, num, e1)
    xp.subtract(1.0, e1, ym)


def _large(xp: Any, terms: Array) -> None:
    """1 - scaled_exp(yl) * r(yl) (exactly 1 from yl >= 6), Cody's asymptotic form
    for y > 4."""
    yl, z, num, den, e2 = terms[0], terms[1], terms[2], terms[3], terms[4]
    xp.multiply(yl, yl, z)  # z = 1 / (yl * yl)
    xp.divide(1.0, z, z)
    xp.multiply(z, _ERF_P[5], num)  # num = P5 * z
    xp.copyto(den, z)  # den = z
    for i in range(4):
        xp.add(num, _ERF_P[i], num)  # num = (num + P[i]) * z
        xp.multiply(num, z, num)
        xp.add(den, _ERF_Q[i], den)  # den = (den + Q[i]) * z
        xp.multiply(den, z, den)
    xp.add(num, _ERF_P[4], num)  # r = z * (num + P4) / (den + Q4)
    xp.multiply(z, num, num)
    xp.add(den, _ERF_Q[4], den)
    xp.divide(num, den, num)
    xp.subtract(_INV_SQRT_PI, num, num)  # r = (1/sqrt(pi) - r) / yl
    xp.divide(num, yl, num)
    _scaled_exp(xp, yl, z, den, e2)  # tail = scaled_exp(yl) * r, into den
    xp.multiply(den, num, den)
    at_one = xp.greater_equal(yl, 6.0, e2.view(_BOOL)[: yl.shape[0]])
    xp.subtract(1.0, den, yl)  # where(yl >= 6, 1, 1 - tail)
    yl[at_one] = 1.0


def _scaled_exp(xp: Any, y: Array, ysq: Array, e1: Array, e2: Array) -> None:
    """e1 = exp(-y*y) without the rounding error of squaring y (Cody's split):
    ysq = trunc(y * 16) / 16; exp(-ysq * ysq) * exp(-(y - ysq) * (y + ysq))."""
    xp.multiply(y, 16.0, ysq)
    xp.trunc(ysq, ysq)
    xp.divide(ysq, 16.0, ysq)
    xp.negative(ysq, e1)
    xp.multiply(e1, ysq, e1)
    xp.exp(e1, e1)
    xp.subtract(y, ysq, e2)
    xp.negative(e2, e2)
    xp.add(y, ysq, ysq)
    xp.multiply(e2, ysq, e2)
    xp.exp(e2, e2)
    xp.multiply(e1, e2, e1)
