"""Reference kernels of scaled-dot-product attention, against an array module.

The plain composition in float64 scratch from the arena: the (..., L, S) scores,
their softmax (the causal mask as -inf), the product with v, each result
rounded once into `out`. The backward recomputes the probabilities the same way
and applies the softmax's derivative; it reads neither `out` nor `lse`, so it
does not depend on the forward it checks. These are the "definitely right"
values the compiled kernels (`_compiled_attention.py`) are checked against.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

Array = Any  # a numpy.ndarray or cupy.ndarray

_F64: Final = np.dtype(np.float64)


class AttentionKernels:
    """sdpa and its backward: softmax(scale q k^T) v, causal or not."""

    xp: Any
    scratch: Callable[[tuple[int, ...], np.dtype[Any]], Any]

    def _sdpa_float64(self, x: Array, held: list[Any]) -> Array:
        """x as float64: itself when it is, else a copy in scratch kept in `held`."""
        if x.dtype == _F64:
            return x
        holder = self.scratch(tuple(x.shape), _F64)
        held.append(holder)
        self.xp.copyto(holder.native, x, casting="unsafe")
        return holder.native

    def _sdpa_probabilities(
        self, q: Array, k: Array, causal: bool, scale: float, held: list[Any]
    ) -> tuple[Array, Array]:
        """(P, lse) in float64: P = softmax(scale q k^T) with keys j > query i
        masked when `causal`, lse = log(sum(exp(scores))) per query, (..., L, 1).
        Needs S >= 1 (every query then sees key 0)."""
        xp = self.xp
        length, source = q.shape[-2], k.shape[-2]
        probs = self.scratch((*q.shape[:-1], source), _F64)
        rows = self.scratch((*q.shape[:-1], 1), _F64)
        top = self.scratch((*q.shape[:-1], 1), _F64)
        held += [probs, rows, top]
        p = probs.native
        xp.matmul(q, xp.swapaxes(k, -1, -2), out=p)
        xp.multiply(p, scale, p)
        if causal:
            above = self.scratch((length, source), np.dtype(np.bool_))
            held.append(above)
            keys = xp.arange(source).reshape(1, source)
            queries = xp.arange(length).reshape(length, 1)
            xp.greater(keys, queries, out=above.native)
            xp.copyto(p, -np.inf, where=above.native)
        xp.max(p, axis=-1, keepdims=True, out=top.native)
        xp.subtract(p, top.native, p)
        xp.exp(p, p)
        xp.sum(p, axis=-1, keepdims=True, out=rows.native)
        xp.divide(p, rows.native, p)
        xp.log(rows.native, rows.native)
        xp.add(rows.native, top.native, rows.native)
        return p, rows.native

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
        """out = softmax(scale q k^T) v (causal: key j > query i masked) and
        lse = log(sum(exp(scale q k^T))) per query; with no keys (S = 0), out is
        zeros and lse -inf."""
        xp = self.xp
        if k.shape[-2] == 0:
            out.fill(0)
            lse.fill(-np.inf)
            return
        held: list[Any] = []
        qd, kd, vd = (self._sdpa_float64(a, held) for a in (q, k, v))
        p, rows = self._sdpa_probabilities(qd, kd, causal, scale, held)
        result = self.scratch(tuple(out.shape), _F64)
        held.append(result)
        xp.matmul(p, vd, out=result.native)
        xp.copyto(out, result.native, casting="unsafe")
        xp.copyto(lse, rows[..., 0], casting="unsafe")

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
        """dq, dk, dv of sdpa for the output's gradient `grad`: with P the
        probabilities, dv = P^T grad, dS = P (dP - rowsum(dP P)) for
        dP = grad v^T, dq = scale dS k, dk = scale dS^T q."""
        xp = self.xp
        if k.shape[-2] == 0:
            dq.fill(0)
            return
        held: list[Any] = []
        gd, qd, kd, vd = (self._sdpa_float64(a, held) for a in (grad, q, k, v))
        p, rows = self._sdpa_probabilities(qd, kd, causal, scale, held)
        self._sdpa_product(dv, xp.swapaxes(p, -1, -2), gd, held)
        dp, work = (
            self.scratch(tuple(p.shape), _F64),
            self.scratch(tuple(p.shape), _F64),
        )
        held += [dp, work]
        d, w = dp.native, work.native
        xp.matmul(gd, xp.swapaxes(vd, -1, -2), out=d)  # dP
        xp.multiply(d, p, w)
        xp.sum(w, axis=-1, keepdims=True, out=rows)
        xp.subtract(d, rows, d)
        xp.multiply(d, p, d)
        xp.multiply(d, scale, d)  # scale dS
        self._sdpa_product(dq, d, kd, held)
        self._sdpa_product(dk, xp.swapaxes(d, -1, -2), qd, held)

    def _sdpa_product(self, target: Array, a: Array, b: Array, held: list[Any]) -> None:
        """target = a @ b, computed in float64 scratch and rounded once."""
        result = self.scratch(tuple(target.shape), _F64)
        held.append(result)
        self.xp.matmul(a, b, out=result.native)
        self.xp.copyto(target, result.native, casting="unsafe")
