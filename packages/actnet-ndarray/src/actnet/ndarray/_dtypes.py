"""Data types of the namespace, and the standard's type promotion table.

The dtypes are NumPy dtype objects (`float32 == numpy.dtype("float32")`), so
arrays interoperate with NumPy without translation. Promotion follows the array
API standard's table exactly: within a kind only, never across kinds (an int8
array and a float32 array do not combine: that is a TypeError, not NumPy's
value-based guess). float16 joins the floating lattice below float32; bfloat16 is
for storage and casting only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Final

import ml_dtypes
import numpy as np

DType = np.dtype[Any]

bool_: Final = np.dtype(np.bool_)  # exported as `bool`, the standard's name
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

SIGNED: Final[tuple[DType, ...]] = (int8, int16, int32, int64)
UNSIGNED: Final[tuple[DType, ...]] = (uint8, uint16, uint32, uint64)
INTEGER: Final[tuple[DType, ...]] = SIGNED + UNSIGNED
REAL_FLOATING: Final[tuple[DType, ...]] = (float16, float32, float64)
COMPLEX_FLOATING: Final[tuple[DType, ...]] = (complex64, complex128)
FLOATING: Final[tuple[DType, ...]] = REAL_FLOATING + COMPLEX_FLOATING
NUMERIC: Final[tuple[DType, ...]] = INTEGER + FLOATING
ALL: Final[tuple[DType, ...]] = (bool_, *NUMERIC, bfloat16)
_ALL_SET: Final = frozenset(ALL)

DEFAULT_FLOAT: Final = float32  # as PyTorch and JAX: what a NN toolkit computes in
DEFAULT_COMPLEX: Final = complex64
DEFAULT_INT: Final = int64
DEFAULT_INDEX: Final = int64


def _build_table() -> dict[tuple[DType, DType], DType]:
    table: dict[tuple[DType, DType], DType] = {(bool_, bool_): bool_}
    chains: tuple[tuple[DType, ...], ...] = (
        SIGNED,
        UNSIGNED,
        (float16, float32, float64),
        (complex64, complex128),
    )
    for chain in chains:
        for a, b in itertools.product(chain, repeat=2):
            table[a, b] = max(a, b, key=chain.index)
    # unsigned with signed: the smallest signed type holding both (none for uint64)
    for u, i in itertools.product(UNSIGNED, SIGNED):
        wider = [
            s for s in SIGNED if s.itemsize > u.itemsize and s.itemsize >= i.itemsize
        ]
        if wider:
            table[u, i] = table[i, u] = wider[0]
    # real with complex floating
    for f, c in itertools.product(REAL_FLOATING, COMPLEX_FLOATING):
        result = complex128 if (f == float64 or c == complex128) else complex64
        table[f, c] = table[c, f] = result
    table[bfloat16, bfloat16] = bfloat16
    return table


PROMOTION: Final = _build_table()


def result_type_of(a: DType, b: DType) -> DType:
    """The standard's promotion of two dtypes; TypeError when the table has none."""
    try:
        return PROMOTION[a, b]
    except KeyError:
        raise TypeError(
            f"{a} and {b} do not promote to a common dtype (mixed kinds, or "
            f"uint64 with a signed type): cast one with astype"
        ) from None


def as_dtype(dtype: Any, argument: str = "dtype") -> DType:
    """`dtype` (a dtype of this namespace, or anything numpy.dtype() accepts that
    names one) as the namespace's dtype object."""
    if type(dtype) is np.dtype and dtype in _ALL_SET:
        return dtype
    if dtype is None or isinstance(dtype, int | float | complex):
        raise TypeError(f"{argument} must be a data type, got {dtype!r}")
    try:
        result: DType = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{argument} must be a data type, got {dtype!r}") from exc
    if result not in _ALL_SET:
        raise TypeError(f"{argument} {result} is not a data type of actnet.ndarray")
    return result


_KINDS: Final[dict[str, tuple[DType, ...]]] = {
    "bool": (bool_,),
    "signed integer": SIGNED,
    "unsigned integer": UNSIGNED,
    "integral": INTEGER,
    "real floating": (*REAL_FLOATING, bfloat16),
    "complex floating": COMPLEX_FLOATING,
    "numeric": (*NUMERIC, bfloat16),
}


def isdtype(dtype: Any, kind: Any) -> bool:
    """Whether `dtype` is of `kind`: a dtype, a kind name, or a tuple of those."""
    d = as_dtype(dtype)
    if isinstance(kind, tuple):
        return any(isdtype(d, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"unknown dtype kind {kind!r}; one of {', '.join(_KINDS)}")
        return d in _KINDS[kind]
    return d == as_dtype(kind, "kind")


def _dtype_of(x: Any, argument: str) -> DType:
    """A dtype, or the dtype of an array (anything with a dtype that is not one)."""
    if isinstance(x, np.dtype) or not hasattr(x, "dtype"):
        return as_dtype(x, argument)
    return as_dtype(x.dtype, argument)


def can_cast(from_: Any, to: Any) -> bool:
    """Whether `from_` promotes to `to` by the table (a safe cast)."""
    source = _dtype_of(from_, "from_")
    target = as_dtype(to, "to")
    if source == target:
        return True
    promoted = PROMOTION.get((source, target))
    # `is not None` first: NumPy reads None as float64, so None == float64.
    return promoted is not None and promoted == target


@dataclass(frozen=True)
class finfo_object:  # the standard's name
    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: DType


@dataclass(frozen=True)
class iinfo_object:  # the standard's name
    bits: int
    max: int
    min: int
    dtype: DType


def finfo(type: Any) -> finfo_object:  # the standard's name
    d = _dtype_of(type, "type")
    if d not in FLOATING and d != bfloat16:
        raise TypeError(f"finfo takes a floating dtype, got {d}")
    real = d if d.kind != "c" else (float32 if d == complex64 else float64)
    info: Any = ml_dtypes.finfo(real) if real == bfloat16 else np.finfo(real)  # type: ignore[no-untyped-call]  # ml_dtypes has no stubs
    return finfo_object(
        bits=int(info.bits),
        eps=float(info.eps),
        max=float(info.max),
        min=float(info.min),
        smallest_normal=float(info.smallest_normal),
        dtype=real,
    )


def iinfo(type: Any) -> iinfo_object:  # the standard's name
    d = _dtype_of(type, "type")
    if d not in INTEGER:
        raise TypeError(f"iinfo takes an integer dtype, got {d}")
    info = np.iinfo(d)
    return iinfo_object(
        bits=int(info.bits), max=int(info.max), min=int(info.min), dtype=d
    )
