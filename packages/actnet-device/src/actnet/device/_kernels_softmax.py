"""Reference kernels of the fused softmax family, written once against an array module.

softmax, log_softmax and cross-entropy over class indices, forward and backward:
each copies its input into float64 scratch from the arena, subtracts the row's
maximum (so exp stays at most 1 and nothing overflows), sums in float64 and
rounds once into `out`. These are the "definitely right" values the compiled
kernels (`_compiled_softmax.py`) and every other backend are checked against.

log(sum(exp(x - max))) is computed so that it keeps its digits near 0 (one
value dominating its row: -log p of a confident prediction): the terms of the
maximum (1 each) are counted apart from the others, log1p of the rest.

Cross-entropy's kernels return the smallest and largest target that is not
`ignore_index` (0 when there is none) before they index anything; the device
raises when one is out of bounds. Its forward writes each row's maximum and
log(sum(exp(x - max))) (`stats`, (N, 2)); its backward takes them, so softmax
is exp(x - max - log_sum) without another reduction, and p - 1 at the target is
expm1 of (x - max) - log_sum, to its last digits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

Array = Any  # a numpy.ndarray or cupy.ndarray

_F64: Final = np.dtype(np.float64)
_I64: Final = np.dtype(np.int64)

# cross_entropy's reduction, as the kernels take it
NONE: Final = 0
SUM: Final = 1
MEAN: Final = 2
REDUCTIONS: Final = {"none": NONE, "sum": SUM, "mean": MEAN}


class SoftmaxKernels:
    """softmax, log_softmax and class-index cross-entropy, forward and backward."""

    xp: Any
    scratch: Callable[[tuple[int, ...], np.dtype[Any]], Any]

    def _softmax_shifted(self, x: Array, axis: int, into: Array) -> tuple[Array, Array]:
        """(x - max, max) along `axis`, in float64: x - max into `into`."""
        xp = self.xp
        xp.copyto(into, x)
        top = xp.max(into, axis=axis, keepdims=True)
        xp.subtract(into, top, into)
        return into, top

    def _softmax_log_sum(self, e: Array, axis: int) -> Array:
        """log(sum(e)) along `axis` (kept), e = exp(x - max), near 0 to its last
        digits: log1p of the terms that are not 1 (the maximum's) plus the count
        of those past one (a row of -inf, e NaN, stays NaN)."""
        xp = self.xp
        one = e == 1.0
        rest = xp.sum(xp.where(one, 0.0, e), axis=axis, keepdims=True)
        count = xp.sum(one, axis=axis, keepdims=True)
        return xp.log1p(rest + (count - 1))

    def softmax(self, x: Array, axis: int, out: Array) -> None:
        """out = exp(x - max) / sum(exp(x - max)) along `axis`."""
        xp = self.xp
        held = self.scratch(x.shape, _F64)
        e, _ = self._softmax_shifted(x, axis, held.native)
        xp.exp(e, e)
        total = xp.sum(e, axis=axis, keepdims=True)
        xp.multiply(e, xp.divide(1.0, total), e)
        xp.copyto(out, e, casting="unsafe")

    def log_softmax(self, x: Array, axis: int, out: Array) -> None:
        """out = (x - max) - log(sum(exp(x - max))) along `axis`."""
        xp = self.xp
        held = self.scratch((2, *x.shape), _F64)
        shifted, _ = self._softmax_shifted(x, axis, held.native[0])
        e = held.native[1]
        xp.exp(shifted, e)
        log_total = self._softmax_log_sum(e, axis)
        xp.subtract(shifted, log_total, shifted)
        xp.copyto(out, shifted, casting="unsafe")

    def softmax_backward(self, grad: Array, y: Array, axis: int, out: Array) -> None:
        """out = y (grad - sum(grad y)) along `axis`, y = softmax(x)."""
        xp = self.xp
        held = self.scratch((2, *y.shape), _F64)
        g, yd = held.native[0], held.native[1]
        xp.copyto(g, grad)
        xp.copyto(yd, y)
        dot = xp.sum(xp.multiply(g, yd), axis=axis, keepdims=True)
        xp.subtract(g, dot, g)
        xp.multiply(yd, g, g)
        xp.copyto(out, g, casting="unsafe")

    def log_softmax_backward(
        self, grad: Array, y: Array, axis: int, out: Array
    ) -> None:
        """out = grad - exp(y) sum(grad) along `axis`, y = log_softmax(x)."""
        xp = self.xp
        held = self.scratch((2, *y.shape), _F64)
        g, e = held.native[0], held.native[1]
        xp.copyto(g, grad)
        xp.copyto(e, y)
        xp.exp(e, e)
        xp.multiply(e, xp.sum(g, axis=axis, keepdims=True), e)
        xp.subtract(g, e, g)
        xp.copyto(out, g, casting="unsafe")

    def _class_targets(
        self, target: Array, ignore_index: int, weight: Array | None, classes: int
    ) -> tuple[int, int, Array, Array, Array]:
        """(low, high, valid, safe, weights): the extreme targets that are not
        ignore_index (0 when there is none), where the target counts, the target
        with ignored ones replaced by 0, and each row's float64 class weight (0
        where ignored). `safe` and `weights` are only meaningful in bounds."""
        xp = self.xp
        t = target.astype(_I64)
        valid = t != ignore_index
        safe = xp.where(valid, t, 0)
        low = int(safe.min()) if safe.size else 0
        high = int(safe.max()) if safe.size else 0
        if low < 0 or high >= classes:
            return low, high, valid, safe, safe
        if weight is None:
            weights = valid.astype(_F64)
        else:
            weights = xp.where(valid, weight.astype(_F64)[safe], 0.0)
        return low, high, valid, safe, weights

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
        """Per row n, with p = softmax(x[n]) and w the class weights (1 without):
        (1 - eps) w[y] (-log p[y]) + eps / C sum_c w[c] (-log p[c]), 0 where y is
        ignore_index; reduced into `loss` ('mean' divides by the summed w[y] of the
        rows counted); max(x[n]) and log(sum(exp(x[n] - max))) into `stats`.
        Returns (low, high)."""
        xp = self.xp
        rows, classes = x.shape
        low, high, valid, safe, weights = self._class_targets(
            target, ignore_index, weight, classes
        )
        if low < 0 or high >= classes:
            return low, high
        held = self.scratch((2, rows, classes), _F64)
        shifted, top = self._softmax_shifted(x, 1, held.native[0])
        e = held.native[1]
        xp.exp(shifted, e)
        log_total = self._softmax_log_sum(e, 1)[:, 0]
        xp.copyto(stats[:, 0], top[:, 0], casting="unsafe")
        xp.copyto(stats[:, 1], log_total, casting="unsafe")
        picked = shifted[xp.arange(rows), safe]
        # -log p[y] = (max - x[y]) + log(sum): both terms at least 0, no cancelling
        per_row = xp.multiply(weights, xp.add(-picked, log_total))
        if label_smoothing:
            per_row = xp.multiply(per_row, 1.0 - label_smoothing)
            w = xp.ones(classes) if weight is None else weight.astype(_F64)
            xp.multiply(shifted, -w, shifted)  # w[c] (max - x[c]), each at least 0
            spread = xp.add(xp.sum(shifted, axis=1), xp.sum(w) * log_total)
            spread = xp.multiply(spread, label_smoothing / classes)
            per_row = xp.add(per_row, spread)
        per_row = xp.where(valid, per_row, 0.0)
        if reduction == NONE:
            xp.copyto(loss, per_row, casting="unsafe")
        elif reduction == SUM:
            xp.copyto(loss, xp.sum(per_row), casting="unsafe")
        else:  # PyTorch's mean: over the summed weights of the rows counted
            xp.copyto(loss, xp.sum(per_row) / xp.sum(weights), casting="unsafe")
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
        """out[n, c] = coef (total p[c] - eps / C w[c] - (1 - eps) w[y] [c == y]),
        p = exp(x[n] - max - log_sum) (`stats`, the forward's), total = (1 - eps)
        w[y] + eps / C sum(w) (the sum of the loss's coefficients on -log p), coef
        the loss gradient of row n (grad / summed w[y] for 'mean', 1 where that
        sum is 0: every row ignored and every gradient 0, as in PyTorch); 0 on
        ignored rows. At the target, total (p - 1) + eps / C (sum(w) - w[y]),
        p - 1 as expm1. Returns (low, high)."""
        xp = self.xp
        rows, classes = x.shape
        low, high, valid, safe, weights = self._class_targets(
            target, ignore_index, weight, classes
        )
        if low < 0 or high >= classes:
            return low, high
        eps = label_smoothing
        w = xp.ones(classes) if weight is None else weight.astype(_F64)
        g = grad.astype(_F64)
        if reduction == MEAN:
            denom = xp.sum(weights)
            g = g / (denom if denom != 0 else 1.0)
        coef = xp.where(valid, g, 0.0)  # broadcasts the 0-d grad of 'sum', 'mean'
        weight_sum = xp.sum(w)
        total = weights * (1.0 - eps) + xp.where(valid, eps / classes * weight_sum, 0.0)
        top, log_total = stats[:, 0].astype(_F64), stats[:, 1].astype(_F64)
        held = self.scratch((rows, classes), _F64)
        p = held.native
        xp.copyto(p, x)
        xp.subtract(p, (top + log_total)[:, None], p)
        xp.exp(p, p)
        xp.multiply(p, total[:, None], p)
        xp.subtract(p, xp.multiply(w, eps / classes), p)
        at = xp.arange(rows), safe
        picked = x[at].astype(_F64)
        hot = total * xp.expm1((picked - top) - log_total)
        hot = hot + eps / classes * (weight_sum - w[safe])
        p[at] = hot
        xp.multiply(p, coef[:, None], p)
        # an ignored row is 0, even where its logits made p NaN
        xp.copyto(out, xp.where(valid[:, None], p, 0.0), casting="unsafe")
        return low, high
