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

from actnet.device import _dtypes as dt
from actnet.device import _erf
from actnet.device import _kernels_bfloat16 as bf16
from actnet.device._kernels_activations import ActivationKernels
from actnet.device._kernels_attention import AttentionKernels
from actnet.device._kernels_conv import ConvKernels
from actnet.device._kernels_dropout import DropoutKernels
from actnet.device._kernels_norms import NormKernels
from actnet.device._kernels_optim import OptimKernels
from actnet.device._kernels_recurrent import RecurrentKernels
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
    ConvKernels,
    RecurrentKernels,
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
        # Where NumPy's (and CuPy's) values differ from the array API's special
        # cases: complex expm1 and tanh, floating floor_divide by or of infinity.
        self.ufuncs["expm1"] = self._expm1
        self.ufuncs["tanh"] = self._tanh
        self.ufuncs["floor_divide"] = self._floor_divide
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

    def _expm1(self, x: Array, out: Array) -> None:
        """expm1; complex x that is zero or not finite takes exp(x) - 1, whose
        C99 special values the array API's are (NumPy's formula, more accurate
        elsewhere, gives NaN for an infinite part and -0 for -0 + 0j)."""
        xp = self.xp
        if out.dtype.kind != "c":
            xp.expm1(x, out=out)
            return
        held = self.scratch((2, *x.shape), _BOOL)  # one allocation, two masks
        special, zero = held.native[0, ...], held.native[1, ...]  # 0-d: arrays
        xp.isfinite(x, out=special)
        xp.logical_not(special, out=special)
        xp.equal(x, 0, out=zero)
        xp.logical_or(special, zero, out=special)
        if not special.any():
            xp.expm1(x, out=out)
            return
        shifted = self.scratch(x.shape, out.dtype)  # before out, which may be x
        xp.exp(x, out=shifted.native)
        xp.subtract(shifted.native, 1, out=shifted.native)
        xp.expm1(x, out=out)
        xp.copyto(out, shifted.native, where=special)

    def _tanh(self, x: Array, out: Array) -> None:
        """tanh; complex x with an infinite real part gives copysign(1, real) +
        copysign(0, imag) j, as the array API says (C99, and so NumPy, takes the
        sign of the zero from sin(2 imag))."""
        xp = self.xp
        if out.dtype.kind != "c":
            xp.tanh(x, out=out)
            return
        held = self.scratch(x.shape, _BOOL)
        infinite = held.native
        xp.isinf(x.real, out=infinite)
        if not infinite.any():
            xp.tanh(x, out=out)
            return
        limit = self.scratch(x.shape, out.dtype)  # before out, which may be x
        xp.copysign(1, x.real, out=limit.native.real)
        xp.copysign(0, x.imag, out=limit.native.imag)
        xp.tanh(x, out=out)
        xp.copyto(out, limit.native, where=infinite)

    def _floor_divide(self, a: Array, b: Array, out: Array) -> None:
        """floor_divide; floating elements where either operand is infinite take
        floor(a / b), the array API's values (NumPy's divmod gives NaN for an
        infinite a and -1, not -0, for a negative a by +infinity)."""
        xp = self.xp
        if out.dtype.kind != "f":
            xp.floor_divide(a, b, out)
            return
        held = self.scratch((2, *out.shape), _BOOL)  # one allocation, two masks
        infinite, other = held.native[0, ...], held.native[1, ...]  # 0-d: arrays
        xp.isinf(a, out=infinite)
        xp.isinf(b, out=other)
        xp.logical_or(infinite, other, out=infinite)
        if not infinite.any():
            xp.floor_divide(a, b, out)
            return
        quotient = self.scratch(out.shape, out.dtype)  # before out, which may be a
        xp.divide(a, b, out=quotient.native)
        xp.floor(quotient.native, out=quotient.native)
        xp.floor_divide(a, b, out)
        xp.copyto(out, quotient.native, where=infinite)

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
        if dt.is_bfloat16(out.dtype) and name in bf16.WIDENED_REDUCTIONS:
            bf16.reduce(self, name, x, axis, keepdims, out, correction)
            return
        if name == "sum":
            xp.sum(x, axis=axis, dtype=out.dtype, out=out, keepdims=keepdims)
        elif name == "sum_of_squares":
            wide = x.astype(np.float64)
            squares = xp.multiply(wide, wide, out=wide)
            total = xp.sum(squares, axis=axis, keepdims=keepdims)
            xp.copyto(out, total, casting="unsafe")
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
        if dt.is_bfloat16(out.dtype):  # accumulated in float32
            bf16.cumulative(self, name, x, axis, include_initial, out)
            return
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
        if dt.is_bfloat16(out.dtype):  # float32 products and sums, rounded once
            bf16.matmul(self, a, b, out)
            return
        self.xp.matmul(a, b, out=out)

    def matmul_add(self, a: Array, b: Array, c: Array, out: Array) -> None:
        """out = a @ b, then out += c (broadcast): each rounded."""
        self.matmul(a, b, out)
        self.xp.add(out, c, out=out)

    def matmuls(self, parts: list[tuple[Array, Array, Array]]) -> None:
        """out = a @ b for each (a, b, out), one after another."""
        for a, b, out in parts:
            self.matmul(a, b, out)

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
        if out is not x:  # else x is updated in place
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

    # -------------------------------------------------------- Fourier transforms
    # Whether xp.fft's transforms write into an `out` argument (NumPy's do since
    # 2.0, in the input's precision); otherwise their result is copied into it.
    fft_takes_out: bool = False

    def fft(
        self,
        name: str,
        x: Array,
        lengths: Sequence[int],
        axes: Sequence[int],
        norm: str,
        out: Array,
    ) -> None:
        """The transform `name` of x over `axes` (distinct), the logical length
        along each in `lengths`, into out: one axis at a time in numpy.fft's
        order, the intermediates in arena scratch. hfft and ihfft are irfft and
        rfft of the conjugate with the norm's direction swapped, as in NumPy."""
        xp = self.xp
        if name == "hfft":
            mirrored = self.scratch(x.shape, x.dtype)
            xp.conjugate(x, out=mirrored.native)
            self.fft_pass(
                "irfft", mirrored.native, lengths[0], axes[0], _SWAP[norm], out
            )
            return
        if name == "ihfft":
            self.fft_pass("rfft", x, lengths[0], axes[0], _SWAP[norm], out)
            xp.conjugate(out, out=out)
            return
        steps = list(zip(axes, lengths, strict=True))
        if name == "rfft":  # the real axis first, then the complex ones
            passes = [("rfft", *steps[-1]), *(("fft", *p) for p in steps[-2::-1])]
        elif name == "irfft":  # the complex axes first, then the real one
            passes = [*(("ifft", *p) for p in steps[:-1]), ("irfft", *steps[-1])]
        else:
            passes = [(name, *p) for p in reversed(steps)]
        work = x.dtype if name == "irfft" else out.dtype  # the intermediates'
        held: Any = None  # the scratch holding the previous pass's result
        for step, axis, n in passes[:-1]:
            source = x if held is None else held.native
            shape = list(source.shape)
            shape[axis] = n // 2 + 1 if step == "rfft" else n
            target = self.scratch(tuple(shape), work)
            self.fft_pass(step, source, n, axis, norm, target.native)
            held = target  # frees the scratch this pass read
        step, axis, n = passes[-1]
        self.fft_pass(step, x if held is None else held.native, n, axis, norm, out)

    def fft_pass(
        self, name: str, x: Array, n: int, axis: int, norm: str, out: Array
    ) -> None:
        """xp.fft.<name> (fft, ifft, rfft or irfft) of x along one axis into out."""
        transform = getattr(self.xp.fft, name)
        if self.fft_takes_out:
            transform(x, n=n, axis=axis, norm=norm, out=out)
        else:
            self.xp.copyto(out, transform(x, n=n, axis=axis, norm=norm))

    # ---------------------------------------------------------------- randomness
    def random_bits(self, key: tuple[int, int], counter: int, out: Array) -> None:
        """Philox4x32-10 bits for counters counter, counter+1, ... (4 words each)."""
        n_blocks = -(-out.shape[0] // 4)
        work = self.scratch((6, min(n_blocks, PHILOX_CHUNK)), _U64)
        philox4x32_into(self.xp, key, counter, out, work.native)


_U64: Final = np.dtype(np.uint64)
_BOOL: Final = np.dtype(np.bool_)
# The norm of the transform in the other direction that scales alike.
_SWAP: Final = {"backward": "forward", "ortho": "ortho", "forward": "backward"}
_UPDATE_UFUNCS: Final = {
    "add": "add",
    "multiply": "multiply",
    "min": "minimum",
    "max": "maximum",
}
_ALL_UFUNC_OPS: Final = tuple(n for n in (*UNARY, *BINARY) if n != "erf")
