"""Compiled kernels of the fused softmax family (the `cpu` device).

Each kernel walks a range of rows of a C-contiguous (rows, classes) array with
float64 scratch of a row's length (arena memory, as all scratch: the caller
takes it from `Kernels.scratch` and passes it in). Per row: the maximum, exp(x
- max) into the scratch, their sum, then one store per element, rounded once:
computed in float64 like the reference kernels (`_kernels_softmax.py`), so the
two agree to a few float64 roundings. Large inputs are cut into parts of whole
rows that `_threads.parallel_for` hands to its threads as they come free (each
part's values do not depend on the cut: the same bits on any thread count).
Other layouts (an axis that is not the last, strides) and dtypes take the
reference.

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
  -708) are flushed to 0.
- max: a float max loop stays in order (its NaN rule), so `_max_of` reduces
  the floats' bits as ints, which vectorizes (see there).
- sums are compiled to reassociate (`_jit.compiled`), so that they vectorize.
  log(sum) is log1p of the terms other than the maximum's (`_log_sum`), so
  that -log p of a confident prediction keeps its digits.

Kernels and helpers are plain Python first (tests run them so); compiled, they
reach each other through a `_jit.KernelScope`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from actnet.device._jit import KernelScope
from actnet.device._kernels_softmax import MEAN, NONE, Array, SoftmaxKernels
from actnet.device._threads import get_num_threads, parallel_for

# From this many elements a kernel runs on the threads set_num_threads allows
# (`_threads.parallel_for`: sleeping helpers, each taking the next part of the
# rows when it is free); below, waking them costs more than the loop.
PARALLEL_MIN: Final = 1 << 16
PARTS_PER_THREAD: Final = 4
PART_MIN: Final = 1 << 13  # elements: a part is worth a helper's wake-up
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))
_I64: Final = np.dtype(np.int64)
_F64: Final = np.dtype(np.float64)

LOG2E: Final = 1.4426950408889634
LN2_HI: Final = 6.93147180369123816490e-01  # ln 2's leading 32 bits: k LN2_HI is exact
LN2_LO: Final = 1.90821492927058770002e-10  # ln 2 - LN2_HI
ROUND: Final = 6755399441055744.0  # 1.5 * 2^52: (v + ROUND) - ROUND rounds v to an int
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


def _exp_into(x: Array, shift: float, out: Array, precise: bool) -> None:
    """out[j] = exp(x[j] - shift) in float64 for a 1-d x (+inf is inf, NaN is
    NaN; arguments past 709 lose accuracy or overflow to inf)."""
    for j in range(x.size):
        t0 = np.float64(x[j]) - shift
        # k from t clamped to [-1000, 709] (NaN to 709), so that it is a small
        # int for every input; r from t0 itself, so that NaN and inf carry on.
        # Written as selects: the NaN rule is then this one, in Python and numba.
        t = t0 if t0 < 709.0 else 709.0  # noqa: FURB136
        t = t if t > -1000.0 else -1000.0  # noqa: FURB136
        kf = (t * LOG2E + ROUND) - ROUND
        r = (t0 - kf * LN2_HI) - kf * LN2_LO
        r2 = r * r
        r4 = r2 * r2
        if precise:
            low = (Q0 + Q1 * r) + r2 * (Q2 + Q3 * r)
            mid = (Q4 + Q5 * r) + r2 * (Q6 + Q7 * r)
            high = (Q8 + Q9 * r) + r2 * Q10
            q = low + r4 * (mid + r4 * high)
        else:
            q = ((1.0 + F1 * r) + r2 * (F2 + F3 * r)) + r4 * ((F4 + F5 * r) + r2 * F6)
        k = np.int64(kf)
        v = (1.0 + r * q) * np.int64((k + 1023) << 52).view(np.float64)
        out[j] = v if k > -1023 else 0.0


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
    """log(sum(e)) for e = exp(x - max) (1-d), to its last digits near 0: the
    terms that are 1 (the maximum's) are counted apart, so that a sum near 1
    does not round the others away: log1p of the rest plus the count past one.
    (A row of -inf has e NaN, and stays NaN.) Compiled to reassociate."""
    rest = 0.0
    count = 0.0
    for j in range(e.size):
        v = e[j]
        one = v == 1.0
        rest += 0.0 if one else v
        count += 1.0 if one else 0.0
    return math.log1p(rest + (count - 1.0))


def _max_of(bits: Array, cell: Array, cell_bits: Array) -> float:
    """The largest value of a row, as float64 (-inf when it is empty), from
    `bits`, the row's floats viewed as signed ints of their width. A float that
    is at least 0 has bits at least 0, ordered as the floats; a negative one has
    negative bits, ordered the other way: so the largest float is the float of
    the largest bits when those are at least 0, else of the smallest. Integer
    max and min vectorize where a float max does not (its NaN rule keeps the
    loop in order). A NaN may or may not be found: either way its row is NaN,
    through the sum of the exponentials. `cell` is a one-element array of the
    floats' dtype, `cell_bits` the same memory as ints."""
    if bits.size == 0:
        return -np.inf
    high = bits[0]
    low = bits[0]
    for j in range(bits.size):
        v = bits[j]
        high = max(high, v)
        low = min(low, v)
    cell_bits[0] = high if high >= 0 else low
    return np.float64(cell[0])


def _softmax_rows(
    x: Array,
    bits: Array,
    out: Array,
    log: bool,
    precise: bool,
    start: int,
    stop: int,
    e: Array,
    cell: Array,
) -> None:
    """softmax (or log_softmax) of rows start..stop of x (rows, classes) into
    out; bits is x viewed as ints of its width; e (classes float64) and cell (1
    of x's dtype) are scratch."""
    classes = x.shape[1]
    cell_bits = cell.view(bits.dtype)
    for i in range(start, stop):
        xi = x[i]
        oi = out[i]
        top = _max_of(bits[i], cell, cell_bits)
        _exp_into(xi, top, e, precise)
        if log:
            log_total = _log_sum(e)
            for j in range(classes):
                oi[j] = (np.float64(xi[j]) - top) - log_total
        else:
            inverse = 1.0 / _sum_of(e)
            for j in range(classes):
                oi[j] = e[j] * inverse


def _softmax_backward_rows(
    g: Array, y: Array, out: Array, log: bool, start: int, stop: int, e: Array
) -> None:
    """softmax's (or log_softmax's) backward of rows start..stop, from the
    output y; e (a row of float64) is scratch."""
    for i in range(start, stop):
        gi = g[i]
        yi = y[i]
        oi = out[i]
        if log:
            total = _sum_of(gi)
            _exp_into(yi, 0.0, e, True)
            for j in range(yi.size):
                oi[j] = np.float64(gi[j]) - e[j] * total
        else:
            dot = _dot_of(gi, yi)
            for j in range(yi.size):
                oi[j] = np.float64(yi[j]) * (np.float64(gi[j]) - dot)


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
    cell: Array,
) -> None:
    """The losses of rows start..stop (float64), each row's maximum and the log
    of its sum of exp(x - max) into stats. The targets are in bounds; e and
    cell are scratch, as in _softmax_rows."""
    classes = x.shape[1]
    weight_sum = _sum_of(w) if eps != 0.0 else 0.0
    cell_bits = cell.view(bits.dtype)
    for i in range(start, stop):
        xi = x[i]
        top = _max_of(bits[i], cell, cell_bits)
        _exp_into(xi, top, e, precise)
        log_total = _log_sum(e)
        stats[i, 0] = top
        stats[i, 1] = log_total
        ti = t[i]
        if ti == ignore_index:
            losses[i] = 0.0
            continue
        # -log p[y] = (max - x[y]) + log(sum): no cancelling
        row = w[ti] * ((top - np.float64(xi[ti])) + log_total)
        if eps != 0.0:
            smooth = _spread_of(xi, w, top) + weight_sum * log_total
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
    cell: Array,
) -> tuple[int, int]:
    """cross-entropy in one call (on one thread): the bounds, the rows, the
    reduction. Returns (low, high); nothing is indexed when a target is out of
    bounds. losses (a float64 per row), e and cell are scratch."""
    low, high, counted = _bounds(t, ignore_index, w)
    if low < 0 or high >= x.shape[1]:
        return low, high
    _cross_entropy_part(
        x, bits, t, w, ignore_index, eps, losses, stats, precise, 0, x.shape[0], e,
        cell,
    )  # fmt: skip
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
    are in bounds; e (a row of float64) is scratch."""
    classes = x.shape[1]
    weight_sum = _sum_of(w)
    smooth = eps / classes
    spread = smooth * weight_sum
    for i in range(start, stop):
        oi = out[i]
        ti = t[i]
        if ti == ignore_index:
            for j in range(classes):
                oi[j] = 0.0
            continue
        scale = np.float64(g[i]) if per_row else coef
        total = w[ti] * (1.0 - eps) + spread
        top = stats[i, 0]
        log_total = stats[i, 1]
        _exp_into(x[i], top + log_total, e, precise)
        for j in range(classes):
            oi[j] = (e[j] * total - w[j] * smooth) * scale
        # total p - eps / C w - (1 - eps) w at the target, as
        # total (p - 1) + eps / C (sum(w) - w): p - 1 keeps its digits
        log_p = (np.float64(x[i, ti]) - top) - log_total
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
_SCOPE: Final = KernelScope(
    globals(),
    {
        _exp_into: {"contract": True},
        _sum_of: {"reassociate": True},
        _dot_of: {"reassociate": True},
        _spread_of: {"reassociate": True},
        _log_sum: {"reassociate": True},
        _max_of: {},
        _bounds: {},
        _softmax_rows: {},
        _softmax_backward_rows: {},
        _cross_entropy_part: {},
        _reduce_losses: {},
        _cross_entropy: {},
        _loss_coefficient: {},
        _cross_entropy_backward_part: {},
        _cross_entropy_backward: {},
    },
)
_compiled = _SCOPE.compiled


def _rows(axis: int, *arrays: Array) -> tuple[Array, ...] | None:
    """The arrays as (rows, last axis) views when `axis` is the last, all are
    C-contiguous NumPy arrays of one compiled dtype and shape; else None."""
    first = arrays[0]
    if axis != first.ndim - 1 or first.dtype not in COMPILED_DTYPES:
        return None
    for a in arrays:
        if a.dtype != first.dtype or a.shape != first.shape:
            return None
        if not a.flags.c_contiguous:
            return None
    classes = first.shape[-1]
    return tuple(a.reshape(-1, classes) for a in arrays)


def _precise(x: Array) -> bool:
    """Whether results of x's dtype need exp to float64's accuracy (see the
    module's docstring): float64's do, float32's without cancelling do not."""
    return bool(x.dtype != COMPILED_DTYPES[0])


def _bits(x: Array) -> Array:
    """x's memory as signed ints of its width (for `_max_of`)."""
    return x.view(np.int32 if x.dtype.itemsize == 4 else np.int64)


def _parts(rows: int, size: int) -> list[int] | None:
    """The row bounds of the parts that threads share, [0, ..., rows]; None
    when one thread should take all: fewer than PARALLEL_MIN elements, or one
    thread allowed. PARTS_PER_THREAD parts a thread, so that one the scheduler
    delays (a shared machine) leaves its share to the others."""
    threads = get_num_threads()
    if threads < 2 or size < PARALLEL_MIN or rows < 2:
        return None
    count = min(rows, threads * PARTS_PER_THREAD, size // PART_MIN)
    return [rows * k // count for k in range(count + 1)]


def _run_parts(bounds: list[int], part: Callable[[int, int, int], None]) -> None:
    """part(k, start, stop) for each part k of `bounds`, on parallel_for's
    threads."""
    parallel_for(lambda k: part(k, bounds[k], bounds[k + 1]), len(bounds) - 1)


class SoftmaxCompiled(SoftmaxKernels):
    """The compiled forms of SoftmaxKernels' methods."""

    # Scratch comes from the device's arena (`Kernels.scratch`): each holder
    # keeps its memory until it goes, after the kernel returns.
    def _rows_scratch(self, parts: int, x: Array) -> tuple[Any, Any, Array, Array]:
        """(holder, holder, e, cell): a float64 row and a cell of x's dtype per
        part."""
        e = self.scratch((parts, x.shape[1]), _F64)
        cell = self.scratch((parts, 1), x.dtype)
        return e, cell, e.native, cell.native

    def _contiguous(self, a: Array, dtype: np.dtype[Any]) -> tuple[Any, Array]:
        """(holder, a) as a C-contiguous array of dtype: a itself, or its copy
        in scratch (held by the holder; None for a itself)."""
        if a.dtype == dtype and a.flags.c_contiguous:
            return None, a
        held = self.scratch(a.shape, dtype)
        held.native[...] = a
        return held, held.native

    def _class_arrays(
        self, x: Array, target: Array, weight: Array | None
    ) -> tuple[list[Any], Array, Array] | None:
        """(holders, int64 targets, float64 weights) when the compiled kernel
        takes x: a C-contiguous float32 or float64 NumPy array; else None."""
        if x.dtype not in COMPILED_DTYPES or not x.flags.c_contiguous:
            return None
        if not isinstance(x, np.ndarray):
            return None
        held_t, t = self._contiguous(target, _I64)
        if weight is None:
            held_w = self.scratch((x.shape[1],), _F64)
            w = held_w.native
            w[...] = 1.0
        else:
            held_w, w = self._contiguous(weight, _F64)
        return [held_t, held_w], t, w

    def _softmax_compiled(self, x: Array, axis: int, out: Array, log: bool) -> bool:
        """softmax (log_softmax) compiled; False when it does not take x."""
        arrays = _rows(axis, x, out)
        if arrays is None:
            return False
        x2, out2 = arrays
        kernel = _compiled(_softmax_rows)
        bits, precise = _bits(x2), _precise(x)
        bounds = _parts(x2.shape[0], x.size)
        if bounds is None:
            _held_e, _held_c, e, cell = self._rows_scratch(1, x2)
            kernel(x2, bits, out2, log, precise, 0, x2.shape[0], e[0], cell[0])
        else:
            _held_e, _held_c, e, cell = self._rows_scratch(len(bounds) - 1, x2)
            _run_parts(bounds, lambda k, a, b: kernel(x2, bits, out2, log, precise,
                                                      a, b, e[k], cell[k]))  # fmt: skip
        return True

    def _softmax_backward_compiled(
        self, grad: Array, y: Array, axis: int, out: Array, log: bool
    ) -> bool:
        """softmax's (log_softmax's) backward compiled; False when it does not
        take the arrays."""
        arrays = _rows(axis, grad, y, out)
        if arrays is None:
            return False
        g2, y2, out2 = arrays
        kernel = _compiled(_softmax_backward_rows)
        bounds = _parts(y2.shape[0], y.size)
        held = self.scratch(
            (1 if bounds is None else len(bounds) - 1, y2.shape[1]), _F64
        )
        e = held.native
        if bounds is None:
            kernel(g2, y2, out2, log, 0, y2.shape[0], e[0])
        else:
            _run_parts(bounds, lambda k, a, b: kernel(g2, y2, out2, log, a, b, e[k]))
        return True

    def softmax(self, x: Array, axis: int, out: Array) -> None:
        if not self._softmax_compiled(x, axis, out, False):
            super().softmax(x, axis, out)

    def log_softmax(self, x: Array, axis: int, out: Array) -> None:
        if not self._softmax_compiled(x, axis, out, True):
            super().log_softmax(x, axis, out)

    def softmax_backward(self, grad: Array, y: Array, axis: int, out: Array) -> None:
        if not self._softmax_backward_compiled(grad, y, axis, out, False):
            super().softmax_backward(grad, y, axis, out)

    def log_softmax_backward(
        self, grad: Array, y: Array, axis: int, out: Array
    ) -> None:
        if not self._softmax_backward_compiled(grad, y, axis, out, True):
            super().log_softmax_backward(grad, y, axis, out)

    def cross_entropy(
        self,
        x: Array,
        target: Array,
        weight: Array | None,
        ignore_index: int,
        label_smoothing: float,
        reduction: int,
        loss: Array,
        stats: Array,
    ) -> tuple[int, int]:
        arrays = self._class_arrays(x, target, weight)
        if arrays is None or stats.dtype != _F64:
            return super().cross_entropy(
                x, target, weight, ignore_index, label_smoothing, reduction, loss, stats
            )
        _held, t, w = arrays
        bits, flat_loss = _bits(x), loss.reshape(-1)
        # the backward of smoothing needs log(sum) to float64's digits
        precise = _precise(x) or label_smoothing != 0.0
        rows = x.shape[0]
        bounds = _parts(rows, x.size)
        held = self.scratch((rows,), _F64)
        losses = held.native
        parts = 1 if bounds is None else len(bounds) - 1
        _held_e, _held_c, e, cell = self._rows_scratch(parts, x)
        if bounds is None:  # one call does it all
            result: tuple[int, int] = _compiled(_cross_entropy)(
                x, bits, t, w, ignore_index, label_smoothing, reduction,
                flat_loss, stats, precise, losses, e[0], cell[0],
            )  # fmt: skip
            return result
        low, high, counted = _compiled(_bounds)(t, ignore_index, w)
        if low < 0 or high >= x.shape[1]:
            return low, high
        part = _compiled(_cross_entropy_part)
        _run_parts(bounds, lambda k, a, b: part(
            x, bits, t, w, ignore_index, label_smoothing, losses, stats, precise, a,
            b, e[k], cell[k]))  # fmt: skip
        _compiled(_reduce_losses)(losses, reduction, counted, flat_loss)
        return low, high

    def cross_entropy_backward(
        self,
        grad: Array,
        x: Array,
        target: Array,
        stats: Array,
        weight: Array | None,
        ignore_index: int,
        label_smoothing: float,
        reduction: int,
        out: Array,
    ) -> tuple[int, int]:
        arrays = self._class_arrays(x, target, weight)
        if arrays is None or stats.dtype != _F64 or not out.flags.c_contiguous:
            return super().cross_entropy_backward(
                grad, x, target, stats, weight, ignore_index, label_smoothing,
                reduction, out,
            )  # fmt: skip
        _held, t, w = arrays
        _held_g, g = self._contiguous(grad, grad.dtype)
        g = g.reshape(-1)
        _held_s, s = self._contiguous(stats, _F64)
        # smoothing subtracts eps / C w[c] from each total p[c]: cancelling
        precise = _precise(x) or label_smoothing != 0.0
        rows = x.shape[0]
        bounds = _parts(rows, x.size)
        parts = 1 if bounds is None else len(bounds) - 1
        held_e = self.scratch((parts, x.shape[1]), _F64)
        e = held_e.native
        if bounds is None:  # one call does it all
            result: tuple[int, int] = _compiled(_cross_entropy_backward)(
                g, x, t, s, w, ignore_index, label_smoothing, reduction, out,
                precise, e[0],
            )  # fmt: skip
            return result
        low, high, counted = _compiled(_bounds)(t, ignore_index, w)
        if low < 0 or high >= x.shape[1]:
            return low, high
        coef = _compiled(_loss_coefficient)(g, reduction, counted)
        per_row = reduction == NONE
        part = _compiled(_cross_entropy_backward_part)
        _run_parts(bounds, lambda k, a, b: part(g, x, t, s, w, ignore_index,
                                                label_smoothing, per_row, coef, out,
                                                precise, a, b, e[k]))  # fmt: skip
        return low, high
