"""Compiled kernels of scaled-dot-product attention (the `cpu` device).

FlashAttention-2's algorithm (Dao, 2023) as numba loops: queries in blocks of
BLOCK_Q, keys in blocks of BLOCK_K, one (BLOCK_K, BLOCK_Q) tile of scores at a
time, so the (L, S) scores never exist. The forward keeps a running maximum
and sum per query (online softmax), rescales the output it accumulates when
the maximum grows, and returns the output and each query's log-sum-exp; the
backward recomputes each tile's probabilities from the log-sum-exp. Causal
attention never visits the tiles above the diagonal, and in a diagonal tile
the products skip the masked part, four rows at a time.

Tiles are held transposed (keys by queries), so that each product runs along
contiguous rows (`_scores`, `_add_products`: four rows of the result and two
terms at a time, each row of the other operand read once for the four; numba
vectorises these loops, not a 2-d one or a call to libm) and the softmax runs
along queries (`_exp_shifted`: exp as a polynomial). Products are in the
input's dtype (float32 sums for float32, as PyTorch's CPU kernel), exp and
the per-query sums in float64. Other dtypes take the reference kernel.

The forward runs in parallel over (batch x heads, query blocks), the backward
over (batch x heads, groups of key blocks): with fewer heads than HEAD_TASKS
each group adds its own part of dq, summed after. Kernels and helpers are plain
Python first (`prange` is `range`); `_kernel` binds the helpers' compiled forms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from actnet.device._jit import KernelScope, slots, thread_slot
from actnet.device._kernels_attention import Array, AttentionKernels
from actnet.device._polynomials import EXP

BLOCK_Q: Final = 128  # queries per task and per tile (the vectorised axis)
BLOCK_K: Final = 64  # keys per tile
# A backward task per group of key blocks when there are fewer heads than this
# (each group then keeps its own dq part): enough tasks for the threads.
HEAD_TASKS: Final = 16
NO_LIMIT: Final = 1 << 40  # the causal bounds of non-causal attention
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))

# exp(t) as 2**k exp(r), t = k log(2) + r, |r| <= log(2)/2: k found by rounding at
# ROUND (1.5 * 2**52), log(2) in two parts (LN2_HI has 32 significant bits, so
# k * LN2_HI is exact), exp(r) from `_polynomials.EXP`, 2**k from its bits.
# A global array is a constant to numba: the Horner loop unrolls over it.
_EXP: Final = np.array(EXP)
_N_EXP: Final = len(EXP)
LOG2E: Final = 1.4426950408889634
ROUND: Final = 6755399441055744.0
LN2_HI: Final = 6.93147180369123816490e-01
LN2_LO: Final = 1.90821492927058770002e-10

prange = range  # numba's prange once compiled with parallel=True (see _jit)


def _exp_shifted(x: Array, shift: Array, n: int) -> None:
    """x[r] = exp(x[r] - shift[r]) for r < n (1-d each), in float64 (to 1e-16)
    and rounded once: libm's exp is a call per element, this loop vectorises.
    Results below 2**-1022 are flushed to 0; NaN gives NaN."""
    for r in range(n):
        t0 = np.float64(x[r]) - np.float64(shift[r])
        # selects, not min/max: NaN must reach neither k (an int) nor past t0
        t = t0 if t0 > -1000.0 else -1000.0  # noqa: FURB136
        t = t if t < 709.0 else 709.0  # noqa: FURB136
        k = (t * LOG2E + ROUND) - ROUND
        rest = (t0 - k * LN2_HI) - k * LN2_LO
        e = 0.0
        for j in range(_N_EXP):
            e = e * rest + _EXP[j]
        ki = np.int64(k)
        scale = np.int64((ki + 1023) << 52).view(np.float64)
        x[r] = e * scale if ki > -1023 else 0.0


def _scores(
    a: Array, b: Array, c: Array, rows: int, inner: int, n: int, shift: int
) -> None:
    """c[i, j] = a[i, :inner] @ b[:inner, j] for j in [max(0, i - shift), n) (the
    causal bound); a group of four rows starts at its first row's bound, and
    the rest of c is not written."""
    i = 0
    while i + 4 <= rows:
        lo = min(n, max(0, i - shift))
        # rows as 1-d views: LLVM vectorises a loop over one that starts at lo,
        # not over a 2-d row that does
        c0 = c[i, lo:n]
        c1 = c[i + 1, lo:n]
        c2 = c[i + 2, lo:n]
        c3 = c[i + 3, lo:n]
        c0[:] = 0.0
        c1[:] = 0.0
        c2[:] = 0.0
        c3[:] = 0.0
        t = 0
        while t + 2 <= inner:
            x0 = a[i, t]
            x1 = a[i + 1, t]
            x2 = a[i + 2, t]
            x3 = a[i + 3, t]
            w0 = a[i, t + 1]
            w1 = a[i + 1, t + 1]
            w2 = a[i + 2, t + 1]
            w3 = a[i + 3, t + 1]
            bt = b[t, lo:n]
            bu = b[t + 1, lo:n]
            for j in range(n - lo):
                y = bt[j]
                z = bu[j]
                c0[j] = c0[j] + x0 * y + w0 * z
                c1[j] = c1[j] + x1 * y + w1 * z
                c2[j] = c2[j] + x2 * y + w2 * z
                c3[j] = c3[j] + x3 * y + w3 * z
            t += 2
        if t < inner:
            x0 = a[i, t]
            x1 = a[i + 1, t]
            x2 = a[i + 2, t]
            x3 = a[i + 3, t]
            bt = b[t, lo:n]
            for j in range(n - lo):
                y = bt[j]
                c0[j] += x0 * y
                c1[j] += x1 * y
                c2[j] += x2 * y
                c3[j] += x3 * y
        i += 4
    while i < rows:
        lo = min(n, max(0, i - shift))
        c0 = c[i, lo:n]
        c0[:] = 0.0
        for t in range(inner):
            x0 = a[i, t]
            bt = b[t, lo:n]
            for j in range(n - lo):
                c0[j] += x0 * bt[j]
        i += 1


def _add_products(
    a: Array,
    b: Array,
    c: Array,
    rows: int,
    inner: int,
    n: int,
    after: int,
    before: int,
) -> None:
    """c[i, :n] += a[i, t] * b[t, :n] summed over t in [i - after, i + before]
    (the causal window), within [0, inner). A group of four rows takes the
    window of all four: a is zero where the causal mask is, so the few extra
    terms add nothing. `a` may be a transposed view."""
    i = 0
    while i + 4 <= rows:
        c0 = c[i]
        c1 = c[i + 1]
        c2 = c[i + 2]
        c3 = c[i + 3]
        t = max(0, i - after)
        stop = min(inner, i + 4 + before)
        # two terms per pass over c's rows: half the loads and stores of c, and
        # the same sums in the same order as one term at a time
        while t + 2 <= stop:
            x0 = a[i, t]
            x1 = a[i + 1, t]
            x2 = a[i + 2, t]
            x3 = a[i + 3, t]
            w0 = a[i, t + 1]
            w1 = a[i + 1, t + 1]
            w2 = a[i + 2, t + 1]
            w3 = a[i + 3, t + 1]
            bt = b[t]
            bu = b[t + 1]
            for j in range(n):
                y = bt[j]
                z = bu[j]
                c0[j] = c0[j] + x0 * y + w0 * z
                c1[j] = c1[j] + x1 * y + w1 * z
                c2[j] = c2[j] + x2 * y + w2 * z
                c3[j] = c3[j] + x3 * y + w3 * z
            t += 2
        if t < stop:
            x0 = a[i, t]
            x1 = a[i + 1, t]
            x2 = a[i + 2, t]
            x3 = a[i + 3, t]
            bt = b[t]
            for j in range(n):
                y = bt[j]
                c0[j] += x0 * y
                c1[j] += x1 * y
                c2[j] += x2 * y
                c3[j] += x3 * y
        i += 4
    while i < rows:
        c0 = c[i]
        for t in range(max(0, i - after), min(inner, i + 1 + before)):
            x0 = a[i, t]
            bt = b[t]
            for j in range(n):
                c0[j] += x0 * bt[j]
        i += 1


def _forward(
    q: Array,
    k: Array,
    v: Array,
    out: Array,
    lse: Array,
    causal: bool,
    scale: float,
    block_q: int,
    block_k: int,
) -> None:
    """out = softmax(scale q k^T) v and lse = log(sum(exp(scale q k^T))) per
    query, for q (H, L, E), k (H, S, E), v (H, S, Ev)."""
    heads, length, width = q.shape
    source = k.shape[1]
    vwidth = v.shape[2]
    blocks = (length + block_q - 1) // block_q
    for task in prange(heads * blocks):
        h = task // blocks
        i0 = task % blocks * block_q
        rows = min(block_q, length - i0)
        stop = min(source, i0 + rows) if causal else source
        qt = np.empty((width, rows), q.dtype)  # the block of scale * q, transposed
        for r in range(rows):
            for e in range(width):
                qt[e, r] = q[h, i0 + r, e] * scale
        st = np.empty((block_k, rows), q.dtype)  # scores, then probabilities, ^T
        acc = np.zeros((rows, vwidth), q.dtype)
        top = np.full(rows, -np.inf, q.dtype)  # the running maximum
        grown = np.empty(rows, q.dtype)
        total = np.zeros(rows, np.float64)  # the running sum of exp(score - top)
        for j0 in range(0, stop, block_k):
            cols = min(block_k, stop - j0)
            # key j0 + j sees query i0 + r when j <= r + shift
            shift = i0 - j0 if causal else NO_LIMIT
            _scores(k[h, j0:], qt, st, cols, width, rows, shift)
            grown[:] = top
            for j in range(cols):
                lo = min(rows, max(0, j - shift))
                row = st[j, lo:]
                most = grown[lo:]
                for r in range(rows - lo):
                    most[r] = max(most[r], row[r])
            for r in range(rows):
                if grown[r] > top[r]:
                    alpha = math.exp(top[r] - grown[r])
                    total[r] *= alpha
                    for e in range(vwidth):
                        acc[r, e] *= alpha
                    top[r] = grown[r]
            for j in range(cols):
                lo = min(rows, max(0, j - shift))
                st[j, :lo] = 0.0
                row = st[j, lo:]
                _exp_shifted(row, top[lo:], rows - lo)
                sums = total[lo:]
                for r in range(rows - lo):
                    sums[r] += row[r]
            _add_products(st.T, v[h, j0:], acc, rows, cols, vwidth, NO_LIMIT, shift)
        for r in range(rows):
            if total[r] > 0.0:
                inv = 1.0 / total[r]
                for e in range(vwidth):
                    out[h, i0 + r, e] = acc[r, e] * inv
                lse[h, i0 + r] = top[r] + math.log(total[r])
            else:  # no key at all (S = 0): PyTorch's zeros
                for e in range(vwidth):
                    out[h, i0 + r, e] = 0.0
                lse[h, i0 + r] = -np.inf


def _backward(
    grad: Array,
    q: Array,
    k: Array,
    v: Array,
    out: Array,
    lse: Array,
    dq_parts: Array,
    dk: Array,
    dv: Array,
    causal: bool,
    scale: float,
    block_q: int,
    block_k: int,
    qt_slabs: Array,
    gt_slabs: Array,
    delta_slabs: Array,
) -> None:
    """dq, dk, dv of _forward for the output's gradient `grad`, from the
    probabilities recomputed tile by tile: dv = P^T grad, dS = P (grad v^T - D)
    with D = rowsum(grad * out), dq = scale dS k, dk = scale dS^T q. Task (h, g)
    takes key blocks g, g + G, ... and writes dq_parts[g, h] (G groups). The
    slabs are per-thread scratch (`_jit.thread_slot`): a head's q and grad
    transposed by blocks, (qblocks, width or vwidth, block_q) each, and its D."""
    heads, length, width = q.shape
    source = k.shape[1]
    vwidth = v.shape[2]
    groups = dq_parts.shape[0]
    kblocks = (source + block_k - 1) // block_k
    qblocks = (length + block_q - 1) // block_q
    for task in prange(heads * groups):
        h = task // groups
        g = task % groups
        dq = dq_parts[g, h]
        dq[:, :] = 0.0
        # q (scaled) and grad transposed, block by block: each block contiguous
        slot = thread_slot()
        qt = qt_slabs[slot]
        gt = gt_slabs[slot]
        delta = delta_slabs[slot]
        qt[:, :, :] = 0.0  # the rows past the end of a last short block
        gt[:, :, :] = 0.0
        for i in range(length):
            b = i // block_q
            r = i % block_q
            for e in range(width):
                qt[b, e, r] = q[h, i, e] * scale
            d = 0.0
            for e in range(vwidth):
                gt[b, e, r] = grad[h, i, e]
                d += np.float64(grad[h, i, e]) * np.float64(out[h, i, e])
            delta[i] = d
        st = np.empty((block_k, block_q), q.dtype)  # P^T
        dst = np.empty((block_k, block_q), q.dtype)  # grad v^T, then scale dS^T
        for kb in range(g, kblocks, groups):
            j0 = kb * block_k
            cols = min(block_k, source - j0)
            dk[h, j0 : j0 + cols] = 0.0
            dv[h, j0 : j0 + cols] = 0.0
            first = j0 // block_q if causal else 0
            for b in range(first, qblocks):
                i0 = b * block_q
                rows = min(block_q, length - i0)
                shift = i0 - j0 if causal else NO_LIMIT
                _scores(k[h, j0:], qt[b], st, cols, width, rows, shift)
                _scores(v[h, j0:], gt[b], dst, cols, vwidth, rows, shift)
                for j in range(cols):
                    lo = min(rows, max(0, j - shift))
                    st[j, :lo] = 0.0
                    dst[j, :lo] = 0.0
                    prow = st[j, lo:]
                    drow = dst[j, lo:]
                    _exp_shifted(prow, lse[h, i0 + lo :], rows - lo)
                    deltas = delta[i0 + lo :]
                    for r in range(rows - lo):
                        drow[r] = prow[r] * (drow[r] - deltas[r]) * scale
                dvh, dkh, dqh = dv[h, j0:], dk[h, j0:], dq[i0:]
                _add_products(
                    st, grad[h, i0:], dvh, cols, rows, vwidth, shift, NO_LIMIT
                )
                _add_products(dst, q[h, i0:], dkh, cols, rows, width, shift, NO_LIMIT)
                _add_products(dst.T, k[h, j0:], dqh, rows, cols, width, NO_LIMIT, shift)


# The product helpers, contracted: a multiply and an add as one FMA (one
# rounding). Run as Python, the kernels call them as Python; numba needs compiled
# callees, and compiling them at import would import numba.
_SCOPE: Final = KernelScope(
    globals(),
    {
        _scores: {"contract": True},
        _add_products: {"contract": True},
        _exp_shifted: {"contract": True},
    },
)


def _kernel(fn: Callable[..., Any]) -> Any:
    """`fn` compiled to run in parallel over the compiled helpers."""
    # Always parallel: one compiled form per kernel (each takes seconds to
    # compile), and a small problem pays microseconds to wake the threads.
    return _SCOPE.compiled(fn, parallel=True)


def _groups(heads: int, source: int) -> int:
    """Key-block groups per head in the backward: one when there are heads enough."""
    kblocks = -(-source // BLOCK_K)
    return max(1, min(kblocks, -(-HEAD_TASKS // max(heads, 1))))


class AttentionCompiled(AttentionKernels):
    """The compiled forms of AttentionKernels' methods."""

    def _sdpa_contiguous(self, x: Array, held: list[Any]) -> Array:
        """x itself when it is C-contiguous, else a copy in scratch (kept alive
        in `held` until the kernel returns)."""
        if x.flags.c_contiguous:
            return x
        holder = self.scratch(tuple(x.shape), x.dtype)
        held.append(holder)
        np.copyto(holder.native, x)
        return holder.native

    def _sdpa_compiles(self, *arrays: Array) -> bool:
        first = arrays[0]
        return (
            isinstance(first, np.ndarray)
            and first.dtype in COMPILED_DTYPES
            and all(
                isinstance(a, np.ndarray) and a.dtype == first.dtype for a in arrays
            )
        )

    def sdpa(
        self,
        q: Array,
        k: Array,
        v: Array,
        out: Array,
        lse: Array,
        causal: bool,
        scale: float,
    ) -> None:
        if not self._sdpa_compiles(q, k, v, out, lse) or not lse.flags.c_contiguous:
            super().sdpa(q, k, v, out, lse, causal, scale)
            return
        held: list[Any] = []
        heads = math.prod(q.shape[:-2])
        q3, k3, v3 = (
            self._sdpa_contiguous(a, held).reshape(heads, *a.shape[-2:])
            for a in (q, k, v)
        )
        # An output laid out with the heads inside (Device.sdpa's, for the
        # merge of the heads) is written by rows into scratch, then copied.
        result = out
        if not out.flags.c_contiguous:
            holder = self.scratch(tuple(out.shape), out.dtype)
            held.append(holder)
            result = holder.native
        out3 = result.reshape(heads, *out.shape[-2:])
        kernel = _kernel(_forward)
        kernel(
            q3,
            k3,
            v3,
            out3,
            lse.reshape(heads, q.shape[-2]),
            causal,
            q.dtype.type(scale),
            BLOCK_Q,
            BLOCK_K,
        )
        if result is not out:
            np.copyto(out, result)

    def sdpa_backward(
        self,
        grad: Array,
        q: Array,
        k: Array,
        v: Array,
        out: Array,
        lse: Array,
        dq: Array,
        dk: Array,
        dv: Array,
        causal: bool,
        scale: float,
    ) -> None:
        arrays = (grad, q, k, v, out, lse, dq, dk, dv)
        if not self._sdpa_compiles(*arrays) or not all(
            a.flags.c_contiguous for a in (dq, dk, dv)
        ):
            super().sdpa_backward(*arrays, causal, scale)
            return
        held: list[Any] = []
        heads = math.prod(q.shape[:-2])
        g3, q3, k3, v3, o3, dq3, dk3, dv3 = (
            self._sdpa_contiguous(a, held).reshape(heads, *a.shape[-2:])
            for a in (grad, q, k, v, out, dq, dk, dv)
        )
        lse2 = self._sdpa_contiguous(lse, held).reshape(heads, q.shape[-2])
        groups = _groups(q3.shape[0], k3.shape[1])
        if groups == 1:
            parts = dq3.reshape(1, *dq3.shape)
        else:
            holder = self.scratch((groups, *dq3.shape), dq3.dtype)
            held.append(holder)
            parts = holder.native
        kernel = _kernel(_backward)
        # per-thread scratch: the slabs of `_backward`, one per thread
        slabs = slots()
        qblocks = -(-q3.shape[1] // BLOCK_Q)
        for shape in (
            (slabs, qblocks, q3.shape[2], BLOCK_Q),
            (slabs, qblocks, v3.shape[2], BLOCK_Q),
            (slabs, q3.shape[1]),
        ):
            held.append(self.scratch(shape, q3.dtype))
        kernel(
            g3,
            q3,
            k3,
            v3,
            o3,
            lse2,
            parts,
            dk3,
            dv3,
            causal,
            q.dtype.type(scale),
            BLOCK_Q,
            BLOCK_K,
            *(holder.native for holder in held[-3:]),
        )
        if groups > 1:
            np.sum(parts, axis=0, out=dq3)
