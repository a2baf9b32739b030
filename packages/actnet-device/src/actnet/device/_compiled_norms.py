"""Compiled kernels of the fused normalisations (the `cpu` device).

x is a C-contiguous (rows, n) matrix; the rows run in parallel (`prange`) on
large inputs. Per row, a forward reads the row twice for its statistics (the
mean, then the squares about it, summed in float64: a two-pass variance) and once
more to write y, rounded once; the row stays in the cache between the passes. A
backward reads each row twice: once for its two row sums (and the column sums of
grad_weight and grad_bias), once to write grad_x. The column sums go through
per-block float64 partials, blocks fixed by the shape (not by the thread count),
so results do not depend on the threads.

The kernels are compiled with `reassociate=True`: the float64 row sums are
vectorized, so they differ from the reference's in their last bits. The
forwards are also contracted (a multiply and an add as one FMA, one rounding
fewer); the backward is not, see `_backward`. Other dtypes and layouts take the
reference kernel.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

from actnet.device._compiled_activations import COMPILED_DTYPES, PARALLEL_MIN
from actnet.device._jit import compiled
from actnet.device._kernels_norms import Array, NormKernels, rows_features

_F64: Final = np.dtype(np.float64)

# The backward's column sums (grad_weight, grad_bias) run over this many blocks
# of rows at most: each block, one task of the parallel loop, sums into its own
# float64 partials, added in block order at the end.
BLOCKS: Final = 32
# ... and the partials hold at most this many float64 per sum (2 MB).
PARTIAL_MAX: Final = 1 << 18

prange = range  # numba's prange once compiled with parallel=True (see _jit)


def _layer_norm(
    x: Array, w: Array, b: Array, eps: float, out: Array, mean: Array, rstd: Array
) -> None:
    """w and b are float64 (ones and zeros stand in for None: exact)."""
    rows, n = x.shape
    for r in prange(rows):
        s = 0.0
        for j in range(n):
            s += np.float64(x[r, j])
        m = s / n
        q = 0.0
        for j in range(n):
            d = np.float64(x[r, j]) - m
            q += d * d
        rs = 1.0 / math.sqrt(q / n + eps)
        mean[r] = m
        rstd[r] = rs
        for j in range(n):
            out[r, j] = (np.float64(x[r, j]) - m) * rs * w[j] + b[j]


def _rms_norm(x: Array, w: Array, eps: float, out: Array, rstd: Array) -> None:
    rows, n = x.shape
    for r in prange(rows):
        q = 0.0
        for j in range(n):
            v = np.float64(x[r, j])
            q += v * v
        rs = 1.0 / math.sqrt(q / n + eps)
        rstd[r] = rs
        for j in range(n):
            out[r, j] = np.float64(x[r, j]) * rs * w[j]


def _norm_backward(
    grad: Array,
    x: Array,
    mean: Array,
    rstd: Array,
    w: Array,
    centered: bool,
    grad_x: Array,
    need_x: bool,
    part: Array,
    need_wb: bool,
    block: int,
) -> None:
    """layer_norm's backward (`centered`: xhat = (x - mean) * rstd, and the row
    mean of gw is taken away) or rms_norm's (xhat = x * rstd; mean unread). w is
    float64 (ones for None). part[0] and part[1] get each block's column sums of
    grad * xhat and grad. No test inside a loop over a row: each runs vectorized."""
    rows, n = x.shape
    # A product, not a quotient, below: under "reassoc" LLVM would move a
    # division by n into the loop over the row (a vector division per element).
    inv_n = 1.0 / n
    for k in prange(part.shape[1]):
        pw = part[0, k]
        pb = part[1, k]
        if need_wb:
            pw[:] = 0.0
            pb[:] = 0.0
        for r in range(k * block, min(rows, (k + 1) * block)):
            m = np.float64(mean[r]) if centered else 0.0
            rs = np.float64(rstd[r])
            a = 0.0
            c = 0.0
            if need_wb and need_x:
                for j in range(n):
                    g = np.float64(grad[r, j])
                    xh = (np.float64(x[r, j]) - m) * rs
                    gw = g * w[j]
                    a += gw
                    c += gw * xh
                    pw[j] += g * xh
                    pb[j] += g
            elif need_wb:
                for j in range(n):
                    g = np.float64(grad[r, j])
                    pw[j] += g * ((np.float64(x[r, j]) - m) * rs)
                    pb[j] += g
            else:
                for j in range(n):
                    gw = np.float64(grad[r, j]) * w[j]
                    a += gw
                    c += gw * ((np.float64(x[r, j]) - m) * rs)
            if need_x:
                a = a * inv_n if centered else 0.0
                c *= inv_n
                for j in range(n):
                    gw = np.float64(grad[r, j]) * w[j]
                    xh = (np.float64(x[r, j]) - m) * rs
                    grad_x[r, j] = ((gw - a) - xh * c) * rs


def _column_sums(
    part: Array, need_w: bool, need_b: bool, grad_w: Array, grad_b: Array
) -> None:
    """grad_w and grad_b: the blocks' partial sums added in block order (into
    the first block's, row by row of blocks: a vectorized loop)."""
    blocks, n = part.shape[1], part.shape[2]
    if blocks == 0:  # no rows: the sums are 0
        grad_w[:] = 0.0
        grad_b[:] = 0.0
        return
    for k in range(1, blocks):
        for j in range(n):
            part[0, 0, j] += part[0, k, j]
            part[1, 0, j] += part[1, k, j]
    if need_w:
        for j in range(n):
            grad_w[j] = part[0, 0, j]
    if need_b:
        for j in range(n):
            grad_b[j] = part[1, 0, j]


def _matrix(a: Array, rows: int, n: int) -> Array | None:
    """a as a (rows, n) view when it is C-contiguous of a compiled dtype."""
    if a.dtype not in COMPILED_DTYPES or not a.flags.c_contiguous:
        return None
    return a.reshape(rows, n)


def _vector(a: Array | None) -> Array | None:
    """A statistic or an output of n features as a 1-d view; None for None or
    when it is not contiguous."""
    if a is None or not a.flags.c_contiguous:
        return None
    return a.reshape(-1)


def _parallel(rows: int, n: int) -> bool:
    return rows > 1 and rows * n >= PARALLEL_MIN


class NormCompiled(NormKernels):
    """The compiled forms of NormKernels' methods."""

    def _float64_params(
        self, n: int, weight: Array | None, bias: Array | None = None
    ) -> Any:
        """Scratch (2, n) of float64: weight (ones for None) and bias (zeros for
        None), converted once here rather than per row in the kernel."""
        held = self.scratch((2, n), _F64)
        for row, param, empty in ((0, weight, 1.0), (1, bias, 0.0)):
            if param is None:
                held.native[row].fill(empty)
            else:
                np.copyto(held.native[row], param.reshape(-1))
        return held

    def layer_norm(
        self,
        x: Array,
        weight: Array | None,
        bias: Array | None,
        k: int,
        eps: float,
        out: Array,
        mean: Array,
        rstd: Array,
    ) -> None:
        rows, n = rows_features(x, k)
        x2, out2 = _matrix(x, rows, n), _matrix(out, rows, n)
        m, r = _vector(mean), _vector(rstd)
        if x2 is None or out2 is None or m is None or r is None:
            super().layer_norm(x, weight, bias, k, eps, out, mean, rstd)
            return
        params = self._float64_params(n, weight, bias)
        kernel = compiled(
            _layer_norm, parallel=_parallel(rows, n), reassociate=True, contract=True
        )
        kernel(x2, params.native[0], params.native[1], eps, out2, m, r)

    def rms_norm(
        self,
        x: Array,
        weight: Array | None,
        k: int,
        eps: float,
        out: Array,
        rstd: Array,
    ) -> None:
        rows, n = rows_features(x, k)
        x2, out2, r = _matrix(x, rows, n), _matrix(out, rows, n), _vector(rstd)
        if x2 is None or out2 is None or r is None:
            super().rms_norm(x, weight, k, eps, out, rstd)
            return
        params = self._float64_params(n, weight)
        kernel = compiled(
            _rms_norm, parallel=_parallel(rows, n), reassociate=True, contract=True
        )
        kernel(x2, params.native[0], eps, out2, r)

    def layer_norm_backward(
        self,
        grad: Array,
        x: Array,
        mean: Array,
        rstd: Array,
        weight: Array | None,
        k: int,
        grad_x: Array | None,
        grad_weight: Array | None,
        grad_bias: Array | None,
    ) -> None:
        done = self._backward(
            grad, x, mean, rstd, weight, k, grad_x, grad_weight, grad_bias
        )
        if not done:
            super().layer_norm_backward(
                grad, x, mean, rstd, weight, k, grad_x, grad_weight, grad_bias
            )

    def rms_norm_backward(
        self,
        grad: Array,
        x: Array,
        rstd: Array,
        weight: Array | None,
        k: int,
        grad_x: Array | None,
        grad_weight: Array | None,
    ) -> None:
        done = self._backward(grad, x, None, rstd, weight, k, grad_x, grad_weight)
        if not done:
            super().rms_norm_backward(grad, x, rstd, weight, k, grad_x, grad_weight)

    def _backward(
        self,
        grad: Array,
        x: Array,
        mean: Array | None,
        rstd: Array,
        weight: Array | None,
        k: int,
        grad_x: Array | None,
        grad_weight: Array | None,
        grad_bias: Array | None = None,
    ) -> bool:
        """Either backward (layer_norm's when `mean` is given) when its arrays
        are compiled ones; False (nothing done) when they are not."""
        rows, n = rows_features(x, k)
        g2, x2, r = _matrix(grad, rows, n), _matrix(x, rows, n), _vector(rstd)
        m = r if mean is None else _vector(mean)  # rms_norm: a stand-in, unread
        if g2 is None or x2 is None or m is None or r is None:
            return False
        outputs = (grad_x, grad_weight, grad_bias)
        gx = np.empty((0, 0), x.dtype) if grad_x is None else _matrix(grad_x, rows, n)
        if gx is None or any(a is not None and _vector(a) is None for a in outputs):
            return False
        need_wb = grad_weight is not None or grad_bias is not None
        blocks = min(rows, BLOCKS, max(1, PARTIAL_MAX // max(n, 1)))
        block = -(-rows // blocks) if blocks else 0
        part = self.scratch((2, blocks, n if need_wb else 0), _F64)
        params = self._float64_params(n, weight)
        # Not contracted: gw = grad * weight must round alike in both passes,
        # so that (gw - mean(gw)) cancels exactly where it should.
        kernel = compiled(_norm_backward, parallel=_parallel(rows, n), reassociate=True)
        w = params.native[0]
        centered = mean is not None
        kernel(
            g2,
            x2,
            m,
            r,
            w,
            centered,
            gx,
            grad_x is not None,
            part.native,
            need_wb,
            block,
        )
        if need_wb:
            empty = np.empty(0, x.dtype)
            sums: Any = compiled(_column_sums)
            sums(
                part.native,
                grad_weight is not None,
                grad_bias is not None,
                empty if grad_weight is None else grad_weight.reshape(-1),
                empty if grad_bias is None else grad_bias.reshape(-1),
            )
        return True
