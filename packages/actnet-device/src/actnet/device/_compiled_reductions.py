"""The compiled sum of squares (the `cpu` device's `sum_of_squares` over every
axis of a C-contiguous float32 or float64 array, from COMPILED_MIN elements).

The array is cut into one part per thread; each part is a float64 sum of
squares that LLVM reassociates (`_jit.compiled`), so that it vectorizes, and the
parts' sums are added in order. One pass over the memory and no array of the
squares: NumPy's `sum(x * x)` writes and reads one as large as x (1.1 ms for a
(10000, 200) float32 gradient on a 2-core machine, where this takes 0.15 ms on
2 threads, 0.3 ms on one). Each piece is sliced before its loop: indexed from
0, the loop vectorizes (from an offset it did not: 1.1 ms). The float64 sum is
rounded once into the result, as the reference kernel's; the order of the
float64 additions differs from NumPy's pairwise one, by a few float64 rounding
errors (invisible in a float32 result, and below 1e-15 relative in a float64
one). Other axes and layouts take the reference kernel.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from actnet.device._jit import compiled
from actnet.device._kernels import Kernels
from actnet.device._threads import get_num_threads

Array = Any  # a numpy.ndarray

COMPILED_MIN: Final = 1 << 14  # below, NumPy's two passes cost about as much
PARALLEL_MIN: Final = 1 << 17  # from here the parts run on the threads
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))

prange = range  # numba's prange once compiled with parallel=True (see _jit)


def _squares_of(x: Array, parts: int, sums: Array) -> None:
    """sums[p] = the float64 sum of squares of the p-th of `parts` pieces of
    x (1-d)."""
    n = x.size
    step = -(-n // parts)
    for p in prange(parts):
        piece = x[p * step : min(n, (p + 1) * step)]  # indexed from 0: vectorizes
        total = 0.0
        for j in range(piece.size):
            v = np.float64(piece[j])
            total += v * v
        sums[p] = total


class ReductionCompiled(Kernels):
    """`sum_of_squares` over every axis, compiled (see the module's docstring)."""

    def reduce(
        self,
        name: str,
        x: Array,
        axis: tuple[int, ...] | None,
        keepdims: bool,
        out: Array,
        correction: float = 0.0,
    ) -> None:
        if (
            name != "sum_of_squares"
            or x.size < COMPILED_MIN
            or x.dtype not in COMPILED_DTYPES
            or not isinstance(x, np.ndarray)
            or not x.flags.c_contiguous
            or (axis is not None and len(axis) != x.ndim)
        ):
            super().reduce(name, x, axis, keepdims, out, correction)
            return
        threaded = x.size >= PARALLEL_MIN and get_num_threads() > 1
        parts = get_num_threads() if threaded else 1
        sums = np.empty(parts)
        kernel = compiled(_squares_of, parallel=threaded, reassociate=True)
        kernel(x.reshape(-1), parts, sums)
        out[...] = sum(sums.tolist())  # in order, then rounded once
