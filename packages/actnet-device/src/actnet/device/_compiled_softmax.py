"""Compiled kernels of the fused softmax family (the `cpu` device).

The kernels (`_compiled_softmax_rows.py`) walk rows of a C-contiguous (rows,
classes) array of float32 or float64, the last axis the one reduced; other
layouts (an axis that is not the last, strides) and dtypes take the reference.
Large inputs are cut into parts of whole rows that `_threads.parallel_for` hands
to its threads as they come free (each part's values do not depend on the cut:
the same bits on any thread count). Every part takes its float64 scratch (a
block of rows) from the device's arena.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

from actnet.device._compiled_softmax_rows import (
    SCOPE,
    _bounds,
    _cross_entropy,
    _cross_entropy_backward,
    _cross_entropy_backward_part,
    _cross_entropy_part,
    _log_softmax_backward_rows,
    _log_softmax_rows,
    _loss_coefficient,
    _reduce_losses,
    _softmax_backward_rows,
    _softmax_rows,
    block_rows,
)
from actnet.device._kernels_softmax import NONE, Array, SoftmaxKernels
from actnet.device._threads import get_num_threads, parallel_for

# From this many elements a kernel runs on the threads set_num_threads allows
# (`_threads.parallel_for`: sleeping helpers, each taking the next part of the
# rows when it is free); below, waking them costs more than the loop.
PARALLEL_MIN: Final = 1 << 16
# Parts per thread: enough for the others to take over the share of one the
# scheduler delays, few enough that handing them out stays cheap (each costs a
# dispatch under the GIL: 8 tiny parts on 2 threads took 32 us, 4 took 18 us).
PARTS_PER_THREAD: Final = 2
PART_MIN: Final = 1 << 13  # elements: a part is worth a helper's wake-up
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))
_I64: Final = np.dtype(np.int64)
_F64: Final = np.dtype(np.float64)

_compiled = SCOPE.compiled


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
    """Whether results of x's dtype need exp to float64's accuracy (see the
    module's docstring): float64's do, float32's without cancelling do not."""
    return bool(x.dtype != COMPILED_DTYPES[0])


def _bits(x: Array) -> Array:
    """x's memory as signed ints of its width (for `_max_of`)."""
    return x.view(np.int32 if x.dtype.itemsize == 4 else np.int64)


def _parts(rows: int, size: int) -> list[int] | None:
    """The row bounds of the parts that threads share, [0, ..., rows]; None
    when one thread should take all: fewer than PARALLEL_MIN elements, or one
    thread allowed. PARTS_PER_THREAD parts a thread, so that one the scheduler
    delays (a shared machine) leaves its share to the others."""
    threads = get_num_threads()
    if threads < 2 or size < PARALLEL_MIN or rows < 2:
        return None
    count = min(rows, threads * PARTS_PER_THREAD, size // PART_MIN)
    return [rows * k // count for k in range(count + 1)]


def _run_parts(bounds: list[int], part: Callable[[int, int, int], None]) -> None:
    """part(k, start, stop) for each part k of `bounds`, on parallel_for's
    threads."""
    parallel_for(lambda k: part(k, bounds[k], bounds[k + 1]), len(bounds) - 1)


class SoftmaxCompiled(SoftmaxKernels):
    """The compiled forms of SoftmaxKernels' methods."""

    # Scratch comes from the device's arena (`Kernels.scratch`): each holder
    # keeps its memory until it goes, after the kernel returns.
    def _blocks(self, parts: int, x: Array, width: int) -> tuple[Any, int]:
        """(holder, block): float64 scratch of `parts` rows, each `block` rows of
        x (rows, classes) (`block_rows`) times `width` long."""
        rows, classes = x.shape
        block = min(block_rows(classes), rows)
        return self.scratch((parts, block * width), _F64), block

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
        """(holders, int64 targets, float64 weights) when the compiled kernel
        takes x: a C-contiguous float32 or float64 NumPy array; else None."""
        if x.dtype not in COMPILED_DTYPES or not x.flags.c_contiguous:
            return None
        if not isinstance(x, np.ndarray):
            return None
        held_t, t = self._contiguous(target, _I64)
        if weight is None:
            held_w = self.scratch((x.shape[1],), _F64)
            w = held_w.native
            w[...] = 1.0
        else:
            held_w, w = self._contiguous(weight, _F64)
        return [held_t, held_w], t, w

    def _softmax_compiled(self, x: Array, axis: int, out: Array, log: bool) -> bool:
        """softmax (log_softmax) compiled; False when it does not take x."""
        arrays = _rows(axis, x, out)
        if arrays is None:
            return False
        x2, out2 = arrays
        kernel = _compiled(_log_softmax_rows if log else _softmax_rows)
        bits, precise = _bits(x2), _precise(x)
        rows = x2.shape[0]
        bounds = _parts(rows, x.size)
        parts = 1 if bounds is None else len(bounds) - 1
        held, block = self._blocks(parts, x2, x2.shape[1] + 2)  # e and stats
        slabs = held.native
        if bounds is None:
            kernel(x2, bits, out2, precise, 0, rows, slabs[0], block)
        else:
            _run_parts(bounds, lambda k, a, b: kernel(x2, bits, out2, precise, a, b,
                                                      slabs[k], block))  # fmt: skip
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
        kernel = _compiled(
            _log_softmax_backward_rows if log else _softmax_backward_rows
        )
        rows = y2.shape[0]
        bounds = _parts(rows, y.size)
        parts = 1 if bounds is None else len(bounds) - 1
        held, block = self._blocks(parts, y2, y2.shape[1] + 2)  # e and stats
        slabs = held.native
        if bounds is None:
            kernel(g2, y2, out2, 0, rows, slabs[0], block)
        else:
            _run_parts(bounds, lambda k, a, b: kernel(g2, y2, out2, a, b, slabs[k],
                                                      block))  # fmt: skip
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
        bits, flat_loss = _bits(x), loss.reshape(-1)
        # the backward of smoothing needs log(sum) to float64's digits
        precise = _precise(x) or label_smoothing != 0.0
        rows = x.shape[0]
        bounds = _parts(rows, x.size)
        held = self.scratch((rows,), _F64)
        losses = held.native
        parts = 1 if bounds is None else len(bounds) - 1
        held_e, block = self._blocks(parts, x, x.shape[1])
        e = held_e.native.reshape(parts, block, x.shape[1])
        if bounds is None:  # one call does it all
            result: tuple[int, int] = _compiled(_cross_entropy)(
                x, bits, t, w, ignore_index, label_smoothing, reduction,
                flat_loss, stats, precise, losses, e[0],
            )  # fmt: skip
            return result
        low, high, counted = _compiled(_bounds)(t, ignore_index, w)
        if low < 0 or high >= x.shape[1]:
            return low, high
        part = _compiled(_cross_entropy_part)
        _run_parts(bounds, lambda k, a, b: part(
            x, bits, t, w, ignore_index, label_smoothing, losses, stats, precise, a,
            b, e[k]))  # fmt: skip
        _compiled(_reduce_losses)(losses, reduction, counted, flat_loss)
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
        arrays = self._class_arrays(x, target, weight)
        if arrays is None or stats.dtype != _F64 or not out.flags.c_contiguous:
            return super().cross_entropy_backward(
                grad, x, target, stats, weight, ignore_index, label_smoothing,
                reduction, out,
            )  # fmt: skip
        _held, t, w = arrays
        _held_g, g = self._contiguous(grad, grad.dtype)
        g = g.reshape(-1)
        _held_s, s = self._contiguous(stats, _F64)
        # smoothing subtracts eps / C w[c] from each total p[c]: cancelling
        precise = _precise(x) or label_smoothing != 0.0
        rows = x.shape[0]
        bounds = _parts(rows, x.size)
        parts = 1 if bounds is None else len(bounds) - 1
        held_e, block = self._blocks(parts, x, x.shape[1])
        e = held_e.native.reshape(parts, block, x.shape[1])
        if bounds is None:  # one call does it all
            result: tuple[int, int] = _compiled(_cross_entropy_backward)(
                g, x, t, s, w, ignore_index, label_smoothing, reduction, out,
                precise, e[0],
            )  # fmt: skip
            return result
        low, high, counted = _compiled(_bounds)(t, ignore_index, w)
        if low < 0 or high >= x.shape[1]:
            return low, high
        coef = _compiled(_loss_coefficient)(g, reduction, counted)
        per_row = reduction == NONE
        part = _compiled(_cross_entropy_backward_part)
        _run_parts(bounds, lambda k, a, b: part(g, x, t, s, w, ignore_index,
                                                label_smoothing, per_row, coef, out,
                                                precise, a, b, e[k]))  # fmt: skip
        return low, high
