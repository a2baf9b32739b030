"""The reference backend: NumPy on the host. Every other backend must agree with it."""

from __future__ import annotations

import functools
from typing import Any, Final

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._backend import Backend
from actnet.device._blas import find_axpy
from actnet.device._threads import begin_single_threaded_blas, end_single_threaded_blas

try:  # NumPy >= 2.0 keeps its floating-point error state in a context variable.
    from numpy._core._ufunc_config import (  # type: ignore[attr-defined]  # private
        _extobj_contextvar,
        _make_extobj,
    )

    _QUIET = _make_extobj(all="ignore")
except ImportError:  # pragma: no cover - a NumPy that moved its internals
    _extobj_contextvar = None


# The unsigned integer of each item size: where() selects elements by their bits.
_BITS: Final = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}

# add_scaled into a calls BLAS's axpy from this many elements on (below, the
# ufuncs' two passes cost less than the foreign call).
_AXPY_MIN: Final = 1 << 14


class NumPyBackend(Backend):
    """Arenas are `np.empty(n, np.uint8)`; buffers are `np.ndarray` views of them."""

    kind = "cpu"
    xp = np
    fft_takes_out = True  # NumPy >= 2.0's fft, ifft, rfft, irfft take out=

    def new_segment(self, nbytes: int) -> Any:
        # A memoryview of it: numpy.ndarray(buffer=...) reads that a little faster.
        return memoryview(np.empty(nbytes, np.uint8))  # type: ignore[arg-type]  # ndarray has the buffer protocol

    # The constructor itself, with no Python frame in between: it runs on every
    # allocation.
    array_at: Any = staticmethod(np.ndarray)

    def address(self, arr: Any) -> int:
        return int(arr.__array_interface__["data"][0])

    def reshape_view(self, arr: Any, shape: tuple[int, ...]) -> Any | None:
        try:
            return np.reshape(arr, shape, copy=False)
        except ValueError as exc:
            if "copy" in str(exc) or "without copying" in str(exc):
                return None
            raise

    # The reductions as ufunc.reduce: numpy.sum and friends are Python wrappers
    # around the same call, at several times its cost on small arrays.
    _REDUCERS: Final[dict[str, Any]] = {
        "sum": np.add.reduce,
        "prod": np.multiply.reduce,
        "max": np.maximum.reduce,
        "min": np.minimum.reduce,
        "any": np.logical_or.reduce,
        "all": np.logical_and.reduce,
    }

    def reduce(
        self,
        name: str,
        x: Any,
        axis: tuple[int, ...] | None,
        keepdims: bool,
        out: Any,
        correction: float = 0.0,
    ) -> None:
        reducer = self._REDUCERS.get(name)
        if reducer is None or dt.is_bfloat16(out.dtype):  # accumulated in float32
            super().reduce(name, x, axis, keepdims, out, correction)
        elif name in ("sum", "prod") and out.dtype != x.dtype:
            reducer(x, axis, out.dtype, out, keepdims)  # accumulate in out's dtype
        else:
            reducer(x, axis, None, out, keepdims)

    def __init__(self) -> None:
        super().__init__()
        self._axpy = find_axpy()

    def add_scaled(self, a: Any, b: Any, alpha: float, out: Any, into_a: bool) -> None:
        axpy = self._axpy.get(out.dtype) if a.size >= _AXPY_MIN else None
        if axpy is None or not (a.flags.c_contiguous and b.flags.c_contiguous):
            super().add_scaled(a, b, alpha, out, into_a)
            return
        if into_a:
            target = a
        elif out.flags.c_contiguous and out.ctypes.data != b.ctypes.data:
            # into other memory (not b's): a copied there, then one axpy over it
            # (two passes at copy and BLAS speed, not multiply's and add's)
            np.copyto(out, a)
            target = out
        else:
            super().add_scaled(a, b, alpha, out, into_a)
            return
        # On the calling thread: OpenBLAS's threads would share this memory-bound
        # pass and then spin, on the cores the next kernels need (8 ms for a
        # (200, 200) update on 2 threads, 50 times its one-thread time)
        begin_single_threaded_blas()
        try:
            axpy(a.size, alpha, b.ctypes.data, target.ctypes.data)
        finally:
            end_single_threaded_blas()

    def strided_view(
        self, arr: Any, shape: tuple[int, ...], strides: tuple[int, ...]
    ) -> Any:
        try:  # arr's memory as the buffer: no Python wrapper needed
            view = np.ndarray(shape, arr.dtype, arr, 0, strides)
        except ValueError:  # not contiguous: NumPy refuses it as a buffer
            return super().strided_view(arr, shape, strides)
        view.setflags(write=False)
        return view

    def where(self, cond: Any, a: Any, b: Any, out: Any) -> None:
        """Bit selection: out = b ^ ((a ^ b) * cond) on the elements' bits, three
        branch-free passes (NumPy's where and masked copies branch on every
        element: 8x slower on a random mask). Exact for every value, NaN payloads
        and signed zeros included."""
        bits = _BITS.get(out.dtype.itemsize)
        if bits is None:  # complex128: no unsigned integer that wide
            super().where(cond, a, b, out)
            return
        o = out.view(bits)
        vb = np.asarray(b).view(bits)
        if vb.ndim == 0 and vb == 0:  # b is +0 (a ReLU's backward): one pass
            np.multiply(np.asarray(a).view(bits), cond, out=o)
            return
        np.bitwise_xor(np.asarray(a).view(bits), vb, out=o)
        np.multiply(o, cond, out=o)
        np.bitwise_xor(o, vb, out=o)

    def to_host(self, arr: Any) -> np.ndarray[Any, Any]:
        return np.array(arr, copy=True)

    def from_host(self, host: np.ndarray[Any, Any], out: Any) -> None:
        np.copyto(out, host)

    if _extobj_contextvar is not None:
        # The context variable's own methods, with no Python frame in between:
        # every quiet operator calls both.
        begin_quiet: Any = staticmethod(
            functools.partial(_extobj_contextvar.set, _QUIET)
        )
        end_quiet: Any = staticmethod(_extobj_contextvar.reset)

    else:  # pragma: no cover

        def begin_quiet(self) -> Any:
            state = np.errstate(all="ignore")
            state.__enter__()
            return state

        def end_quiet(self, token: Any) -> None:
            token.__exit__(None, None, None)
