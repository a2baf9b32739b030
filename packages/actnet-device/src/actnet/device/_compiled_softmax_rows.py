"""The loops of the compiled softmax family (`_compiled_softmax.py`, the `cpu`
device), plain Python that numba compiles.

Each kernel walks a range of rows of a C-contiguous (rows, classes) array, in
blocks of `block_rows(classes)` rows, with float64 scratch of a block's size
(arena memory, as all scratch: the caller takes it from `Kernels.scratch` and
passes it in). Per block, one pass over its rows for each step: the maxima, exp(x
- max) into the scratch, their sums, then one store per element, rounded once:
computed in float64 like the reference kernels (`_kernels_softmax.py`), so the
two agree to a few float64 roundings. A step's rows are independent, so the
latency of one row's horizontal sum or division overlaps the next row's work
(row by row, a softmax of 128-wide rows took 25% longer); a block's scratch
stays in the first-level cache.

Written out by hand, because numba vectorizes neither the plain forms:
- exp (libm's costs ~10 ns an element, scalar): `_exp_into` is Cody and Waite's
  range reduction, x = k ln 2 + r with |r| <= ln(2)/2, a polynomial for exp(r)
  written as 1 + r q(r), and 2^k built from its bits. `precise` takes q of
  degree 10 (relative error 1.4e-16); else degree 6 (1.1e-10: what one
  rounding to float32 cannot see), for float32 results in which nothing
  cancels: softmax; log_softmax ((x - max) and -log(sum) are both at most 0);
  cross-entropy's loss ((max - x[y]) + log(sum)) and its gradient without
  smoothing (total p, and at the target total (p - 1), computed as expm1).
  1 + r q keeps exp(0) exactly 1, so that the maximum's term is exact and the
  others' errors stay relative to them. float64 results, log_softmax's
  backward (grad - exp(y) sum(grad) may cancel) and smoothing (total p - eps /
  C w[c] may) take degree 10. Results below 2^-1022 (arguments below about
  -708) are flushed to 0. Each q is Horner's (fewest operations: the loop is
  bound by them, and its vectors in flight hide the latency), and the edges
  (-inf, NaN, underflow, overflow) are selects after it rather than clamps
  before (with both, the loop takes 30% less time than with neither). Where
  the result is scaled or added to (cross-entropy's gradient, log_softmax's
  backward), `_exp_into` does that too, so the exponentials go straight into
  the output, rounded once.
- max: a float max loop stays in order (its NaN rule), so `_max_of` reduces
  the floats' bits as ints, which vectorizes (see there).
- sums are compiled to reassociate (`_jit.compiled`), so that they vectorize.
  log(sum) is log of the sum from e on, else log1p of the terms other than the
  maximum's (`_log_sum`), so that -log p of a confident prediction keeps its
  digits.

Kernels and helpers are plain Python first (tests run them so); compiled, they
reach each other through a `_jit.KernelScope`.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from actnet.device._jit import KernelScope
from actnet.device._kernels_softmax import MEAN, NONE, Array

BLOCK_ELEMENTS: Final = 1024  # a block's float64 scratch: 8 KiB

LOG2E: Final = 1.4426950408889634
LN2_HI: Final = 6.93147180369123816490e-01  # ln 2's leading 32 bits: k LN2_HI is exact
LN2_LO: Final = 1.90821492927058770002e-10  # ln 2 - LN2_HI
ROUND: Final = 6755399441055744.0  # 1.5 * 2^52: (v + ROUND) - ROUND rounds v to an int
ROUND_BITS: Final = int(np.float64(ROUND).view(np.int64))  # ROUND + k's bits are k more
LOG_PLAIN: Final = math.e  # see _log_sum
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
F1: Final = 0.5000000047117757  # the degree-6 fit (F0 = 1)
F2: Final = 0.16666666718997508
F3: Final = 0.04166635289677516
F4: Final = 0.008333298483754886
F5: Final = 0.0013941108433972674
F6: Final = 0.0001989927395864936


def block_rows(classes: int) -> int:
    """The rows of a block (see the module doc) of rows `classes` long."""
    return max(1, BLOCK_ELEMENTS // max(classes, 1))


def _exp_into(
    x: Array,
    shift: float,
    out: Array,
    precise: bool,
    bounded: bool = False,
    scale: float = 1.0,
    plus: Array | None = None,
) -> None:
    """out[j] = exp(x[j] - shift) in float64, times `scale` (when that is not
    1), plus plus[j] (when given), rounded once to out's dtype; x, out and plus
    1-d (+inf is inf, NaN is NaN, -inf and arguments below FLUSH are 0; past 709
    inf). `bounded`: every x[j] - shift is at most 0 or NaN (x - its maximum),
    so the test for overflow is left out."""
    for j in range(x.size):
        t0 = np.float64(x[j]) - shift
        big = t0 * LOG2E + ROUND  # ROUND + k: k in its last bits
        kf = big - ROUND
        r = (t0 - kf * LN2_HI) - kf * LN2_LO
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
        else:
            q = F6 * r + F5
            q = q * r + F4
            q = q * r + F3
            q = q * r + F2
            q = q * r + F1
        q = q * r + 1.0
        k = np.float64(big).view(np.int64) - ROUND_BITS
        v: float = (1.0 + r * q) * np.int64((k + 1023) << 52).view(np.float64)
        # k is an exponent only for t0 in [FLUSH, 709]: the selects replace
        # what it made of any other t0 (-inf, NaN: r is NaN there, and NaN
        # stays). Written as selects, the NaN rule is this one, in Python too.
        v = 0.0 if t0 < FLUSH else v
        if not bounded:
            v = np.inf if t0 > 709.0 else v
        if scale != 1.0:
            v *= scale
        if plus is not None:
            v += np.float64(plus[j])
        out[j] = v


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


def _log_sum(e: Array) -> float:
    """log(sum(e)) for e = exp(x - max) (1-d), to its last digits near 0. A sum
    of at least LOG_PLAIN (e) is its log: that is at least 1, so its relative
    error is at most the sum's. Below, the terms that are 1 (the maximum's)
    are counted apart, so that a sum near 1 does not round the others away:
    log1p of the rest plus the count past one. (A row of -inf has e NaN, and
    stays NaN.) Compiled to reassociate."""
    total = 0.0
    for j in range(e.size):
        total += e[j]
    if total >= LOG_PLAIN:
        return math.log(total)
    rest = 0.0
    count = 0.0
    for j in range(e.size):
        v = e[j]
        one = v == 1.0
        rest += 0.0 if one else v
        count += 1.0 if one else 0.0
    return math.log1p(rest + (count - 1.0))


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


def _carve(slab: Array, block: int, classes: int) -> tuple[Array, Array]:
    """(e, stats): a (block, classes) and a (block, 2) array of the 1-d float64
    scratch `slab` (at least block (classes + 2) long), both C-contiguous."""
    size = block * classes
    e = slab[:size].reshape((block, classes))
    stats = slab[size : size + 2 * block].reshape((block, 2))
    return e, stats


def _max_exp_block(
    x: Array,
    bits: Array,
    first: int,
    last: int,
    e: Array,
    stats: Array,
    precise: bool,
) -> None:
    """For rows first..last of x: their maxima into stats[:, 0], exp(x - max)
    into e (from row 0 of each); bits is x viewed as ints of its width."""
    for i in range(first, last):
        stats[i - first, 0] = _max_of(bits[i])
    for i in range(first, last):
        _exp_into(x[i], stats[i - first, 0], e[i - first], precise, True)


def _softmax_rows(
    x: Array,
    bits: Array,
    out: Array,
    precise: bool,
    start: int,
    stop: int,
    slab: Array,
    block: int,
) -> None:
    """softmax of rows start..stop of x (rows, classes) into out, `block` rows
    at a time; bits is x viewed as ints of its width, slab float64 scratch (see
    _carve)."""
    classes = x.shape[1]
    e, stats = _carve(slab, block, classes)
    for first in range(start, stop, block):
        last = min(stop, first + block)
        _max_exp_block(x, bits, first, last, e, stats, precise)
        for i in range(first, last):
            stats[i - first, 1] = 1.0 / _sum_of(e[i - first])
        for i in range(first, last):
            oi = out[i]
            ei = e[i - first]
            inverse = stats[i - first, 1]
            for j in range(classes):
                oi[j] = ei[j] * inverse


def _log_softmax_rows(
    x: Array,
    bits: Array,
    out: Array,
    precise: bool,
    start: int,
    stop: int,
    slab: Array,
    block: int,
) -> None:
    """log_softmax of rows start..stop of x into out; as _softmax_rows."""
    classes = x.shape[1]
    e, stats = _carve(slab, block, classes)
    for first in range(start, stop, block):
        last = min(stop, first + block)
        _max_exp_block(x, bits, first, last, e, stats, precise)
        for i in range(first, last):
            stats[i - first, 1] = _log_sum(e[i - first])
        for i in range(first, last):
            xi = x[i]
            oi = out[i]
            top = stats[i - first, 0]
            log_total = stats[i - first, 1]
            for j in range(classes):
                oi[j] = (np.float64(xi[j]) - top) - log_total


def _softmax_backward_rows(
    g: Array, y: Array, out: Array, start: int, stop: int, slab: Array, block: int
) -> None:
    """softmax's backward of rows start..stop, from the output y: y (g -
    sum(g y)), `block` rows at a time; slab is float64 scratch (see _carve)."""
    classes = y.shape[1]
    _e, stats = _carve(slab, block, classes)
    for first in range(start, stop, block):
        last = min(stop, first + block)
        for i in range(first, last):
            stats[i - first, 0] = _dot_of(g[i], y[i])
        for i in range(first, last):
            gi = g[i]
            yi = y[i]
            oi = out[i]
            dot = stats[i - first, 0]
            for j in range(classes):
                oi[j] = np.float64(yi[j]) * (np.float64(gi[j]) - dot)


def _log_softmax_backward_rows(
    g: Array, y: Array, out: Array, start: int, stop: int, slab: Array, block: int
) -> None:
    """log_softmax's backward of rows start..stop, from the output y: g -
    exp(y) sum(g); as _softmax_backward_rows."""
    classes = y.shape[1]
    _e, stats = _carve(slab, block, classes)
    for first in range(start, stop, block):
        last = min(stop, first + block)
        for i in range(first, last):
            stats[i - first, 0] = _sum_of(g[i])
        for i in range(first, last):
            _exp_into(y[i], 0.0, out[i], True, False, -stats[i - first, 0], g[i])


def _bounds(t: Array, ignore_index: int, w: Array) -> tuple[int, int, float]:
    """(low, high, weight): the extreme targets not ignore_index (0 without
    one), and the summed w[t] of those rows (0 when a target is out of bounds)."""
    low = 0
    high = 0
    for i in range(t.size):
        ti = t[i]
        if ti != ignore_index:
            low = min(low, ti)
            high = max(high, ti)
    counted = 0.0
    if low >= 0 and high < w.size:
        for i in range(t.size):
            if t[i] != ignore_index:
                counted += w[t[i]]
    return low, high, counted


def _cross_entropy_part(
    x: Array,
    bits: Array,
    t: Array,
    w: Array,
    ignore_index: int,
    eps: float,
    losses: Array,
    stats: Array,
    precise: bool,
    start: int,
    stop: int,
    e: Array,
) -> None:
    """The losses of rows start..stop (float64), each row's maximum and the log
    of its sum of exp(x - max) into stats. The targets are in bounds; e (block,
    classes) float64 is scratch: the rows go a block at a time."""
    classes = x.shape[1]
    block = e.shape[0]
    weight_sum = _sum_of(w) if eps != 0.0 else 0.0
    for first in range(start, stop, block):
        last = min(stop, first + block)
        for i in range(first, last):
            stats[i, 0] = _max_of(bits[i])
        for i in range(first, last):
            _exp_into(x[i], stats[i, 0], e[i - first], precise, True)
        for i in range(first, last):
            stats[i, 1] = _log_sum(e[i - first])
        for i in range(first, last):
            ti = t[i]
            if ti == ignore_index:
                losses[i] = 0.0
                continue
            top = stats[i, 0]
            log_total = stats[i, 1]
            # -log p[y] = (max - x[y]) + log(sum): no cancelling
            row = w[ti] * ((top - np.float64(x[i, ti])) + log_total)
            if eps != 0.0:
                smooth = _spread_of(x[i], w, top) + weight_sum * log_total
                row = row * (1.0 - eps) + smooth * (eps / classes)
            losses[i] = row


def _reduce_losses(losses: Array, reduction: int, counted: float, loss: Array) -> None:
    """The per-row losses reduced into loss (1-d: one value, or one per row).
    PyTorch's mean divides by the summed weights of the rows counted (0 / 0 is
    NaN under error_model="numpy")."""
    if reduction == NONE:
        for i in range(losses.size):
            loss[i] = losses[i]
    else:
        total = _sum_of(losses)
        loss[0] = total / counted if reduction == MEAN else total


def _cross_entropy(
    x: Array,
    bits: Array,
    t: Array,
    w: Array,
    ignore_index: int,
    eps: float,
    reduction: int,
    loss: Array,
    stats: Array,
    precise: bool,
    losses: Array,
    e: Array,
) -> tuple[int, int]:
    """cross-entropy in one call (on one thread): the bounds, the rows, the
    reduction. Returns (low, high); nothing is indexed when a target is out of
    bounds. losses (a float64 per row) and e are scratch."""
    low, high, counted = _bounds(t, ignore_index, w)
    if low < 0 or high >= x.shape[1]:
        return low, high
    _cross_entropy_part(
        x, bits, t, w, ignore_index, eps, losses, stats, precise, 0, x.shape[0], e
    )
    _reduce_losses(losses, reduction, counted, loss)
    return low, high


def _loss_coefficient(g: Array, reduction: int, counted: float) -> float:
    """The loss gradient of every row for 'sum' and 'mean' (divided by 1 when 0
    rows are counted under 'mean': every row is ignored and its gradient 0, as
    in PyTorch); 0 for 'none', whose rows read their own."""
    if reduction == NONE:
        return 0.0
    coef = np.float64(g[0])
    if reduction == MEAN:
        coef = coef / (counted if counted != 0.0 else 1.0)
    return coef


def _cross_entropy_backward_part(
    g: Array,
    x: Array,
    t: Array,
    stats: Array,
    w: Array,
    ignore_index: int,
    eps: float,
    per_row: bool,
    coef: float,
    out: Array,
    precise: bool,
    start: int,
    stop: int,
    e: Array,
) -> None:
    """grad_logits of rows start..stop into out (see SoftmaxKernels); the loss
    gradient of row i is g[i] when `per_row` ('none'), else coef. The targets
    are in bounds; e (block, classes) float64 is scratch (for smoothing)."""
    classes = x.shape[1]
    block = e.shape[0]
    weight_sum = _sum_of(w)
    smooth = eps / classes
    spread = smooth * weight_sum
    for first in range(start, stop, block):
        last = min(stop, first + block)
        for i in range(first, last):
            oi = out[i]
            ti = t[i]
            if ti == ignore_index:
                for j in range(classes):
                    oi[j] = 0.0
                continue
            shift = stats[i, 0] + stats[i, 1]
            scale = np.float64(g[i]) if per_row else coef
            total = w[ti] * (1.0 - eps) + spread
            # x - max - log(sum) is at most 0 (bounded) with the forward's stats
            if eps == 0.0:  # total p scaled: exp straight into the row
                _exp_into(x[i], shift, oi, precise, True, total * scale)
            else:
                ei = e[i - first]
                _exp_into(x[i], shift, ei, precise, True)
                for j in range(classes):
                    oi[j] = (ei[j] * total - w[j] * smooth) * scale
            # total p - eps / C w - (1 - eps) w at the target, as
            # total (p - 1) + eps / C (sum(w) - w): p - 1 keeps its digits
            log_p = (np.float64(x[i, ti]) - stats[i, 0]) - stats[i, 1]
            hot = total * math.expm1(log_p) + smooth * (weight_sum - w[ti])
            oi[ti] = hot * scale


def _cross_entropy_backward(
    g: Array,
    x: Array,
    t: Array,
    stats: Array,
    w: Array,
    ignore_index: int,
    eps: float,
    reduction: int,
    out: Array,
    precise: bool,
    e: Array,
) -> tuple[int, int]:
    """cross-entropy's backward in one call (on one thread); returns (low,
    high), nothing indexed when a target is out of bounds. e is scratch."""
    low, high, counted = _bounds(t, ignore_index, w)
    if low < 0 or high >= x.shape[1]:
        return low, high
    coef = _loss_coefficient(g, reduction, counted)
    per_row = reduction == NONE
    _cross_entropy_backward_part(
        g, x, t, stats, w, ignore_index, eps, per_row, coef, out, precise, 0,
        x.shape[0], e,
    )  # fmt: skip
    return low, high


# Each function numba compiles, and how: reductions reassociated (they
# vectorize), exp contracted (FMA: fewer instructions, one rounding for two).
# Each reaches the others through the scope; the `cpu` backend calls the kernels
# (the rest are their helpers) and the parts, on the threads of parallel_for.
SCOPE: Final = KernelScope(
    globals(),
    {
        _exp_into: {"contract": True},
        _sum_of: {"reassociate": True},
        _dot_of: {"reassociate": True},
        _spread_of: {"reassociate": True},
        _log_sum: {"reassociate": True},
        _max_of: {},
        _carve: {},
        _bounds: {},
        _max_exp_block: {},
        _softmax_rows: {},
        _log_softmax_rows: {},
        _softmax_backward_rows: {},
        _log_softmax_backward_rows: {},
        _cross_entropy_part: {},
        _reduce_losses: {},
        _cross_entropy: {},
        _loss_coefficient: {},
        _cross_entropy_backward_part: {},
        _cross_entropy_backward: {},
    },
)
