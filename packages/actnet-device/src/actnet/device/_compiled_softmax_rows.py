"""The loops of the compiled softmax family (`_compiled_softmax.py`, the `cpu`
device), plain Python that numba compiles.

Each kernel walks the rows of a C-contiguous (rows, classes) array, in
blocks of `block_rows(classes)` rows, with float64 scratch of a block's size
(arena memory, as all scratch: the caller takes it from `Kernels.scratch` and
passes it in). Per block, one pass over its rows for each step: the maxima, exp(x
- max) into the scratch, their sums, then one store per element, rounded once:
computed in float64 like the reference kernels (`_kernels_softmax.py`), so the
two agree to a few float64 roundings, except where a float32 result allows the
last pass in float32 (log_softmax's forward, the backwards: see each). A
step's rows are independent, so the latency of one row's horizontal sum or
division overlaps the next row's work (row by row, a softmax of 128-wide rows
took 25% longer); a block's scratch stays in the first-level cache. The
exponentials and row reductions are `_compiled_softmax_exp.py`'s.

Each operator is one kernel (`_softmax_rows`, `_log_softmax_rows`, their
backwards' `_*_backward_rows*`, `_cross_entropy`, `_cross_entropy_backward`),
its rows in `parts` parts of contiguous rows, one a task of its `prange` loop:
compiled parallel, a thread each. (Each compiled function costs some 0.1-0.2 s
the first time, before numba's cache holds it: the kernels call few.)

Kernels and helpers are plain Python first (tests run them so); compiled, they
reach each other through a `_jit.KernelScope`.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from actnet.device import _compiled_softmax_exp
from actnet.device._compiled_softmax_exp import (
    SUM32_MAX,
    _dot_of,
    _exp32_into,
    _exp32_outside,
    _exp_into,
    _exp_of,
    _gaps_of,
    _log_sum_exp,
    _max_of,
    _spread_of,
    _sum_of,
)
from actnet.device._jit import KernelScope, thread_slot
from actnet.device._kernels_softmax import MEAN, NONE, Array

prange = range  # numba's prange once compiled with parallel=True (see _jit)

BLOCK_ELEMENTS: Final = 1024  # a block's float64 scratch: 8 KiB


def block_rows(classes: int) -> int:
    """The rows of a block (see the module doc) of rows `classes` long."""
    return max(1, BLOCK_ELEMENTS // max(classes, 1))


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
    parts: int,
    slabs: Array,
    block: int,
) -> None:
    """softmax of every row of x (rows, classes) into out, in `parts` parts of
    contiguous rows, one per task of the parallel loop (a task per block of
    rows cost 10-25% more), `block` rows at a time (block_rows(classes)); bits
    is x viewed as ints of its width, slabs float64 scratch, a slab per thread
    (`_jit.thread_slot`, see _carve)."""
    rows, classes = x.shape
    for part in prange(parts):
        e, stats = _carve(slabs[thread_slot()], block, classes)
        stop = rows * (part + 1) // parts
        for first in range(rows * part // parts, stop, block):
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
    parts: int,
    slabs: Array,
    block: int,
) -> None:
    """log_softmax of every row of x into out; as _softmax_rows, but slabs
    hold only a block's statistics (block, 2): the exponentials are summed as
    they are made (`_log_sum_exp`), never stored. The last pass, (x - max) -
    log(sum), is in x's arithmetic: float32's for float32 rows (max exact,
    log(sum) rounded once from float64), within 1.75 ulp of
    the float64 value: x - max <= 0 and -log(sum) <= 0 add without
    cancelling, so the larger is at least half the result (its rounding half
    an ulp of the result) and the smaller at most half (a quarter); then the
    sum's rounding, and the reference's own. That is within the float32 rule
    of tests/test_softmax_kernels.py, at half the time of a float64 pass (no
    conversions)."""
    rows, classes = x.shape
    for part in prange(parts):
        stats = slabs[thread_slot()][: 2 * block].reshape((block, 2))
        stop = rows * (part + 1) // parts
        for first in range(rows * part // parts, stop, block):
            last = min(stop, first + block)
            for i in range(first, last):
                stats[i - first, 0] = _max_of(bits[i])
            for i in range(first, last):
                stats[i - first, 1] = _log_sum_exp(x[i], stats[i - first, 0], precise)
            for i in range(first, last):
                top = x.dtype.type(stats[i - first, 0])
                log_total = x.dtype.type(stats[i - first, 1])
                xi = x[i]
                oi = out[i]
                for j in range(classes):
                    oi[j] = (xi[j] - top) - log_total


def _softmax_backward_rows(g: Array, y: Array, out: Array, parts: int) -> None:
    """softmax's backward of every row, from the output y: y (g - sum(g y)), in
    `parts` parts (as _softmax_rows), row by row (in blocks of rows, as the
    forwards go, it took 25% longer); no scratch. The sums are float64's.
    float64 rows are computed in float64; float32 rows in float32: the sum
    rounded to float32 (half an ulp of sum(g y), one of the terms that
    cancel), then g - sum and the product, each rounded once (2^-24 of the
    result each): within the float32 rule of tests/test_softmax_kernels.py,
    and half the time of float64's pass (no conversions)."""
    rows = y.shape[0]
    for part in prange(parts):
        for i in range(rows * part // parts, rows * (part + 1) // parts):
            gi = g[i]
            yi = y[i]
            oi = out[i]
            dot = y.dtype.type(_dot_of(gi, yi))  # float32 for float32 rows
            for j in range(yi.size):
                oi[j] = yi[j] * (gi[j] - dot)


def _log_softmax_backward_rows(
    g: Array,
    y: Array,
    out: Array,
    precise: bool,
    parts: int,
    slabs: Array,
    block: int,
) -> None:
    """log_softmax's backward of every row, from the output y: g - exp(y)
    sum(g), in float64 (exp to its digits when `precise`), rounded once; in
    `parts` parts (as _softmax_rows), `block` rows at a time; slabs a float64
    slab per thread, `block` long (the sums of a block of rows)."""
    rows = y.shape[0]
    for part in prange(parts):
        slab = slabs[thread_slot()]
        stop = rows * (part + 1) // parts
        for first in range(rows * part // parts, stop, block):
            last = min(stop, first + block)
            for i in range(first, last):
                slab[i - first] = _sum_of(g[i])
            for i in range(first, last):
                total = -slab[i - first]
                _exp_into(y[i], 0.0, out[i], precise, False, total, g[i])


def _log_softmax_backward_rows32(
    g: Array, y: Array, out: Array, parts: int, slabs: Array, block: int
) -> None:
    """_log_softmax_backward_rows of float32, in float32 arithmetic
    (`_exp32_into`: exp(y) times -sum(g) rounded to float32, plus g, in one
    FMA); a row in float64 (exp of degree 5) where some exp(y) is not a normal
    float32 (y below -87: -inf, say) or the sum is beyond float32. exp's
    error, below 2^-23 of exp(y), and the sum's rounding, 2^-24 of it, are
    within the float32 rule of tests/test_softmax_kernels.py (2 ulp of the
    result and 2^-23 of exp(y) |sum(g)| + |g|) with the result's rounding; the
    float32 loop takes less than half the time of float64's. (A kernel of its
    own, so that float64's does not compile float32's exp.)"""
    rows = y.shape[0]
    for part in prange(parts):
        slab = slabs[thread_slot()]
        stop = rows * (part + 1) // parts
        for first in range(rows * part // parts, stop, block):
            last = min(stop, first + block)
            for i in range(first, last):
                slab[i - first] = _sum_of(g[i])
            for i in range(first, last):
                total = slab[i - first]
                # checked first: out may be g or y (in place)
                if abs(total) < SUM32_MAX and _exp32_outside(y[i]) == 0:
                    _exp32_into(y[i], np.float32(-total), g[i], out[i])
                else:
                    _exp_into(y[i], 0.0, out[i], False, False, -total, g[i])


def _bounds(
    t: Array, ignore_index: int, w: Array, weighted: bool, classes: int
) -> tuple[int, int, float]:
    """(low, high, counted): the extreme targets not ignore_index (0 without
    one), and the summed w[t] of those rows (their count when not `weighted`;
    0 when a target is out of bounds)."""
    low = 0
    high = 0
    for i in range(t.size):
        ti = t[i]
        if ti != ignore_index:
            low = min(low, ti)
            high = max(high, ti)
    counted = 0.0
    if low >= 0 and high < classes:
        for i in range(t.size):
            if t[i] != ignore_index:
                counted += w[t[i]] if weighted else 1.0
    return low, high, counted


def _cross_entropy_part(
    x: Array,
    bits: Array,
    t: Array,
    w: Array,
    weighted: bool,
    ignore_index: int,
    eps: float,
    losses: Array,
    stats: Array,
    precise: bool,
    start: int,
    stop: int,
    block: int,
) -> None:
    """The losses of rows start..stop (float64), each row's maximum and the log
    of its sum of exp(x - max) into stats. The targets are in bounds; w the
    class weights when `weighted` (else each is 1). The rows go `block` at a
    time."""
    classes = x.shape[1]
    weight_sum = 0.0
    if eps != 0.0:
        weight_sum = _sum_of(w) if weighted else float(classes)
    for first in range(start, stop, block):
        last = min(stop, first + block)
        for i in range(first, last):
            stats[i, 0] = _max_of(bits[i])
        for i in range(first, last):
            stats[i, 1] = _log_sum_exp(x[i], stats[i, 0], precise)
        for i in range(first, last):
            ti = t[i]
            if ti == ignore_index:
                losses[i] = 0.0
                continue
            top = stats[i, 0]
            log_total = stats[i, 1]
            # -log p[y] = (max - x[y]) + log(sum): no cancelling
            row = (top - np.float64(x[i, ti])) + log_total
            if weighted:
                row *= w[ti]
            if eps != 0.0:
                gaps = _spread_of(x[i], w, top) if weighted else _gaps_of(x[i], top)
                smooth = gaps + weight_sum * log_total
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
    weighted: bool,
    ignore_index: int,
    eps: float,
    reduction: int,
    loss: Array,
    stats: Array,
    precise: bool,
    parts: int,
    losses: Array,
    block: int,
) -> tuple[int, int]:
    """cross-entropy in one call: the bounds, the rows (in `parts` parts, one
    per task of the parallel loop, `block` rows at a time:
    block_rows(classes)), the reduction. Returns (low, high); nothing is
    indexed when a target is out of bounds. losses (a float64 per row) is
    scratch."""
    rows = x.shape[0]
    low, high, counted = _bounds(t, ignore_index, w, weighted, x.shape[1])
    if low < 0 or high >= x.shape[1]:
        return low, high
    for part in prange(parts):
        start = rows * part // parts
        stop = rows * (part + 1) // parts
        _cross_entropy_part(x, bits, t, w, weighted, ignore_index, eps, losses,
                            stats, precise, start, stop, block)  # fmt: skip
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
    weighted: bool,
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
    are in bounds; w the class weights when `weighted` (else each is 1); e
    (classes,) float64 is scratch (for smoothing)."""
    classes = x.shape[1]
    weight_sum = _sum_of(w) if weighted else float(classes)
    smooth = eps / classes
    spread = smooth * weight_sum
    for i in range(start, stop):
        oi = out[i]
        ti = t[i]
        if ti == ignore_index:
            for j in range(classes):
                oi[j] = 0.0
            continue
        shift = stats[i, 0] + stats[i, 1]
        scale = np.float64(g[i]) if per_row else coef
        wt = w[ti] if weighted else 1.0
        total = wt * (1.0 - eps) + spread
        # x - max - log(sum) is at most 0 (bounded) with the forward's stats
        if eps == 0.0:  # total p scaled: exp straight into the row
            _exp_into(x[i], shift, oi, precise, True, total * scale)
        else:
            _exp_into(x[i], shift, e, precise, True)
            if weighted:
                for j in range(classes):
                    oi[j] = (e[j] * total - w[j] * smooth) * scale
            else:
                for j in range(classes):
                    oi[j] = (e[j] * total - smooth) * scale
        # total p - eps / C w - (1 - eps) w at the target, as
        # total (p - 1) + eps / C (sum(w) - w): p - 1 keeps its digits
        log_p = (np.float64(x[i, ti]) - stats[i, 0]) - stats[i, 1]
        hot = total * math.expm1(log_p) + smooth * (weight_sum - wt)
        oi[ti] = hot * scale


def _cross_entropy_backward(
    g: Array,
    x: Array,
    t: Array,
    stats: Array,
    w: Array,
    weighted: bool,
    ignore_index: int,
    eps: float,
    reduction: int,
    out: Array,
    precise: bool,
    parts: int,
    slabs: Array,
) -> tuple[int, int]:
    """cross-entropy's backward in one call, in `parts` parts of the rows, one
    per task of the parallel loop; returns (low, high), nothing indexed when a
    target is out of bounds. slabs holds a (classes,) float64 slab per thread."""
    rows, classes = x.shape
    low, high, counted = _bounds(t, ignore_index, w, weighted, classes)
    if low < 0 or high >= classes:
        return low, high
    coef = _loss_coefficient(g, reduction, counted)
    per_row = reduction == NONE
    for part in prange(parts):
        e = slabs[thread_slot()]
        start = rows * part // parts
        stop = rows * (part + 1) // parts
        _cross_entropy_backward_part(
            g, x, t, stats, w, weighted, ignore_index, eps, per_row, coef, out,
            precise, start, stop, e,
        )  # fmt: skip
    return low, high


# Each function numba compiles, and how: reductions reassociated (they
# vectorize), exp contracted (FMA: fewer instructions, one rounding for two).
# Each reaches the others through the scope; the `cpu` backend calls the
# kernels (the functions named `_*_rows*`, `_cross_entropy` and
# `_cross_entropy_backward`: the rest are their helpers), each compiled
# parallel (its prange loop on the threads) or not.
SCOPE: Final = KernelScope(
    {**vars(_compiled_softmax_exp), **globals()},
    {
        _exp_into: {"contract": True},
        _exp32_into: {"contract": True},
        _exp32_outside: {},
        _sum_of: {"reassociate": True},
        _dot_of: {"reassociate": True},
        _spread_of: {"reassociate": True},
        _gaps_of: {"reassociate": True},
        _exp_of: {"contract": True},
        _log_sum_exp: {"reassociate": True},
        _max_of: {},
        _carve: {},
        _max_exp_block: {},
        _bounds: {},
        _cross_entropy_part: {},
        _reduce_losses: {},
        _loss_coefficient: {},
        _cross_entropy_backward_part: {},
    },
)
