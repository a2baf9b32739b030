"""Reference kernels of the fused activations, written once against an array module.

Each computes in float64 scratch from the arena and rounds once into `out`: the
"definitely right" values the compiled kernels (`_compiled_activations.py`) and
every other backend are checked against. The exact gelu takes erf to double
precision (`_erf.py`); silu and the tanh form of gelu are both x sigmoid(w), w a
polynomial in x, with sigmoid taken from exp(-|w|).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

from actnet.device import _erf

Array = Any  # a numpy.ndarray or cupy.ndarray

_F64: Final = np.dtype(np.float64)
SQRT1_2: Final = 0.7071067811865476  # 1 / sqrt(2)
INV_SQRT_2PI: Final = 0.3989422804014327  # 1 / sqrt(2 pi): the normal density at 0
BETA: Final = 0.7978845608028654  # sqrt(2 / pi), the tanh form's scale
KAPPA: Final = 0.044715  # the tanh form's cubic coefficient


class ActivationKernels:
    """gelu (exact, and the tanh approximation) and silu, with their backwards."""

    xp: Any
    scratch: Callable[[tuple[int, ...], np.dtype[Any]], Any]

    def _float64(self, x: Array, into: Array) -> Array:
        """x in float64: x itself when it is float64, else copied into `into`."""
        if x.dtype == _F64:
            return x
        self.xp.copyto(into, x)
        return into

    def gelu(self, x: Array, out: Array, approximate: bool) -> None:
        """out = x Phi(x), Phi the normal CDF; with `approximate`, Phi(x) as
        (1 + tanh(u)) / 2 = sigmoid(2 u), u = sqrt(2/pi) (x + 0.044715 x^3)."""
        if approximate:
            self._gate(x, None, out, 2.0 * BETA, 2.0 * BETA * KAPPA)
            return
        xp = self.xp
        held = self.scratch((2, *x.shape), _F64)
        xd = self._float64(x, held.native[0])
        cdf = held.native[1]
        xp.multiply(xd, SQRT1_2, cdf)
        _erf.erf(xp, self.scratch, cdf, cdf)
        xp.add(cdf, 1.0, cdf)
        xp.multiply(cdf, 0.5, cdf)
        xp.multiply(cdf, xd, cdf)
        xp.copyto(out, cdf, casting="unsafe")

    def gelu_backward(
        self, grad: Array, x: Array, out: Array, approximate: bool
    ) -> None:
        """out = grad * gelu'(x): Phi(x) + x phi(x) (phi the normal density), or
        for the tanh form s + x s (1 - s) 2 u', s = sigmoid(2 u)."""
        if approximate:
            self._gate(x, grad, out, 2.0 * BETA, 2.0 * BETA * KAPPA)
            return
        xp = self.xp
        held = self.scratch((3, *x.shape), _F64)
        xd = self._float64(x, held.native[0])
        slope, work = held.native[1], held.native[2]
        xp.multiply(xd, SQRT1_2, slope)
        _erf.erf(xp, self.scratch, slope, slope)
        xp.add(slope, 1.0, slope)
        xp.multiply(slope, 0.5, slope)  # Phi(x)
        xp.multiply(xd, xd, work)
        xp.multiply(work, -0.5, work)
        xp.exp(work, work)
        xp.multiply(work, INV_SQRT_2PI, work)  # phi(x)
        xp.multiply(work, xd, work)
        xp.add(slope, work, slope)
        gd = self._float64(grad, work)
        xp.multiply(slope, gd, slope)
        xp.copyto(out, slope, casting="unsafe")

    def silu(self, x: Array, out: Array) -> None:
        """out = x sigmoid(x)."""
        self._gate(x, None, out, 1.0, 0.0)

    def silu_backward(self, grad: Array, x: Array, out: Array) -> None:
        """out = grad * silu'(x) = grad s (1 + x (1 - s)), s = sigmoid(x)."""
        self._gate(x, grad, out, 1.0, 0.0)

    def _gate(
        self, x: Array, grad: Array | None, out: Array, a: float, b: float
    ) -> None:
        """x sigmoid(w) into out, or with `grad`, grad (s + x s (1 - s) w'), for
        w = a x + b x^3 and s = sigmoid(w). sigmoid(w) is 1 / (1 + e) for w >= 0
        and e / (1 + e) below, e = exp(-|w|) <= 1: nothing overflows, and
        neither s nor 1 - s cancels."""
        xp = self.xp
        held = self.scratch((5, *x.shape), _F64)
        flags = self.scratch(tuple(x.shape), np.dtype(np.bool_))
        xd = self._float64(x, held.native[0])
        w, e, s, rest = (held.native[i] for i in range(1, 5))
        upper = flags.native
        if b:  # w = x (a + b x^2); not a x + 0: that is NaN at x = inf
            xp.multiply(xd, xd, w)
            xp.multiply(w, b, w)
            xp.add(w, a, w)
            xp.multiply(w, xd, w)
        else:
            xp.multiply(xd, a, w)
        xp.greater_equal(w, 0.0, upper)
        xp.absolute(w, e)
        xp.negative(e, e)
        xp.exp(e, e)  # e = exp(-|w|)
        xp.add(e, 1.0, rest)
        xp.divide(1.0, rest, rest)  # 1 / (1 + e)
        xp.multiply(e, rest, s)  # e / (1 + e)
        xp.copyto(e, s)
        xp.copyto(s, rest, where=upper)  # s = sigmoid(w)
        xp.copyto(rest, e, where=upper)  # rest = sigmoid(-w) = 1 - s
        if grad is None:
            xp.multiply(s, xd, s)
            xp.copyto(out, s, casting="unsafe")
            return
        # w' = a + 3 b x^2, into e
        if b:
            xp.multiply(xd, xd, e)
            xp.multiply(e, 3.0 * b, e)
            xp.add(e, a, e)
        else:
            e.fill(a)
        xp.multiply(rest, e, rest)
        xp.multiply(rest, xd, rest)
        xp.multiply(rest, s, rest)
        xp.add(s, rest, s)  # s + x s (1 - s) w'
        gd = self._float64(grad, w)
        xp.multiply(s, gd, s)
        xp.copyto(out, s, casting="unsafe")
