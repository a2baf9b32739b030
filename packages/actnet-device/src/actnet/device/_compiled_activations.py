"""Compiled kernels of the fused activations (the `cpu` device).

Each kernel is a plain loop over flat contiguous arrays that numba compiles
(`_jit.compiled`); per element it computes in float64 and rounds once on the
store, as the reference kernels do, so the two agree to the rounding of their
float64 libm calls. Other dtypes and layouts take the reference kernel.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

from actnet.device._jit import compiled
from actnet.device._kernels_activations import (
    BETA,
    INV_SQRT_2PI,
    KAPPA,
    SQRT1_2,
    ActivationKernels,
    Array,
)

# From this many elements a kernel runs on the threads set_num_threads allows;
# below, waking them costs more than the loop.
PARALLEL_MIN: Final = 1 << 15
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))

prange = range  # numba's prange once compiled with parallel=True (see _jit)


def _gelu(x: Array, out: Array, approximate: bool) -> None:
    for i in prange(x.size):
        v = np.float64(x[i])
        if approximate:
            cdf = 0.5 * (1.0 + math.tanh(v * (BETA + BETA * KAPPA * v * v)))
        else:
            cdf = 0.5 * (1.0 + math.erf(v * SQRT1_2))
        out[i] = v * cdf


def _gelu_backward(grad: Array, x: Array, out: Array, approximate: bool) -> None:
    for i in prange(x.size):
        v = np.float64(x[i])
        square = v * v
        if approximate:
            t = math.tanh(v * (BETA + BETA * KAPPA * square))
            du = BETA + 3.0 * BETA * KAPPA * square
            slope = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du
        else:
            cdf = 0.5 * (1.0 + math.erf(v * SQRT1_2))
            slope = cdf + v * math.exp(-0.5 * square) * INV_SQRT_2PI
        out[i] = np.float64(grad[i]) * slope


def flat(*arrays: Array) -> tuple[Array, ...] | None:
    """The arrays as 1-d views when all are C-contiguous NumPy arrays of one
    compiled dtype and one size, else None (the reference kernel runs)."""
    first = arrays[0]
    if first.dtype not in COMPILED_DTYPES:
        return None
    for a in arrays:
        if a.dtype is not first.dtype and a.dtype != first.dtype:
            return None
        if a.size != first.size or not a.flags.c_contiguous:
            return None
    return tuple(a.reshape(-1) for a in arrays)


def _parallel(n: int) -> bool:
    return n >= PARALLEL_MIN


class ActivationCompiled(ActivationKernels):
    """The compiled forms of ActivationKernels' methods."""

    def gelu(self, x: Array, out: Array, approximate: bool) -> None:
        arrays = flat(x, out)
        if arrays is None:
            super().gelu(x, out, approximate)
            return
        kernel: Any = compiled(_gelu, parallel=_parallel(x.size))
        kernel(*arrays, approximate)

    def gelu_backward(
        self, grad: Array, x: Array, out: Array, approximate: bool
    ) -> None:
        arrays = flat(grad, x, out)
        if arrays is None:
            super().gelu_backward(grad, x, out, approximate)
            return
        kernel: Any = compiled(_gelu_backward, parallel=_parallel(x.size))
        kernel(*arrays, approximate)
