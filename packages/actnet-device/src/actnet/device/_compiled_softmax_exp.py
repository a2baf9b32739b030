"""The exponentials and row reductions of the compiled softmax family
(`_compiled_softmax_rows.py`'s kernels call them), plain Python that numba
compiles; written out by hand, because numba vectorizes neither the plain forms:

- exp (libm's costs ~10 ns an element, scalar): `_exp_of` (one element, which
  LLVM inlines into the loops of `_exp_into` and `_log_sum_exp`, where it
  vectorizes) is Cody and Waite's range reduction, x = k ln 2 + r with |r| <=
  ln(2)/2, a polynomial for exp(r) written as 1 + r q(r), and 2^k built from
  its bits, all in float64.
  `precise` takes q of degree 10 (relative error 1.4e-16); else degree 5 and
  ln 2 in one constant (4.7e-9: 0.08 ulp of a float32), for float32 results in
  which nothing cancels: softmax; log_softmax ((x - max) and -log(sum) are both
  at most 0); cross-entropy's loss ((max - x[y]) + log(sum)) and its gradient
  without smoothing (total p, and at the target total (p - 1), computed as
  expm1). 1 + r q keeps exp(0) exactly 1, so that the maximum's term is exact
  and the others' errors stay relative to them. float64 results and smoothing
  (total p - eps / C w[c] may cancel) take degree 10. Results below 2^-1022
  (arguments below about -708) are flushed to 0. Each q is Horner's (fewest
  operations: the loop is bound by them, and its vectors in flight hide the
  latency), and the edges (-inf, NaN, underflow, overflow) are selects after it
  rather than clamps before (with both, the loop takes 30% less time than with
  neither). Where the result is scaled or added to (cross-entropy's gradient,
  log_softmax's backward), `_exp_into` does that too, so the exponentials go
  straight into the output, rounded once.
- `_exp32_into` is exp in float32 arithmetic (twice as many lanes a vector),
  for log_softmax's backward of float32: grad - exp(y) sum(grad) may cancel,
  and the float32 rule of tests/test_softmax_kernels.py allows for what its
  error (below 2^-23 of exp(y)) leaves there; where exp(y) is not a normal
  float32 the caller takes `_exp_into` (degree 5) instead. A float32 result in
  which nothing cancels could not take it: the exponential's rounding, the
  sum's and the result's would add up to 3-4 ulp.
- max: a float max loop stays in order (its NaN rule), so `_max_of` reduces
  the floats' bits as ints, which vectorizes (see there).
- sums are compiled to reassociate (`_jit.compiled`), so that they vectorize.
  log(sum) (`_log_sum_exp`, summing the exponentials as it makes them) is log
  of the sum from e on, else log1p of the terms other than the maximum's, so
  that -log p of a confident prediction keeps its digits.

The kernels' `_jit.KernelScope` compiles these with them (its namespace holds
this module's names too).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from actnet.device._kernels_softmax import Array

LOG2E: Final = 1.4426950408889634
LN2_HI: Final = 6.93147180369123816490e-01  # ln 2's leading 32 bits: k LN2_HI is exact
LN2_LO: Final = 1.90821492927058770002e-10  # ln 2 - LN2_HI
LN2: Final = math.log(2.0)
ROUND: Final = 6755399441055744.0  # 1.5 * 2^52: (v + ROUND) - ROUND rounds v to an int
ROUND_BITS: Final = int(np.float64(ROUND).view(np.int64))  # ROUND + k's bits are k more
LOG_PLAIN: Final = math.e  # see _log_sum_exp
FLUSH: Final = -708.3  # below, exp is under 2^-1022 (or about): flushed to 0
# q(r) = (exp(r) - 1) / r on [-ln(2)/2, ln(2)/2], near-minimax (Chebyshev fits)
Q0: Final = 1.0
Q1: Final = 0.5000000000000006
Q2: Final = 0.1666666666666667
Q3: Final = 0.04166666666657314
Q4: Final = 0.008333333333326141
Q5: Final = 0.0013888888932488599
Q6: Final = 0.00019841269874800493
Q7: Final = 2.4801504346997686e-05
Q8: Final = 2.7557255425746435e-06
Q9: Final = 2.7626357241447223e-07
Q10: Final = 2.510520637395701e-08
# q of degree 5 for float32's results (`precise` False): (exp(r) - 1) / r on
# |r| <= 0.35, its Chebyshev interpolation at 64 points cut after the r^5 term
# (tests refit it in mpmath): 1 + r q within 4.7e-9 of exp(r), 0.08 ulp of a
# float32; 1 + r q keeps exp(0) exactly 1 (G0 is not quite 1).
G0: Final = 1.0000000114319616
G1: Final = 0.5000000049997212
G2: Final = 0.16666498742347774
G3: Final = 0.04166634024942484
G4: Final = 0.008369864121188718
G5: Final = 0.0013942150435384477
# exp in float32 arithmetic (`_exp32_into`): Cody and Waite's reduction with
# ln 2 = LN2_HI32 + LN2_LO32 (LN2_HI32 has 9 bits: k LN2_HI32 and y - k LN2_HI32
# are exact), exp(r) = 1 + r + r^2 h(r), h = (exp(r) - 1 - r) / r^2 of degree 4
# on |r| <= 0.35: its Chebyshev interpolation at 64 points, cut after the r^4
# term (the next coefficient is 6.5e-8: r^2 6.5e-8, below 8e-9 of exp(r)) and
# rounded to float32 (tests refit it in mpmath). Over every float32 y in
# [EXP32_LOW, EXP32_HIGH] (all 2.2e9 of them, tried once; tests try a dense
# sample) its relative error is at most 8.01e-8, 0.67 2^-23.
LOG2E32: Final = np.float32(LOG2E)
ROUND32: Final = np.float32(12582912.0)  # 1.5 * 2^23: rounds to an int, as ROUND
ROUND32_BITS: Final = np.int32(np.float32(12582912.0).view(np.int32))
LN2_HI32: Final = np.float32(0.693359375)
LN2_LO32: Final = np.float32(math.log(2.0) - 0.693359375)
H0: Final = np.float32(0.5)
H1: Final = np.float32(0.16666573)
H2: Final = np.float32(0.041666456)
H3: Final = np.float32(0.008363769)
H4: Final = np.float32(0.0013934535)
EXP32_LOW: Final = np.float32(-87.0)  # exp(y) a normal float32 from here ...
EXP32_HIGH: Final = np.float32(88.0)  # ... to here
SUM32_MAX: Final = 3.0e38  # a row sum a float32 holds


def _exp_of(t0: float, precise: bool, bounded: bool) -> float:
    """exp(t0) in float64 (+inf is inf, NaN is NaN, -inf and arguments below
    FLUSH are 0; past 709 inf). `bounded`: t0 is at most 0 or NaN (x - its
    maximum), so the test for overflow is left out. A scalar that LLVM inlines
    into the loops that call it (`_exp_into`, `_log_sum_exp`), where it
    vectorizes, keeping its own flags (contracted, never reassociated: the
    rounding at ROUND must stay)."""
    big = t0 * LOG2E + ROUND  # ROUND + k: k in its last bits
    kf = big - ROUND
    # not precise: ln 2 in one constant, one FMA fewer (k ln 2 off by |k|
    # 2.3e-17, at most 2.5e-14: float32's results cannot see it)
    r = (t0 - kf * LN2_HI) - kf * LN2_LO if precise else t0 - kf * LN2
    # Horner: fewer operations than a split form, and the loop keeps enough
    # elements in flight (vectors, unrolled) to hide each step's latency.
    if precise:
        q = Q10 * r + Q9
        q = q * r + Q8
        q = q * r + Q7
        q = q * r + Q6
        q = q * r + Q5
        q = q * r + Q4
        q = q * r + Q3
        q = q * r + Q2
        q = q * r + Q1
        q = q * r + 1.0
    else:
        q = G5 * r + G4
        q = q * r + G3
        q = q * r + G2
        q = q * r + G1
        q = q * r + G0
    k = np.float64(big).view(np.int64) - ROUND_BITS
    v: float = (1.0 + r * q) * np.int64((k + 1023) << 52).view(np.float64)
    # k is an exponent only for t0 in [FLUSH, 709]: the selects replace what it
    # made of any other t0 (-inf, NaN: r is NaN there, and NaN stays). Written
    # as selects, the NaN rule is this one, in Python too.
    v = 0.0 if t0 < FLUSH else v
    if not bounded:
        v = np.inf if t0 > 709.0 else v
    return v


def _exp_into(
    x: Array,
    shift: float,
    out: Array,
    precise: bool,
    bounded: bool = False,
    scale: float = 1.0,
    plus: Array | None = None,
    minus: Array | None = None,
) -> None:
    """out[j] = exp(x[j] - shift - minus[j]) in float64 (minus[j] when given;
    `_exp_of`, `bounded` as there), times `scale` (when that is not 1), plus
    plus[j] (when given), rounded once to out's dtype; x, out, plus and minus
    1-d."""
    for j in range(x.size):
        t0 = np.float64(x[j]) - shift
        if minus is not None:
            t0 -= np.float64(minus[j])
        v = _exp_of(t0, precise, bounded)
        if scale != 1.0:
            v *= scale
        if plus is not None:
            v += np.float64(plus[j])
        out[j] = v


def _log_sum_exp(x: Array, top: float, precise: bool) -> float:
    """log(sum(exp(x - top))) for top the maximum of x (1-d), to its last
    digits near 0, the exponentials summed as they are made (none stored). A
    sum of at least LOG_PLAIN (e) is its log: that is at least 1, so its
    relative error is at most the sum's. Below, the terms that are 1 (the
    maximum's) are counted apart, so that a sum near 1 does not round the
    others away: log1p of the rest plus the count past one, the exponentials
    made again (a row that confident is rarer than the exp is costly: keeping
    the rest and the count beside the sum made every row 30% slower). A row of
    -inf has NaN terms, and stays NaN. Compiled to reassociate the sums (the
    exponentials keep `_exp_of`'s flags)."""
    total = 0.0
    for j in range(x.size):
        total += _exp_of(np.float64(x[j]) - top, precise, True)
    if total >= LOG_PLAIN:
        return math.log(total)
    rest = 0.0
    count = 0.0
    for j in range(x.size):
        v = _exp_of(np.float64(x[j]) - top, precise, True)
        one = v == 1.0
        rest += 0.0 if one else v
        count += 1.0 if one else 0.0
    return math.log1p(rest + (count - 1.0))


def _exp32_outside(y: Array) -> int:
    """How many y[j] (1-d float32) lie outside [EXP32_LOW, EXP32_HIGH], where
    exp(y) is not a normal float32 and `_exp32_into` does not reach (NaN is
    not counted: it stays NaN there)."""
    outside = 0
    for j in range(y.size):
        t = y[j]
        outside += (t < EXP32_LOW) | (t > EXP32_HIGH)
    return outside


def _exp32_into(y: Array, scale: np.float32, plus: Array, out: Array) -> None:
    """out[j] = exp(y[j]) scale + plus[j] in float32 arithmetic, for y[j] in
    [EXP32_LOW, EXP32_HIGH] (`_exp32_outside` counts the others; their out[j]
    are wrong); y, plus and out float32 1-d. exp's relative error is below
    2^-23 (see EXP32_LOW), the multiply-add one FMA, one rounding. A NaN y or
    plus makes out[j] NaN."""
    for j in range(y.size):
        t = y[j]
        big = t * LOG2E32 + ROUND32
        kf = big - ROUND32
        r = t - kf * LN2_HI32  # exact
        r = r - kf * LN2_LO32
        h = H4 * r + H3
        h = h * r + H2
        h = h * r + H1
        h = h * r + H0
        q = h * r + np.float32(1.0)
        v = q * r + np.float32(1.0)  # 1 + r + r^2 h
        k = np.float32(big).view(np.int32) - ROUND32_BITS
        v = v * np.int32((k + 127) << 23).view(np.float32)
        out[j] = v * scale + plus[j]


def _sum_of(a: Array) -> float:
    """The float64 sum of a (1-d); compiled to reassociate, so it vectorizes."""
    total = 0.0
    for j in range(a.size):
        total += np.float64(a[j])
    return total


def _dot_of(g: Array, y: Array) -> float:
    """The float64 sum of g * y (1-d each); compiled to reassociate."""
    total = 0.0
    for j in range(g.size):
        total += np.float64(g[j]) * np.float64(y[j])
    return total


def _spread_of(x: Array, w: Array, top: float) -> float:
    """The float64 sum of w[c] (top - x[c]) (each at least 0 for top the
    maximum: no cancelling); compiled to reassociate."""
    total = 0.0
    for j in range(x.size):
        total += w[j] * (top - np.float64(x[j]))
    return total


def _gaps_of(x: Array, top: float) -> float:
    """The float64 sum of top - x[c] (`_spread_of` with every weight 1)."""
    total = 0.0
    for j in range(x.size):
        total += top - np.float64(x[j])
    return total


def _max_of(bits: Array) -> float:
    """The largest value of a row, as float64 (-inf when it is empty), from
    `bits`, the row's floats (float32 or float64) viewed as signed ints of their
    width. A float that is at least 0 has bits at least 0, ordered as the
    floats; a negative one has negative bits, ordered the other way: so the
    largest float is the float of the largest bits when those are at least 0,
    else of the smallest. Integer max and min vectorize where a float max does
    not (its NaN rule keeps the loop in order). A NaN may or may not be found:
    either way its row is NaN, through the sum of the exponentials."""
    if bits.size == 0:
        return -np.inf
    high = bits[0]
    low = bits[0]
    for j in range(bits.size):
        v = bits[j]
        high = max(high, v)
        low = min(low, v)
    top = high if high >= 0 else low
    if bits.itemsize == 4:
        return np.float64(np.int32(top).view(np.float32))
    return np.float64(np.int64(top).view(np.float64))
