"""Every operator of the closed set, written once against an array module.

`Kernels` works on the backend's own arrays (NumPy's or CuPy's, which share the
API used here) and always writes into an `out` array the device has already
allocated in its arena. A backend subclasses it, says what its array module is,
and overrides only what its module does differently (see `_numpy.py`,
`_cupy.py`). Kernels never allocate device buffers themselves; a few use the
array module's own temporaries (fancy indexing, sorting, linear algebra) and
copy the result into `out`.
"""

from __future__ import annotations

import contextlib
import decimal
import math
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np

from actnet.device._opset import BINARY, UNARY
from actnet.device._philox import philox4x32_blocks

Array = Any  # a numpy.ndarray or cupy.ndarray

# The array API's names where NumPy and CuPy use others.
_UFUNC_NAMES: Final = {
    "abs": "absolute",
    "acos": "arccos",
    "acosh": "arccosh",
    "asin": "arcsin",
    "asinh": "arcsinh",
    "atan": "arctan",
    "atanh": "arctanh",
    "atan2": "arctan2",
    "bitwise_invert": "invert",
    "bitwise_left_shift": "left_shift",
    "bitwise_right_shift": "right_shift",
    "pow": "power",
}

# W. J. Cody, "Rational Chebyshev approximations for the error function" (Math.
# Comp. 1969), the coefficients of SPECFUN's CALERF for |x| > 1: relative error
# below 1e-16.
_ERF_C: Final = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
    2.15311535474403846e-8,
)
_ERF_D: Final = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
_ERF_P: Final = (
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
    1.63153871373020978e-2,
)
_ERF_Q: Final = (
    2.56852019228982242e00,
    1.87295284992346725e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)
_INV_SQRT_PI: Final = 5.6418958354775628695e-1


def _erf_taylor(terms: int) -> tuple[float, ...]:
    """c[n] with erf(x) = x + x * sum(c[n] * (x*x)**n) (the Maclaurin series
    2/sqrt(pi) * sum((-1)**n * x**(2n+1) / (n! (2n+1))) less its leading x), each
    rounded once from 40 digits."""
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        two_over_sqrt_pi = decimal.Decimal("1.128379167095512573896158903121545171688")
        coefficients = [float(two_over_sqrt_pi - 1)]
        for n in range(1, terms):
            term = two_over_sqrt_pi / (math.factorial(n) * (2 * n + 1))
            coefficients.append(float(-term if n % 2 else term))
    return tuple(coefficients)


# On [0, 1] the sum is a correction below 0.16 added to x, so erf is rounded about
# once (Cody's rational forms there round three or four times: up to 5 ulp). The
# 20th term is below 3e-19.
_ERF_TAYLOR: Final = _erf_taylor(20)


# The largest scratch array add_scaled's product takes at a time (256 KiB of
# float32: it stays in the cache between the multiply and the add).
SCALED_CHUNK: Final = 1 << 16


class Kernels:
    """The operator set against `self.xp`; subclasses set `xp` and may override."""

    xp: Any = None
    linalg_error: type[Exception] = np.linalg.LinAlgError

    def __init__(self) -> None:
        xp = self.xp
        self.ufuncs: dict[str, Callable[..., Any]] = {}
        for name in _ALL_UFUNC_OPS:
            self.ufuncs[name] = getattr(xp, _UFUNC_NAMES.get(name, name))
        # NumPy deprecates a positional `out` for these two; the device passes it
        # positionally (it is faster), so they take it by keyword here.
        maximum, minimum = self.ufuncs["maximum"], self.ufuncs["minimum"]
        self.ufuncs["maximum"] = lambda a, b, out: maximum(a, b, out=out)
        self.ufuncs["minimum"] = lambda a, b, out: minimum(a, b, out=out)
        # Functions of the set that are not ufuncs: they take `out` otherwise.
        self.ufuncs["real"] = self._real
        self.ufuncs["imag"] = self._imag
        self.ufuncs["round"] = self._round

    def _real(self, x: Array, out: Array) -> None:
        self.xp.copyto(out, self.xp.real(x))

    def _imag(self, x: Array, out: Array) -> None:
        self.xp.copyto(out, self.xp.imag(x))

    def _round(self, x: Array, out: Array) -> None:
        self.xp.round(x, 0, out)

    # ------------------------------------------------------------- conventions
    def quiet(self) -> contextlib.AbstractContextManager[None]:
        """A context in which floating-point exceptions raise no warnings."""
        return contextlib.nullcontext()

    # -------------------------------------------------------------- elementwise
    def erf(self, x: Array, out: Array) -> None:
        """erf to double precision (the Maclaurin series for |x| <= 1, Cody's
        rational approximations beyond), computed in float64 and rounded once into
        `out`."""
        xp = self.xp
        x = x.astype(xp.float64)
        y = xp.abs(x)
        result = xp.empty_like(x)
        small = y <= 1.0
        mid = (y > 1.0) & (y <= 4.0)
        large = y > 4.0
        if small.any():
            ys = y[small]
            z = ys * ys
            series = xp.full_like(z, _ERF_TAYLOR[-1])
            for c in reversed(_ERF_TAYLOR[:-1]):
                series *= z
                series += c
            result[small] = ys + ys * series
        if mid.any():
            ym = y[mid]
            num = _ERF_C[8] * ym
            den = ym
            for i in range(7):
                num = (num + _ERF_C[i]) * ym
                den = (den + _ERF_D[i]) * ym
            r = (num + _ERF_C[7]) / (den + _ERF_D[7])
            result[mid] = 1.0 - self._scaled_exp(ym) * r
        if large.any():
            yl = y[large]
            z = 1.0 / (yl * yl)
            num = _ERF_P[5] * z
            den = z
            for i in range(4):
                num = (num + _ERF_P[i]) * z
                den = (den + _ERF_Q[i]) * z
            r = z * (num + _ERF_P[4]) / (den + _ERF_Q[4])
            r = (_INV_SQRT_PI - r) / yl
            tail = self._scaled_exp(yl) * r
            result[large] = xp.where(yl >= 6.0, 1.0, 1.0 - tail)
        nan = xp.isnan(y)
        if nan.any():
            result[nan] = xp.nan
        xp.copyto(out, xp.copysign(result, x), casting="unsafe")

    def _scaled_exp(self, y: Array) -> Array:
        """exp(-y*y) without the rounding error of squaring y (Cody's split)."""
        xp = self.xp
        ysq = xp.trunc(y * 16.0) / 16.0
        return xp.exp(-ysq * ysq) * xp.exp(-(y - ysq) * (y + ysq))

    def where(self, cond: Array, a: Array, b: Array, out: Array) -> None:
        self.xp.copyto(out, b)
        self.xp.copyto(out, a, where=cond)

    def astype(self, x: Array, out: Array) -> None:
        self.xp.copyto(out, x, casting="unsafe")

    def copy(self, x: Array, out: Array) -> None:
        self.xp.copyto(out, x)

    def full(self, value: Any, out: Array) -> None:
        out.fill(value)

    def arange(self, start: Any, step: Any, out: Array) -> None:
        """out[i] = start + i * step, computed in float64 or int64 then cast."""
        xp = self.xp
        n = out.shape[0]
        kind = out.dtype.kind
        work = xp.int64 if kind in "iu" else xp.float64
        if kind == "c":
            work = xp.complex128
        xp.copyto(out, xp.arange(n, dtype=work) * step + start, casting="unsafe")

    # ---------------------------------------------------------------- reductions
    def reduce(
        self,
        name: str,
        x: Array,
        axis: tuple[int, ...] | None,
        keepdims: bool,
        out: Array,
        correction: float = 0.0,
    ) -> None:
        xp = self.xp
        if name == "sum":
            xp.sum(x, axis=axis, dtype=out.dtype, out=out, keepdims=keepdims)
        elif name == "prod":
            xp.prod(x, axis=axis, dtype=out.dtype, out=out, keepdims=keepdims)
        elif name == "mean":
            # numpy.mean's own steps, without its warning on an empty extent (the
            # mean of nothing is NaN, quietly).
            count = math.prod(x.shape[a] for a in axis) if axis is not None else x.size
            xp.sum(x, axis=axis, dtype=out.dtype, out=out, keepdims=keepdims)
            xp.true_divide(out, np.intp(count), out=out, casting="unsafe")
        elif name == "var":
            xp.var(x, axis=axis, ddof=correction, out=out, keepdims=keepdims)
        elif name == "max":
            xp.max(x, axis=axis, out=out, keepdims=keepdims)
        elif name == "min":
            xp.min(x, axis=axis, out=out, keepdims=keepdims)
        elif name == "any":
            xp.any(x, axis=axis, out=out, keepdims=keepdims)
        elif name == "all":
            xp.all(x, axis=axis, out=out, keepdims=keepdims)
        else:
            raise AssertionError(name)

    def arg_reduce(
        self, name: str, x: Array, axis: int | None, keepdims: bool, out: Array
    ) -> None:
        xp = self.xp
        if axis is None:
            x = x.reshape(-1)
            axis = 0
        func = xp.argmax if name == "argmax" else xp.argmin
        xp.copyto(out, func(x, axis=axis, keepdims=keepdims))

    def cumulative(
        self, name: str, x: Array, axis: int, include_initial: bool, out: Array
    ) -> None:
        xp = self.xp
        func = xp.cumsum if name == "cumulative_sum" else xp.cumprod
        if not include_initial:
            func(x, axis=axis, dtype=out.dtype, out=out)
            return
        first = [slice(None)] * out.ndim
        first[axis] = slice(0, 1)
        rest = list(first)
        rest[axis] = slice(1, None)
        out[tuple(first)] = 0 if name == "cumulative_sum" else 1
        func(x, axis=axis, dtype=out.dtype, out=out[tuple(rest)])

    # ------------------------------------------------------------------ products
    def matmul(self, a: Array, b: Array, out: Array) -> None:
        self.xp.matmul(a, b, out=out)

    def add_scaled(
        self, a: Array, b: Array, alpha: float, out: Array, into_a: bool
    ) -> None:
        """out = a + alpha * b, alpha in the arrays' dtype, the product rounded
        before the sum. out is a itself when `into_a` (an in-place update), else b
        itself or memory of neither. Into a, the product needs a scratch array:
        at most SCALED_CHUNK elements at a time when a and b are contiguous, b's
        size otherwise."""
        xp = self.xp
        scale = out.dtype.type(alpha)
        if not into_a:
            xp.multiply(b, scale, out=out)
            xp.add(a, out, out=out)
            return
        if not (a.flags.c_contiguous and b.flags.c_contiguous):
            xp.add(a, xp.multiply(b, scale), out=a)
            return
        flat_a, flat_b = a.reshape(-1), b.reshape(-1)
        n = flat_a.size
        scratch = xp.empty(min(n, SCALED_CHUNK), out.dtype)
        for start in range(0, n, SCALED_CHUNK):
            part = flat_a[start : start + SCALED_CHUNK]
            product = scratch[: part.size]
            xp.multiply(flat_b[start : start + SCALED_CHUNK], scale, out=product)
            xp.add(part, product, out=part)

    # ------------------------------------------------------------------ indexing
    def take(self, x: Array, indices: Array, axis: int, out: Array) -> None:
        self.xp.take(x, indices, axis=axis, out=out)

    def gather(self, x: Array, index: Array, axis: int, out: Array) -> None:
        self.xp.copyto(out, self.xp.take_along_axis(x, index, axis=axis))

    def scatter(
        self, x: Array, index: Array, src: Array, axis: int, add: bool, out: Array
    ) -> None:
        xp = self.xp
        xp.copyto(out, x)
        if add:
            self.ufunc_at("add", out, self._along_axis(out.shape, index, axis), src)
        else:
            xp.put_along_axis(out, index, src, axis=axis)

    def _along_axis(
        self, shape: tuple[int, ...], index: Array, axis: int
    ) -> tuple[Array, ...]:
        """The full fancy index that `take_along_axis(x, index, axis)` reads, for x
        of `shape` (an extent of 1 broadcasts against index's)."""
        xp = self.xp
        grids = list(xp.indices(shape, sparse=True))
        grids[axis] = index
        return tuple(grids)

    def ufunc_at(self, name: str, out: Array, key: Any, values: Array) -> None:
        """out[key] op= values, with repeated indices applied one after another."""
        getattr(self.xp, name).at(out, key, values)

    def index(self, x: Array, key: tuple[Any, ...], out: Array) -> None:
        self.xp.copyto(out, x[key])

    def index_update(
        self, x: Array, key: tuple[Any, ...], values: Array, mode: str, out: Array
    ) -> None:
        self.xp.copyto(out, x)
        if mode == "set":
            out[key] = values
        else:
            self.ufunc_at(_UPDATE_UFUNCS[mode], out, key, values)

    def concatenate(self, arrays: Sequence[Array], axis: int, out: Array) -> None:
        self.xp.concatenate(arrays, axis=axis, out=out)

    # ------------------------------------------------------- sorting and sets
    def sort(
        self, x: Array, axis: int, descending: bool, indices: bool, out: Array
    ) -> None:
        xp = self.xp
        if not descending:
            order = xp.argsort(x, axis=axis, kind="stable")
        else:
            # Stable descending: sort the reversed array ascending, then undo the
            # reversal, so equal elements keep their original order.
            n = x.shape[axis]
            flipped = xp.flip(x, axis=axis)
            order = (n - 1) - xp.flip(
                xp.argsort(flipped, axis=axis, kind="stable"), axis=axis
            )
        if indices:
            xp.copyto(out, order)
        else:
            xp.copyto(out, xp.take_along_axis(x, order, axis=axis))

    def searchsorted(
        self, sorted_1d: Array, values: Array, side: str, out: Array
    ) -> None:
        self.xp.copyto(out, self.xp.searchsorted(sorted_1d, values, side=side))

    def nonzero(self, x: Array) -> tuple[Array, ...]:
        """Index arrays of the nonzero elements (temporaries; shapes depend on data)."""
        return tuple(self.xp.nonzero(x))

    def unique(self, x: Array) -> tuple[Array, Array, Array, Array]:
        """values, first indices, inverse indices (shaped like x), counts. NaNs
        are distinct from one another, as the array API says."""
        xp = self.xp
        flat = x.reshape(-1)
        values, first, inverse, counts = xp.unique(
            flat,
            return_index=True,
            return_inverse=True,
            return_counts=True,
            equal_nan=False,
        )
        return values, first, inverse.reshape(x.shape), counts

    # ------------------------------------------------------------ linear algebra
    def linalg(self, name: str, inputs: Sequence[Array], params: dict[str, Any]) -> Any:
        """The result of `xp.linalg.<name>` (temporaries the device copies out)."""
        la = self.xp.linalg
        if name == "solve":
            return la.solve(inputs[0], inputs[1])
        if name == "inv":
            return la.inv(inputs[0])
        if name == "det":
            return la.det(inputs[0])
        if name == "slogdet":
            return tuple(la.slogdet(inputs[0]))
        if name == "cholesky":
            lower = la.cholesky(inputs[0])
            if params.get("upper"):
                return self.xp.conj(self.xp.swapaxes(lower, -1, -2))
            return lower
        if name == "qr":
            return tuple(la.qr(inputs[0], mode=params.get("mode", "reduced")))
        if name == "svdvals":
            return la.svd(inputs[0], compute_uv=False)
        if name == "svd":
            return tuple(
                la.svd(inputs[0], full_matrices=params.get("full_matrices", True))
            )
        if name == "eigh":
            return tuple(la.eigh(inputs[0]))
        raise AssertionError(name)

    # ---------------------------------------------------------------- randomness
    def random_bits(self, key: tuple[int, int], counter: int, out: Array) -> None:
        """Philox4x32-10 bits for counters counter, counter+1, ... (4 words each)."""
        words = philox4x32_blocks(self.xp, key, counter, out.shape[0])
        self.xp.copyto(out, words)


_UPDATE_UFUNCS: Final = {
    "add": "add",
    "multiply": "multiply",
    "min": "minimum",
    "max": "maximum",
}
_ALL_UFUNC_OPS: Final = tuple(n for n in (*UNARY, *BINARY) if n != "erf")
