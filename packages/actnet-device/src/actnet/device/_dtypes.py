"""The data types a device can hold, and their kinds: actnet's one dtype table.

Devices speak NumPy dtypes. `bfloat16` comes from `ml_dtypes`; it computes as
PyTorch's CPU computes it, each operation in float32 with its result rounded to
bfloat16 once (sums, products and matmul accumulate in float32:
`_kernels_bfloat16.py`). float16 is computed by the backend as NumPy computes it.
The kinds are the array API standard's; actnet.ndarray takes the dtypes, the
kinds and `as_dtype` from here (through `actnet.device`) and adds the standard's
type promotion.

bfloat16 loads on first use. Importing ml_dtypes takes 0.6 s (0.7: it registers
NumPy loops for each of its many types), more than the rest of a first training
step, and no bfloat16 value can exist before it is imported. So `bfloat16` and
`ALL` (which holds it) are made when first read (`__getattr__`), as are
`as_dtype("bfloat16")` and a bfloat16 array's dtype; `is_bfloat16(dtype)` answers
without importing it; and a table that takes bfloat16 (an operator's dtypes,
promotion, ...) is built without it and takes it in `on_bfloat16(complete)`,
which runs when bfloat16 loads:

    >>> significand = {float16: 11, float32: 24, float64: 53}
    >>> on_bfloat16(lambda bf16: significand.update({bf16: 8}))
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, Final

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
# bfloat16 and ALL are made on first use (__getattr__); declared for type checkers.
bfloat16: np.dtype[Any]

DTypes = tuple[np.dtype[Any], ...]
SIGNED: Final[DTypes] = (int8, int16, int32, int64)
UNSIGNED: Final[DTypes] = (uint8, uint16, uint32, uint64)
INTEGER: Final[DTypes] = SIGNED + UNSIGNED
REAL_FLOATING: Final[DTypes] = (float16, float32, float64)
COMPLEX_FLOATING: Final[DTypes] = (complex64, complex128)
FLOATING: Final[DTypes] = REAL_FLOATING + COMPLEX_FLOATING
REAL: Final[DTypes] = INTEGER + REAL_FLOATING
NUMERIC: Final[DTypes] = INTEGER + FLOATING
ALL: DTypes  # bool_, NUMERIC, bfloat16: every dtype a device may hold

REAL_OF: Final = {complex64: float32, complex128: float64}

# ALL as far as it is loaded: without bfloat16 until it is (then `_bfloat16`
# holds it); `_loading` holds it while the tables waiting for it take it. All
# three written under _lock.
_held: Final[set[np.dtype[Any]]] = {bool_, *NUMERIC}
_bfloat16: np.dtype[Any] | None = None
_loading: np.dtype[Any] | None = None
_completions: list[Callable[[np.dtype[Any]], object]] = []  # until it loads
_lock = threading.RLock()  # reentrant: a completion may ask for bfloat16


def __getattr__(name: str) -> Any:
    """`bfloat16` and `ALL`, made (ml_dtypes imported) when first read."""
    if name == "bfloat16":
        return load_bfloat16()
    if name == "ALL":
        return (bool_, *NUMERIC, load_bfloat16())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_bfloat16() -> np.dtype[Any]:
    """bfloat16, importing ml_dtypes the first time; every table waiting for it
    (`on_bfloat16`) has taken it before any thread gets it from here."""
    loaded = _bfloat16
    if loaded is not None:
        return loaded
    with _lock:
        if _bfloat16 is not None:
            return _bfloat16
        if _loading is not None:  # asked by a completion, in this thread
            return _loading
        # Imported here, not at the top: the cold start of `import actnet.device`
        # must not pay for it (see the module's docstring).
        import ml_dtypes

        return _take_bfloat16(np.dtype(ml_dtypes.bfloat16))


def _take_bfloat16(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """Complete the tables waiting for `dtype` (bfloat16), then hold it (under
    _lock)."""
    global _bfloat16, _loading
    _loading = dtype
    try:
        for complete in _completions:  # those it adds run too
            complete(dtype)
    finally:
        _loading = None
    _completions.clear()
    _held.add(dtype)
    _bfloat16 = dtype
    return dtype


def is_bfloat16(dtype: np.dtype[Any]) -> bool:
    """Whether `dtype` is bfloat16, without importing ml_dtypes: a bfloat16
    value exists only once something (actnet or anyone) has imported it.

    >>> is_bfloat16(float32)
    False
    """
    loaded = _bfloat16
    if loaded is None:
        if dtype.kind != "V" or "ml_dtypes" not in sys.modules:
            return False
        loaded = load_bfloat16()
    return dtype == loaded


def on_bfloat16(complete: Callable[[np.dtype[Any]], object]) -> None:
    """Call `complete(bfloat16)` when bfloat16 loads, or now if it has: how a
    table that takes bfloat16 gets it without importing ml_dtypes before it
    is needed. Completions run in the order they were given."""
    with _lock:
        if _bfloat16 is None:
            _completions.append(complete)
            return
    complete(_bfloat16)


def loaded() -> DTypes:
    """ALL as far as it is loaded (without bfloat16 until it is): the dtypes
    `as_dtype` takes now without importing anything."""
    return (bool_, *NUMERIC) if _bfloat16 is None else (bool_, *NUMERIC, _bfloat16)


def as_dtype(
    dtype: Any, argument: str = "dtype", *, what: str = "a device data type"
) -> np.dtype[Any]:
    """`dtype` as one of the dtypes in `ALL`: a dtype, or anything `np.dtype()`
    accepts that names one ("bfloat16" too, before ml_dtypes is imported). A
    TypeError otherwise, saying that the dtype is not `what`."""
    if type(dtype) is np.dtype and dtype in _held:  # the fast path
        return dtype
    try:
        result: np.dtype[Any] = np.dtype(dtype)
    except TypeError as exc:
        if not (isinstance(dtype, str) and dtype == "bfloat16"):
            raise TypeError(f"{argument} must be a data type, got {dtype!r}") from exc
        result = load_bfloat16()  # NumPy knows the name once ml_dtypes is in
    if result not in _held and not is_bfloat16(result):
        names = ", ".join([*(str(d) for d in (bool_, *NUMERIC)), "bfloat16"])
        raise TypeError(f"{argument} {result!s} is not {what}; one of {names}")
    return result


# Imported already (by the user, or another library): bfloat16 costs nothing more.
if "ml_dtypes" in sys.modules:
    load_bfloat16()
