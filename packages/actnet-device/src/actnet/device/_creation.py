"""Operators that fill a new buffer from their arguments alone: full, arange and
random_bits (Philox4x32-10, the source of `actnet.device.Generator`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from actnet.device import _dtypes as dt
from actnet.device._buffer import Buffer
from actnet.device._checks import Scalar, check_shape
from actnet.device._core import DeviceCore


class CreationOps(DeviceCore):
    """The creation operators of a Device."""

    def full(
        self, shape: Sequence[int], value: Scalar, dtype: Any, out: Buffer | None = None
    ) -> Buffer:
        """A buffer of `shape` filled with `value` (or `out` filled with it)."""
        target = dt.as_dtype(dtype)
        out = self._output("full", out, check_shape(shape), target)
        self._backend.full(self._scalar("full", value, target), out.native)
        return out

    def arange(
        self,
        start: float,
        stop: float,
        step: float = 1,
        *,
        dtype: Any,
        out: Buffer | None = None,
    ) -> Buffer:
        """start, start + step, ... below stop: ceil((stop - start) / step) values."""
        for name, v in (("start", start), ("stop", stop), ("step", step)):
            if type(v) not in (int, float):
                raise TypeError(
                    f"arange: {name} must be an int or float, got {type(v).__name__}"
                )
        if step == 0:
            raise ValueError("arange: step must not be 0")
        target = dt.as_dtype(dtype)
        n = max(0, math.ceil((stop - start) / step))
        out = self._output("arange", out, (n,), target)
        self._backend.arange(start, step, out.native)
        return out

    def random_bits(self, key: tuple[int, int], counter: int, n: int) -> Buffer:
        """n uint32 words of Philox4x32-10 under `key` (two 32-bit words), from the
        128-bit counters (counter, 0), (counter + 1, 0), ... four words each."""
        if (
            not isinstance(key, tuple) or len(key) != 2
            or not all(type(k) is int and 0 <= k < 2**32 for k in key)
        ):  # fmt: skip
            raise ValueError(f"random_bits: key must be two 32-bit ints, got {key!r}")
        if type(counter) is not int or not 0 <= counter < 2**64:
            raise ValueError(
                f"random_bits: counter must be an int in [0, 2**64), got {counter!r}"
            )
        if type(n) is not int or n < 0:
            raise ValueError(f"random_bits: n must be a non-negative int, got {n!r}")
        out = self._empty((n,), dt.uint32)
        self._backend.random_bits(key, counter, out.native)
        return out
