"""Fake devices, so device-mismatch and missing-dtype paths run in CPU-only CI.

`cpu:1` is a second NumPy device with an arena of its own: the same arithmetic,
but its buffers are not `cpu:0`'s. `no_float64` is a NumPy device that holds no
float64 or complex128, like many accelerators (array-api-strict's idea).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from actnet.device import _dtypes as dt


def no_float64_dtypes() -> tuple[np.dtype[Any], ...]:
    """What the `no_float64` device holds: every dtype but float64 and
    complex128 (bfloat16 included, so ml_dtypes loads when one is made)."""
    return tuple(d for d in dt.ALL if d not in (dt.float64, dt.complex128))
