"""The standard's elementwise functions (and erf), each one device operator.

Two-array functions promote by the standard's table; a Python scalar (allowed for
one operand since 2024.12) takes the array's dtype when its kind allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actnet.ndarray import _dtypes as dt
from actnet.ndarray._array import (
    BINARY_OPS,
    NDArray,
    Scalar,
    _binary,
    _wrap,
    divide_values,
)

__all__ = [
    "abs",
    "acos",
    "acosh",
    "add",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "ceil",
    "clip",
    "conj",
    "copysign",
    "cos",
    "cosh",
    "divide",
    "equal",
    "erf",
    "exp",
    "expm1",
    "floor",
    "floor_divide",
    "greater",
    "greater_equal",
    "hypot",
    "imag",
    "isfinite",
    "isinf",
    "isnan",
    "less",
    "less_equal",
    "log",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "multiply",
    "negative",
    "nextafter",
    "not_equal",
    "positive",
    "pow",
    "real",
    "reciprocal",
    "remainder",
    "round",
    "sign",
    "signbit",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "subtract",
    "tan",
    "tanh",
    "trunc",
]


def _array(x: Any, name: str) -> NDArray:
    if type(x) is not NDArray:
        raise TypeError(f"{name}: x must be an NDArray, got {type(x).__name__}")
    return x


def _pair(
    op: Any,
    x1: NDArray | Scalar,
    x2: NDArray | Scalar,
    name: str,
    binary: Callable[..., NDArray] = _binary,
) -> NDArray:
    if type(x1) is NDArray:
        result = binary(op, x1, x2)
    elif type(x2) is NDArray:
        result = binary(op, x2, x1, reflected=True)
    else:
        raise TypeError(f"{name}: at least one of x1 and x2 must be an NDArray")
    if result is NotImplemented:
        raise TypeError(
            f"{name}: operands must be NDArrays or Python scalars, got "
            f"{type(x1).__name__} and {type(x2).__name__}"
        )
    return result


def abs(x: NDArray, /) -> NDArray:
    """abs(x), elementwise."""
    buf = _array(x, "abs").buffer
    return _wrap(buf.device.abs(buf))


def acos(x: NDArray, /) -> NDArray:
    """acos(x), elementwise."""
    buf = _array(x, "acos").buffer
    return _wrap(buf.device.acos(buf))


def acosh(x: NDArray, /) -> NDArray:
    """acosh(x), elementwise."""
    buf = _array(x, "acosh").buffer
    return _wrap(buf.device.acosh(buf))


def asin(x: NDArray, /) -> NDArray:
    """asin(x), elementwise."""
    buf = _array(x, "asin").buffer
    return _wrap(buf.device.asin(buf))


def asinh(x: NDArray, /) -> NDArray:
    """asinh(x), elementwise."""
    buf = _array(x, "asinh").buffer
    return _wrap(buf.device.asinh(buf))


def atan(x: NDArray, /) -> NDArray:
    """atan(x), elementwise."""
    buf = _array(x, "atan").buffer
    return _wrap(buf.device.atan(buf))


def atanh(x: NDArray, /) -> NDArray:
    """atanh(x), elementwise."""
    buf = _array(x, "atanh").buffer
    return _wrap(buf.device.atanh(buf))


def bitwise_invert(x: NDArray, /) -> NDArray:
    """bitwise_invert(x), elementwise."""
    buf = _array(x, "bitwise_invert").buffer
    return _wrap(buf.device.bitwise_invert(buf))


def ceil(x: NDArray, /) -> NDArray:
    """ceil(x), elementwise."""
    buf = _array(x, "ceil").buffer
    return _wrap(buf.device.ceil(buf))


def conj(x: NDArray, /) -> NDArray:
    """conj(x), elementwise."""
    buf = _array(x, "conj").buffer
    return _wrap(buf.device.conj(buf))


def cos(x: NDArray, /) -> NDArray:
    """cos(x), elementwise."""
    buf = _array(x, "cos").buffer
    return _wrap(buf.device.cos(buf))


def cosh(x: NDArray, /) -> NDArray:
    """cosh(x), elementwise."""
    buf = _array(x, "cosh").buffer
    return _wrap(buf.device.cosh(buf))


def erf(x: NDArray, /) -> NDArray:
    """The error function, to double precision (an extension of the standard)."""
    buf = _array(x, "erf").buffer
    return _wrap(buf.device.erf(buf))


def exp(x: NDArray, /) -> NDArray:
    """exp(x), elementwise."""
    buf = _array(x, "exp").buffer
    return _wrap(buf.device.exp(buf))


def expm1(x: NDArray, /) -> NDArray:
    """expm1(x), elementwise."""
    buf = _array(x, "expm1").buffer
    return _wrap(buf.device.expm1(buf))


def floor(x: NDArray, /) -> NDArray:
    """floor(x), elementwise."""
    buf = _array(x, "floor").buffer
    return _wrap(buf.device.floor(buf))


def imag(x: NDArray, /) -> NDArray:
    """imag(x), elementwise."""
    buf = _array(x, "imag").buffer
    return _wrap(buf.device.imag(buf))


def isfinite(x: NDArray, /) -> NDArray:
    """isfinite(x), elementwise."""
    buf = _array(x, "isfinite").buffer
    return _wrap(buf.device.isfinite(buf))


def isinf(x: NDArray, /) -> NDArray:
    """isinf(x), elementwise."""
    buf = _array(x, "isinf").buffer
    return _wrap(buf.device.isinf(buf))


def isnan(x: NDArray, /) -> NDArray:
    """isnan(x), elementwise."""
    buf = _array(x, "isnan").buffer
    return _wrap(buf.device.isnan(buf))


def log(x: NDArray, /) -> NDArray:
    """log(x), elementwise."""
    buf = _array(x, "log").buffer
    return _wrap(buf.device.log(buf))


def log10(x: NDArray, /) -> NDArray:
    """log10(x), elementwise."""
    buf = _array(x, "log10").buffer
    return _wrap(buf.device.log10(buf))


def log1p(x: NDArray, /) -> NDArray:
    """log1p(x), elementwise."""
    buf = _array(x, "log1p").buffer
    return _wrap(buf.device.log1p(buf))


def log2(x: NDArray, /) -> NDArray:
    """log2(x), elementwise."""
    buf = _array(x, "log2").buffer
    return _wrap(buf.device.log2(buf))


def logical_not(x: NDArray, /) -> NDArray:
    """logical_not(x), elementwise."""
    buf = _array(x, "logical_not").buffer
    return _wrap(buf.device.logical_not(buf))


def negative(x: NDArray, /) -> NDArray:
    """negative(x), elementwise."""
    buf = _array(x, "negative").buffer
    return _wrap(buf.device.negative(buf))


def positive(x: NDArray, /) -> NDArray:
    """positive(x), elementwise."""
    buf = _array(x, "positive").buffer
    return _wrap(buf.device.positive(buf))


def real(x: NDArray, /) -> NDArray:
    """real(x), elementwise."""
    buf = _array(x, "real").buffer
    return _wrap(buf.device.real(buf))


def reciprocal(x: NDArray, /) -> NDArray:
    """reciprocal(x), elementwise."""
    buf = _array(x, "reciprocal").buffer
    return _wrap(buf.device.reciprocal(buf))


def round(x: NDArray, /) -> NDArray:
    """round(x), elementwise."""
    buf = _array(x, "round").buffer
    return _wrap(buf.device.round(buf))


def sign(x: NDArray, /) -> NDArray:
    """sign(x), elementwise."""
    buf = _array(x, "sign").buffer
    return _wrap(buf.device.sign(buf))


def signbit(x: NDArray, /) -> NDArray:
    """signbit(x), elementwise."""
    buf = _array(x, "signbit").buffer
    return _wrap(buf.device.signbit(buf))


def sin(x: NDArray, /) -> NDArray:
    """sin(x), elementwise."""
    buf = _array(x, "sin").buffer
    return _wrap(buf.device.sin(buf))


def sinh(x: NDArray, /) -> NDArray:
    """sinh(x), elementwise."""
    buf = _array(x, "sinh").buffer
    return _wrap(buf.device.sinh(buf))


def sqrt(x: NDArray, /) -> NDArray:
    """sqrt(x), elementwise."""
    buf = _array(x, "sqrt").buffer
    return _wrap(buf.device.sqrt(buf))


def square(x: NDArray, /) -> NDArray:
    """square(x), elementwise."""
    buf = _array(x, "square").buffer
    return _wrap(buf.device.square(buf))


def tan(x: NDArray, /) -> NDArray:
    """tan(x), elementwise."""
    buf = _array(x, "tan").buffer
    return _wrap(buf.device.tan(buf))


def tanh(x: NDArray, /) -> NDArray:
    """tanh(x), elementwise."""
    buf = _array(x, "tanh").buffer
    return _wrap(buf.device.tanh(buf))


def trunc(x: NDArray, /) -> NDArray:
    """trunc(x), elementwise."""
    buf = _array(x, "trunc").buffer
    return _wrap(buf.device.trunc(buf))


def add(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """add(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["add"], x1, x2, "add")


def atan2(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """atan2(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["atan2"], x1, x2, "atan2")


def bitwise_and(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """bitwise_and(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["bitwise_and"], x1, x2, "bitwise_and")


def bitwise_left_shift(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """bitwise_left_shift(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["bitwise_left_shift"], x1, x2, "bitwise_left_shift")


def bitwise_or(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """bitwise_or(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["bitwise_or"], x1, x2, "bitwise_or")


def bitwise_right_shift(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """bitwise_right_shift(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["bitwise_right_shift"], x1, x2, "bitwise_right_shift")


def bitwise_xor(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """bitwise_xor(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["bitwise_xor"], x1, x2, "bitwise_xor")


def copysign(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """copysign(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["copysign"], x1, x2, "copysign")


def divide(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """divide(x1, x2), elementwise with broadcasting; integers divide in the
    default floating dtype (float32), as in PyTorch and JAX."""
    return _pair(BINARY_OPS["divide"], x1, x2, "divide", divide_values)


def equal(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """equal(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["equal"], x1, x2, "equal")


def floor_divide(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """floor_divide(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["floor_divide"], x1, x2, "floor_divide")


def greater(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """greater(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["greater"], x1, x2, "greater")


def greater_equal(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """greater_equal(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["greater_equal"], x1, x2, "greater_equal")


def hypot(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """hypot(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["hypot"], x1, x2, "hypot")


def less(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """less(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["less"], x1, x2, "less")


def less_equal(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """less_equal(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["less_equal"], x1, x2, "less_equal")


def logaddexp(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """logaddexp(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["logaddexp"], x1, x2, "logaddexp")


def logical_and(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """logical_and(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["logical_and"], x1, x2, "logical_and")


def logical_or(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """logical_or(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["logical_or"], x1, x2, "logical_or")


def logical_xor(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """logical_xor(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["logical_xor"], x1, x2, "logical_xor")


def maximum(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """maximum(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["maximum"], x1, x2, "maximum")


def minimum(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """minimum(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["minimum"], x1, x2, "minimum")


def multiply(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """multiply(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["multiply"], x1, x2, "multiply")


def nextafter(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """nextafter(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["nextafter"], x1, x2, "nextafter")


def not_equal(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """not_equal(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["not_equal"], x1, x2, "not_equal")


def pow(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """pow(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["pow"], x1, x2, "pow")


def remainder(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """remainder(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["remainder"], x1, x2, "remainder")


def subtract(x1: NDArray | Scalar, x2: NDArray | Scalar, /) -> NDArray:
    """subtract(x1, x2), elementwise with broadcasting."""
    return _pair(BINARY_OPS["subtract"], x1, x2, "subtract")


def clip(
    x: NDArray,
    /,
    min: NDArray | Scalar | None = None,  # the standard's names
    max: NDArray | Scalar | None = None,
) -> NDArray:
    """x limited to [min, max] (either bound may be None); the result has x's dtype."""
    result = _array(x, "clip")
    if result.dtype.kind not in "iuf" and not dt.is_bfloat16(result.dtype):
        raise TypeError(f"clip: x must be real numeric, got {result.dtype}")
    for bound, name in ((min, "min"), (max, "max")):
        if (
            type(bound) is NDArray
            and dt.result_type_of(result.dtype, bound.dtype) != result.dtype
        ):
            raise TypeError(
                f"clip: {name} of dtype {bound.dtype} would change x's dtype"
            )
    if min is not None:
        result = _pair(BINARY_OPS["maximum"], result, min, "clip")
    if max is not None:
        result = _pair(BINARY_OPS["minimum"], result, max, "clip")
    return result
