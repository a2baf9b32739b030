"""The helpers of the compiled attention kernels (`_compiled_attention.py`):
the products as dot products of contiguous rows (`_dots`), the rows of a
strided operand (`_row`, `_gather`), and the softmax's rows (`_exp_minus`,
`_exp_shifted`, `_max`; their exp and sums are `_compiled_softmax_exp`'s).

Plain Python first; the kernels' `_jit.KernelScope` compiles them with the
kernels (its namespace holds this module's names too), each with the options
listed there.
"""

from __future__ import annotations

from actnet.device._compiled_softmax_exp import _exp_into, _sum_of
from actnet.device._kernels_attention import Array

Operand = tuple[Array, Array, int]  # (flat memory, offsets of the heads, row stride)


def _exp_shifted(x: Array, shift: Array, n: int) -> None:
    """x[r] = exp(x[r] - shift[r]) for r < n (1-d each), in float64 and rounded
    once (`_exp_into`; float64 results with its precise polynomial)."""
    _exp_into(x[:n], 0.0, x[:n], x.itemsize == 8, True, 1.0, None, shift[:n])


def _exp_minus(x: Array, shift: float, n: int) -> float:
    """x[r] = exp(x[r] - shift) for r < n, rounded once (as `_exp_shifted`);
    the sum of the rounded values in float64 (the weights the output is then
    divided by)."""
    _exp_into(x[:n], shift, x[:n], x.itemsize == 8, True)
    return _sum_of(x[:n])  # apart: a sum in the loop would not vectorise


def _max(x: Array, n: int, start: float) -> float:
    """The largest of start and x[:n] (NaN skipped, as Python's max does): in
    eight running maxima, so that the comparisons do not wait on one another."""
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = start
    r = 0
    while r + 8 <= n:
        m0 = max(m0, x[r])
        m1 = max(m1, x[r + 1])
        m2 = max(m2, x[r + 2])
        m3 = max(m3, x[r + 3])
        m4 = max(m4, x[r + 4])
        m5 = max(m5, x[r + 5])
        m6 = max(m6, x[r + 6])
        m7 = max(m7, x[r + 7])
        r += 8
    while r < n:
        m0 = max(m0, x[r])
        r += 1
    return max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))


def _dots(
    a: Array,
    ar: int,
    ac: int,
    b: Array,
    br: int,
    bc: int,
    c: Array,
    cr: int,
    cc: int,
    m: int,
    n: int,
    inner: int,
    add: bool,
    j_lo: int,
    j_hi: int,
    t_lo: int,
    t_hi: int,
) -> None:
    """c[cr + i, cc + j] = (or +=, when `add`) the sum over t of
    a[ar + i, ac + t] * b[br + j, bc + t], for i < m, j < n, t < inner: each
    entry a dot product of two contiguous rows (numba vectorises the sum over t
    with its order free: `reassociate`).

    The causal windows: row i takes the columns j in [i + j_lo, i + j_hi] and
    the terms t in [i + t_lo, i + t_hi] (clipped to [0, n) and [0, inner)).
    Rows go by fours and columns by fours (sixteen sums in registers, each row
    read once for four): a group takes the union of its rows' windows, so it
    writes a few entries outside some row's window (the caller masks them) and
    adds a few terms outside it (where the caller's operand is zero)."""
    zero = c.dtype.type(0)  # sums in c's dtype: float32 ones vectorise twice as wide
    i = 0
    while i < m:
        rows = min(4, m - i)
        j0 = max(0, i + j_lo)
        j1 = min(n, i + rows + j_hi)  # past the group's last column
        t0 = max(0, i + t_lo)
        t1 = min(inner, i + rows + t_hi)
        width = max(0, t1 - t0)
        if rows < 4:
            for r in range(i, i + rows):
                arow = a[ar + r, ac + t0 : ac + t0 + width]
                for j in range(j0, j1):
                    brow = b[br + j, bc + t0 : bc + t0 + width]
                    s = zero
                    for t in range(width):
                        s += arow[t] * brow[t]
                    if add:
                        c[cr + r, cc + j] += s
                    else:
                        c[cr + r, cc + j] = s
            i += rows
            continue
        a0 = a[ar + i, ac + t0 : ac + t0 + width]
        a1 = a[ar + i + 1, ac + t0 : ac + t0 + width]
        a2 = a[ar + i + 2, ac + t0 : ac + t0 + width]
        a3 = a[ar + i + 3, ac + t0 : ac + t0 + width]
        j = j0
        while j + 4 <= j1:
            b0 = b[br + j, bc + t0 : bc + t0 + width]
            b1 = b[br + j + 1, bc + t0 : bc + t0 + width]
            b2 = b[br + j + 2, bc + t0 : bc + t0 + width]
            b3 = b[br + j + 3, bc + t0 : bc + t0 + width]
            s00 = s01 = s02 = s03 = zero
            s10 = s11 = s12 = s13 = zero
            s20 = s21 = s22 = s23 = zero
            s30 = s31 = s32 = s33 = zero
            for t in range(width):
                x0 = a0[t]
                x1 = a1[t]
                x2 = a2[t]
                x3 = a3[t]
                y0 = b0[t]
                y1 = b1[t]
                y2 = b2[t]
                y3 = b3[t]
                s00 += x0 * y0
                s01 += x0 * y1
                s02 += x0 * y2
                s03 += x0 * y3
                s10 += x1 * y0
                s11 += x1 * y1
                s12 += x1 * y2
                s13 += x1 * y3
                s20 += x2 * y0
                s21 += x2 * y1
                s22 += x2 * y2
                s23 += x2 * y3
                s30 += x3 * y0
                s31 += x3 * y1
                s32 += x3 * y2
                s33 += x3 * y3
            _put4(c, cr + i, cc + j, add, s00, s01, s02, s03)
            _put4(c, cr + i + 1, cc + j, add, s10, s11, s12, s13)
            _put4(c, cr + i + 2, cc + j, add, s20, s21, s22, s23)
            _put4(c, cr + i + 3, cc + j, add, s30, s31, s32, s33)
            j += 4
        while j < j1:
            b0 = b[br + j, bc + t0 : bc + t0 + width]
            s00 = s10 = s20 = s30 = zero
            for t in range(width):
                y0 = b0[t]
                s00 += a0[t] * y0
                s10 += a1[t] * y0
                s20 += a2[t] * y0
                s30 += a3[t] * y0
            if add:
                c[cr + i, cc + j] += s00
                c[cr + i + 1, cc + j] += s10
                c[cr + i + 2, cc + j] += s20
                c[cr + i + 3, cc + j] += s30
            else:
                c[cr + i, cc + j] = s00
                c[cr + i + 1, cc + j] = s10
                c[cr + i + 2, cc + j] = s20
                c[cr + i + 3, cc + j] = s30
            j += 1
        i += 4


def _put4(
    c: Array, r: int, j: int, add: bool, s0: float, s1: float, s2: float, s3: float
) -> None:
    """c[r, j:j + 4] = (or +=) s0..s3."""
    if add:
        c[r, j] += s0
        c[r, j + 1] += s1
        c[r, j + 2] += s2
        c[r, j + 3] += s3
    else:
        c[r, j] = s0
        c[r, j + 1] = s1
        c[r, j + 2] = s2
        c[r, j + 3] = s3


def _zero(x: Array) -> None:
    """x[...] = 0. (A helper: numba drops a slice assignment written in a
    parallel loop's body to a view of an argument.)"""
    x.fill(0.0)


def _row(x: Operand, h: int, i: int, n: int) -> Array:
    """Row i (its first n elements) of head h of a strided operand (flat, offsets,
    row stride): a contiguous 1-d view."""
    start = x[1][h] + i * x[2]
    return x[0][start : start + n]


def _gather(
    x: Operand,
    h: int,
    first: int,
    count: int,
    n: int,
    scale: float,
    rows: Array,
    cols: Array,
) -> None:
    """Rows first..first + count of head h of x: times `scale` into rows[:count],
    and as they are, transposed, into cols[:, :count] (each when it has a
    size)."""
    for i in range(count):
        src = _row(x, h, first + i, n)
        if rows.shape[0] > 0:
            dst = rows[i]
            for e in range(n):
                dst[e] = src[e] * scale
        if cols.shape[0] > 0:
            for e in range(n):
                cols[e, i] = src[e]
