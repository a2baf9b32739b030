"""`torch.cpu.amp`: its deprecated `autocast` and `GradScaler`, torch.amp's for
"cpu"."""

from __future__ import annotations

import warnings
from typing import Any

import actnet.ndarray as xp
from actnet.tensor._autocast import autocast as _autocast
from actnet.tensor._grad_scaler import GradScaler as _GradScaler

__all__ = ["GradScaler", "autocast"]


class autocast(_autocast):
    """`torch.cpu.amp.autocast(...)`: `autocast("cpu", ...)`, deprecated.

    >>> with autocast():
    ...     is_autocast_enabled("cpu")
    True
    """

    def __init__(
        self, enabled: bool = True, dtype: Any = None, cache_enabled: bool = True
    ) -> None:
        # None is torch's default, bfloat16 (loaded here, not when this is defined)
        dtype = xp.bfloat16 if dtype is None else dtype
        warnings.warn(
            "`cpu.amp.autocast(...)` is deprecated. Please use "
            '`amp.autocast("cpu", ...)` instead.',
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(
            "cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled
        )


class GradScaler(_GradScaler):
    """`torch.cpu.amp.GradScaler(...)`: `GradScaler("cpu", ...)`, deprecated."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        warnings.warn(
            "`cpu.amp.GradScaler(...)` is deprecated. Please use "
            '`amp.GradScaler("cpu", ...)` instead.',
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(
            "cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled
        )
