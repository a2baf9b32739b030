"""PyTorch's default floating dtype: `set_default_dtype`, `get_default_dtype`.

The one place actnet.tensor reads it: what the creation functions make without
a `dtype` (`tensor([1.0])`, `zeros`, `rand`, `arange(0.0, 1.0, 0.1)`, ...,
and so the parameters actnet.nn's layers make), and what a Python float gives
beside an integer or bool tensor (`int_tensor * 0.5`). As in PyTorch it is one
setting for the whole process, every thread; NDArrays (actnet.ndarray) keep
the array namespace's own default, float32.

    >>> set_default_dtype(float64)
    >>> tensor([1.0]).dtype, zeros(2).dtype, get_default_dtype()
    (dtype('float64'), dtype('float64'), dtype('float64'))
    >>> set_default_dtype(float32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

import actnet.ndarray as xp
from actnet.device import is_bfloat16

DType = np.dtype[Any]

# The current default: process-global, as in PyTorch (no lock: one assignment).
_default: list[DType] = [np.dtype(np.float32)]
# What follows the default (the promotion table's rows for Python scalars).
_listeners: Final[list[Callable[[DType], None]]] = []


def get_default_dtype() -> DType:
    """The dtype of floating tensors made without one: float32 unless
    `set_default_dtype` changed it.

    >>> get_default_dtype()
    dtype('float32')
    """
    return _default[0]


def default_complex() -> DType:
    """The complex dtype a Python complex number gives: complex128 when the
    default is float64, complex64 otherwise (actnet has no complex32)."""
    return xp.complex128 if _default[0] == xp.float64 else xp.complex64


def set_default_dtype(d: Any) -> None:
    """Make `d` (float32, float64, float16 or bfloat16, a dtype object) the
    default floating dtype, for every thread, as `torch.set_default_dtype`.

    >>> set_default_dtype(float64); tensor([0.1]).dtype
    dtype('float64')
    """
    if not isinstance(d, np.dtype):
        raise TypeError(
            "invalid dtype object: only floating-point types are supported as "
            "the default type"
        )
    if not (d in (xp.float16, xp.float32, xp.float64) or is_bfloat16(d)):
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d
    for listener in _listeners:
        listener(d)


def on_default_dtype(listener: Callable[[DType], None]) -> None:
    """Call `listener(dtype)` whenever the default changes."""
    _listeners.append(listener)
