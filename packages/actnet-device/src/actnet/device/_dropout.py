"""Dropout of a Device: the keep mask drawn with Philox4x32-10 inside the kernel
and applied in the same pass, and its backward.

The mask is kept as bits, one per element (n / 8 bytes, a thirty-second of
float32 x): the backward reads it back instead of running Philox again. The
flags are those of `Generator.bernoulli(1 - p, x.shape)` for a generator whose
key and counter the call is given (`Generator.reserve(2 * x.size)` gives them
and moves the generator past them), so dropout draws the same masks as before
it was fused, on every device.
"""

from __future__ import annotations

import math
from typing import Any

from actnet.device import _dtypes as dt
from actnet.device._buffer import Buffer
from actnet.device._core import DeviceCore
from actnet.device._opset import OPS


def _probability(op: str, p: Any) -> float:
    if type(p) not in (int, float) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must be a probability in [0, 1], got {p!r}")
    return float(p)


def _scale(p: float) -> float:
    """1 / (1 - p), what kept elements are multiplied by (0 when none is kept)."""
    return 0.0 if p == 1.0 else 1.0 / (1.0 - p)


class DropoutOps(DeviceCore):
    """dropout and dropout_backward."""

    def dropout(
        self,
        x: Buffer,
        p: float,
        key: tuple[int, int],
        counter: int,
        out: Buffer | None = None,
    ) -> tuple[Buffer, Buffer]:
        """(y, mask): y = x / (1 - p) where an element is kept, 0 where it is
        dropped (the product in x's dtype, as `multiply(x, 1 / (1 - p))`); mask,
        uint8 of shape (ceil(n / 8),), holds keep[i] in bit i % 8 of byte i // 8,
        i in x's C order. keep[i] is Generator.bernoulli's draw with probability
        1 - p from words 2i and 2i + 1 of Philox4x32-10 under `key` (two 32-bit
        ints) from the 128-bit `counter` (four words a counter, so ceil(n / 2)
        counters). `out` may be x itself.

        >>> g = Generator(0)
        >>> key, counter = g.reserve(2 * x.size)
        >>> y, mask = cpu.dropout(x, 0.1, key, counter)
        >>> x_grad = cpu.dropout_backward(y_grad, mask, 0.1)
        """
        op = "dropout"
        arr = self._own(x, op)
        dtype = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        prob = _probability(op, p)
        if (
            not isinstance(key, tuple) or len(key) != 2
            or not all(type(k) is int and 0 <= k < 2**32 for k in key)
        ):  # fmt: skip
            raise ValueError(f"{op}: key must be two 32-bit ints, got {key!r}")
        if type(counter) is not int or not 0 <= counter < 2**64:
            raise ValueError(
                f"{op}: counter must be an int in [0, 2**64), got {counter!r}"
            )
        out = self._output(op, out, arr.shape, dtype)
        if out is not x:
            self._check_no_overlap(op, out, x)
        mask = self._empty((-(-int(arr.size) // 8),), dt.uint8)
        # Generator.bernoulli(1 - p)'s threshold, computed as it computes it
        threshold = math.ceil((1.0 - prob) * 2**53)
        self._backend.dropout(
            arr, out.native, mask.native, key, counter, threshold, _scale(prob)
        )
        return out, mask

    def dropout_backward(
        self, grad: Buffer, mask: Buffer, p: float, out: Buffer | None = None
    ) -> Buffer:
        """grad / (1 - p) where `mask` (dropout's) keeps an element, 0 elsewhere;
        `out` may be grad itself."""
        op = "dropout_backward"
        g = self._own(grad, op, "grad")
        m = self._own(mask, op, "mask")
        dtype = self._result_dtype(op, OPS[op].dtypes, g.dtype)
        prob = _probability(op, p)
        nbytes = -(-int(g.size) // 8)
        if m.dtype != dt.uint8 or m.shape != (nbytes,):
            raise ValueError(
                f"{op}: mask must be uint8 of shape ({nbytes},) for grad of "
                f"{g.size} elements (dropout's), got {m.dtype} of shape {m.shape}"
            )
        out = self._output(op, out, g.shape, dtype)
        self._check_no_overlap(op, out, mask, *(() if out is grad else (grad,)))
        self._backend.dropout_backward(g, m, out.native, _scale(prob))
        return out
