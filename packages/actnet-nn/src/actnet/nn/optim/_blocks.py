"""Blocks and scratch of an elementwise update: the parameter, its gradient and
its state updated block by block, so that a block of every operand stays in cache
across the update's passes, with temporaries that live for one step.

The optimizers' fallback: their usual update is the device's fused operator
(see `_fused.py`); this serves the pairs it does not take.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from actnet.device import Buffer, Device

# Elements per block of an update: a block of each of its ~7 operands (parameter,
# gradient, state, scratch) stays in a core's L2 cache across the update's passes,
# which all read and write memory: about 15% faster than whole tensors here.
BLOCK: Final = 1 << 16


def blocks(buffers: list[Buffer]) -> list[list[Buffer]]:
    """Same-size buffers as matching blocks of at most BLOCK elements (flat views),
    when all are contiguous and larger than a block; else the buffers whole.
    Elementwise updates give the same values either way."""
    n = buffers[0].size
    if n <= BLOCK or not all(b.is_contiguous for b in buffers):
        return [buffers]
    flat = [b.reshape(-1) for b in buffers]
    return [[f[i : i + BLOCK] for f in flat] for i in range(0, n, BLOCK)]


class Scratch:
    """Temporary buffers of one step: a few flat buffers per (device, dtype), as
    large as the largest block, seen with each block's shape. They go when the
    step drops this object."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._sizes: dict[tuple[Device, np.dtype[Any]], int] = {}
        self._flat: dict[tuple[Device, np.dtype[Any]], list[Buffer]] = {}

    def reserve(self, buf: Buffer, limit: int | None = None) -> None:
        """Make room for buffers of buf's shape (or of `limit` elements, if
        fewer), device and dtype."""
        key = (buf.device, buf.dtype)
        size = buf.size if limit is None else min(buf.size, limit)
        self._sizes[key] = max(self._sizes.get(key, 0), size)

    def views(self, buf: Buffer) -> list[Buffer]:
        """`count` scratch buffers of buf's shape (reserved before: a larger one,
        such as a tensor that cannot be split in blocks, makes them grow)."""
        key = (buf.device, buf.dtype)
        n, shape = buf.size, buf.shape
        flat = self._flat.get(key)
        if flat is None or flat[0].size < n:
            device, dtype = key
            size = max(self._sizes.get(key, 0), n)
            self._sizes[key] = size
            del flat
            self._flat.pop(key, None)  # the smaller ones go first
            flat = [
                device.alloc((size,), dtype, info=("scratch", "optimizer"))
                for _ in range(self.count)
            ]
            self._flat[key] = flat
        return [f[:n].reshape(shape) for f in flat]
