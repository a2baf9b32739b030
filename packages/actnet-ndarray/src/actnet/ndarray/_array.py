"""NDArray: an immutable n-dimensional array on an actnet device."""

from __future__ import annotations

import builtins
import enum
import math
import sys
from collections.abc import Callable
from types import EllipsisType, ModuleType
from typing import Any, Final, Literal, NoReturn, cast, final

import numpy as np

from actnet.device import OPS, Buffer, Device, get_device
from actnet.ndarray import _dtypes as dt

Scalar = builtins.bool | int | float | complex
DeviceLike = Device | str

_new = cast(Callable[[type["NDArray"]], "NDArray"], object.__new__)


class DLDeviceType(enum.IntEnum):
    kDLCPU = 1  # DLPack's names
    kDLCUDA = 2


@final
class NDArray:
    """An immutable array: shape, dtype and device never change, nor do its values.

    Arrays come only from the namespace's functions (`asarray`, `zeros`, `arange`,
    operators, ...). Where the semantics allow, results are views that share
    memory (reshape of contiguous data, transpose, slicing, broadcasting): since
    nothing mutates an array, sharing is always safe. Functional updates in JAX's
    style: `x.at[idx].set(v)` returns a new array.

    `buffer` is the device Buffer under the array, read-only by contract: for the
    layers above that manage memory themselves (actnet.tensor's copy-on-write).
    """

    __slots__ = ("__weakref__", "buffer")

    buffer: Buffer

    def __new__(cls, *args: object, **kwargs: object) -> NDArray:
        raise TypeError(
            "NDArray cannot be created directly; use actnet.ndarray.asarray or a "
            "creation function such as zeros"
        )

    # ------------------------------------------------------------ attributes
    @property
    def dtype(self) -> dt.DType:
        dtype: dt.DType = self.buffer.native.dtype  # annotated, not cast(): no call
        return dtype

    @property
    def shape(self) -> tuple[int, ...]:
        shape: tuple[int, ...] = self.buffer.native.shape
        return shape

    @property
    def ndim(self) -> int:
        return len(self.buffer.native.shape)

    @property
    def size(self) -> int:
        return int(self.buffer.native.size)

    @property
    def device(self) -> Device:
        return self.buffer.device

    @property
    def T(self) -> NDArray:  # the standard's name
        """The transpose of a 2-d array (use permute_dims or mT otherwise)."""
        if self.ndim != 2:
            raise ValueError(f"x.T is for 2-d arrays; this one has {self.ndim} axes")
        return _wrap(self.buffer.T)

    @property
    def mT(self) -> NDArray:  # the standard's name
        """The transpose of the last two axes."""
        if self.ndim < 2:
            raise ValueError(f"x.mT needs at least 2 axes, got {self.ndim}")
        return _wrap(self.buffer.swapaxes(-1, -2))

    @property
    def at(self) -> _At:
        """Functional updates: `x.at[idx].set(v)`, `.add`, `.multiply`, `.min`,
        `.max` return new arrays; repeated indices accumulate (but for set)."""
        return _At(self)

    def __array_namespace__(self, /, *, api_version: str | None = None) -> ModuleType:
        if api_version is not None and api_version not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"api_version {api_version!r} is not supported; "
                f"one of {', '.join(SUPPORTED_VERSIONS)}"
            )
        return _namespace()

    def to_device(self, device: DeviceLike, /, *, stream: object = None) -> NDArray:
        """This array on `device` (itself when it is already there)."""
        if stream is not None:
            raise ValueError("to_device: streams are not supported")
        target = get_device(device)
        if target is self.buffer.device:
            return self
        return _wrap(self.buffer.device.copy_to(self.buffer, target))

    # ------------------------------------------------------------- immutability
    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        raise TypeError(
            "NDArray is immutable: use x.at[idx].set(value), which returns a new array"
        )

    def __delitem__(self, key: Any) -> NoReturn:
        raise TypeError("NDArray is immutable")

    __hash__ = None  # type: ignore[assignment]  # == is elementwise: arrays are unhashable

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, key: Any) -> NDArray:
        return _index(self, key)

    # ------------------------------------------------------------- conversions
    def _scalar_value(self, what: str) -> Any:
        if self.size != 1 or self.ndim != 0:
            raise TypeError(
                f"only a 0-d array converts to {what}; this has shape {self.shape}"
            )
        return self.buffer.device.to_host(self.buffer)[()].item()

    def __bool__(self) -> builtins.bool:
        return builtins.bool(self._scalar_value("bool"))

    def __int__(self) -> int:
        if self.dtype.kind == "c":
            raise TypeError("int() of a complex array")
        if self.dtype.kind == "f":
            value = self._scalar_value("int")
            if not math.isfinite(value):
                raise ValueError(f"cannot convert {value} to int")
            return int(value)
        return int(self._scalar_value("int"))

    def __float__(self) -> float:
        if self.dtype.kind == "c":
            raise TypeError("float() of a complex array; take real() first")
        return float(self._scalar_value("float"))

    def __complex__(self) -> complex:
        return complex(self._scalar_value("complex"))

    def __index__(self) -> int:
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer arrays are indices, not {self.dtype}")
        return int(self._scalar_value("an index"))

    def __array__(
        self, dtype: Any = None, copy: builtins.bool | None = None
    ) -> np.ndarray[Any, Any]:
        """A host NumPy copy (the data lives in a device arena: never a view)."""
        if copy is False:
            raise ValueError("an NDArray cannot be seen by NumPy without a copy")
        host = self.buffer.device.to_host(self.buffer)
        return host if dtype is None else host.astype(dtype)

    def __len__(self) -> int:
        if not self.ndim:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self) -> Any:
        if not self.ndim:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self) -> str:
        host = self.buffer.device.to_host(self.buffer)
        body = np.array2string(host, separator=", ", prefix="NDArray(")
        extra = (
            []
            if host.dtype in (dt.float32, dt.int64, dt.bool_)
            else [f"dtype={host.dtype}"]
        )
        if self.buffer.device.name != "cpu:0":
            extra.append(f"device={self.buffer.device.name!r}")
        return "NDArray(" + ", ".join([body, *extra]) + ")"

    def __str__(self) -> str:
        return str(self.buffer.device.to_host(self.buffer))

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _restore,
            (self.buffer.device.to_host(self.buffer), self.buffer.device.name),
        )

    # -------------------------------------------------------------- DLPack
    def __dlpack_device__(self) -> tuple[int, int]:
        kind = self.buffer.device.kind
        if kind == "cuda":
            return (
                int(DLDeviceType.kDLCUDA),
                int(self.buffer.device.name.split(":")[1]),
            )
        return (int(DLDeviceType.kDLCPU), 0)

    def __dlpack__(
        self,
        *,
        stream: Any = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: builtins.bool | None = None,
    ) -> Any:
        """Export through DLPack. The capsule keeps this array's memory alive, and
        the consumer's view is read-only, so arena reuse can never change it."""
        return _export(
            self, stream=stream, max_version=max_version, dl_device=dl_device, copy=copy
        )

    # ---------------------------------------------------------------- operators
    def __add__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(_ADD, self, other)

    def __radd__(self, other: Scalar) -> NDArray:
        return _binary(_ADD, self, other, reflected=True)

    def __sub__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(_SUB, self, other)

    def __rsub__(self, other: Scalar) -> NDArray:
        return _binary(_SUB, self, other, reflected=True)

    def __mul__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(_MUL, self, other)

    def __rmul__(self, other: Scalar) -> NDArray:
        return _binary(_MUL, self, other, reflected=True)

    def __truediv__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["divide"], self, other)

    def __rtruediv__(self, other: Scalar) -> NDArray:
        return _binary(BINARY_OPS["divide"], self, other, reflected=True)

    def __floordiv__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["floor_divide"], self, other)

    def __rfloordiv__(self, other: Scalar) -> NDArray:
        return _binary(BINARY_OPS["floor_divide"], self, other, reflected=True)

    def __mod__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["remainder"], self, other)

    def __rmod__(self, other: Scalar) -> NDArray:
        return _binary(BINARY_OPS["remainder"], self, other, reflected=True)

    def __pow__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["pow"], self, other)

    def __rpow__(self, other: Scalar) -> NDArray:
        return _binary(BINARY_OPS["pow"], self, other, reflected=True)

    def __matmul__(self, other: NDArray) -> NDArray:
        if type(other) is not NDArray:
            return NotImplemented
        a, b = _promote_pair(self, other)
        return _wrap(a.device.matmul(a, b))

    def __rmatmul__(self, other: NDArray) -> NDArray:
        return NotImplemented

    def __and__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["bitwise_and"], self, other)

    def __rand__(self, other: Scalar) -> NDArray:
        return _binary(BINARY_OPS["bitwise_and"], self, other, reflected=True)

    def __or__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["bitwise_or"], self, other)

    def __ror__(self, other: Scalar) -> NDArray:
        return _binary(BINARY_OPS["bitwise_or"], self, other, reflected=True)

    def __xor__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["bitwise_xor"], self, other)

    def __rxor__(self, other: Scalar) -> NDArray:
        return _binary(BINARY_OPS["bitwise_xor"], self, other, reflected=True)

    def __lshift__(self, other: NDArray | int) -> NDArray:
        return _binary(BINARY_OPS["bitwise_left_shift"], self, other)

    def __rlshift__(self, other: int) -> NDArray:
        return _binary(BINARY_OPS["bitwise_left_shift"], self, other, reflected=True)

    def __rshift__(self, other: NDArray | int) -> NDArray:
        return _binary(BINARY_OPS["bitwise_right_shift"], self, other)

    def __rrshift__(self, other: int) -> NDArray:
        return _binary(BINARY_OPS["bitwise_right_shift"], self, other, reflected=True)

    def __lt__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["less"], self, other)

    def __le__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["less_equal"], self, other)

    def __gt__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["greater"], self, other)

    def __ge__(self, other: NDArray | Scalar) -> NDArray:
        return _binary(BINARY_OPS["greater_equal"], self, other)

    def __eq__(self, other: object) -> NDArray:  # type: ignore[override]  # elementwise
        if type(other) is not NDArray and not isinstance(other, int | float | complex):
            return NotImplemented
        return _binary(BINARY_OPS["equal"], self, other)

    def __ne__(self, other: object) -> NDArray:  # type: ignore[override]  # elementwise
        if type(other) is not NDArray and not isinstance(other, int | float | complex):
            return NotImplemented
        return _binary(BINARY_OPS["not_equal"], self, other)

    def __neg__(self) -> NDArray:
        return _wrap(self.buffer.device.negative(self.buffer))

    def __pos__(self) -> NDArray:
        return _wrap(self.buffer.device.positive(self.buffer))

    def __abs__(self) -> NDArray:
        return _wrap(self.buffer.device.abs(self.buffer))

    def __invert__(self) -> NDArray:
        return _wrap(self.buffer.device.bitwise_invert(self.buffer))


SUPPORTED_VERSIONS: Final = ("2023.12", "2024.12")

BinaryOp = Callable[[Device, Any, Any], Buffer]
# The device's binary operators as plain functions of (device, a, b): looked up
# once here, called without building a bound method on every operation.
BINARY_OPS: Final[dict[str, BinaryOp]] = {
    name: cast(BinaryOp, getattr(Device, name))
    for name, spec in OPS.items()
    if spec.kind == "binary"
}
_ADD: Final = BINARY_OPS["add"]
_SUB: Final = BINARY_OPS["subtract"]
_MUL: Final = BINARY_OPS["multiply"]


def _wrap(buf: Buffer) -> NDArray:
    array = _new(NDArray)
    array.buffer = buf
    return array


def buffer_of(x: NDArray) -> Buffer:
    """The device Buffer under an array: for layers above that manage memory
    themselves (actnet.tensor's copy-on-write). Writing into it is allowed only to
    whoever can prove no one else holds the array (see actnet.tensor)."""
    if type(x) is not NDArray:
        raise TypeError(f"buffer_of takes an NDArray, got {type(x).__name__}")
    return x.buffer


def from_buffer(buf: Buffer) -> NDArray:
    """An array over a device Buffer (no copy): the inverse of buffer_of."""
    if type(buf) is not Buffer:
        raise TypeError(f"from_buffer takes a device Buffer, got {type(buf).__name__}")
    return _wrap(buf)


def _restore(host: np.ndarray[Any, Any], device: str) -> NDArray:
    return _wrap(get_device(device).from_host(host))


def _namespace() -> ModuleType:
    # The package is imported before any of its modules, so it is there.
    return sys.modules["actnet.ndarray"]


def _binary(
    op: BinaryOp,
    a: NDArray,
    b: Any,
    reflected: builtins.bool = False,
) -> NDArray:
    """a op b (or b op a), promoting two arrays by the table; a Python scalar is
    weak: it takes the array's dtype, if it is of a kind that may."""
    x = a.buffer
    tb = type(b)
    if tb is NDArray:
        y = b.buffer
        xd = x.native.dtype
        yd = y.native.dtype
        if xd is not yd and xd != yd:
            target = dt.result_type_of(xd, yd)
            if xd != target:
                x = x.device.astype(x, target)
            if yd != target:
                y = y.device.astype(y, target)
    elif tb is int or tb is float or tb is builtins.bool or tb is complex:
        y = b
        kind = x.native.dtype.kind
        if tb is not builtins.bool and kind == "b":
            raise TypeError(f"a Python {tb.__name__} cannot combine with a bool array")
        if tb is complex and kind == "f":  # 2024.12: the complex of that precision
            x = x.device.astype(x, _COMPLEX_OF[x.native.dtype])
    else:
        return NotImplemented  # type: ignore[no-any-return]
    result = _new(NDArray)  # _wrap, inlined: this is every operator's path
    result.buffer = op(x.device, y, x) if reflected else op(x.device, x, y)
    return result


def _promote_pair(a: NDArray, b: NDArray) -> tuple[Buffer, Buffer]:
    x, y = a.buffer, b.buffer
    xd, yd = x.native.dtype, y.native.dtype
    if xd != yd:
        target = dt.result_type_of(xd, yd)
        if xd != target:
            x = x.device.astype(x, target)
        if yd != target:
            y = y.device.astype(y, target)
    return x, y


# ------------------------------------------------------------------- indexing
_BASIC = (int, slice, EllipsisType, type(None))
_COMPLEX_OF: Final = {dt.float16: dt.complex64, dt.float32: dt.complex64,
                      dt.float64: dt.complex128}  # fmt: skip


def _normalize_key(key: Any) -> tuple[Any, ...]:
    items = key if isinstance(key, tuple) else (key,)
    for item in items:
        if isinstance(item, list):
            raise TypeError(
                "index with an integer array, not a list: asarray(list) first"
            )
        if isinstance(item, float):
            raise TypeError(f"float {item} is not an index")
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    return items


def _index(x: NDArray, key: Any) -> NDArray:
    items = _normalize_key(key)
    if all(type(i) in _BASIC or (isinstance(i, np.integer)) for i in items):
        if any(type(i) is builtins.bool for i in items):
            pass  # Python bools are masks: fall through to advanced indexing
        else:
            return _wrap(x.buffer[items])
    converted = []
    dev = x.buffer.device
    for item in items:
        if type(item) is NDArray:
            if item.buffer.device is not dev:
                raise ValueError(
                    f"index array is on {item.device.name}, the array on {dev.name}"
                )
            if item.dtype.kind not in "iub":
                raise IndexError(
                    f"index arrays must be integer or bool, got {item.dtype}"
                )
            converted.append(item.buffer)
        elif type(item) is builtins.bool:
            converted.append(dev.full((), item, dt.bool_))
        else:
            converted.append(item)
    return _wrap(dev.index(x.buffer, tuple(converted)))


@final
class _At:
    __slots__ = ("_array",)

    def __init__(self, array: NDArray) -> None:
        self._array = array

    def __getitem__(self, key: Any) -> _IndexUpdate:
        return _IndexUpdate(self._array, key)


@final
class _IndexUpdate:
    """x.at[key]: the methods return a new array; x is unchanged."""

    __slots__ = ("_array", "_key")

    def __init__(self, array: NDArray, key: Any) -> None:
        self._array = array
        self._key = key

    def get(self) -> NDArray:
        return _index(self._array, self._key)

    def set(self, values: NDArray | Scalar) -> NDArray:
        return self._update(values, "set")

    def add(self, values: NDArray | Scalar) -> NDArray:
        return self._update(values, "add")

    def multiply(self, values: NDArray | Scalar) -> NDArray:
        return self._update(values, "multiply")

    def min(self, values: NDArray | Scalar) -> NDArray:
        return self._update(values, "min")

    def max(self, values: NDArray | Scalar) -> NDArray:
        return self._update(values, "max")

    def _update(
        self,
        values: NDArray | Scalar,
        mode: Literal["set", "add", "multiply", "min", "max"],
    ) -> NDArray:
        x = self._array
        dev = x.buffer.device
        items = _normalize_key(self._key)
        key = []
        for item in items:
            if type(item) is NDArray:
                if item.dtype.kind not in "iub":
                    raise IndexError(
                        f"index arrays must be integer or bool, got {item.dtype}"
                    )
                key.append(item.buffer)
            elif type(item) is builtins.bool:
                key.append(dev.full((), item, dt.bool_))
            else:
                key.append(item)
        v: Buffer | Scalar
        if type(values) is NDArray:
            if dt.result_type_of(x.dtype, values.dtype) != x.dtype:
                raise TypeError(
                    f"at[...].{mode}: values of dtype {values.dtype} do not fit an "
                    f"array of dtype {x.dtype} without a cast; astype them first"
                )
            v = (
                values.buffer
                if values.dtype == x.dtype
                else dev.astype(values.buffer, x.dtype)
            )
        else:
            v = values
        return _wrap(dev.index_update(x.buffer, tuple(key), v, mode))


# ------------------------------------------------------------------- DLPack
def _export(
    x: NDArray,
    *,
    stream: Any,
    max_version: tuple[int, int] | None,
    dl_device: tuple[int, int] | None,
    copy: builtins.bool | None,
) -> Any:
    if dl_device is not None and tuple(dl_device) != x.__dlpack_device__():
        raise BufferError(f"cannot export to DLPack device {dl_device}")
    if x.buffer.device.kind != "cpu":  # CuPy exports its own array (writable)
        return x.buffer.native.__dlpack__(stream=stream)
    view = np.asarray(_ReadOnly(x.buffer))
    return view.__dlpack__(max_version=max_version, copy=copy)


class _ReadOnly:
    """Presents a buffer's memory to NumPy as a read-only array whose base is this
    object, which holds the buffer: the export keeps the block alive."""

    __slots__ = ("__array_interface__", "_buffer")

    def __init__(self, buffer: Buffer) -> None:
        self._buffer = buffer
        interface = dict(buffer.native.__array_interface__)
        interface["data"] = (interface["data"][0], True)
        self.__array_interface__ = interface
