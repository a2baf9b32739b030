"""The standard's constants: e, inf, nan, newaxis and pi (Python floats, and
None for newaxis, as the standard specifies)."""

from __future__ import annotations

import math
from typing import Final

__all__ = ["e", "inf", "nan", "newaxis", "pi"]

e: Final = math.e
inf: Final = math.inf
nan: Final = math.nan
newaxis: Final = None  # x[:, newaxis] adds an axis of size 1
pi: Final = math.pi
