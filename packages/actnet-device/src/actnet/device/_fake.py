"""Fake devices, so device-mismatch and missing-dtype paths run in CPU-only CI.

`cpu:1` is a second NumPy device with an arena of its own: the same arithmetic,
but its buffers are not `cpu:0`'s. `no_float64` is a NumPy device that holds no
float64 or complex128, like many accelerators (array-api-strict's idea).
"""

from __future__ import annotations

from typing import Final

from actnet.device import _dtypes as dt

NO_FLOAT64_DTYPES: Final = tuple(
    d for d in dt.ALL if d not in (dt.float64, dt.complex128)
)
