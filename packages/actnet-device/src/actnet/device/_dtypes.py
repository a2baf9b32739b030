"""The data types a device can hold, and their kinds: actnet's one dtype table.

Devices speak NumPy dtypes. `bfloat16` comes from `ml_dtypes`; it computes as
PyTorch's CPU computes it, each operation in float32 with its result rounded to
bfloat16 once (sums, products and matmul accumulate in float32:
`_kernels_bfloat16.py`). float16 is computed by the backend as NumPy computes it.
The kinds are the array API standard's; actnet.ndarray takes the dtypes, the
kinds and `as_dtype` from here (through `actnet.device`) and adds the standard's
type promotion.
"""

from __future__ import annotations

from typing import Any, Final

import ml_dtypes
import numpy as np

bool_: Final = np.dtype(np.bool_)
int8: Final = np.dtype(np.int8)
int16: Final = np.dtype(np.int16)
int32: Final = np.dtype(np.int32)
int64: Final = np.dtype(np.int64)
uint8: Final = np.dtype(np.uint8)
uint16: Final = np.dtype(np.uint16)
uint32: Final = np.dtype(np.uint32)
uint64: Final = np.dtype(np.uint64)
float16: Final = np.dtype(np.float16)
float32: Final = np.dtype(np.float32)
float64: Final = np.dtype(np.float64)
complex64: Final = np.dtype(np.complex64)
complex128: Final = np.dtype(np.complex128)
bfloat16: Final = np.dtype(ml_dtypes.bfloat16)

DTypes = tuple[np.dtype[Any], ...]
SIGNED: Final[DTypes] = (int8, int16, int32, int64)
UNSIGNED: Final[DTypes] = (uint8, uint16, uint32, uint64)
INTEGER: Final[DTypes] = SIGNED + UNSIGNED
REAL_FLOATING: Final[DTypes] = (float16, float32, float64)
COMPLEX_FLOATING: Final[DTypes] = (complex64, complex128)
FLOATING: Final[DTypes] = REAL_FLOATING + COMPLEX_FLOATING
REAL: Final[DTypes] = INTEGER + REAL_FLOATING
NUMERIC: Final[DTypes] = INTEGER + FLOATING
ALL: Final[DTypes] = (bool_, *NUMERIC, bfloat16)

REAL_OF: Final = {complex64: float32, complex128: float64}


def as_dtype(
    dtype: Any, argument: str = "dtype", *, what: str = "a device data type"
) -> np.dtype[Any]:
    """`dtype` as one of the dtypes in `ALL`: a dtype, or anything `np.dtype()`
    accepts that names one. A TypeError otherwise, saying that the dtype is not
    `what`."""
    if type(dtype) is np.dtype and dtype in _ALL_SET:  # the fast path
        return dtype
    try:
        result: np.dtype[Any] = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{argument} must be a data type, got {dtype!r}") from exc
    if result not in _ALL_SET:
        names = ", ".join(str(d) for d in ALL)
        raise TypeError(f"{argument} {result!s} is not {what}; one of {names}")
    return result


_ALL_SET: Final = frozenset(ALL)
