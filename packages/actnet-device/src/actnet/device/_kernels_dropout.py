"""Reference kernels of dropout, written once against an array module.

The keep flags are Generator.bernoulli's: element i (in x's C order) takes the
words 2i and 2i + 1 of Philox4x32-10 under `key` from `counter` (four words a
counter), makes the 53-bit integer (a >> 5) << 26 | b >> 6 of them and keeps
the element when it is below `threshold` = ceil((1 - p) 2**53). The words are
made CHUNK values at a time in scratch from the arena; the mask is the flags
packed eight to a byte, bit i % 8 of byte i // 8 (NumPy's "little" bit order).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

from actnet.device._philox import PHILOX_CHUNK, philox4x32_into

Array = Any  # a numpy.ndarray or cupy.ndarray

CHUNK: Final = 1 << 16  # elements per pass (even: each pass starts a counter)
_U32: Final = np.dtype(np.uint32)
_U64: Final = np.dtype(np.uint64)
_BOOL: Final = np.dtype(np.bool_)


class DropoutKernels:
    """dropout's forward (flags drawn and applied) and backward (flags unpacked
    and applied)."""

    xp: Any
    scratch: Callable[[tuple[int, ...], np.dtype[Any]], Any]

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
        """out = x * scale where kept, 0 where dropped (the product in x's
        dtype); mask = the keep flags, packed."""
        xp = self.xp
        n = int(x.size)
        held = self.scratch(tuple(x.shape), _BOOL)
        keep = held.native.reshape(-1)
        m = min(n, CHUNK)
        words = self.scratch((2 * m,), _U32)
        pair = self.scratch((2, m), _U64)
        work = self.scratch((6, min(m, PHILOX_CHUNK)), _U64)
        for first in range(0, n, CHUNK):
            k = min(CHUNK, n - first)
            w = words.native[: 2 * k]
            philox4x32_into(xp, key, counter + first // 2, w, work.native)
            a, b = pair.native[0, :k], pair.native[1, :k]
            xp.copyto(a, w[0::2])
            xp.copyto(b, w[1::2])
            xp.right_shift(a, xp.uint64(5), a)  # (a >> 5) << 26 | b >> 6
            xp.left_shift(a, xp.uint64(26), a)
            xp.right_shift(b, xp.uint64(6), b)
            xp.bitwise_or(a, b, a)
            xp.less(a, xp.uint64(threshold), keep[first : first + k])
        # packbits makes its own array: the mask is n / 8 bytes, copied in.
        xp.copyto(mask, xp.packbits(keep, bitorder="little"))
        self._apply(x, out, held.native, scale)

    def dropout_backward(
        self, grad: Array, mask: Array, out: Array, scale: float
    ) -> None:
        """out = grad * scale where the mask keeps, 0 elsewhere."""
        xp = self.xp
        n = int(grad.size)
        held = self.scratch(tuple(grad.shape), _BOOL)
        # unpackbits makes its own array, of n bytes or a few more: copied in.
        bits = xp.unpackbits(mask, bitorder="little")
        xp.copyto(held.native.reshape(-1), bits[:n], casting="unsafe")
        self._apply(grad, out, held.native, scale)

    def _apply(self, x: Array, out: Array, keep: Array, scale: float) -> None:
        """out = where(keep, x * scale, 0), the product in x's dtype; keep is
        overwritten."""
        xp = self.xp
        xp.multiply(x, x.dtype.type(scale), out)
        xp.logical_not(keep, keep)
        xp.copyto(out, x.dtype.type(0), where=keep)
