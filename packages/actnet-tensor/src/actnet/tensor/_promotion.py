"""Data types: their names (PyTorch's aliases too) and PyTorch's type promotion.

Promotion is one table over actnet's dtypes (`actnet.device.ALL`; bfloat16's
rows join when it loads), built once from actnet.ndarray's public
`result_type`: a higher category wins (bool < integer < floating < complex),
and within a category the array API's table decides (int8 + int16 is int16).
A Python scalar does not widen a tensor of its category or above; below, it
gives PyTorch's default dtype of its kind (`int_tensor * 0.5` is float32, or
what set_default_dtype chose).
"""

from __future__ import annotations

import builtins
import itertools
import math
from typing import TYPE_CHECKING, Any, Final

import numpy as np

import actnet.device
import actnet.ndarray as xp
from actnet.device import INTEGER, NUMERIC, bool_, is_bfloat16, on_bfloat16
from actnet.ndarray import NDArray
from actnet.tensor._default_dtype import (
    default_complex,
    get_default_dtype,
    on_default_dtype,
)
from actnet.tensor._tensor_base import TensorBase

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

DType = np.dtype[Any]

# PyTorch's dtype names that are not NumPy's ("torch." may precede any name).
_TORCH_NAMES: Final = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "long": "int64",
    "int": "int32",
    "short": "int16",
    "byte": "uint8",
    "cfloat": "complex64",
    "cdouble": "complex128",
}


def as_dtype(value: Any) -> DType:
    """The dtype `value` names: an actnet or NumPy dtype, or a name ("float32"),
    PyTorch's names included ("float", "long", "torch.half", ...).

        >>> as_dtype("long")
        dtype('int64')
    """
    name = value
    if isinstance(value, str):
        name = value.removeprefix("torch.")
        name = _TORCH_NAMES.get(name, name)
    try:
        dtype: DType = actnet.device.as_dtype(name)  # "bfloat16" loads it
        xp.isdtype(dtype, "numeric")  # refuses what the array namespace does not hold
    except TypeError as exc:
        raise TypeError(f"not a data type of actnet: {value!r}") from exc
    return dtype


# ----------------------------------------------------------------- the tables
_CATEGORY: Final = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def _category(dtype: DType) -> int | None:
    """bool 0, integer 1, floating 2 (bfloat16 too: its NumPy kind is "V"),
    complex 3."""
    return 2 if is_bfloat16(dtype) else _CATEGORY.get(dtype.kind)


def _promote(a: DType, b: DType) -> DType | None:
    """PyTorch's promotion of two tensors' dtypes; None where there is none."""
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca is None or cb is None:
        return None
    if ca == cb == 2 and (is_bfloat16(a) or is_bfloat16(b)):
        # PyTorch: bfloat16 with float16 is float32; with float32 or float64, those
        return max(a, b, xp.float32, key=lambda d: d.itemsize)
    if ca == cb:
        try:
            result: DType = xp.result_type(a, b)
        except TypeError:  # uint64 with a signed integer
            return None
        return result
    high, low = (a, b) if ca > cb else (b, a)
    if high.kind == "c" and low == xp.float64:
        return xp.complex128
    return high


def _promote_scalar(dtype: DType, kind: type) -> DType:
    """The dtype of a tensor of `dtype` combined with a Python scalar of `kind`."""
    if kind is int and dtype.kind == "b":
        return xp.int64
    if kind is float and dtype.kind in "biu":
        return get_default_dtype()  # PyTorch's default float
    if kind is complex and dtype.kind in "biu":
        return default_complex()
    if kind is complex and dtype.kind != "c":
        return xp.complex128 if dtype == xp.float64 else xp.complex64
    return dtype


def _tensors(dtypes: tuple[DType, ...]) -> dict[tuple[DType, DType], DType]:
    return {
        (a, b): result
        for a, b in itertools.product(dtypes, repeat=2)
        if (result := _promote(a, b)) is not None
    }


def _scalars(dtypes: tuple[DType, ...]) -> dict[tuple[DType, type], DType]:
    return {
        (dtype, kind): _promote_scalar(dtype, kind)
        for dtype in dtypes
        for kind in (builtins.bool, builtins.int, builtins.float, complex)
    }


_TENSORS: Final = _tensors((bool_, *NUMERIC))
# Keyed by the scalar's exact type: a NumPy scalar is not a Python scalar here.
_SCALARS: Final = _scalars((bool_, *NUMERIC))


def _take_bfloat16(bf16: DType) -> None:
    _TENSORS.update(_tensors((bool_, *NUMERIC, bf16)))
    _SCALARS.update(_scalars((bool_, *NUMERIC, bf16)))


on_bfloat16(_take_bfloat16)


def _take_default(_: DType) -> None:
    """Python floats and complexes beside integer and bool tensors follow the
    default dtype (set_default_dtype)."""
    _SCALARS.update(_scalars((bool_, *INTEGER)))


on_default_dtype(_take_default)


def result_dtype(a: DType, b: DType) -> DType:
    """The dtype of an operation between tensors of dtypes `a` and `b`."""
    result = _TENSORS.get((a, b))
    if result is None:
        raise TypeError(f"{a} and {b} do not promote to a common dtype")
    return result


def scalar_dtype(dtype: DType, value: Any) -> DType:
    """The dtype of an operation between a tensor of `dtype` and the Python
    scalar `value` (`dtype` itself for anything else)."""
    return _SCALARS.get((dtype, type(value)), dtype)


def is_scalar(value: Any) -> bool:
    """Whether `value` is a Python scalar an operation takes beside a tensor."""
    t = type(value)
    return t is int or t is float or t is builtins.bool or t is complex


def numpy_scalar(value: Any) -> Any:
    """A NumPy scalar (`np.float32(2)`, `1 / np.sqrt(64)`) as the Python scalar
    PyTorch takes it for; anything else unchanged."""
    if isinstance(value, np.bool_ | np.integer | np.floating | np.complexfloating):
        return value.item()
    return value


def operands(a: Tensor, b: Any, op: str) -> tuple[NDArray, Any]:
    """The values of `a` and `b` (a Tensor, or a Python or NumPy scalar), promoted
    to the dtype of their result."""
    da = a.array
    have = da.buffer.native.dtype
    if isinstance(b, TensorBase):
        db = b.array
        other = db.buffer.native.dtype
        if have is not other and have != other:
            target = result_dtype(have, other)
            if have != target:
                da = xp.astype(da, target)
            if other != target:
                db = xp.astype(db, target)
        return da, db
    wanted = _SCALARS.get((have, type(b)))
    if wanted is None:
        if numpy_scalar(b) is not b:
            return operands(a, numpy_scalar(b), op)
        hint = (
            " (make it a tensor: actnet.tensor.as_tensor)"
            if isinstance(b, np.ndarray)
            else ""
        )
        raise TypeError(
            f"{op}: operands must be Tensors or Python or NumPy scalars, got "
            f"{type(b).__name__}{hint}"
        )
    if wanted is not have and wanted != have:
        da = xp.astype(da, wanted)
    elif type(b) is builtins.bool and have.kind != "b":
        b = int(b)  # PyTorch's True is 1 beside numbers; the device takes an int
    return da, b


def cast_scalar(value: Any, dtype: DType) -> Any:
    """A Python scalar as a value of `dtype`, as PyTorch converts a fill value
    (truncated towards 0 into an integer dtype), refused where PyTorch refuses
    it: it would overflow, or lose an imaginary part."""
    overflow = RuntimeError(
        f"value cannot be converted to type {dtype} without overflow"
    )
    if dtype == xp.bool:
        return builtins.bool(value)
    if dtype.kind == "c":
        return complex(value)
    if isinstance(value, complex):
        if value.imag != 0:
            raise overflow
        value = value.real
    if dtype.kind in "iu":
        if isinstance(value, float) and not math.isfinite(value):
            raise overflow
        whole = builtins.int(value)  # truncated, as a C++ cast
        info = xp.iinfo(dtype)
        if not info.min <= whole <= info.max:
            raise overflow
        return whole
    real = float(value)
    if math.isfinite(real) and abs(real) > float(xp.finfo(dtype).max):
        raise overflow
    return real
