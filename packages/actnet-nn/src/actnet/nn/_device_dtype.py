"""Moving a Module between devices and dtypes: `Module.to`'s arguments (PyTorch's
forms) and the in-place move of each parameter and buffer."""

from __future__ import annotations

from typing import Any

import numpy as np

import actnet.tensor as at
from actnet.device import BACKENDS, Device, get_device
from actnet.nn._labels import label
from actnet.nn._parameter import Parameter
from actnet.tensor import Tensor


def float_dtype(value: Any, any_kind: bool = False) -> np.dtype[Any]:
    """A dtype from an actnet/NumPy dtype or its name, PyTorch's names included
    (`actnet.tensor.as_dtype`); for `to`, floating only."""
    dtype = at.as_dtype(value)
    if not any_kind and dtype.kind not in "fcV":
        raise TypeError(
            "nn.Module.to only accepts floating point or complex dtypes, but got "
            f"desired dtype={dtype}"
        )
    return dtype


def parse_to(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Device | None, np.dtype[Any] | None]:
    bad = set(kwargs) - {"device", "dtype", "non_blocking", "memory_format"}
    if bad:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(bad)}")
    device: Device | None = None
    dtype: np.dtype[Any] | None = None
    if kwargs.get("device") is not None:
        device = get_device(kwargs["device"])
    if kwargs.get("dtype") is not None:
        dtype = float_dtype(kwargs["dtype"])
    for arg in args:
        if isinstance(arg, Device) or (
            isinstance(arg, str) and arg.partition(":")[0] in BACKENDS
        ):
            device = get_device(arg)
        elif isinstance(arg, Tensor):
            device, dtype = arg.device, float_dtype(arg.dtype)
        elif isinstance(arg, bool):
            continue  # to(device, dtype, non_blocking) positionally
        else:
            dtype = float_dtype(arg)
    return device, dtype


def move(t: Tensor, device: Device | None, dtype: np.dtype[Any] | None) -> None:
    """Rebind t's data (and its grad's) to `device` and `dtype`, in place."""
    if (device is None or device == t.device) and (dtype is None or dtype == t.dtype):
        return
    with at.no_grad():
        moved = t.detach().to(*(x for x in (device, dtype) if x is not None))
    t.data = moved.array
    label(t.array, ("parameter" if isinstance(t, Parameter) else "buffer", "to"))
    if t.grad is not None:
        t.grad = t.grad.to(moved.device, moved.dtype)
