"""Compiled kernels of dropout (the `cpu` device).

The forward runs Philox4x32-10 inside the loop: per task of CHUNK elements, one
vectorized loop over its counters makes the keep flags (a byte each, in the
task's own scratch), a second applies them, a third packs them into the mask,
eight to a byte with one multiply (the flags as a little-endian uint64, times
0x0102040810204080: bit k of the top byte is flag k). The flags are exactly
those of the reference kernel (`_kernels_dropout.py`), the values too: the
product is taken in x's dtype. The backward unpacks a byte into eight flags with
a multiply and an add. Other dtypes and layouts take the reference kernels.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from actnet.device._compiled_activations import COMPILED_DTYPES, use_threads
from actnet.device._jit import compiled
from actnet.device._kernels_dropout import Array, DropoutKernels
from actnet.device._philox import MULTIPLIERS, ROUNDS, round_keys

CHUNK: Final = 1 << 12  # elements per task: even, and a multiple of 8
_M0: Final = np.uint64(MULTIPLIERS[0])
_M1: Final = np.uint64(MULTIPLIERS[1])
_LOW: Final = np.uint64(0xFFFFFFFF)
_32: Final = np.uint64(32)
_5: Final = np.uint64(5)
_6: Final = np.uint64(6)
_26: Final = np.uint64(26)
_56: Final = np.uint64(56)
_7: Final = np.uint64(7)
_PACK: Final = np.uint64(0x0102040810204080)
_ONES: Final = np.uint64(0x0101010101010101)  # a byte, repeated 8 times
_BIT_K: Final = np.uint64(0x8040201008040201)  # bit k of byte k
_LOW7: Final = np.uint64(0x7F7F7F7F7F7F7F7F)

prange = range  # numba's prange once compiled with parallel=True (see _jit)


def _dropout(
    x: Array,
    out: Array,
    mask: Array,
    keys: Array,
    start: Any,
    threshold: Any,
    scale: Any,
) -> None:
    """out = x * scale where kept, else 0; mask = the packed keep flags. Every
    integer is a uint64 (numba makes a float of uint64 mixed with int64)."""
    n = x.size
    for c in prange((n + CHUNK - 1) // CHUNK):
        xc = x[c * CHUNK : (c + 1) * CHUNK]
        oc = out[c * CHUNK : (c + 1) * CHUNK]
        mc = mask[c * (CHUNK // 8) : (c + 1) * (CHUNK // 8)]
        flags = np.zeros(CHUNK, np.uint8)
        base = start + np.uint64(c * (CHUNK // 2))  # wraps mod 2**64, as Philox
        for j in range((xc.size + 1) // 2):
            counter = base + np.uint64(j)
            c0 = counter & _LOW
            c1 = counter >> _32
            c2 = np.uint64(0)
            c3 = np.uint64(0)
            for r in range(ROUNDS):
                p0 = c0 * _M0
                p1 = c2 * _M1
                # masked to 32 bits, so LLVM multiplies 32 x 32 -> 64 bits
                c0 = ((p1 >> _32) ^ c1 ^ keys[2 * r]) & _LOW
                c1 = p1 & _LOW
                c2 = ((p0 >> _32) ^ c3 ^ keys[2 * r + 1]) & _LOW
                c3 = p0 & _LOW
            flags[2 * j] = ((c0 >> _5) << _26 | c1 >> _6) < threshold
            flags[2 * j + 1] = ((c2 >> _5) << _26 | c3 >> _6) < threshold
        for i in range(xc.size):
            oc[i] = xc[i] * scale if flags[i] else 0.0
        for i in range(xc.size, CHUNK):  # the end of x: no flags, no bits
            flags[i] = 0
        words = flags.view(np.uint64)
        for b in range(mc.size):
            mc[b] = np.uint8((words[b] * _PACK) >> _56)


def _dropout_backward(grad: Array, mask: Array, out: Array, scale: Any) -> None:
    """out = grad * scale where the mask keeps, else 0."""
    n = grad.size
    for c in prange((n + CHUNK - 1) // CHUNK):
        gc = grad[c * CHUNK : (c + 1) * CHUNK]
        oc = out[c * CHUNK : (c + 1) * CHUNK]
        mc = mask[c * (CHUNK // 8) : (c + 1) * (CHUNK // 8)]
        flags = np.empty(CHUNK, np.uint8)
        words = flags.view(np.uint64)
        for b in range(mc.size):
            # the byte in all 8 bytes, bit k kept in byte k, then 1 where set
            spread = (np.uint64(mc[b]) * _ONES) & _BIT_K
            words[b] = ((spread + _LOW7) >> _7) & _ONES
        for i in range(gc.size):
            oc[i] = gc[i] * scale if flags[i] else 0.0


def _flat(*arrays: Array) -> tuple[Array, ...] | None:
    """The arrays as 1-d views when all are C-contiguous NumPy arrays, the first
    two of one compiled dtype, else None (the reference kernel runs)."""
    x, out = arrays[0], arrays[1]
    if x.dtype not in COMPILED_DTYPES or out.dtype != x.dtype:
        return None
    if not all(isinstance(a, np.ndarray) and a.flags.c_contiguous for a in arrays):
        return None
    return tuple(a.reshape(-1) for a in arrays)


class DropoutCompiled(DropoutKernels):
    """The compiled forms of DropoutKernels' methods."""

    def dropout(
        self,
        x: Array,
        out: Array,
        mask: Array,
        key: tuple[int, int],
        counter: int,
        threshold: int,
        scale: float,
    ) -> None:
        arrays = _flat(x, out, mask)
        if arrays is None:
            super().dropout(x, out, mask, key, counter, threshold, scale)
            return
        keys = np.array(round_keys(key), np.uint64)
        kernel: Any = compiled(_dropout, parallel=use_threads(x.size))
        kernel(
            *arrays,
            keys,
            np.uint64(counter),
            np.uint64(threshold),
            x.dtype.type(scale),
        )

    def dropout_backward(
        self, grad: Array, mask: Array, out: Array, scale: float
    ) -> None:
        arrays = _flat(grad, out, mask)
        if arrays is None:
            super().dropout_backward(grad, mask, out, scale)
            return
        g, o, m = arrays
        kernel: Any = compiled(_dropout_backward, parallel=use_threads(grad.size))
        kernel(g, m, o, grad.dtype.type(scale))
