"""NDArray: an n-dimensional array on an actnet device, with value semantics."""

from __future__ import annotations

import builtins
import math
import sys
from collections.abc import Callable
from types import EllipsisType, ModuleType
from typing import Any, Final, Literal, NoReturn, Self, TypeVar, cast, final

import numpy as np

from actnet.device import OPS, Buffer, Device, get_device
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._dlpack import check_dl_device, dlpack_device, export

Scalar = builtins.bool | int | float | complex
DeviceLike = Device | str

_new = cast(Callable[[type["NDArray"]], "NDArray"], object.__new__)


@final
class NDArray:
    """An array: shape, dtype and device never change; its values change only
    through `x[key] = v` and the in-place operators, copy-on-write (`_sole`), so
    no other array, view or export ever sees the change.

    Arrays come only from the namespace's functions (`asarray`, `zeros`, `arange`,
    operators, ...). Where the semantics allow, results are views that share
    memory (reshape of contiguous data, transpose, slicing, broadcasting): a write
    to either side copies first. Functional updates in JAX's style:
    `x.at[idx].set(v)` returns a new array.

    `buffer` is the device Buffer under the array, read-only by contract: for the
    layers above that manage memory themselves (actnet.tensor's copy-on-write,
    which writes only where `sole_buffer` allows).
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

    # ------------------------------------------------------------ value semantics
    def __setitem__(self, key: Any, value: NDArray | Scalar) -> None:
        """self[key] = value, copy-on-write: this array now holds the new values;
        no other array, view or export sees the change (see `_sole`). `value`
        takes this array's dtype when the promotion table allows (a Python scalar
        is weak); it broadcasts to self[key]'s shape."""
        dev = self.buffer.device
        k = _key_buffers(self, _normalize_key(key))
        v = _update_values(self, value, "x[key] = value")
        own = _sole(self)  # k and v hold what they index and write: counted
        if own is not None:
            dev.index_update(own, k, v, "set", out=own)
        else:
            self.buffer = _labelled(dev.index_update(self.buffer, k, v), self.buffer)

    def __delitem__(self, key: Any) -> NoReturn:
        raise TypeError("an NDArray's items cannot be deleted")

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
        return dlpack_device(self.buffer)

    def __dlpack__(
        self,
        *,
        stream: Any = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: builtins.bool | None = None,
    ) -> Any:
        """Export through DLPack, never as memory this array (or any other actnet
        array) reads again, since consumers may write into what they get (torch
        does, ignoring the read-only flag):

        - copy=None or True: a fresh copy of the values (one device copy, in
          the arena until the consumer lets go of it);
        - copy=False: this array's own storage, without a copy for the consumer;
          the array itself moves to a copy of its values. Only an array that
          alone holds its storage can hand it over (not a view, nor an array
          another shares storage with): otherwise BufferError, as DLPack asks
          when an export without a copy is impossible.
        """
        check_dl_device(self.buffer, dl_device)
        if copy is False:
            storage = _sole(self)
            if storage is None:
                raise BufferError(
                    "__dlpack__(copy=False): this array shares its storage (it is a "
                    "view, or other arrays or exports hold it), so it cannot be "
                    "handed over without a copy; use copy=None"
                )
            self.buffer = _copied(storage)
        else:
            storage = _copied(self.buffer)
        return export(storage, stream=stream, max_version=max_version)

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
        return divide_values(_DIVIDE, self, other)

    def __rtruediv__(self, other: Scalar) -> NDArray:
        return divide_values(_DIVIDE, self, other, reflected=True)

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

    # The standard's in-place operators, copy-on-write (see `_inplace`).
    def __iadd__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "add", "+=")

    def __isub__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "subtract", "-=")

    def __imul__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "multiply", "*=")

    def __itruediv__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "divide", "/=")

    def __ifloordiv__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "floor_divide", "//=")

    def __imod__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "remainder", "%=")

    def __ipow__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "pow", "**=")

    def __iand__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "bitwise_and", "&=")

    def __ior__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "bitwise_or", "|=")

    def __ixor__(self, other: NDArray | Scalar) -> Self:
        return _inplace(self, other, "bitwise_xor", "^=")

    def __ilshift__(self, other: NDArray | int) -> Self:
        return _inplace(self, other, "bitwise_left_shift", "<<=")

    def __irshift__(self, other: NDArray | int) -> Self:
        return _inplace(self, other, "bitwise_right_shift", ">>=")

    def __imatmul__(self, other: NDArray) -> Self:
        """x @= y: the product is a new buffer (it cannot be written over its own
        operand), which x then holds; x keeps its dtype and shape."""
        result = self.__matmul__(other)
        if result is NotImplemented:
            return NotImplemented
        _check_inplace("@=", self, result.dtype, result.shape, other)
        self.buffer = _labelled(result.buffer, self.buffer)
        return self

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

BinaryOp = Callable[..., Buffer]  # (device, a, b, out=None, *, info=None)
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
_DIVIDE: Final = BINARY_OPS["divide"]


def _wrap(buf: Buffer) -> NDArray:
    array = _new(NDArray)
    array.buffer = buf
    return array


def buffer_of(x: NDArray) -> Buffer:
    """The device Buffer under an array: for layers above that manage memory
    themselves (actnet.tensor's copy-on-write). Writing into it is allowed only
    where `sole_buffer` returns it (the caller must then not hold it besides)."""
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


def divide_values(
    op: BinaryOp, a: NDArray, b: Any, reflected: builtins.bool = False
) -> NDArray:
    """a / b (or b / a) by `op` (the device's divide), `_binary`'s signature.
    Integers (and bools) divide in the default floating dtype, as in
    PyTorch and JAX (NumPy: float64), where the standard leaves the result to
    the implementation: array API clients (scikit-learn's metrics) divide counts.
    Other kinds promote as `_binary` does (an integer array and a Python float
    still refuse to mix)."""
    if a.buffer.native.dtype.kind in "biu":
        tb = type(b)
        if (
            tb is int
            or tb is builtins.bool
            or (tb is NDArray and b.buffer.native.dtype.kind in "biu")
        ):
            dev = a.buffer.device
            a = _wrap(dev.astype(a.buffer, dt.DEFAULT_FLOAT))
            if tb is NDArray:
                b = _wrap(dev.astype(b.buffer, dt.DEFAULT_FLOAT))
    return _binary(op, a, b, reflected)


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


# ------------------------------------------------------------ copy-on-write
_getrefcount = sys.getrefcount
_A = TypeVar("_A", bound=NDArray)


def _sole(x: NDArray) -> Buffer | None:
    """x's buffer when x alone holds it, so that writing into it changes nothing
    any other array, view or export sees; else None (the writer copies first).

    The reference counts, in CPython (tests/test_value_semantics.py checks each
    case, so a CPython that counts these idioms differently fails there): the
    Buffer is held by `x.buffer`, by the local `buf` and by getrefcount's
    argument, 3 when nothing else holds it. Another array over the same buffer,
    a view of it (a view holds its base), an export and a caller's local each
    add one. A buffer that is itself a view (`buf.base`) shows memory its owner
    shows too. actnet.tensor builds its own rule on this one.
    """
    buf = x.buffer
    if _getrefcount(buf) != 3 or buf.base is not None:
        return None
    return buf


def sole_buffer(x: NDArray) -> Buffer | None:
    """The buffer under x when nothing but x holds it (`_sole`'s rule): for the
    layers above that write arrays in place themselves (actnet.tensor)."""
    if type(x) is not NDArray:
        raise TypeError(f"sole_buffer takes an NDArray, got {type(x).__name__}")
    return _sole(x)


def _labelled(new: Buffer, old: Buffer) -> Buffer:
    """`new`, which takes the place of `old`, under old's label (memory_snapshot)."""
    new.info = old.info
    return new


def _copied(buf: Buffer) -> Buffer:
    return _labelled(buf.device.copy(buf), buf)


def _inplace(x: _A, other: Any, op: str, symbol: str) -> _A:
    """x <op>= other (the standard's in-place operators), copy-on-write: written
    into x's buffer when x alone holds it (no copy, no allocation), else x moves
    to a new buffer. x keeps its dtype and shape: an operand that would change
    either is an error naming both."""
    dtype = x.buffer.native.dtype
    t = type(other)
    operand: Buffer | Scalar
    if t is NDArray:
        _check_inplace(symbol, x, dt.result_type_of(dtype, other.dtype), None, other)
        buf = other.buffer
        operand = buf if buf.native.dtype == dtype else buf.device.astype(buf, dtype)
    elif t is int or t is float or t is builtins.bool or t is complex:
        operand = other
    else:
        return NotImplemented  # type: ignore[no-any-return]  # Python's protocol
    result = OPS[op].dtypes.get(dtype, dtype)
    if result != dtype:  # the device refuses dtypes it has no entry for itself
        raise TypeError(
            f"x {symbol} y: the result of {op} on {dtype} is {result}, which an "
            f"in-place operator cannot store in x ({dtype})"
        )
    dev = x.buffer.device
    function = BINARY_OPS[op]
    own = _sole(x)  # counts `operand` too when it is x's own buffer (x op= x)
    if own is not None:
        function(dev, own, operand, out=own)
    else:
        x.buffer = _labelled(function(dev, x.buffer, operand), x.buffer)
    return x


def _check_inplace(
    symbol: str,
    x: NDArray,
    dtype: dt.DType,
    shape: tuple[int, ...] | None,
    other: NDArray,
) -> None:
    """The standard's in-place rules: the result keeps x's dtype, and only the
    right operand broadcasts (`shape` is the result's, when already known)."""
    if dtype != x.dtype:
        raise TypeError(
            f"x {symbol} y: x has dtype {x.dtype} and y {other.dtype}, whose result "
            f"{dtype} is not x's dtype; in-place operators keep x's dtype"
        )
    if shape is None:
        shape = other.shape
        if shape != x.shape:  # else the common case: no broadcasting to check
            try:
                shape = np.broadcast_shapes(x.shape, shape)
            except ValueError:
                shape = None
    if shape != x.shape:
        raise ValueError(
            f"x {symbol} y: x has shape {x.shape} and y {other.shape}; the result "
            f"must keep x's shape (only y broadcasts)"
        )


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
    return _wrap(x.buffer.device.index(x.buffer, _key_buffers(x, items)))


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
        key = _key_buffers(x, _normalize_key(self._key))
        v = _update_values(x, values, f"at[...].{mode}")
        return _wrap(x.buffer.device.index_update(x.buffer, key, v, mode))


def _key_buffers(x: NDArray, items: tuple[Any, ...]) -> tuple[Any, ...]:
    """An index into x (normalized items) for the device: index arrays as their
    Buffers (on x's device, integer or bool), Python bools as 0-d masks; the
    one conversion of reading (`x[key]`) and writing (`x[key] = v`, `.at[]`)."""
    dev = x.buffer.device
    converted: list[Any] = []
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
    return tuple(converted)


def _update_values(x: NDArray, values: NDArray | Scalar, what: str) -> Buffer | Scalar:
    """Values to write into x, in x's dtype: an array whose dtype promotes to
    x's (cast), or a Python scalar (weak: the device checks its kind)."""
    if type(values) is not NDArray:
        return values
    if dt.result_type_of(x.dtype, values.dtype) != x.dtype:
        raise TypeError(
            f"{what}: values of dtype {values.dtype} do not fit an array of dtype "
            f"{x.dtype} without a cast; astype them first"
        )
    if values.dtype == x.dtype:
        return values.buffer
    return values.buffer.device.astype(values.buffer, x.dtype)
