"""`torch.cuda.amp`: its deprecated `autocast` and `GradScaler`, torch.amp's for
"cuda". Without a CUDA device both warn and disable themselves (nanoGPT's
`torch.cuda.amp.GradScaler(enabled=...)` then passes its calls through).

    scaler = torch.cuda.amp.GradScaler(enabled=False)
    scaler.scale(loss).backward()  # loss.backward()
    scaler.step(optimizer)         # optimizer.step()
"""

from __future__ import annotations

import warnings
from typing import Any

import actnet.ndarray as xp
from actnet.tensor._autocast import autocast as _autocast
from actnet.tensor._grad_scaler import GradScaler as _GradScaler

__all__ = ["GradScaler", "autocast"]


class autocast(_autocast):
    """`torch.cuda.amp.autocast(...)`: `autocast("cuda", ...)`, deprecated."""

    def __init__(
        self, enabled: bool = True, dtype: Any = xp.float16, cache_enabled: bool = True
    ) -> None:
        warnings.warn(
            "`cuda.amp.autocast(...)` is deprecated. Please use "
            '`amp.autocast("cuda", ...)` instead.',
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(
            "cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled
        )


class GradScaler(_GradScaler):
    """`torch.cuda.amp.GradScaler(...)`: `GradScaler("cuda", ...)`, deprecated."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        warnings.warn(
            "`cuda.amp.GradScaler(...)` is deprecated. Please use "
            '`amp.GradScaler("cuda", ...)` instead.',
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(
            "cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled
        )
