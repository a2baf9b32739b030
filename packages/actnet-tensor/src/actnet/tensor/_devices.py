"""`device(...)`: torch.device's constructor forms, giving actnet's `Device`."""

from __future__ import annotations

import builtins

from actnet.device import Device, get_device


def device(type: str | Device, index: builtins.int | None = None) -> Device:
    """The Device that `torch.device(type, index)` names: `device("cpu")`,
    `device("cuda", 0)`, `device("cuda:1")`, or a Device as it is.

    >>> device("cpu") is device("cpu", 0)
    True

    Unlike torch.device this is a function, not a class: test a value with
    `isinstance(d, actnet.device.Device)`.
    """
    if index is None:
        return get_device(type)
    if isinstance(index, bool) or not isinstance(index, builtins.int) or index < 0:
        raise ValueError("Device index must not be negative")
    if not isinstance(type, str) or ":" in type:
        raise ValueError(
            f"type (string) must not include an index because index was passed "
            f"explicitly: {type}"
        )
    return get_device(f"{type}:{index}")
