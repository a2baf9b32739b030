"""Reference kernels of the fused activations, written once against an array module.

Each computes in float64 scratch from the arena and rounds once into `out`: the
"definitely right" values the compiled kernels (`_compiled_activations.py`) and
every other backend are checked against.
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
    """gelu and its derivative (exact, and the tanh approximation)."""

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
        (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2."""
        xp = self.xp
        held = self.scratch((2, *x.shape), _F64)
        xd = self._float64(x, held.native[0])
        cdf = held.native[1]
        self._cdf(xd, cdf, approximate)
        xp.multiply(cdf, xd, cdf)
        xp.copyto(out, cdf, casting="unsafe")

    def gelu_backward(
        self, grad: Array, x: Array, out: Array, approximate: bool
    ) -> None:
        """out = grad * gelu'(x): Phi(x) + x phi(x) (phi the normal density), or
        for the tanh form (1 + t)/2 + x (1 - t^2) u'/2, u = sqrt(2/pi) (x + k x^3),
        t = tanh(u)."""
        xp = self.xp
        held = self.scratch((4, *x.shape), _F64)
        xd = self._float64(x, held.native[0])
        slope, work, square = held.native[1], held.native[2], held.native[3]
        xp.multiply(xd, xd, square)
        if approximate:
            # t = tanh(b (x + k x^3)); slope = (1 + t)/2 + x (1 - t^2) u'/2
            xp.multiply(square, BETA * KAPPA, work)
            xp.add(work, BETA, work)
            xp.multiply(work, xd, work)
            xp.tanh(work, slope)  # t
            xp.multiply(square, 3.0 * BETA * KAPPA, square)
            xp.add(square, BETA, square)  # u'
            xp.multiply(slope, slope, work)
            xp.subtract(1.0, work, work)  # 1 - t^2
            xp.multiply(work, square, work)
            xp.multiply(work, xd, work)
            xp.multiply(work, 0.5, work)  # x (1 - t^2) u' / 2
            xp.add(slope, 1.0, slope)
            xp.multiply(slope, 0.5, slope)
            xp.add(slope, work, slope)
        else:
            self._cdf(xd, slope, False)
            xp.multiply(square, -0.5, square)
            xp.exp(square, square)
            xp.multiply(square, INV_SQRT_2PI, square)  # phi(x)
            xp.multiply(square, xd, square)
            xp.add(slope, square, slope)
        gd = self._float64(grad, work)
        xp.multiply(slope, gd, slope)
        xp.copyto(out, slope, casting="unsafe")

    def _cdf(self, xd: Array, out: Array, approximate: bool) -> None:
        """out = Phi(x) (or its tanh form) for float64 x; out is float64 scratch."""
        xp = self.xp
        if approximate:
            xp.multiply(xd, xd, out)
            xp.multiply(out, BETA * KAPPA, out)
            xp.add(out, BETA, out)
            xp.multiply(out, xd, out)
            xp.tanh(out, out)
        else:
            xp.multiply(xd, SQRT1_2, out)
            _erf.erf(xp, self.scratch, out, out)
        xp.add(out, 1.0, out)
        xp.multiply(out, 0.5, out)
