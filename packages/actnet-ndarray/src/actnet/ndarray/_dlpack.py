"""DLPack export of device buffers: what `NDArray.__dlpack__` hands a consumer.

A consumer may write into what it receives: DLPack's read-only flag is only
advice, and torch ignores it (`torch.from_dlpack(x).add_(1)` writes). So an
export never shows memory that an actnet array will read again: `NDArray.__dlpack__`
exports either a fresh copy or, with `copy=False`, storage that the array has just
handed over (see there). This module makes the capsule: the consumer's view of a
Buffer whose lifetime the capsule holds, so the arena block is neither freed nor
reused while the consumer uses it, and stays counted in `memory_stats`.
"""

from __future__ import annotations

import enum
import sys
from typing import Any

import numpy as np

from actnet.device import Buffer


class DLDeviceType(enum.IntEnum):
    kDLCPU = 1  # DLPack's names
    kDLCUDA = 2


def dlpack_device(buf: Buffer) -> tuple[int, int]:
    """DLPack's (device type, device id) of a buffer."""
    device = buf.device
    if device.kind == "cuda":
        return (int(DLDeviceType.kDLCUDA), int(device.name.split(":")[1]))
    return (int(DLDeviceType.kDLCPU), 0)


def check_dl_device(buf: Buffer, dl_device: tuple[int, int] | None) -> None:
    """Refuse an export to another device (DLPack exports do not move data)."""
    if dl_device is not None and tuple(dl_device) != dlpack_device(buf):
        raise BufferError(
            f"__dlpack__: dl_device {tuple(dl_device)} is not this array's device "
            f"{dlpack_device(buf)}; move it there first (`Tensor.to`, "
            "`NDArray.to_device`)"
        )


def export(buf: Buffer, *, stream: Any, max_version: tuple[int, int] | None) -> Any:
    """A DLPack capsule of `buf` (which no actnet array may see again: the
    consumer owns it from now on), keeping the buffer alive while it lives."""
    holder = _Holder(buf)
    if buf.device.kind == "cuda":  # a CUDA buffer exists, so CuPy is imported
        cupy = sys.modules["cupy"]
        view = cupy.asarray(holder)  # its memory's owner is the holder
        return view.__dlpack__(stream=stream, max_version=max_version)
    return np.asarray(holder).__dlpack__(max_version=max_version)


class _Holder:
    """Presents a buffer's memory through the array interface whose consumer
    keeps this object, and with it the buffer, as the base of its view."""

    __slots__ = ("__array_interface__", "__cuda_array_interface__", "_buffer")

    def __init__(self, buffer: Buffer) -> None:
        self._buffer = buffer
        native = buffer.native
        if buffer.device.kind == "cuda":
            self.__cuda_array_interface__ = native.__cuda_array_interface__
        else:
            self.__array_interface__ = native.__array_interface__
