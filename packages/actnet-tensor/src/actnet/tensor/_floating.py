"""The floating dtypes, bfloat16 included.

bfloat16 (ml_dtypes') has the NumPy kind "V", not "f", so `dtype.kind in "fc"`
misses it; the layer asks these sets instead. bfloat16 computes as PyTorch's
CPU computes it: each operation in float32, its result rounded to bfloat16
(actnet.device), and it requires gradients like any floating dtype.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

import actnet.ndarray as xp
from actnet.device import on_bfloat16

# bfloat16 joins both when it loads (importing ml_dtypes costs 0.6 s: on first use)
FLOATING: Final[set[np.dtype[Any]]] = {xp.float16, xp.float32, xp.float64}
# floating or complex: the dtypes that can require gradients
INEXACT: Final[set[np.dtype[Any]]] = FLOATING | {xp.complex64, xp.complex128}


def _take_bfloat16(bf16: np.dtype[Any]) -> None:
    FLOATING.add(bf16)
    INEXACT.add(bf16)


on_bfloat16(_take_bfloat16)
