"""Reference kernels of the fused normalisations, written once against an array module.

x is seen as rows x features: its trailing `k` axes are one row of n features.
Each kernel copies what it reads into float64 scratch from the arena, takes the
mean and then the variance in two passes (the variance never comes from a
difference of large sums), and rounds once into its outputs. The statistics the
forward returns (mean and rstd = 1 / sqrt(var + eps), one per row) are what its
backward reads, as PyTorch's native_layer_norm saves them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np

Array = Any  # a numpy.ndarray or cupy.ndarray

_F64: Final = np.dtype(np.float64)


def rows_features(x: Array, k: int) -> tuple[int, int]:
    """x's rows (the leading axes, as one) and features (the trailing k)."""
    return math.prod(x.shape[: x.ndim - k]), math.prod(x.shape[x.ndim - k :])


class NormKernels:
    """layer_norm and rms_norm over a row's trailing axes, and their backwards.
    Arguments that are None (weight, bias; outputs not asked for) are skipped."""

    xp: Any
    scratch: Callable[[tuple[int, ...], np.dtype[Any]], Any]

    def _in_float64(self, a: Array, into: Array) -> Array:
        """a's values (any layout) in `into`, float64 scratch of a's size, shaped
        like it; returned with into's shape."""
        self.xp.copyto(into.reshape(a.shape), a, casting="unsafe")
        return into

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
        """out = (x - mean) * rstd * weight + bias per row; mean and rstd (one
        per row, any shape of `rows` elements) are written too."""
        xp = self.xp
        rows, n = rows_features(x, k)
        held = self.scratch((2, rows, n), _F64)
        xd = self._in_float64(x, held.native[0])
        work = held.native[1]
        stats = self.scratch((2, rows, 1), _F64)
        mu, rs = stats.native[0], stats.native[1]
        xp.sum(xd, axis=1, keepdims=True, out=mu)
        xp.divide(mu, n, mu)  # an empty row: 0 / 0, NaN (the device runs quiet)
        xp.subtract(xd, mu, xd)
        xp.multiply(xd, xd, work)
        xp.sum(work, axis=1, keepdims=True, out=rs)
        xp.divide(rs, n, rs)
        xp.add(rs, eps, rs)
        xp.sqrt(rs, rs)
        xp.divide(1.0, rs, rs)
        xp.multiply(xd, rs, xd)
        self._affine(xd, weight, bias, n)
        xp.copyto(out.reshape(rows, n), xd, casting="unsafe")
        xp.copyto(mean.reshape(rows, 1), mu, casting="unsafe")
        xp.copyto(rstd.reshape(rows, 1), rs, casting="unsafe")

    def rms_norm(
        self,
        x: Array,
        weight: Array | None,
        k: int,
        eps: float,
        out: Array,
        rstd: Array,
    ) -> None:
        """out = x * rstd * weight per row, rstd = 1 / sqrt(mean(x^2) + eps)."""
        xp = self.xp
        rows, n = rows_features(x, k)
        held = self.scratch((2, rows, n), _F64)
        xd = self._in_float64(x, held.native[0])
        work = held.native[1]
        stats = self.scratch((rows, 1), _F64)
        rs = stats.native
        xp.multiply(xd, xd, work)
        xp.sum(work, axis=1, keepdims=True, out=rs)
        xp.divide(rs, n, rs)
        xp.add(rs, eps, rs)
        xp.sqrt(rs, rs)
        xp.divide(1.0, rs, rs)
        xp.multiply(xd, rs, xd)
        self._affine(xd, weight, None, n)
        xp.copyto(out.reshape(rows, n), xd, casting="unsafe")
        xp.copyto(rstd.reshape(rows, 1), rs, casting="unsafe")

    def _affine(
        self, xd: Array, weight: Array | None, bias: Array | None, n: int
    ) -> None:
        """xd = xd * weight + bias along the rows (float64 throughout)."""
        xp = self.xp
        for param, op in ((weight, xp.multiply), (bias, xp.add)):
            if param is not None:
                held = self.scratch((n,), _F64)
                op(xd, self._in_float64(param, held.native), xd)

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
        """With xhat = (x - mean) * rstd and gw = grad * weight: grad_x = rstd *
        (gw - mean(gw) - xhat * mean(gw * xhat)) per row; grad_weight = the sum
        over rows of grad * xhat; grad_bias = the sum over rows of grad."""
        xp = self.xp
        rows, n = rows_features(x, k)
        held = self.scratch((3, rows, n), _F64)
        xhat = self._in_float64(x, held.native[0])
        gd = self._in_float64(grad, held.native[1])
        work = held.native[2]
        stats = self.scratch((2, rows, 1), _F64)
        mu = self._in_float64(mean, stats.native[0])
        rs = self._in_float64(rstd, stats.native[1])
        xp.subtract(xhat, mu, xhat)
        xp.multiply(xhat, rs, xhat)
        if grad_bias is not None:
            self._column_sum(gd, grad_bias)
        self._rows_backward(gd, xhat, rs, weight, work, grad_x, grad_weight, True)

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
        """With xhat = x * rstd and gw = grad * weight: grad_x = rstd * (gw -
        xhat * mean(gw * xhat)) per row; grad_weight = the sum over rows of
        grad * xhat."""
        xp = self.xp
        rows, n = rows_features(x, k)
        held = self.scratch((3, rows, n), _F64)
        xhat = self._in_float64(x, held.native[0])
        gd = self._in_float64(grad, held.native[1])
        work = held.native[2]
        stats = self.scratch((rows, 1), _F64)
        rs = self._in_float64(rstd, stats.native)
        xp.multiply(xhat, rs, xhat)
        self._rows_backward(gd, xhat, rs, weight, work, grad_x, grad_weight, False)

    def _rows_backward(
        self,
        gd: Array,
        xhat: Array,
        rs: Array,
        weight: Array | None,
        work: Array,
        grad_x: Array | None,
        grad_weight: Array | None,
        centered: bool,
    ) -> None:
        """What the two backwards share, from float64 grad, xhat and rstd (rows,
        n); `centered` (layer_norm) also takes the row mean of gw away. gd is
        overwritten."""
        xp = self.xp
        n = gd.shape[1]
        if grad_weight is not None:
            xp.multiply(gd, xhat, work)
            self._column_sum(work, grad_weight)
        if grad_x is None:
            return
        if weight is not None:
            held = self.scratch((n,), _F64)
            xp.multiply(gd, self._in_float64(weight, held.native), gd)
        row = self.scratch((2, gd.shape[0], 1), _F64)
        a, c = row.native[0], row.native[1]
        xp.multiply(gd, xhat, work)
        xp.sum(work, axis=1, keepdims=True, out=c)
        xp.divide(c, n, c)
        if centered:
            xp.sum(gd, axis=1, keepdims=True, out=a)
            xp.divide(a, n, a)
            xp.subtract(gd, a, gd)
        xp.multiply(xhat, c, xhat)
        xp.subtract(gd, xhat, gd)
        xp.multiply(gd, rs, gd)
        xp.copyto(grad_x.reshape(gd.shape), gd, casting="unsafe")

    def _column_sum(self, a: Array, out: Array) -> None:
        """out (n features, any shape) = the float64 sum over a's rows, rounded."""
        held = self.scratch((a.shape[1],), _F64)
        self.xp.sum(a, axis=0, out=held.native)
        self.xp.copyto(out.reshape(held.native.shape), held.native, casting="unsafe")
