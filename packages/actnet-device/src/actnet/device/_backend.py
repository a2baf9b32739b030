"""The private-hook contract every backend fills.

A backend is `Kernels` (the operator set, written against its array module) plus
the few hooks below, which are all a device needs to keep its buffers in arenas.
The device validates arguments, allocates outputs (and the kernels' scratch, through
`Kernels.scratch`) and keeps the statistics; the hooks only do the work.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from actnet.device._kernels import Kernels


class Backend(Kernels, ABC):
    """Hooks of one kind of device. One instance per device (it may hold state)."""

    kind: str = ""  # "cpu", "cuda": the part of the device name before ':'

    @abstractmethod
    def new_segment(self, nbytes: int) -> Any:
        """A new arena of `nbytes` bytes (a 1-d uint8 array); raise to refuse."""

    def free_segment(self, segment: Any) -> None:
        """Give an arena back (garbage-collected backends need do nothing)."""

    @abstractmethod
    def array_at(
        self,
        shape: tuple[int, ...],
        dtype: np.dtype[Any],
        segment: Any,
        offset: int,
        strides: tuple[int, ...] | None = None,
    ) -> Any:
        """The array of `shape`, `dtype` and byte `strides` (C order when None)
        starting `offset` bytes into `segment` (`numpy.ndarray`'s signature)."""

    @abstractmethod
    def address(self, arr: Any) -> int:
        """The address of an array's first element."""

    @abstractmethod
    def reshape_view(self, arr: Any, shape: tuple[int, ...]) -> Any | None:
        """`arr` reshaped without copying, or None when its strides do not allow it."""

    @abstractmethod
    def to_host(self, arr: Any) -> np.ndarray[Any, Any]:
        """A new host NumPy array with `arr`'s values."""

    @abstractmethod
    def from_host(self, host: np.ndarray[Any, Any], out: Any) -> None:
        """Copy the host array into `out` (same shape and dtype)."""

    def strided_view(
        self, arr: Any, shape: tuple[int, ...], strides: tuple[int, ...]
    ) -> Any:
        """A read-only view of arr's memory with `shape` and byte `strides`,
        starting at arr's first element (broadcasting: some strides are 0)."""
        return self.xp.lib.stride_tricks.as_strided(
            arr, shape, strides, writeable=False
        )

    def synchronize(self) -> None:
        """Wait for all queued work (synchronous backends return at once)."""

    def begin_quiet(self) -> Any:
        """Turn floating-point warnings off; return a token for `end_quiet`."""
        return None

    def end_quiet(self, token: Any) -> None:
        """Restore the floating-point warning state of `begin_quiet`'s token."""
