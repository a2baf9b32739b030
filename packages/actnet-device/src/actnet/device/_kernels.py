"""Every operator of the closed set, written once against an array module.

`Kernels` works on the backend's own arrays (NumPy's or CuPy's, which share the
API used here) and always writes into an `out` array the device has already
allocated in its arena. A backend subclasses it, says what its array module is,
and overrides only what its module does differently (see `_numpy.py`,
`_cupy.py`). Scratch memory a kernel needs comes from the device's arena
through `scratch`, so `memory_stats` sees it; a few kernels take results of the
array module's own functions (fancy indexing, sorting, linear algebra), which
allocate outside it, and copy them into `out`.
"""

from __future__ import annotations

import contextlib
import math
import types
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np

from actnet.device import _erf
from actnet.device._kernels_activations import ActivationKernels
from actnet.device._kernels_attention import AttentionKernels
from actnet.device._kernels_dropout import DropoutKernels
from actnet.device._kernels_norms import NormKernels
from actnet.device._kernels_optim import OptimKernels
from actnet.device._kernels_softmax import SoftmaxKernels
from actnet.device._opset import BINARY, UNARY
from actnet.device._philox import PHILOX_CHUNK, philox4x32_into

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

# The largest scratch array add_scaled's product takes at a time (256 KiB of
# float32: it stays in the cache between the multiply and the add).
SCALED_CHUNK: Final = 1 << 16


class Kernels(
    ActivationKernels,
    OptimKernels,
    NormKernels,
    SoftmaxKernels,
    AttentionKernels,
    DropoutKernels,
):
    """The operator set against `self.xp`; subclasses set `xp` and may override.
    The fused operators' reference kernels come from the mixins it subclasses."""

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
        # Scratch memory for the kernels that need it: (shape, dtype) -> a holder
        # whose `native` is an uninitialised array, freed when the holder goes. The
        # Device that owns this backend sets it to allocate from its arena; until
        # then (a backend on its own) it is the array module's memory.
        self.scratch: Callable[[tuple[int, ...], np.dtype[Any]], Any] = (
            self._unattached_scratch
        )

    def _unattached_scratch(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Any:
        return types.SimpleNamespace(native=self.xp.empty(shape, dtype))

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
        """erf to double precision, computed in float64 and rounded once into
        `out` (`_erf.py`)."""
        _erf.erf(self.xp, self.scratch, x, out)

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
        itself or memory of neither. Into a, the product needs scratch (from the
        device's arena): at most SCALED_CHUNK elements at a time when a and b are
        contiguous, b's size otherwise."""
        xp = self.xp
        scale = out.dtype.type(alpha)
        if not into_a:
            xp.multiply(b, scale, out=out)
            xp.add(a, out, out=out)
            return
        if not (a.flags.c_contiguous and b.flags.c_contiguous):
            held = self.scratch(b.shape, out.dtype)
            xp.multiply(b, scale, out=held.native)
            xp.add(a, held.native, out=a)
            return
        flat_a, flat_b = a.reshape(-1), b.reshape(-1)
        n = flat_a.size
        held = self.scratch((min(n, SCALED_CHUNK),), out.dtype)
        scratch = held.native
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
        n_blocks = -(-out.shape[0] // 4)
        work = self.scratch((6, min(n_blocks, PHILOX_CHUNK)), _U64)
        philox4x32_into(self.xp, key, counter, out, work.native)


_U64: Final = np.dtype(np.uint64)
_UPDATE_UFUNCS: Final = {
    "add": "add",
    "multiply": "multiply",
    "min": "minimum",
    "max": "maximum",
}
_ALL_UFUNC_OPS: Final = tuple(n for n in (*UNARY, *BINARY) if n != "erf")
