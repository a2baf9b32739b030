"""Compiled kernels of the fused softmax family (the `cpu` device).

The kernels (`_compiled_softmax_rows.py`) walk rows of a C-contiguous (rows,
classes) array of float32 or float64, the last axis the one reduced; other
layouts (an axis that is not the last, strides) and dtypes take the reference.
Each operator is one compiled call. From PARALLEL_MIN elements on it is compiled
parallel: its rows, cut in parts of contiguous rows, one a thread, go to numba's
threads (as many as `set_num_threads` allows; a row's values do not depend on
the part it is in: the same bits on any thread count). Waking them takes
20-90 us on a 2-core virtual machine (the call waits for it); with
`_threads.parallel_for`'s helpers and their Python dispatch the kernels took
40-50 us more a call, on 0.1-0.4 ms of work. Scratch (a float64 slab per
thread) comes from the device's arena.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from actnet.device._compiled_softmax_rows import (
    SCOPE,
    _cross_entropy,
    _cross_entropy_backward,
    _log_softmax_backward_rows,
    _log_softmax_backward_rows32,
    _log_softmax_rows,
    _softmax_backward_rows,
    _softmax_rows,
    block_rows,
)
from actnet.device._jit import slots
from actnet.device._kernels_softmax import Array, SoftmaxKernels
from actnet.device._threads import get_num_threads

# From this many elements a kernel runs on the threads set_num_threads allows;
# below, waking them costs more than they save (measured on 2 threads: with 2^16
# elements the exps took 50-60 us on one thread, as long as on two).
PARALLEL_MIN: Final = 1 << 17
# ... and softmax's backward, which has no exp (a third of the work per element)
PARALLEL_MIN_NO_EXP: Final = 1 << 18
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))
_I64: Final = np.dtype(np.int64)
_F64: Final = np.dtype(np.float64)
_NO_WEIGHT: Final = np.ones(1)  # stands in for weight=None (never read)


def _rows(axis: int, *arrays: Array) -> tuple[Array, ...] | None:
    """The arrays as (rows, last axis) views when `axis` is the last, all are
    C-contiguous NumPy arrays of one compiled dtype and shape; else None."""
    first = arrays[0]
    if axis != first.ndim - 1 or first.dtype not in COMPILED_DTYPES:
        return None
    for a in arrays:
        if a.dtype != first.dtype or a.shape != first.shape:
            return None
        if not a.flags.c_contiguous:
            return None
    classes = first.shape[-1]
    return tuple(a.reshape(-1, classes) for a in arrays)


def _precise(x: Array) -> bool:
    """Whether results of x's dtype need exp to float64's accuracy (see
    `_compiled_softmax_exp`): float64's do, float32's do not."""
    return bool(x.dtype != COMPILED_DTYPES[0])


def _bits(x: Array) -> Array:
    """x's memory as signed ints of its width (for `_max_of`)."""
    return x.view(np.int32 if x.dtype.itemsize == 4 else np.int64)


def _kernel(fn: Any, size: int, rows: int, exp: bool = True) -> tuple[Any, int, int]:
    """(kernel, parts, threads): fn compiled, the parts its rows go in (one a
    thread) and the threads that may run it (the slabs of scratch it needs);
    parallel from PARALLEL_MIN elements on (PARALLEL_MIN_NO_EXP without
    `exp`), when threads are allowed."""
    least = PARALLEL_MIN if exp else PARALLEL_MIN_NO_EXP
    if size >= least and get_num_threads() > 1 and rows > 1:
        kernel = SCOPE.compiled(fn, parallel=True)
        threads = slots()
        return kernel, min(rows, threads), threads
    return SCOPE.compiled(fn), 1, 1


class SoftmaxCompiled(SoftmaxKernels):
    """The compiled forms of SoftmaxKernels' methods."""

    # Scratch comes from the device's arena (`Kernels.scratch`): each holder
    # keeps its memory until it goes, after the kernel returns.
    def _contiguous(self, a: Array, dtype: np.dtype[Any]) -> tuple[Any, Array]:
        """(holder, a) as a C-contiguous array of dtype: a itself, or its copy
        in scratch (held by the holder; None for a itself)."""
        if a.dtype == dtype and a.flags.c_contiguous:
            return None, a
        held = self.scratch(a.shape, dtype)
        held.native[...] = a
        return held, held.native

    def _class_arrays(
        self, x: Array, target: Array, weight: Array | None
    ) -> tuple[list[Any], Array, Array] | None:
        """(holders, int64 targets, float64 weights or _NO_WEIGHT) when the
        compiled kernel takes x: a C-contiguous float32 or float64 NumPy array;
        else None."""
        if x.dtype not in COMPILED_DTYPES or not x.flags.c_contiguous:
            return None
        if not isinstance(x, np.ndarray):
            return None
        held_t, t = self._contiguous(target, _I64)
        if weight is None:
            return [held_t], t, _NO_WEIGHT
        held_w, w = self._contiguous(weight, _F64)
        return [held_t, held_w], t, w

    def _softmax_compiled(self, x: Array, axis: int, out: Array, log: bool) -> bool:
        """softmax (log_softmax) compiled; False when it does not take x."""
        arrays = _rows(axis, x, out)
        if arrays is None:
            return False
        x2, out2 = arrays
        fn = _log_softmax_rows if log else _softmax_rows
        kernel, parts, threads = _kernel(fn, x.size, x2.shape[0])
        block = block_rows(x2.shape[1])
        # a block's stats, and for softmax its exponentials (e)
        slab = block * (2 if log else x2.shape[1] + 2)
        held = self.scratch((threads, slab), _F64)
        kernel(x2, _bits(x2), out2, _precise(x), parts, held.native, block)
        return True

    def _softmax_backward_compiled(
        self, grad: Array, y: Array, axis: int, out: Array, log: bool
    ) -> bool:
        """softmax's (log_softmax's) backward compiled; False when it does not
        take the arrays."""
        arrays = _rows(axis, grad, y, out)
        if arrays is None:
            return False
        g2, y2, out2 = arrays
        if not log:  # no exp, and no scratch
            kernel, parts, _ = _kernel(
                _softmax_backward_rows, y.size, y2.shape[0], exp=False
            )
            kernel(g2, y2, out2, parts)
            return True
        precise = _precise(y)
        fn = _log_softmax_backward_rows if precise else _log_softmax_backward_rows32
        kernel, parts, threads = _kernel(fn, y.size, y2.shape[0])
        block = block_rows(y2.shape[1])
        held = self.scratch((threads, block), _F64)  # a block's row sums
        if precise:
            kernel(g2, y2, out2, True, parts, held.native, block)
        else:
            kernel(g2, y2, out2, parts, held.native, block)
        return True

    def softmax(self, x: Array, axis: int, out: Array) -> None:
        if not self._softmax_compiled(x, axis, out, False):
            super().softmax(x, axis, out)

    def log_softmax(self, x: Array, axis: int, out: Array) -> None:
        if not self._softmax_compiled(x, axis, out, True):
            super().log_softmax(x, axis, out)

    def softmax_backward(self, grad: Array, y: Array, axis: int, out: Array) -> None:
        if not self._softmax_backward_compiled(grad, y, axis, out, False):
            super().softmax_backward(grad, y, axis, out)

    def log_softmax_backward(
        self, grad: Array, y: Array, axis: int, out: Array
    ) -> None:
        if not self._softmax_backward_compiled(grad, y, axis, out, True):
            super().log_softmax_backward(grad, y, axis, out)

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
        arrays = self._class_arrays(x, target, weight)
        if arrays is None or stats.dtype != _F64:
            return super().cross_entropy(
                x, target, weight, ignore_index, label_smoothing, reduction, loss, stats
            )
        _held, t, w = arrays
        # the backward of smoothing needs log(sum) to float64's digits
        precise = _precise(x) or label_smoothing != 0.0
        rows, classes = x.shape
        kernel, parts, _ = _kernel(_cross_entropy, x.size, rows)
        held = self.scratch((rows,), _F64)  # the losses of the rows
        result: tuple[int, int] = kernel(
            x, _bits(x), t, w, weight is not None, ignore_index, label_smoothing,
            reduction, loss.reshape(-1), stats, precise, parts, held.native,
            block_rows(classes),
        )  # fmt: skip
        return result

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
        arrays = self._class_arrays(x, target, weight)
        if arrays is None or stats.dtype != _F64 or not out.flags.c_contiguous:
            return super().cross_entropy_backward(
                grad, x, target, stats, weight, ignore_index, label_smoothing,
                reduction, out,
            )  # fmt: skip
        _held, t, w = arrays
        _held_g, g = self._contiguous(grad, grad.dtype)
        _held_s, s = self._contiguous(stats, _F64)
        # smoothing subtracts eps / C w[c] from each total p[c]: cancelling
        precise = _precise(x) or label_smoothing != 0.0
        kernel, parts, threads = _kernel(_cross_entropy_backward, x.size, x.shape[0])
        held = self.scratch((threads, x.shape[1]), _F64)  # e, for smoothing
        result: tuple[int, int] = kernel(
            g.reshape(-1), x, t, s, w, weight is not None, ignore_index,
            label_smoothing, reduction, out, precise, parts, held.native,
        )  # fmt: skip
        return result
