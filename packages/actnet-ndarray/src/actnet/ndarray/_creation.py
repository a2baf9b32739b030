"""Creation functions of the standard, and the default device."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from actnet.device import Device, get_device
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import as_int
from actnet.ndarray._array import DeviceLike, NDArray, Scalar, _wrap
from actnet.ndarray._data_types import weak_scalar_dtype

__all__ = [
    "arange",
    "asarray",
    "empty",
    "empty_like",
    "eye",
    "from_dlpack",
    "full",
    "full_like",
    "linspace",
    "meshgrid",
    "ones",
    "ones_like",
    "tril",
    "triu",
    "zeros",
    "zeros_like",
]

DEFAULT_DEVICE = "cpu"


def device_of(device: DeviceLike | None) -> Device:
    """`device` (a name or a Device) as a Device; None is the default device."""
    return get_device(DEFAULT_DEVICE if device is None else device)


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    """`shape` (an integer, or a tuple or list of them: `as_int`) as Python ints."""
    single = as_int(shape)
    if single is not None:
        shape = (single,)
    if not isinstance(shape, tuple | list):
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}")
    extents = []
    for n in shape:
        extent = as_int(n)
        if extent is None:
            raise TypeError(f"shape must hold ints, got {shape!r}")
        if extent < 0:
            raise ValueError(
                f"shape must not have negative extents, got {tuple(shape)}"
            )
        extents.append(extent)
    return tuple(extents)


def _scalar_dtype(value: Any) -> dt.DType:
    """The default dtype of a Python scalar: bool, int64, float32 or complex64."""
    if isinstance(value, builtins.bool):
        return dt.bool_
    if isinstance(value, int):
        return dt.DEFAULT_INT
    if isinstance(value, float):
        return dt.DEFAULT_FLOAT
    if isinstance(value, complex):
        return dt.DEFAULT_COMPLEX
    raise TypeError(f"expected a Python scalar, got {type(value).__name__}")


def _nested_dtype(obj: Any) -> dt.DType:
    """The dtype of nested Python scalars and 0-d NDArrays: the arrays' dtypes
    promote by the table, Python scalars beside them are weak (as in
    `result_type`); without arrays, the widest kind of scalar present decides."""
    kinds: set[type] = set()
    arrays: list[dt.DType] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif type(item) is NDArray:
            if item.ndim:
                raise TypeError(
                    "asarray: a nested sequence of arrays with axes; use stack"
                )
            arrays.append(item.dtype)  # a 0-d array stands for its value
        elif isinstance(item, builtins.bool | int | float | complex):
            kinds.add(builtins.bool if isinstance(item, builtins.bool) else type(item))
        else:
            raise TypeError(f"asarray: cannot make an array of {type(item).__name__}")
    if arrays:
        result = arrays[0]
        for d in arrays[1:]:
            result = dt.result_type_of(result, d)
        for kind in kinds:  # one value of each kind stands for all of them
            result = weak_scalar_dtype(result, kind(), "asarray")
        return result
    for kind in (complex, float, int, builtins.bool):
        if kind in kinds:
            return _scalar_dtype(kind())
    return dt.DEFAULT_FLOAT  # an empty sequence


def _plain(obj: Any) -> Any:
    """Nested sequences with each 0-d NDArray among them as its value (a Python
    scalar, copied to the host)."""
    if type(obj) is NDArray:
        return np.asarray(obj).item()
    if isinstance(obj, list | tuple):
        return [_plain(item) for item in obj]
    return obj


def asarray(
    obj: Any,
    /,
    *,
    dtype: Any = None,
    device: DeviceLike | None = None,
    copy: builtins.bool | None = None,
) -> NDArray:
    """An array from an NDArray, a Python scalar or nested sequence (of scalars
    and 0-d NDArrays), a NumPy array, anything with __dlpack__, or a
    buffer-protocol object.

    Python floats become float32 and ints int64 unless `dtype` says otherwise;
    0-d NDArrays in a sequence give their dtypes, promoted by the standard's
    table (`asarray([[x[0] * y[0]]])`, as the standard's test suite writes).
    `copy=False` refuses to copy (and so refuses anything not already an NDArray
    of the dtype and device asked for); `copy=True` always makes a new array.
    """
    target = None if dtype is None else dt.as_dtype(dtype)
    if type(obj) is NDArray:
        result = obj
        if device is not None and get_device(device) is not obj.device:
            if copy is False:
                raise ValueError(
                    "asarray: copy=False, but the array is on another device"
                )
            result = obj.to_device(device)
        if target is not None and target != result.dtype:
            if copy is False:
                raise ValueError("asarray: copy=False, but the dtype differs")
            return _wrap(result.buffer.device.astype(result.buffer, target))
        if copy and result is obj:
            return _wrap(obj.buffer.device.copy(obj.buffer))
        return result
    if copy is False:
        raise ValueError(
            "asarray: copy=False cannot be honoured: the data must be copied into a "
            "device arena"
        )
    dev = device_of(device)
    if isinstance(obj, np.ndarray | np.generic):
        host = np.asarray(obj)
    elif isinstance(obj, builtins.bool | int | float | complex | list | tuple):
        chosen = target if target is not None else _nested_dtype(obj)
        host = _host_from_python(_plain(obj), chosen)
    elif hasattr(obj, "__dlpack__"):
        return (
            from_dlpack(obj, device=dev)
            if target is None
            else asarray(from_dlpack(obj, device=dev), dtype=target)
        )
    else:
        try:
            host = np.asarray(memoryview(obj))
        except TypeError:
            raise TypeError(
                f"asarray: cannot make an array of {type(obj).__name__}"
            ) from None
    if target is None:
        target = dt.as_dtype(host.dtype, "the input's dtype")
    if host.dtype.kind == "c" and target.kind != "c":
        raise TypeError(f"asarray: cannot cast complex values to {target}")
    return _wrap(dev.from_host(np.asarray(host, dtype=target)))


def _host_from_python(obj: Any, dtype: dt.DType) -> np.ndarray[Any, Any]:
    """Nested Python scalars as a host array of `dtype`, refusing lossy values."""
    try:
        host = np.array(obj, dtype=object)
    except ValueError as exc:
        raise ValueError(
            f"asarray: nested sequences of unequal lengths ({exc})"
        ) from None
    flat = host.reshape(-1)
    kind = dtype.kind
    for value in flat:
        if isinstance(value, list | tuple):  # a ragged nesting, not a bad type
            raise ValueError("asarray: nested sequences of unequal lengths")  # noqa: TRY004
        if kind in "iu" and not isinstance(value, int):
            raise TypeError(f"asarray: {value!r} is not an integer for dtype {dtype}")
        if kind == "b" and not isinstance(value, builtins.bool):
            raise TypeError(f"asarray: {value!r} is not a bool for dtype bool")
        if kind == "f" and isinstance(value, complex):
            raise TypeError(f"asarray: {value!r} is complex, dtype {dtype} is not")
        if kind in "iu":
            info = np.iinfo(dtype)
            if not info.min <= value <= info.max:
                raise OverflowError(f"asarray: {value} does not fit in {dtype}")
    return np.array(host.tolist() if host.ndim else host.item(), dtype=dtype)


class _NoCopyError(BufferError, ValueError):
    """from_dlpack(copy=False) when only a copy would do. The standard asks for a
    BufferError in its description of `copy` and a ValueError in its list of
    errors: this is both."""


def from_dlpack(
    x: Any, /, *, device: DeviceLike | None = None, copy: builtins.bool | None = None
) -> NDArray:
    """An array of a DLPack producer's data (an NDArray, a NumPy array, a torch
    tensor, ...) on `device` (by default the producer's, for an NDArray, else the
    default device).

    An NDArray comes back without a copy unless `copy=True` or another device
    asks for one (as `asarray`). Anything else is copied into the device's
    arena, where all of actnet's memory lives: an array cannot show a foreign
    producer's memory, so `copy=False` raises (BufferError, also a ValueError).

        y = from_dlpack(np.arange(3.0))  # float64, a copy on "cpu"
    """
    if not hasattr(x, "__dlpack__"):
        raise TypeError(
            f"from_dlpack: {type(x).__name__} does not implement __dlpack__"
        )
    if type(x) is NDArray:
        if copy is False and device is not None and get_device(device) is not x.device:
            raise _NoCopyError(
                f"from_dlpack: copy=False, but the array is on {x.device.name}, not "
                f"{get_device(device).name}: moving it is a copy"
            )
        return asarray(x, device=device, copy=copy)
    if copy is False:
        raise _NoCopyError(
            "from_dlpack: copy=False cannot be honoured: actnet arrays live in "
            "device arenas, so a foreign producer's memory is always copied"
        )
    kind, _ = x.__dlpack_device__()
    if kind != 1:
        raise BufferError(
            f"from_dlpack: only CPU producers are supported, got device {kind}"
        )
    host = np.from_dlpack(x)
    return _wrap(device_of(device).from_host(np.asarray(host)))


def _fill(
    shape: tuple[int, ...], value: Scalar, dtype: dt.DType, device: Device
) -> NDArray:
    return _wrap(device.full(shape, value, dtype))


def empty(
    shape: int | Sequence[int], *, dtype: Any = None, device: DeviceLike | None = None
) -> NDArray:
    """An array with unspecified contents (from the arena: not zeroed)."""
    target = dt.DEFAULT_FLOAT if dtype is None else dt.as_dtype(dtype)
    return _wrap(device_of(device).alloc(_shape(shape), target))


def zeros(
    shape: int | Sequence[int], *, dtype: Any = None, device: DeviceLike | None = None
) -> NDArray:
    target = dt.DEFAULT_FLOAT if dtype is None else dt.as_dtype(dtype)
    return _fill(
        _shape(shape), False if target == dt.bool_ else 0, target, device_of(device)
    )


def ones(
    shape: int | Sequence[int], *, dtype: Any = None, device: DeviceLike | None = None
) -> NDArray:
    target = dt.DEFAULT_FLOAT if dtype is None else dt.as_dtype(dtype)
    return _fill(
        _shape(shape), True if target == dt.bool_ else 1, target, device_of(device)
    )


def full(
    shape: int | Sequence[int],
    fill_value: Scalar,
    *,
    dtype: Any = None,
    device: DeviceLike | None = None,
) -> NDArray:
    target = _scalar_dtype(fill_value) if dtype is None else dt.as_dtype(dtype)
    return _fill(_shape(shape), fill_value, target, device_of(device))


def _like(x: NDArray, dtype: Any, device: DeviceLike | None) -> tuple[dt.DType, Device]:
    if type(x) is not NDArray:
        raise TypeError(f"x must be an NDArray, got {type(x).__name__}")
    return (x.dtype if dtype is None else dt.as_dtype(dtype), x.device if device is None
            else get_device(device))  # fmt: skip


def empty_like(
    x: NDArray, /, *, dtype: Any = None, device: DeviceLike | None = None
) -> NDArray:
    target, dev = _like(x, dtype, device)
    return _wrap(dev.alloc(x.shape, target))


def zeros_like(
    x: NDArray, /, *, dtype: Any = None, device: DeviceLike | None = None
) -> NDArray:
    target, dev = _like(x, dtype, device)
    return _fill(x.shape, False if target == dt.bool_ else 0, target, dev)


def ones_like(
    x: NDArray, /, *, dtype: Any = None, device: DeviceLike | None = None
) -> NDArray:
    target, dev = _like(x, dtype, device)
    return _fill(x.shape, True if target == dt.bool_ else 1, target, dev)


def full_like(
    x: NDArray,
    /,
    fill_value: Scalar,
    *,
    dtype: Any = None,
    device: DeviceLike | None = None,
) -> NDArray:
    target, dev = _like(x, dtype, device)
    return _fill(x.shape, fill_value, target, dev)


def arange(
    start: float,
    /,
    stop: float | None = None,
    step: float = 1,
    *,
    dtype: Any = None,
    device: DeviceLike | None = None,
) -> NDArray:
    """start, start + step, ... below stop (ceil((stop - start) / step) values)."""
    if stop is None:
        start, stop = 0, start
    for name, v in (("start", start), ("stop", stop), ("step", step)):
        if not isinstance(v, int | float) or isinstance(v, builtins.bool):
            raise TypeError(f"arange: {name} must be an int or a float, got {v!r}")
    if dtype is None:
        floating = any(isinstance(v, float) for v in (start, stop, step))
        target = dt.DEFAULT_FLOAT if floating else dt.DEFAULT_INT
    else:
        target = dt.as_dtype(dtype)
    return _wrap(device_of(device).arange(start, stop, step, dtype=target))


def linspace(
    start: complex,
    stop: complex,
    /,
    num: int,
    *,
    dtype: Any = None,
    device: DeviceLike | None = None,
    endpoint: builtins.bool = True,
) -> NDArray:
    """`num` evenly spaced values from start to stop (included when endpoint)."""
    if not isinstance(num, int) or isinstance(num, builtins.bool) or num < 0:
        raise ValueError(f"linspace: num must be a non-negative int, got {num!r}")
    is_complex = any(isinstance(v, complex) for v in (start, stop))
    if dtype is None:
        target = dt.DEFAULT_COMPLEX if is_complex else dt.DEFAULT_FLOAT
    else:
        target = dt.as_dtype(dtype)
        if target.kind not in "fc" or (is_complex and target.kind != "c"):
            raise TypeError(
                "linspace: dtype must be floating (complex for complex ends), "
                f"got {target}"
            )
    dev = device_of(device)
    divisions = (num - 1 if endpoint else num) or 1
    work: dt.DType = dt.complex128 if target.kind == "c" else dt.float64
    if not dev.supports(work):
        work = target
    index = dev.arange(0, num, 1, dtype=work)
    step = (stop - start) / divisions
    values = dev.add(dev.multiply(index, step), start)
    if endpoint and num > 1:  # the last value is stop exactly
        values = dev.index_update(values, (num - 1,), stop)
    return _wrap(dev.astype(values, target) if work != target else values)


def eye(
    n_rows: int,
    n_cols: int | None = None,
    /,
    *,
    k: int = 0,
    dtype: Any = None,
    device: DeviceLike | None = None,
) -> NDArray:
    """Ones on the k-th diagonal, zeros elsewhere."""
    cols = n_rows if n_cols is None else n_cols
    target = dt.DEFAULT_FLOAT if dtype is None else dt.as_dtype(dtype)
    dev = device_of(device)
    rows_i = dev.arange(0, n_rows, 1, dtype=dt.int64).reshape(n_rows, 1)
    cols_i = dev.arange(0, cols, 1, dtype=dt.int64).reshape(1, cols)
    # A diagonal outside the matrix is any other one outside it: the clamp keeps
    # k within int64 (cols - rows lies in (-n_rows, cols)).
    k = max(-n_rows, min(k, cols))
    on = dev.equal(dev.subtract(cols_i, rows_i), k)
    return _wrap(dev.astype(on, target))


def _triangle(x: NDArray, k: int, lower: builtins.bool) -> NDArray:
    if type(x) is not NDArray or x.ndim < 2:
        raise ValueError("tril/triu need an NDArray with at least 2 axes")
    dev = x.device
    n, m = x.shape[-2:]
    rows_i = dev.arange(0, n, 1, dtype=dt.int64).reshape(n, 1)
    cols_i = dev.arange(0, m, 1, dtype=dt.int64).reshape(1, m)
    diff = dev.subtract(cols_i, rows_i)
    keep = dev.less_equal(diff, k) if lower else dev.greater_equal(diff, k)
    zero: Scalar = False if x.dtype == dt.bool_ else 0
    return _wrap(dev.where(keep, x.buffer, zero))


def tril(x: NDArray, /, *, k: int = 0) -> NDArray:
    """x with the elements above the k-th diagonal zeroed."""
    return _triangle(x, k, lower=True)


def triu(x: NDArray, /, *, k: int = 0) -> NDArray:
    """x with the elements below the k-th diagonal zeroed."""
    return _triangle(x, k, lower=False)


def meshgrid(*arrays: NDArray, indexing: str = "xy") -> list[NDArray]:
    """Coordinate grids from 1-d arrays ("xy": Cartesian, "ij": matrix indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    if not arrays:
        return []
    for a in arrays:
        if type(a) is not NDArray or a.ndim != 1:
            raise ValueError("meshgrid takes 1-d NDArrays")
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) != 1:
        raise TypeError(
            f"meshgrid: arrays must share a dtype, got {sorted(map(str, dtypes))}"
        )
    shape = [a.shape[0] for a in arrays]
    if indexing == "xy" and len(arrays) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, a in enumerate(arrays):
        axis = i
        if indexing == "xy" and len(arrays) > 1 and i < 2:
            axis = 1 - i
        view = [1] * len(arrays)
        view[axis] = a.shape[0]
        grids.append(_wrap(a.buffer.reshape(tuple(view)).broadcast_to(tuple(shape))))
    return grids
