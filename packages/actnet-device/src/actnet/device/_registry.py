"""The one explicit table of backends, and `get_device`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

from actnet.device import _cupy
from actnet.device._compiled import CompiledBackend
from actnet.device._device import Device
from actnet.device._fake import no_float64_dtypes
from actnet.device._numpy import NumPyBackend


def _cpu(index: int) -> Device:
    # NumPy with compiled kernels; cpu:1, cpu:2, ... are further such devices with
    # arenas of their own (the fake second device of the tests is cpu:1).
    return Device(f"cpu:{index}", CompiledBackend())


def _reference(index: int) -> Device:
    # Plain NumPy kernels: slow but definitely right, what the conformance kit
    # checks every other device against.
    return Device(f"reference:{index}", NumPyBackend())


def _no_float64(index: int) -> Device:
    return Device(f"no_float64:{index}", NumPyBackend(), dtypes=no_float64_dtypes())


def _cuda(index: int) -> Device:
    return Device(f"cuda:{index}", _cupy.CuPyBackend(index))


# kind -> factory of the device of that kind with a given index
BACKENDS: Final[dict[str, Callable[[int], Device]]] = {
    "cpu": _cpu,
    "cuda": _cuda,
    "no_float64": _no_float64,
    "reference": _reference,
}

_devices: dict[str, Device] = {}
_lock = threading.Lock()


def get_device(name: str | Device = "cpu") -> Device:
    """The device called `name` ("cpu" is "cpu:0", "cuda" is "cuda:0"); the same
    object every time for the same name. A Device is returned as it is."""
    if isinstance(name, Device):
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"a device is a name such as 'cpu' or a Device, got {type(name).__name__}"
        )
    kind, _, index_text = name.partition(":")
    if kind not in BACKENDS:
        raise ValueError(f"unknown device {name!r}; known kinds: {', '.join(BACKENDS)} "
                         f"(as 'kind' or 'kind:index')")  # fmt: skip
    if index_text and not index_text.isdigit():
        raise ValueError(f"device index in {name!r} must be a non-negative integer")
    canonical = f"{kind}:{int(index_text or 0)}"
    with _lock:
        device = _devices.get(canonical)
        if device is None:
            device = BACKENDS[kind](int(index_text or 0))
            _devices[canonical] = device
        return device
