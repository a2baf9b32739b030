"""BLAS's axpy (y += alpha * x) from the OpenBLAS that NumPy links, when found.

NumPy's ufuncs run on one thread and round a product before adding it; an
optimizer's update `param += -lr * grad` over millions of elements is bound by
memory bandwidth, and OpenBLAS's axpy streams it once, fused, on the library's
own threads (the count threadpoolctl and OPENBLAS_NUM_THREADS set). NumPy exposes
no axpy, so the library is found the way threadpoolctl finds it: among the shared
objects mapped into this process (Linux; NumPy's own copy where another package
maps a second one), by OpenBLAS's exported symbol names
with the prefix and suffix its builds use (`scipy_` in NumPy's own wheels, `64_`
on 64-bit-integer builds). Its integer width comes from `openblas_get_config()`
("USE64BITINT"), and every function found must pass a known-answer check before it
is used; anything else (another BLAS, another OS) leaves the ufunc path.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np

Axpy = Callable[[int, float, int, int], None]  # (n, alpha, x address, y address)

_NAMES: Final = (  # (prefix, suffix) of OpenBLAS's exported names
    ("scipy_", "64_"),
    ("scipy_", ""),
    ("", "64_"),
    ("", ""),
)


def _mapped_libraries() -> list[str]:
    """Paths of the BLAS-looking shared objects mapped into this process."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return []
    paths: list[str] = []
    for line in lines:
        fields = line.split(maxsplit=5)
        path = fields[5] if len(fields) == 6 else ""
        name = path.rsplit("/", 1)[-1].lower()
        if "openblas" in name and ".so" in name and path not in paths:
            paths.append(path)
    return paths


def _symbols(path: str) -> tuple[Any, str, str] | None:
    """The library at `path` with the prefix and suffix of its OpenBLAS names, or
    None when it is not an OpenBLAS that can be loaded."""
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    for prefix, suffix in _NAMES:
        if getattr(lib, f"{prefix}openblas_get_config{suffix}", None) is not None:
            return lib, prefix, suffix
    return None


def _from_library(path: str) -> dict[np.dtype[Any], Axpy]:
    found_lib = _symbols(path)
    if found_lib is None:
        return {}
    lib, prefix, suffix = found_lib
    config = getattr(lib, f"{prefix}openblas_get_config{suffix}")
    saxpy = getattr(lib, f"{prefix}cblas_saxpy{suffix}", None)
    daxpy = getattr(lib, f"{prefix}cblas_daxpy{suffix}", None)
    if saxpy is None or daxpy is None:
        return {}
    config.restype = ctypes.c_char_p
    text = (config() or b"").decode("ascii", "replace")
    wide = re.search(r"\bUSE64BITINT\b", text) is not None
    integer = ctypes.c_int64 if wide else ctypes.c_int32
    found: dict[np.dtype[Any], Axpy] = {}
    for func, dtype, real in (
        (saxpy, np.dtype(np.float32), ctypes.c_float),
        (daxpy, np.dtype(np.float64), ctypes.c_double),
    ):
        func.argtypes = [
            integer,
            real,
            ctypes.c_void_p,
            integer,
            ctypes.c_void_p,
            integer,
        ]
        func.restype = None
        axpy = _bind(func)
        if _passes(axpy, dtype):
            found[dtype] = axpy
    return found


def _bind(func: Any) -> Axpy:
    def axpy(n: int, alpha: float, x: int, y: int) -> None:
        func(n, alpha, x, 1, y, 1)

    return axpy


def _passes(axpy: Axpy, dtype: np.dtype[Any]) -> bool:
    """A known answer: the values are exact in every float type, fused or not."""
    x = np.array([1, 2, 3, 4, 5], dtype)
    y = np.array([10, 20, 30, 40, 50], dtype)
    axpy(4, -2.0, x.ctypes.data, y.ctypes.data)  # the fifth element stays
    return bool(np.array_equal(y, np.array([8, 16, 24, 32, 50], dtype)))


def _numpys(paths: list[str]) -> str | None:
    """The library NumPy itself links: the one its wheel ships (numpy.libs, beside
    the package), else the only OpenBLAS mapped. Another package's copy (SciPy's
    wheels ship their own) has its own thread pool, whose threads would compete
    with NumPy's for the same cores: with two candidates and neither NumPy's,
    none is used."""
    shipped = str(Path(np.__file__).resolve().parent.parent / "numpy.libs") + "/"
    own = [p for p in paths if str(Path(p).resolve()).startswith(shipped)]
    if own:
        return own[0]
    return paths[0] if len(paths) == 1 else None


def find_axpy() -> dict[np.dtype[Any], Axpy]:
    """axpy by dtype (float32, float64) from NumPy's OpenBLAS, or {}."""
    path = _numpys(_mapped_libraries())
    return {} if path is None else _from_library(path)


def find_thread_control() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    """(set, get) of the thread count of NumPy's OpenBLAS, or None when it is not
    found (then OPENBLAS_NUM_THREADS, read when the library loads, is all there is)."""
    path = _numpys(_mapped_libraries())
    found_lib = None if path is None else _symbols(path)
    if found_lib is None:
        return None
    lib, prefix, suffix = found_lib
    setter = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
    getter = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
    if setter is None or getter is None:
        return None
    setter.argtypes, setter.restype = [ctypes.c_int], None
    getter.argtypes, getter.restype = [], ctypes.c_int

    def set_threads(n: int) -> None:
        setter(n)

    def get_threads() -> int:
        return int(getter())

    return set_threads, get_threads
