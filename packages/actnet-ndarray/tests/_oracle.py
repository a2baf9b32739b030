"""Differential harness: run one call on actnet.ndarray and on array_api_strict
(pinned to the standard's 2024.12 revision), the semantic oracle, and compare.

`check(name, np_fn, *args, **kwargs)`: NumPy arrays among the arguments (also
inside tuples and lists) become arrays of each namespace. When array_api_strict
raises, actnet.ndarray must raise a compatible error (either exception class is
an instance of the other's: NumPy's AxisError is a ValueError and an
IndexError). Otherwise the results must have the same structure, shapes and
dtypes as array_api_strict's, and the values `np_fn` computes with NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import array_api_strict as strict
import numpy as np

import actnet.ndarray as xp

API_VERSION = "2024.12"

STANDARD = [
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
]  # fmt: skip
REAL = [d for d in STANDARD if d not in ("bool", "complex64", "complex128")]


def host(x: xp.NDArray) -> np.ndarray[Any, Any]:
    return np.asarray(x)


def sample(
    dtype: str, shape: tuple[int, ...] = (3, 4), seed: int = 0, *, low: int = 0
) -> np.ndarray[Any, Any]:
    """Reproducible values of `dtype` with repeats (so ties and zeros occur)."""
    rng = np.random.default_rng(seed)
    d = np.dtype(dtype)
    if d.kind == "b":
        return np.asarray(rng.random(shape) < 0.5)
    if d.kind in "iu":
        return np.asarray(rng.integers(low, 5, shape), dtype=d)
    values = np.asarray(rng.integers(-3, 4, shape)) / 2
    if d.kind == "c":
        values = values + 1j * rng.integers(-1, 2, shape)
    return np.asarray(values, dtype=d)


def strict_dtype(d: Any) -> np.dtype[Any]:
    """An array_api_strict dtype as the NumPy dtype of the same name."""
    return np.dtype(str(d).removeprefix("array_api_strict."))


def _mirror(value: Any, convert: Callable[[np.ndarray[Any, Any]], Any]) -> Any:
    if isinstance(value, np.ndarray):
        return convert(value)
    if isinstance(value, tuple | list):
        return type(value)(_mirror(v, convert) for v in value)
    if isinstance(value, dict):
        return {k: _mirror(v, convert) for k, v in value.items()}
    return value


def _strict_array(a: np.ndarray[Any, Any]) -> Any:
    return strict.asarray(a)


def _xp_array(a: np.ndarray[Any, Any]) -> Any:
    return xp.asarray(a)


def run_strict(name: str, *args: Any, **kwargs: Any) -> Any:
    """array_api_strict's `name` at the 2024.12 revision, on mirrored arguments."""
    with strict.ArrayAPIStrictFlags(api_version=API_VERSION):
        return getattr(strict, name)(
            *_mirror(args, _strict_array), **_mirror(kwargs, _strict_array)
        )


ORACLE_ERRORS = (TypeError, ValueError, IndexError, OverflowError)


def compatible(ours: BaseException, theirs: BaseException) -> bool:
    """Whether the errors share a standard class (NumPy's AxisError, for one, is
    both a ValueError and an IndexError)."""
    return any(
        isinstance(ours, kind) and isinstance(theirs, kind) for kind in ORACLE_ERRORS
    )


def check(
    name: str,
    np_fn: Callable[..., Any] | None,
    *args: Any,
    xp_args: tuple[Any, ...] | None = None,
    **kwargs: Any,
) -> Any:
    """Compare `xp.<name>` with array_api_strict and NumPy; returns our result.

    `xp_args` replaces the mirrored arguments for actnet.ndarray (to pass views).
    """
    expected_error: Exception | None = None
    try:
        theirs = run_strict(name, *args, **kwargs)
    except ORACLE_ERRORS as exc:  # anything else is a bug of the harness
        expected_error = exc
    ours_args = _mirror(args, _xp_array) if xp_args is None else xp_args
    fn = getattr(xp, name)
    if expected_error is not None:
        try:
            fn(*ours_args, **_mirror(kwargs, _xp_array))
        except Exception as exc:  # noqa: BLE001
            assert compatible(exc, expected_error), (
                f"{name}: raised {type(exc).__name__}: {exc}; array_api_strict "
                f"raised {type(expected_error).__name__}: {expected_error}"
            )
            return None
        raise AssertionError(
            f"{name}: no error; array_api_strict raised "
            f"{type(expected_error).__name__}: {expected_error}"
        )
    ours = fn(*ours_args, **_mirror(kwargs, _xp_array))
    expected = None if np_fn is None else np_fn(*args, **kwargs)
    compare(ours, theirs, expected, name)
    return ours


def compare(ours: Any, theirs: Any, expected: Any, what: str) -> None:
    """Structure, shapes and dtypes as `theirs`; values as `expected` (if any)."""
    if isinstance(theirs, tuple | list):
        assert type(ours) is type(theirs) or (
            isinstance(ours, tuple) and isinstance(theirs, tuple)
        ), f"{what}: got {type(ours).__name__}, expected {type(theirs).__name__}"
        assert getattr(ours, "_fields", None) == getattr(theirs, "_fields", None)
        assert len(ours) == len(theirs), f"{what}: {len(ours)} != {len(theirs)}"
        for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
            e = None if expected is None else expected[i]
            compare(o, t, e, f"{what}[{i}]")
        return
    if not hasattr(theirs, "shape"):  # a dtype or a Python value
        assert ours == theirs, f"{what}: {ours!r} != {theirs!r}"
        return
    assert type(ours) is xp.NDArray, f"{what}: got {type(ours).__name__}"
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    assert ours.dtype == strict_dtype(theirs.dtype), (
        f"{what}: dtype {ours.dtype} != {theirs.dtype}"
    )
    if expected is not None:
        np.testing.assert_array_equal(host(ours), np.asarray(expected), err_msg=what)


def owner(x: xp.NDArray) -> Any:
    """The buffer that owns x's memory."""
    buf = x.buffer
    return buf if buf.base is None else buf.base


def is_view_of(result: xp.NDArray, x: xp.NDArray) -> bool:
    return result.buffer.base is owner(x)
