"""The stand-ins a capture (`_capture`) puts in place while it records: the
recording device's backend and array module, whose kernels record, and the other
devices' ones, whose kernels refuse calls from the recording thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from actnet.device._program import CaptureError

if TYPE_CHECKING:
    from actnet.device._capture import Capture
    from actnet.device._core import DeviceCore

# Backend attributes that are not kernels: passed through while recording.
HOOKS: Final = frozenset(
    {
        "address",
        "array_at",
        "begin_quiet",
        "end_quiet",
        "free_segment",
        "new_segment",
        "quiet",
        "reshape_view",
        "scratch",
        "strided_view",
        "synchronize",
    }
)

# Array-module functions that read data on the host, and what uses them.
DATA_READS: Final = {
    "count_nonzero": "indexing with a boolean mask (the result's shape is its count)",
    "nonzero": "nonzero",
    "flatnonzero": "nonzero",
    "argwhere": "nonzero",
    "unique": "unique",
    "min": "a minimum read on the host",
    "max": "a maximum read on the host",
    "any": "any() read on the host",
    "all": "all() read on the host",
}


class BackendProxy:
    """The device's backend while it records: kernels record, hooks pass."""

    def __init__(self, capture: Capture, backend: Any) -> None:
        self._capture = capture
        self._real = backend
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        value = getattr(self._real, name)
        if name == "to_host":
            capture, real = self._capture, value

            def to_host(arr: Any) -> Any:
                if threading.get_ident() == capture.thread and not capture._host:
                    raise capture.host_read("to_host")
                return real(arr)

            value = to_host
        elif callable(value) and name not in HOOKS and not isinstance(value, type):
            value = self._capture._kernel(name, value)
        self._cache[name] = value
        return value


class RefusingProxy:
    """Another device's backend while one records: its kernels refuse calls
    from the recording thread; hooks pass."""

    def __init__(self, capture: Capture, device: DeviceCore, backend: Any) -> None:
        self._capture = capture
        self._device = device
        self._real = backend

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._real, name)
        if callable(value) and name not in HOOKS and not isinstance(value, type):
            return self._capture._refusing(self._device, name, value)
        return value


class RefusingModule:
    """Another device's array module while one records: its `copyto` (the
    device copies with it) refuses calls from the recording thread."""

    def __init__(self, capture: Capture, device: DeviceCore, module: Any) -> None:
        self._real = module
        self.copyto = capture._refusing(device, "copyto", module.copyto)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class ModuleProxy:
    """The array module while the device records: its `copyto` records (the
    device copies with it); the functions that would read data on the host in
    the device's own code raise (inside a recorded check they run as part of
    it); the rest passes."""

    def __init__(self, capture: Capture, module: Any) -> None:
        self._real = module
        self.copyto = capture._kernel("copyto", module.copyto)
        for name, what in DATA_READS.items():
            setattr(self, name, self._refused(capture, getattr(module, name), what))

    @staticmethod
    def _refused(capture: Capture, fn: Callable[..., Any], what: str) -> Any:
        def read(*args: Any, **kwargs: Any) -> Any:
            if (
                capture.recording
                and threading.get_ident() == capture.thread
                and not capture._depth
                and not capture._host
            ):
                raise CaptureError(
                    f"{what}: its result depends on the data, which a captured "
                    "step cannot (the recording's would be replayed forever)"
                )
            return fn(*args, **kwargs)

        return read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)
