"""Data type functions of the standard that take arrays: astype, result_type.

(can_cast, finfo, iinfo and isdtype live with the dtypes, in `_dtypes`.)

    x = xp.asarray([1.7, -1.7])
    xp.astype(x, xp.int32)                       # [1, -1]: truncates
    xp.result_type(x, xp.float64)                # float64
    xp.result_type(xp.int8, 1.0)                 # TypeError: a float is not an int8
"""

from __future__ import annotations

import builtins
from typing import Any

from actnet.device import get_device
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import array_arg
from actnet.ndarray._array import DeviceLike, NDArray, _wrap

__all__ = ["astype", "result_type"]


def astype(
    x: NDArray,
    dtype: Any,
    /,
    *,
    copy: builtins.bool = True,
    device: DeviceLike | None = None,
) -> NDArray:
    """x cast to `dtype` (on `device`, when given).

    Floats cast to integers truncate toward zero; a complex array cannot be cast
    to a real dtype (take real() or abs() first). With `copy=False`, x itself is
    returned when it already has the dtype and device.
    """
    array_arg(x, "astype")
    target = dt.as_dtype(dtype)
    if x.dtype.kind == "c" and target.kind != "c":
        raise TypeError(
            f"astype: cannot cast complex {x.dtype} to {target}; take real() or "
            "abs() first"
        )
    source = x if device is None else x.to_device(get_device(device))
    buf = source.buffer
    if target == x.dtype:
        if source is x and copy:
            return _wrap(buf.device.copy(buf))
        return source
    return _wrap(buf.device.astype(buf, target))


def weak_scalar_dtype(dtype: dt.DType, value: complex, op: str) -> dt.DType:
    """The dtype an array of `dtype` and a Python scalar combine to (the scalar is
    weak): the array's dtype, but for a complex scalar with a real floating array,
    the complex dtype of its precision (2024.12). A bool goes with bool, an int
    with numbers (within an integer dtype's range: OverflowError otherwise), a
    float with floating dtypes; anything else is a TypeError."""
    kind = dtype.kind
    if isinstance(value, builtins.bool):
        ok = kind == "b"
    elif isinstance(value, int):
        ok = kind in "iufc" or dt.is_bfloat16(dtype)
        if kind in "iu":
            info = dt.iinfo(dtype)
            if not info.min <= value <= info.max:
                raise OverflowError(f"{op}: {value} does not fit in {dtype}")
    elif isinstance(value, float):
        ok = kind in "fc" or dt.is_bfloat16(dtype)
    else:
        if dtype in dt.REAL_FLOATING:
            return dt.result_type_of(dtype, dt.complex64)
        ok = kind == "c"
    if not ok:
        raise TypeError(
            f"{op}: a Python {type(value).__name__} does not combine with {dtype}"
        )
    return dtype


def result_type(*arrays_and_dtypes: Any) -> dt.DType:
    """The dtype the arrays and dtypes promote to by the standard's table.

    Python scalars (bool, int, float, complex) are weak: they must be of a kind
    the result can hold (TypeError otherwise) and do not change it, but for a
    complex scalar with a real floating dtype, which gives the complex dtype of
    that precision. At least one array or dtype is needed.
    """
    dtypes: list[dt.DType] = []
    scalars: list[builtins.bool | int | float | complex] = []
    for i, item in enumerate(arrays_and_dtypes):
        if type(item) is NDArray:
            dtypes.append(item.dtype)
        elif isinstance(item, builtins.bool | int | float | complex):
            scalars.append(item)
        else:
            dtypes.append(dt.as_dtype(item, f"arrays_and_dtypes[{i}]"))
    if not dtypes:
        raise ValueError(
            "result_type: needs at least one array or dtype (Python scalars alone "
            "have no dtype)"
        )
    result = dtypes[0]
    for d in dtypes[1:]:
        result = dt.result_type_of(result, d)
    for value in scalars:
        result = weak_scalar_dtype(result, value, "result_type")
    return result
