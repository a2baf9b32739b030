"""The inspection API of the standard: `__array_namespace_info__()`.

info = xp.__array_namespace_info__()
info.default_dtypes()["real floating"]       # float32
info.dtypes(kind="integral")                 # {"int8": int8, ...}
info.dtypes(device="no_float64:0")           # no float64, no complex128
"""

from __future__ import annotations

from typing import Any, Final, final

from actnet.device import Device, get_device
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._array import DeviceLike
from actnet.ndarray._creation import device_of

__all__ = ["__array_namespace_info__"]

# The standard's data types, by the standard's names, in its order. float16 and
# bfloat16 are extensions of this namespace and are not listed.
_STANDARD: Final[dict[str, dt.DType]] = {
    "bool": dt.bool_,
    "int8": dt.int8,
    "int16": dt.int16,
    "int32": dt.int32,
    "int64": dt.int64,
    "uint8": dt.uint8,
    "uint16": dt.uint16,
    "uint32": dt.uint32,
    "uint64": dt.uint64,
    "float32": dt.float32,
    "float64": dt.float64,
    "complex64": dt.complex64,
    "complex128": dt.complex128,
}


@final
class NamespaceInfo:
    """What this namespace supports: capabilities, devices and data types."""

    __slots__ = ()

    def capabilities(self) -> dict[str, Any]:
        """The optional features the namespace has."""
        return {
            "boolean indexing": True,
            "data-dependent shapes": True,
            "max dimensions": 64,
        }

    def default_device(self) -> Device:
        """The device arrays are made on when none is given."""
        return device_of(None)

    def default_dtypes(
        self, *, device: DeviceLike | None = None
    ) -> dict[str, dt.DType]:
        """The dtypes the namespace picks when none is given (the same on every
        device)."""
        device_of(device)  # checks the device exists
        return {
            "real floating": dt.DEFAULT_FLOAT,
            "complex floating": dt.DEFAULT_COMPLEX,
            "integral": dt.DEFAULT_INT,
            "indexing": dt.DEFAULT_INDEX,
        }

    def dtypes(
        self,
        *,
        device: DeviceLike | None = None,
        kind: str | tuple[str, ...] | None = None,
    ) -> dict[str, dt.DType]:
        """The standard's dtypes that `device` (the default one when None) holds,
        by name; only those of `kind` (a kind name, or a tuple of them) if given."""
        dev = device_of(device)
        return {
            name: d
            for name, d in _STANDARD.items()
            if dev.supports(d) and (kind is None or dt.isdtype(d, kind))
        }

    def devices(self) -> list[Device]:
        """The devices available: the CPU, then each CUDA device (when CuPy and a
        GPU are present)."""
        return [device_of(None), *_cuda_devices()]


def _cuda_devices() -> list[Device]:
    """cuda:0, cuda:1, ... up to the first that cannot be made."""
    found: list[Device] = []
    while True:
        try:
            found.append(get_device(f"cuda:{len(found)}"))
        except RuntimeError:
            return found


_INFO: Final = NamespaceInfo()


def __array_namespace_info__() -> NamespaceInfo:
    """The namespace's inspection object (the standard's entry point)."""
    return _INFO
