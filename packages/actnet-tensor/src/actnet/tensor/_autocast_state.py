"""This thread's autocast state (PyTorch's, per device type): what the
operations on the autocast lists read on every call, and what the engine turns
off while backward runs. `_autocast.py` is its API."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

import actnet.ndarray as xp

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


class _State(threading.local):
    """This thread's autocast state (PyTorch's, per device type)."""

    def __init__(self) -> None:
        self.cpu = False  # whether cpu operations cast now: what operations read
        self.cuda = False
        self.cpu_dtype: np.dtype[Any] = xp.bfloat16
        self.cuda_dtype: np.dtype[Any] = xp.float16
        self.cache_enabled = True
        self.nesting = 0
        # id(leaf) -> (a weak reference to it, its version then, its cast)
        self.cache: dict[int, tuple[weakref.ref[Any], int, Tensor]] = {}


_state = _State()
