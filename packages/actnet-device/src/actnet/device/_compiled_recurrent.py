"""Compiled kernels of the fused LSTM cell (the `cpu` device).

One pass over each row (a batch element): per hidden unit j the kernel reads
the four gate pre-activations of both inputs and c, and writes h_new, c_new and
the four activated gates, computing in float64 and rounding once on each store,
as the other compiled activations do. Rows run in parallel (prange) from
PARALLEL_MIN elements of c on; the cell of one step of a small LSTM (B = 20,
H = 200, called twice a step per layer) runs serially, its Python kept to one
dispatch. Any 2-d layout numba indexes is taken where it lies (a step's rows of
a (T, B, 4H) or (B, T, 4H) projection: no copy); float16 and bfloat16 take the
reference kernels.

Nothing in the loops calls libm, so they vectorize:
- sigmoid(w) = 1 / (1 + e) for w >= 0 and e / (1 + e) below, e = exp(-|w|)
  (`_exp_parts`, as silu): no cancellation at either end, nothing overflows.
- tanh(x) = sign(x) (-m) / (2 + m), m = expm1(-2|x|) in (-1, 0]: for |y| =
  2|x| <= TANH_SMALL (ln(2)/2), m = y q(y), q the degree-10 polynomial of
  `_compiled_softmax_exp` ((exp(y) - 1) / y to 1.4e-16); beyond, exp(y) - 1,
  exact by Sterbenz's lemma while exp(y) >= 1/2, and no cancellation below.
  Both are computed and one selected; a relative error of a few 1e-16.
The forward takes tanh of c_new as stored (rounded to its dtype), so that the
backward, which recomputes tanh(c_new) from the stored value, sees the same tc.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

from actnet.device import _compiled_activations, _compiled_softmax_exp
from actnet.device._compiled_activations import (
    _TWO_M54,
    COMPILED_DTYPES,
    _exp_parts,
    use_threads,
)
from actnet.device._compiled_softmax_exp import (
    Q1,
    Q2,
    Q3,
    Q4,
    Q5,
    Q6,
    Q7,
    Q8,
    Q9,
    Q10,
)
from actnet.device._jit import KernelScope
from actnet.device._kernels_recurrent import Array, RecurrentKernels

TANH_SMALL: Final = 0.5 * math.log(2.0)  # Q's range: |y| <= ln(2)/2

prange = range  # numba's prange once compiled with parallel=True (see _jit)


def _sigmoid_of(w: float) -> float:
    """sigmoid(w) in float64. `_exp_parts` clamps a NaN argument to a number,
    so NaN is selected back at the end (a select: the loop still vectorizes)."""
    e, scale = _exp_parts(-abs(w), 0.0)
    e *= scale * _TWO_M54  # e = exp(-|w|)
    d = 1.0 / (1.0 + e)
    s = d if w >= 0.0 else e * d
    return w if math.isnan(w) else s


def _tanh_of(x: float) -> float:
    """tanh(x) in float64 (+-0 and NaN kept, +-inf gives +-1)."""
    y = -2.0 * abs(x)
    q = Q10 * y + Q9
    q = q * y + Q8
    q = q * y + Q7
    q = q * y + Q6
    q = q * y + Q5
    q = q * y + Q4
    q = q * y + Q3
    q = q * y + Q2
    q = q * y + Q1
    q = q * y + 1.0
    e, scale = _exp_parts(y, 0.0)
    # NaN: not < -TANH_SMALL, so y q(y), NaN
    m = e * scale * _TWO_M54 - 1.0 if y < -TANH_SMALL else y * q
    return math.copysign(-m / (2.0 + m), x)


def _blocks(row: Array, n: int) -> tuple[Array, Array, Array, Array]:
    """The blocks i, f, g, o of a row of 4n gates, as slices: indexed from 0
    in a loop, numba checks no negative index there, and the loop vectorizes."""
    return row[:n], row[n : 2 * n], row[2 * n : 3 * n], row[3 * n :]


def _lstm_cell(
    gx: Array, gh: Array, c: Array, h_new: Array, c_new: Array, gates: Array
) -> None:
    """One LSTM step (see the module doc), row by row; any 2-d layouts."""
    rows, n = c.shape
    for r in prange(rows):
        xi, xf, xg, xo = _blocks(np.ascontiguousarray(gx[r]), n)
        hi, hf, hg, ho = _blocks(np.ascontiguousarray(gh[r]), n)
        ai, af, ag, ao = _blocks(gates[r], n)
        cr, hr, cnr = np.ascontiguousarray(c[r]), h_new[r], c_new[r]
        for j in range(n):
            i = _sigmoid_of(np.float64(xi[j]) + np.float64(hi[j]))
            f = _sigmoid_of(np.float64(xf[j]) + np.float64(hf[j]))
            g = _tanh_of(np.float64(xg[j]) + np.float64(hg[j]))
            o = _sigmoid_of(np.float64(xo[j]) + np.float64(ho[j]))
            ai[j] = i
            af[j] = f
            ag[j] = g
            ao[j] = o
            cnr[j] = f * np.float64(cr[j]) + i * g
            # c_new as stored: the load reads back the rounded value
            hr[j] = o * _tanh_of(np.float64(cnr[j]))


def _lstm_cell_backward(
    grad_h: Array,
    grad_c: Array | None,
    c: Array,
    c_new: Array,
    gates: Array,
    grad_gates: Array,
    grad_c_prev: Array,
) -> None:
    """The gradients of the pre-activations and of c (see
    `RecurrentKernels._lstm_backward`) from the stored gates, row by row."""
    rows, n = c.shape
    for r in prange(rows):
        ai, af, ag, ao = _blocks(np.ascontiguousarray(gates[r]), n)
        di, df, dg, do = _blocks(grad_gates[r], n)
        ghr = np.ascontiguousarray(grad_h[r])
        cr = np.ascontiguousarray(c[r])
        cnr = np.ascontiguousarray(c_new[r])
        dcr = grad_c_prev[r]
        # without grad_c, ghr stands in for its row, unread (numba types both)
        gcr = ghr if grad_c is None else np.ascontiguousarray(grad_c[r])
        for j in range(n):
            i = np.float64(ai[j])
            f = np.float64(af[j])
            g = np.float64(ag[j])
            o = np.float64(ao[j])
            tc = _tanh_of(np.float64(cnr[j]))
            gh = np.float64(ghr[j])
            dc = gh * o * (1.0 - tc * tc)
            if grad_c is not None:
                dc += np.float64(gcr[j])
            di[j] = dc * g * i * (1.0 - i)
            df[j] = dc * np.float64(cr[j]) * f * (1.0 - f)
            dg[j] = dc * i * (1.0 - g * g)
            do[j] = gh * tc * o * (1.0 - o)
            dcr[j] = dc * f


# The helpers, contracted like the kernels (FMA: one rounding for two).
_SCOPE: Final = KernelScope(
    {**vars(_compiled_softmax_exp), **vars(_compiled_activations), **globals()},
    {
        _exp_parts: {"contract": True},
        _sigmoid_of: {"contract": True},
        _tanh_of: {"contract": True},
        _blocks: {},
    },
)


def _kernel(fn: Any, n: int) -> Any:
    return _SCOPE.compiled(fn, parallel=use_threads(n), contract=True)


class RecurrentCompiled(RecurrentKernels):
    """The compiled forms of RecurrentKernels' methods (float32, float64)."""

    def lstm_cell(
        self,
        gates_x: Array,
        gates_h: Array,
        c: Array,
        h_new: Array,
        c_new: Array,
        gates: Array,
    ) -> None:
        if c.dtype not in COMPILED_DTYPES:
            super().lstm_cell(gates_x, gates_h, c, h_new, c_new, gates)
            return
        kernel = _kernel(_lstm_cell, c.size)
        kernel(gates_x, gates_h, c, h_new, c_new, gates)

    def lstm_cell_backward(
        self,
        grad_h: Array,
        grad_c: Array | None,
        c: Array,
        c_new: Array,
        gates: Array,
        grad_gates: Array,
        grad_c_prev: Array,
    ) -> None:
        if c.dtype not in COMPILED_DTYPES:
            super().lstm_cell_backward(
                grad_h, grad_c, c, c_new, gates, grad_gates, grad_c_prev
            )
            return
        kernel = _kernel(_lstm_cell_backward, c.size)
        kernel(grad_h, grad_c, c, c_new, gates, grad_gates, grad_c_prev)
