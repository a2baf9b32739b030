"""Data types of the namespace, and the standard's type promotion table.

The dtypes, their kinds and their parsing are actnet-device's table (one table for
every layer); this module adds what the array API standard says of them. They
are NumPy dtype objects (`float32 == numpy.dtype("float32")`), so arrays
interoperate with NumPy without translation. Promotion follows the standard's
table exactly: within a kind only, never across kinds (an int8 array and a
float32 array do not combine: that is a TypeError, not NumPy's value-based
guess). float16 joins the floating lattice below float32; bfloat16 combines with
itself only (cast it to mix it), and computes as PyTorch's CPU does: each
operation in float32, rounded to bfloat16 once (actnet.device).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

import actnet.device
from actnet.device import (
    COMPLEX_FLOATING,
    FLOATING,
    INTEGER,
    NUMERIC,
    REAL_FLOATING,
    SIGNED,
    UNSIGNED,
    bool_,  # exported as `bool`, the standard's name
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    is_bfloat16,
    on_bfloat16,
    uint8,
    uint16,
    uint32,
    uint64,
)
from actnet.device import as_dtype as _parse

if TYPE_CHECKING:  # loaded on first use (ml_dtypes): see __getattr__
    from actnet.device import ALL, bfloat16

__all__ = [  # what the modules of this package take from here, as `dt.<name>`
    "ALL",
    "COMPLEX_FLOATING",
    "DEFAULT_COMPLEX",
    "DEFAULT_FLOAT",
    "DEFAULT_INDEX",
    "DEFAULT_INT",
    "FLOATING",
    "INTEGER",
    "NUMERIC",
    "PROMOTION",
    "REAL_FLOATING",
    "SIGNED",
    "UNSIGNED",
    "DType",
    "as_dtype",
    "bfloat16",
    "bool_",
    "can_cast",
    "complex64",
    "complex128",
    "finfo",
    "finfo_object",
    "float16",
    "float32",
    "float64",
    "iinfo",
    "iinfo_object",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_bfloat16",
    "isdtype",
    "on_bfloat16",
    "result_type_of",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
]

DType = np.dtype[Any]
_ALL_SET: Final = frozenset((bool_, *NUMERIC))  # and bfloat16, through _parse

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
    return table


PROMOTION: Final = _build_table()
on_bfloat16(lambda bf16: PROMOTION.update({(bf16, bf16): bf16}))


def __getattr__(name: str) -> Any:
    """`bfloat16` and `ALL`, loaded on first use (actnet.device's)."""
    if name in ("ALL", "bfloat16"):
        return getattr(actnet.device, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    names one) as the namespace's dtype object. Not None, which NumPy reads as
    float64."""
    if type(dtype) is np.dtype and dtype in _ALL_SET:  # the fast path, no call
        return dtype
    if dtype is None:
        raise TypeError(f"{argument} must be a data type, got None")
    return _parse(dtype, argument, what="a data type of actnet.ndarray")


_KINDS: Final[dict[str, tuple[DType, ...]]] = {
    "bool": (bool_,),
    "signed integer": SIGNED,
    "unsigned integer": UNSIGNED,
    "integral": INTEGER,
    "real floating": REAL_FLOATING,  # and bfloat16, once it loads (below)
    "complex floating": COMPLEX_FLOATING,
    "numeric": NUMERIC,  # and bfloat16
}


def _kinds_take_bfloat16(bf16: DType) -> None:
    for kind in ("real floating", "numeric"):
        _KINDS[kind] = (*_KINDS[kind], bf16)


on_bfloat16(_kinds_take_bfloat16)


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
    bf16 = is_bfloat16(d)
    if d not in FLOATING and not bf16:
        raise TypeError(f"finfo takes a floating dtype, got {d}")
    real = d if d.kind != "c" else (float32 if d == complex64 else float64)
    info: Any
    if bf16:  # NumPy's finfo does not know it; ml_dtypes' does (imported: d exists)
        import ml_dtypes

        info = ml_dtypes.finfo(real)  # type: ignore[no-untyped-call]  # ml_dtypes has no stubs
    else:
        info = np.finfo(real)
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
