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
        self._cpu_dtype: np.dtype[Any] | None = None  # None: bfloat16
        self.cuda_dtype: np.dtype[Any] = xp.float16
        self.cache_enabled = True
        self.nesting = 0
        # id(leaf) -> (a weak reference to it, its version then, its cast)
        self.cache: dict[int, tuple[weakref.ref[Any], int, Tensor]] = {}

    @property
    def cpu_dtype(self) -> np.dtype[Any]:
        """What cpu operations cast to: bfloat16 unless set, loaded when first
        read (importing ml_dtypes costs 0.6 s: not at `import actnet.tensor`)."""
        if self._cpu_dtype is None:
            self._cpu_dtype = xp.bfloat16
        return self._cpu_dtype

    @cpu_dtype.setter
    def cpu_dtype(self, dtype: np.dtype[Any]) -> None:
        self._cpu_dtype = dtype


_state = _State()
