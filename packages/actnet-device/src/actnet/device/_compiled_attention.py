"""Compiled kernels of scaled-dot-product attention (the `cpu` device).

FlashAttention-2's algorithm (Dao, 2023) as numba loops: queries in blocks of
BLOCK_Q, keys in blocks of BLOCK_K (FORWARD_BLOCK_K), one tile of scores at a
time, so the (L, S) scores never exist. The forward keeps a running maximum
and sum per query (online softmax), rescales the output it accumulates when
the maximum grows, and returns the output and each query's log-sum-exp; the
backward recomputes each tile's probabilities from the log-sum-exp. Causal
attention never visits the tiles above the diagonal, and within a tile the
products skip the masked part by groups of four rows.

Every product is a grid of dot products of contiguous rows (`_dots`: sixteen
sums at a time, each row read once for four, the sums vectorised along the
rows with their order free): so each operand is laid out with the summed axis
last, a head's keys and values transposed where a product sums over keys or
queries. The softmax runs along rows (`_exp_minus`, `_exp_shifted`: exp as a
polynomial). Products are in the input's dtype (float32 sums for float32, as
PyTorch's CPU kernel), exp and the per-query sums in float64. Other dtypes
take the reference kernel.

The kernels read q, k, v, grad and out and write out, dq, dk and dv where
they lie, through their rows: an operand is (flat memory, each head's offset,
row stride), which any layout whose last axis is contiguous has (the heads of
a projection split and transposed, the output laid out for the merge of the
heads); each task gathers the rows it needs into contiguous blocks.

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

from actnet.device import _compiled_attention_tiles, _compiled_softmax_exp
from actnet.device._compiled_attention_tiles import (
    Operand,
    _dots,
    _exp_minus,
    _exp_shifted,
    _gather,
    _max,
    _put4,
    _row,
    _zero,
)
from actnet.device._compiled_softmax_exp import _dot_of, _exp_into, _exp_of, _sum_of
from actnet.device._jit import KernelScope, slots, thread_slot
from actnet.device._kernels_attention import Array, AttentionKernels

BLOCK_Q: Final = 128  # queries per task and per tile
BLOCK_K: Final = 64  # keys per tile of the backward
# keys per tile of the forward: its products over keys run twice as long (with the
# GPT block's heads, L = 128: forward 2.9 against 3.2 ms, backward no faster)
FORWARD_BLOCK_K: Final = 128
# A backward task per group of key blocks when there are fewer heads than this
# (each group then keeps its own dq part, L x E): enough tasks for up to eight
# threads, fixed by the shape so that results do not depend on the threads.
HEAD_TASKS: Final = 8
NO_LIMIT: Final = 1 << 40  # the causal bounds of non-causal attention
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))

prange = range  # numba's prange once compiled with parallel=True (see _jit)


def _forward(
    q: Operand,
    k: Operand,
    v: Operand,
    out: Operand,
    lse: Array,
    length: int,
    source: int,
    width: int,
    vwidth: int,
    causal: bool,
    scale: float,
    block_q: int,
    block_k: int,
    slabs: Array,
) -> None:
    """out = softmax(scale q k^T) v and lse = log(sum(exp(scale q k^T))) per
    query, for heads of q (L, E), k (S, E), v (S, Ev) given as strided operands
    (flat, offsets of the heads, row stride), lse (H, L). `slabs` is per-thread
    scratch (`_jit.thread_slot`), S x (E + Ev) elements each: a task's keys and
    its values transposed (they grow with S; the rest is a block's worth)."""
    heads = lse.shape[0]
    dtype = lse.dtype
    blocks = (length + block_q - 1) // block_q
    none = np.empty((0, 0), dtype)
    one = dtype.type(1)
    for task in prange(heads * blocks):
        h = task // blocks
        i0 = task % blocks * block_q
        rows = min(block_q, length - i0)
        stop = min(source, i0 + rows) if causal else source
        qs = np.empty((rows, width), dtype)  # scale * q, the block's queries
        slab = slabs[thread_slot()]
        kc = slab[: stop * width].reshape((stop, width))  # the keys it sees
        # their values, transposed
        vt = slab[stop * width : stop * (width + vwidth)].reshape((vwidth, stop))
        _gather(q, h, i0, rows, width, scale, qs, none)
        _gather(k, h, 0, stop, width, one, kc, none)
        _gather(v, h, 0, stop, vwidth, one, none, vt)
        s = np.empty((rows, block_k), dtype)  # scores, then probabilities
        acc = np.zeros((rows, vwidth), dtype)
        top = np.full(rows, -np.inf, dtype)  # the running maximum
        total = np.zeros(rows, np.float64)  # the running sum of exp(score - top)
        for j0 in range(0, stop, block_k):
            cols = min(block_k, stop - j0)
            # query i0 + r sees key j0 + j when j <= r + shift
            shift = i0 - j0 if causal else NO_LIMIT
            _dots(qs, 0, 0, kc, j0, 0, s, 0, 0, rows, cols, width, False,
                  -NO_LIMIT, shift, -NO_LIMIT, NO_LIMIT)  # fmt: skip
            for r in range(rows):
                seen = max(0, min(cols, r + shift + 1))
                row = s[r]
                most = _max(row, seen, top[r])
                if most > top[r]:
                    alpha = math.exp(top[r] - most)
                    total[r] *= alpha
                    for e in range(vwidth):
                        acc[r, e] *= alpha
                    top[r] = most
                total[r] += _exp_minus(row, top[r], seen)
                _zero(row[seen:cols])
            _dots(s, 0, 0, vt, 0, j0, acc, 0, 0, rows, vwidth, cols, True,
                  -NO_LIMIT, NO_LIMIT, -NO_LIMIT, shift)  # fmt: skip
        for r in range(rows):
            dst = _row(out, h, i0 + r, vwidth)
            if total[r] > 0.0:
                inv = 1.0 / total[r]
                for e in range(vwidth):
                    dst[e] = acc[r, e] * inv
                lse[h, i0 + r] = top[r] + math.log(total[r])
            else:  # no key at all (S = 0): PyTorch's zeros
                _zero(dst)
                lse[h, i0 + r] = -np.inf


def _backward(
    grad: Operand,
    q: Operand,
    k: Operand,
    v: Operand,
    out: Operand,
    lse: Array,
    dq: Operand,
    dk: Operand,
    dv: Operand,
    length: int,
    source: int,
    width: int,
    vwidth: int,
    causal: bool,
    scale: float,
    block_q: int,
    block_k: int,
    groups: int,
    slabs: Array,
) -> None:
    """dq, dk, dv of _forward for the output's gradient `grad`, from the
    probabilities recomputed tile by tile: dv = P^T grad, dS = P (grad v^T - D)
    with D = rowsum(grad * out), dq = scale dS k, dk = scale dS^T q. Task (h, g)
    takes key blocks g, g + G, ... and writes its part of dq, head g * H + h of
    `dq` (G groups; the caller sums the parts). `slabs` is per-thread scratch
    (`_jit.thread_slot`), `_slab_size` elements each: the head's q (scaled), q
    transposed, grad, grad transposed, D, k, k transposed and v, and the tiles."""
    heads = lse.shape[0]
    dtype = lse.dtype
    kend = min(source, length) if causal else source  # keys some query sees
    kblocks = (kend + block_k - 1) // block_k
    qblocks = (length + block_q - 1) // block_q
    none = np.empty((0, 0), dtype)
    one = dtype.type(1)
    for task in prange(heads * groups):
        h = task // groups
        g = task % groups
        qs, qt, gr, gt, deltas, kc, kt, vc, pt, dpt, ds, dkb, dvb, dqb = _carve(
            slabs[thread_slot()], length, width, vwidth, block_q, block_k
        )
        delta = deltas[0]
        _gather(q, h, 0, length, width, scale, qs, qt)
        _gather(grad, h, 0, length, vwidth, one, gr, gt)
        for i in range(length):
            delta[i] = _dot_of(gr[i], _row(out, h, i, vwidth))
        part = g * heads + h
        for i in range(length):
            _zero(_row(dq, part, i, width))
        for kb in range(g, kblocks, groups):
            j0 = kb * block_k
            cols = min(block_k, kend - j0)
            _gather(k, h, j0, cols, width, one, kc, kt)
            _gather(v, h, j0, cols, vwidth, one, vc, none)
            _zero(dkb)
            _zero(dvb)
            first = j0 // block_q if causal else 0
            for b in range(first, qblocks):
                i0 = b * block_q
                rows = min(block_q, length - i0)
                # key j0 + j is seen by query i0 + r when r >= j + shift
                shift = j0 - i0 if causal else -NO_LIMIT
                _dots(kc, 0, 0, qs, i0, 0, pt, 0, 0, cols, rows, width, False,
                      shift, NO_LIMIT, -NO_LIMIT, NO_LIMIT)  # fmt: skip
                _dots(vc, 0, 0, gr, i0, 0, dpt, 0, 0, cols, rows, vwidth, False,
                      shift, NO_LIMIT, -NO_LIMIT, NO_LIMIT)  # fmt: skip
                for j in range(cols):
                    lo = max(0, min(rows, j + shift))
                    prow = pt[j]
                    drow = dpt[j]
                    _zero(prow[:lo])
                    _zero(drow[:lo])
                    _exp_shifted(prow[lo:rows], lse[h, i0 + lo :], rows - lo)
                    deltas = delta[i0 + lo :]
                    for r in range(rows - lo):
                        drow[lo + r] = prow[lo + r] * (drow[lo + r] - deltas[r]) * scale
                    for r in range(rows):
                        ds[r, j] = drow[r]
                _dots(pt, 0, 0, gt, 0, i0, dvb, 0, 0, cols, vwidth, rows, True,
                      -NO_LIMIT, NO_LIMIT, shift, NO_LIMIT)  # fmt: skip
                _dots(dpt, 0, 0, qt, 0, i0, dkb, 0, 0, cols, width, rows, True,
                      -NO_LIMIT, NO_LIMIT, shift, NO_LIMIT)  # fmt: skip
                _zero(dqb[:rows])
                _dots(ds, 0, 0, kt, 0, 0, dqb, 0, 0, rows, width, cols, True,
                      -NO_LIMIT, NO_LIMIT, -NO_LIMIT, -shift)  # fmt: skip
                for r in range(rows):
                    dst = _row(dq, part, i0 + r, width)
                    for e in range(width):
                        dst[e] += dqb[r, e]
            for j in range(cols):
                dst = _row(dk, h, j0 + j, width)
                for e in range(width):
                    dst[e] = dkb[j, e]
                dst = _row(dv, h, j0 + j, vwidth)
                for e in range(vwidth):
                    dst[e] = dvb[j, e]
        # the keys no query sees (causal, S > L): no gradient
        for j in range(kend + g, source, groups):
            _zero(_row(dk, h, j, width))
            _zero(_row(dv, h, j, vwidth))


def _carve(
    slab: Array,
    length: int,
    width: int,
    vwidth: int,
    block_q: int,
    block_k: int,
) -> tuple[Array, ...]:
    """A thread's slab of `_backward` as its arrays (2-d views, in order): the
    head's q (scaled), q transposed, grad, grad transposed, D (one row); a key
    block's k, k transposed and v; the tiles P^T, grad v^T (then scale dS^T),
    scale dS; a key block's dk and dv and a query block's dq: all of a thread's working
    memory in the arena, where the device counts it."""
    shapes = (
        (length, width),
        (width, length),
        (length, vwidth),
        (vwidth, length),
        (1, length),
        (block_k, width),
        (width, block_k),
        (block_k, vwidth),
        (block_k, block_q),
        (block_k, block_q),
        (block_q, block_k),
        (block_k, width),
        (block_k, vwidth),
        (block_q, width),
    )
    views = []
    at = 0
    for rows, cols in shapes:
        views.append(slab[at : at + rows * cols].reshape((rows, cols)))
        at += rows * cols
    return (
        views[0],
        views[1],
        views[2],
        views[3],
        views[4],
        views[5],
        views[6],
        views[7],
        views[8],
        views[9],
        views[10],
        views[11],
        views[12],
        views[13],
    )


def _slab_size(length: int, width: int, vwidth: int, block_q: int, block_k: int) -> int:
    """Elements of one thread's slab of `_backward`."""
    head = 2 * length * (width + vwidth) + length
    tiles = 3 * block_q * block_k + block_k * (3 * width + 2 * vwidth) + block_q * width
    return head + tiles


# The helpers, contracted (a multiply and an add as one FMA: one rounding for
# two); the dot products also reassociated (their sums vectorise). Run as
# Python, the kernels call them as Python; numba needs compiled callees, and
# compiling them at import would import numba.
_SCOPE: Final = KernelScope(
    {**vars(_compiled_softmax_exp), **vars(_compiled_attention_tiles), **globals()},
    {
        _dots: {"contract": True, "reassociate": True},
        _put4: {},
        _carve: {},
        _zero: {},
        _row: {},
        _gather: {},
        _exp_into: {"contract": True},
        _exp_of: {"contract": True},
        _exp_shifted: {"contract": True},
        _exp_minus: {"contract": True},
        _sum_of: {"reassociate": True},
        _dot_of: {"reassociate": True},
        _max: {},
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


def _readable(x: Array) -> bool:
    """Whether the kernels can take x where it lies: its rows contiguous, its
    strides whole elements and not negative."""
    item = x.itemsize
    return (x.shape[-1] <= 1 or x.strides[-1] == item) and all(
        s >= 0 and s % item == 0 for s in x.strides
    )


def _operand(x: Array) -> Operand:
    """x (..., N, W), `_readable`, as the kernels' operand: its memory as one
    flat array from its first element (a view: writes reach x), each matrix's
    offset in it (the leading axes flattened), the stride between rows."""
    item = x.itemsize
    steps = [s // item for s in x.strides]
    offsets = np.zeros(x.shape[:-2], np.int64)
    for axis, (size, step) in enumerate(zip(x.shape[:-2], steps, strict=False)):
        shape = [1] * offsets.ndim
        shape[axis] = size
        offsets += (np.arange(size, dtype=np.int64) * step).reshape(shape)
    span = (
        0
        if x.size == 0
        else 1 + sum((n - 1) * s for n, s in zip(x.shape, steps, strict=True))
    )
    flat = np.lib.stride_tricks.as_strided(x, (span,), (item,))
    return flat, offsets.reshape(-1), steps[-2]


class AttentionCompiled(AttentionKernels):
    """The compiled forms of AttentionKernels' methods."""

    def _sdpa_operand(self, x: Array, held: list[Any]) -> Operand:
        """x as a kernel operand: where it lies when it can be read so, else
        from a copy in scratch (kept alive in `held` until the kernel returns)."""
        if not _readable(x):
            holder = self.scratch(tuple(x.shape), x.dtype)
            held.append(holder)
            np.copyto(holder.native, x)
            x = holder.native
        return _operand(x)

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
        if (
            not self._sdpa_compiles(q, k, v, out, lse)
            or not lse.flags.c_contiguous
            or not _readable(out)
        ):
            super().sdpa(q, k, v, out, lse, causal, scale)
            return
        held: list[Any] = []
        heads = math.prod(q.shape[:-2])
        length, width = q.shape[-2:]
        source, vwidth = v.shape[-2:]
        # per-thread scratch: one slab of `_forward` per thread
        slabs = self.scratch((slots(), source * (width + vwidth)), q.dtype)
        held.append(slabs)
        kernel = _kernel(_forward)
        kernel(
            *(self._sdpa_operand(a, held) for a in (q, k, v)),
            _operand(out),
            lse.reshape(heads, length),
            length,
            source,
            width,
            vwidth,
            causal,
            q.dtype.type(scale),
            BLOCK_Q,
            FORWARD_BLOCK_K,
            slabs.native,
        )

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
            _readable(a) for a in (dq, dk, dv)
        ):
            super().sdpa_backward(*arrays, causal, scale)
            return
        held: list[Any] = []
        heads = math.prod(q.shape[:-2])
        length, width = q.shape[-2:]
        source, vwidth = v.shape[-2:]
        keys = min(source, length) if causal else source
        groups = _groups(heads, keys)
        if groups == 1:
            parts = dq
            dq_operand = _operand(dq)
        else:
            holder = self.scratch((groups, heads, length, width), dq.dtype)
            held.append(holder)
            parts = holder.native
            dq_operand = _operand(parts.reshape(groups * heads, length, width))
        # per-thread scratch: one slab of `_backward` per thread
        slabs = self.scratch(
            (slots(), _slab_size(length, width, vwidth, BLOCK_Q, BLOCK_K)),
            dq.dtype,
        )
        held.append(slabs)
        lse2 = lse
        if not lse.flags.c_contiguous:
            holder = self.scratch(tuple(lse.shape), lse.dtype)
            held.append(holder)
            np.copyto(holder.native, lse)
            lse2 = holder.native
        kernel = _kernel(_backward)
        kernel(
            *(self._sdpa_operand(a, held) for a in (grad, q, k, v, out)),
            lse2.reshape(heads, length),
            dq_operand,
            _operand(dk),
            _operand(dv),
            length,
            source,
            width,
            vwidth,
            causal,
            q.dtype.type(scale),
            BLOCK_Q,
            BLOCK_K,
            groups,
            slabs.native,
        )
        if groups > 1:
            np.sum(parts.reshape(groups, *dq.shape), axis=0, out=dq)
