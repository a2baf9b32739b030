"""Special functions and guarded pointwise math: erfinv, lgamma, digamma,
xlogy, logit, nan_to_num, fmod, hypot; and the non-differentiable isclose and
count_nonzero.

Integer and bool inputs of the floating functions are computed in float32, as
in _pointwise.py. The special functions are accurate to float64: lgamma takes
the C library's (Python's math.lgamma, on the host), erfinv the inverse normal
CDF of Wichura's AS241 (Python's statistics.NormalDist, on the host) in the
tails and Newton steps on erf near zero (where (1 + y) / 2 would lose y's low
bits), digamma and its derivative (trigamma, for the backward) a recurrence up
to x >= 10 then the asymptotic series, with the reflection formula below 1/2.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Final

import numpy as np

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._arithmetic import div, mul, rsub
from actnet.tensor._elementary import RemainderBackward, _any_set
from actnet.tensor._floating import INEXACT
from actnet.tensor._graph import Edge, edge_of, needs_grad
from actnet.tensor._math import _float, _InputNode, _OutputNode, clamp, exp, log
from actnet.tensor._math import where as _where
from actnet.tensor._pointwise import _unary, _with_output
from actnet.tensor._promotion import operands, result_dtype
from actnet.tensor._saved import Saved, SavedOutput, SavingNode, activation, label
from actnet.tensor._shape import clone, unbroadcast
from actnet.tensor._tensor_base import Scalar, TensorBase, _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

_HALF_SQRT_PI: Final = math.sqrt(math.pi) / 2.0
_TWO_OVER_SQRT_PI: Final = 2.0 / math.sqrt(math.pi)
_SQRT2: Final = math.sqrt(2.0)
_NORMAL: Final = NormalDist()
# digamma's asymptotic series: B_2k / (2k), k = 1..7
_PSI_SERIES: Final = (
    1.0 / 12,
    -1.0 / 120,
    1.0 / 252,
    -1.0 / 240,
    1.0 / 132,
    -691.0 / 32760,
    1.0 / 12,
)
# trigamma's: B_2k, k = 1..7
_PSI1_SERIES: Final = (
    1.0 / 6,
    -1.0 / 30,
    1.0 / 42,
    -1.0 / 30,
    5.0 / 66,
    -691.0 / 2730,
    7.0 / 6,
)


def _grad(grads: list[Tensor | None]) -> Tensor:
    g = grads[0]
    assert g is not None
    return g


def _check(input: Any, op: str) -> None:
    if not isinstance(input, TensorBase):
        raise TypeError(
            f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}"
        )


def _float64(a: NDArray) -> NDArray:
    return a if a.dtype == xp.float64 else xp.astype(a, xp.float64)


def _host_map(a: NDArray, fn: Any) -> NDArray:
    """fn applied to each element of a (float64, on the host), back on a's device."""
    host = np.asarray(_float64(a))
    with np.errstate(all="ignore"):  # fn handles the edges; the flags are the C's
        mapped = np.frompyfunc(fn, 1, 1)(host).astype(np.float64)
    return xp.asarray(np.asarray(mapped).reshape(host.shape), device=a.device)


# ----------------------------------------------------------------- lgamma
def _lgamma1(x: float) -> float:
    if math.isnan(x) or math.isinf(x):
        return abs(x)
    if x <= 0 and x == math.floor(x):
        return math.inf  # the poles
    try:
        return math.lgamma(x)
    except OverflowError:
        return math.inf


def _lgamma(a: NDArray) -> NDArray:
    return xp.astype(_host_map(a, _lgamma1), a.dtype)


class LgammaBackward(_InputNode):
    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        return (mul(_grad(grads), digamma(self._saved()[0].get(self))),)


def lgamma(input: Tensor) -> Tensor:
    """log |Gamma(input)|, elementwise (inf at the poles 0, -1, -2, ...).

    >>> lgamma(tensor([1.0, 3.0]))
    tensor([0.0000, 0.6931])
    """
    _check(input, "lgamma")
    return _unary(input, _lgamma(_float(input)), "lgamma", LgammaBackward)


# ---------------------------------------------------------------- digamma
def _shift_up(x: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """x moved up to >= 10 by steps of one; with 1/x at each step summed, and
    1/x^2 at each step summed (the recurrences of digamma and trigamma)."""
    first = xp.zeros_like(x)
    second = xp.zeros_like(x)
    for _ in range(10):
        low = x < 10.0
        step = xp.where(low, x, xp.ones_like(x))
        first = first + xp.where(low, 1.0 / step, 0.0)
        second = second + xp.where(low, 1.0 / (step * step), 0.0)
        x = xp.where(low, x + 1.0, x)
    return x, first, second


def _inverse_square(z: NDArray) -> NDArray:
    """1 / z^2, 0 where z^2 would overflow."""
    inv2 = 1.0 / xp.square(xp.minimum(z, 1e100))
    return xp.where(z > 1e100, xp.zeros_like(z), inv2)


def _digamma64(x: NDArray) -> NDArray:
    reflect = x < 0.5
    z = xp.where(reflect, 1.0 - x, x)
    z, first, _ = _shift_up(z)
    inv2 = _inverse_square(z)
    series = xp.zeros_like(z)
    for c in reversed(_PSI_SERIES):
        series = (series + c) * inv2
    psi = xp.log(z) - 0.5 / z - series - first
    # psi(1 - x) - psi(x) = pi / tan(pi x); sin/cos of the reduced argument
    finite = xp.where(xp.isfinite(x), x, xp.zeros_like(x))
    frac = finite - xp.round(finite)
    sine = xp.sin(math.pi * frac)
    sine = xp.where(sine == 0, xp.ones_like(sine), sine)  # the poles: set below
    cot = math.pi * xp.cos(math.pi * frac) / sine
    psi = xp.where(reflect, psi - cot, psi)
    pole = xp.logical_and(x <= 0, x == xp.floor(x))
    psi = xp.where(pole, xp.nan, psi)
    signed_inf = xp.where(xp.signbit(x), xp.full_like(x, xp.inf), -xp.inf)
    psi = xp.where(x == 0, signed_inf, psi)
    psi = xp.where(x == -xp.inf, xp.nan, psi)
    return xp.where(x == xp.inf, xp.inf, psi)


def _trigamma64(x: NDArray) -> NDArray:
    reflect = x < 0.5
    z = xp.where(reflect, 1.0 - x, x)
    z, _, second = _shift_up(z)
    inv2 = _inverse_square(z)
    series = xp.zeros_like(z)
    for c in reversed(_PSI1_SERIES):
        series = (series + c) * inv2
    psi1 = 1.0 / z + 0.5 * inv2 + series / z + second
    # psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x)
    finite = xp.where(xp.isfinite(x), x, xp.zeros_like(x))
    s = xp.sin(math.pi * (finite - xp.round(finite)))
    s = xp.where(s == 0, xp.ones_like(s), s)  # the poles: set below
    psi1 = xp.where(reflect, math.pi**2 / (s * s) - psi1, psi1)
    pole = xp.logical_and(x <= 0, x == xp.floor(x))
    return xp.where(pole, xp.inf, psi1)


def _special(a: NDArray, fn: Any) -> NDArray:
    """fn (a float64 computation) on a, in a's floating dtype."""
    return xp.astype(fn(_float64(a)), a.dtype)


class DigammaBackward(_InputNode):
    """d digamma(x) = trigamma(x) (not recorded: a second derivative there is
    not built)."""

    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        x = self._saved()[0].get(self)
        return (mul(_grad(grads), _make(_special(x.array, _trigamma64))),)


def digamma(input: Tensor) -> Tensor:
    """The logarithmic derivative of Gamma, elementwise (-inf at 0, NaN at the
    negative integers, as PyTorch's).

    >>> digamma(tensor([1.0]))
    tensor([-0.5772])
    """
    _check(input, "digamma")
    values = _special(_float(input), _digamma64)
    return _unary(input, values, "digamma", DigammaBackward)


# ----------------------------------------------------------------- erfinv
def _ndtri_tail1(p: float) -> float:
    """The standard normal quantile of p in (0, 1) (infinite at 0, NaN outside)."""
    if math.isnan(p) or p < 0.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    return _NORMAL.inv_cdf(p)


def _erfinv64(y: NDArray) -> NDArray:
    a = xp.abs(y)
    # |y| >= 1/2: -ndtri((1 - |y|) / 2) / sqrt(2), with 1 - |y| exact
    tail = -_host_map((1.0 - xp.minimum(a, 1.0)) / 2.0, _ndtri_tail1) / _SQRT2
    # |y| < 1/2: Newton on erf(x) = |y| from x = sqrt(pi)/2 |y| (well conditioned)
    small = xp.where(xp.isnan(a), a, xp.minimum(a, 0.5))  # no overflow there
    x = small * _HALF_SQRT_PI
    for _ in range(4):
        x = x - (xp.erf(x) - small) / (_TWO_OVER_SQRT_PI * xp.exp(-x * x))
    x = xp.where(a < 0.5, x, tail)
    x = xp.where(a > 1.0, xp.nan, x)
    return xp.where(xp.signbit(y), -x, x)


class ErfinvBackward(_OutputNode):
    """d erfinv(y) = sqrt(pi) / 2 * exp(erfinv(y)^2)."""

    __slots__ = ()

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        out = self._saved()[0].get(self)
        return (mul(_grad(grads), mul(exp(mul(out, out)), _HALF_SQRT_PI)),)


def erfinv(input: Tensor) -> Tensor:
    """The inverse of erf on (-1, 1), elementwise (+-inf at +-1, NaN outside).

    >>> erfinv(tensor([0.0, 0.5]))
    tensor([0.0000, 0.4769])
    """
    _check(input, "erfinv")
    values = _special(_float(input), _erfinv64)
    return _with_output(input, values, "erfinv", ErfinvBackward)


# ------------------------------------------------------------------ logit
def logit(input: Tensor, eps: builtins.float | None = None) -> Tensor:
    """log(p / (1 - p)), elementwise; with eps, p clamped to [eps, 1 - eps]
    first (and the gradient zero outside, as PyTorch's).

    >>> logit(tensor([0.5, 0.75]))
    tensor([0.0000, 1.0986])
    """
    _check(input, "logit")
    x = input if input.dtype in INEXACT else _make(_float(input))
    if eps is not None:
        x = clamp(x, eps, 1.0 - eps)
    return log(div(x, rsub(x, 1.0)))


# ------------------------------------------------------------------ xlogy
class XlogyBackward(SavingNode):
    """PyTorch's: g * xlogy(x != 0, y) for x, g * x / y for y."""

    __slots__ = ("shapes",)

    def __init__(self, edges: tuple[Edge, ...], x: Tensor, y: Tensor) -> None:
        super().__init__(edges)
        self.saved = (Saved(x), Saved(y))
        self.shapes = (x.shape, y.shape)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = _grad(grads)
        sx, sy = self._saved()
        x, y = sx.get(self), sy.get(self)
        gx = gy = None
        if self.next_edges[0]:
            nonzero = _make(xp.astype(x.array != 0, y.dtype))
            gx = unbroadcast(mul(g, xlogy(nonzero, y)), self.shapes[0])
        if self.next_edges[1]:
            gy = unbroadcast(div(mul(g, x), y), self.shapes[1])
        return gx, gy


def _as_tensor(value: Tensor | Scalar, like: Tensor) -> Tensor:
    if isinstance(value, TensorBase):
        return value
    dtype = like.dtype if like.dtype in INEXACT else xp.float32
    return _make(xp.asarray(value, dtype=dtype, device=like.device))


def xlogy(input: Tensor | Scalar, other: Tensor | Scalar) -> Tensor:
    """input * log(other), elementwise, with 0 where input is 0 (unless other
    is NaN).

    >>> xlogy(tensor([0.0, 2.0]), tensor([0.0, 1.0]))
    tensor([0., 0.])
    """
    if not isinstance(input, TensorBase):
        if not isinstance(other, TensorBase):
            raise TypeError("xlogy(): expected at least one Tensor argument")
        input = _as_tensor(input, other)
    other = _as_tensor(other, input)
    target = result_dtype(input.dtype, other.dtype)
    if target not in INEXACT:
        target = xp.float32
    x = input.array if input.dtype == target else xp.astype(input.array, target)
    y = other.array if other.dtype == target else xp.astype(other.array, target)
    zero = xp.logical_and(x == 0, xp.logical_not(xp.isnan(y)))
    safe = xp.where(zero, xp.ones_like(y), y)
    values = xp.where(zero, xp.zeros_like(x), x * xp.log(safe))
    data = label(values, activation("xlogy"))
    if not needs_grad(input, other):
        return _make(data)
    node = XlogyBackward((edge_of(input), edge_of(other)), input, other)
    return _make(data, True, node)


# ------------------------------------------------------------- nan_to_num
def nan_to_num(
    input: Tensor,
    nan: builtins.float = 0.0,
    posinf: builtins.float | None = None,
    neginf: builtins.float | None = None,
) -> Tensor:
    """input with NaN, +inf and -inf replaced (by default: 0 and the dtype's
    largest and lowest finite values); the gradient flows where it is finite.

    >>> nan_to_num(tensor([float("nan"), 1.0]))
    tensor([0., 1.])
    """
    _check(input, "nan_to_num")
    if input.dtype not in INEXACT:
        return clone(input)
    info = xp.finfo(input.dtype)
    high = builtins.float(info.max) if posinf is None else posinf
    low = builtins.float(info.min) if neginf is None else neginf
    a = input.array
    fill = xp.where(
        xp.isnan(a),
        xp.asarray(nan, dtype=a.dtype, device=a.device),
        xp.where(a > 0, xp.asarray(high, dtype=a.dtype, device=a.device), low),
    )
    return _where(_make(xp.isfinite(a)), input, _make(xp.astype(fill, a.dtype)))


# ------------------------------------------------------------------- fmod
class FmodBackward(RemainderBackward):
    """g for input; -g * trunc(input / other) for other."""

    __slots__ = ()


def fmod(input: Tensor, other: Tensor | Scalar) -> Tensor:
    """C's fmod, elementwise: the remainder has the sign of input.

    >>> fmod(tensor([-3, 3]), 2)
    tensor([-1,  1])
    """
    _check(input, "fmod")
    da, db = operands(input, other, "fmod")
    if da.dtype.kind in "iub":
        zero = db == 0 if type(db) is NDArray else xp.asarray(db == 0)
        if _any_set(zero):
            raise RuntimeError("ZeroDivisionError")
    if da.dtype == xp.bool:
        da = xp.astype(da, xp.int64)
    # |a| mod |b| is exact (NumPy's remainder is fmod for positive operands)
    abs_b = xp.abs(db) if isinstance(db, NDArray) else builtins.abs(db)
    magnitude = xp.remainder(xp.abs(da), abs_b)
    values = xp.where(da < 0, -magnitude, magnitude)
    if values.dtype.kind == "f":
        values = xp.copysign(values, da)
    data = label(values, activation("fmod"))
    if not needs_grad(input, other):
        return _make(data)
    if isinstance(other, TensorBase):
        edges: tuple[Edge, ...] = (edge_of(input), edge_of(other))
        quotient = xp.trunc(da / db) if other._requires_grad else None
        shapes = (input.shape, other.shape)
    else:
        edges, quotient, shapes = (edge_of(input),), None, (input.shape, ())
    return _make(data, True, FmodBackward(edges, quotient, shapes))


# ------------------------------------------------------------------ hypot
class HypotBackward(SavingNode):
    """g * input / out and g * other / out."""

    __slots__ = ("shapes",)

    def __init__(
        self, edges: tuple[Edge, ...], a: Tensor, b: Tensor, out: Tensor
    ) -> None:
        super().__init__(edges)
        self.saved = (Saved(a), Saved(b), SavedOutput(out))
        self.shapes = (a.shape, b.shape)

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = _grad(grads)
        sa, sb, so = self._saved()
        scale = div(g, so.get(self))
        ga = gb = None
        if self.next_edges[0]:
            ga = unbroadcast(mul(scale, sa.get(self)), self.shapes[0])
        if self.next_edges[1]:
            gb = unbroadcast(mul(scale, sb.get(self)), self.shapes[1])
        return ga, gb


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input^2 + other^2), elementwise, without overflow.

    >>> hypot(tensor([3.0]), tensor([4.0]))
    tensor([5.])
    """
    _check(input, "hypot")
    if not isinstance(other, TensorBase):
        raise TypeError(
            f"hypot(): argument 'other' must be Tensor, not {type(other).__name__}"
        )
    target = result_dtype(input.dtype, other.dtype)
    if target not in INEXACT:
        raise NotImplementedError(
            f"\"hypot_cpu\" not implemented for '{_torch_name(target)}'"
        )
    a = input.array if input.dtype == target else xp.astype(input.array, target)
    b = other.array if other.dtype == target else xp.astype(other.array, target)
    out = _make(label(xp.hypot(a, b), activation("hypot")))
    if needs_grad(input, other):
        edges = (edge_of(input), edge_of(other))
        out._requires_grad = True
        out.grad_fn = HypotBackward(edges, input, other, out)
    return out


def _torch_name(dtype: Any) -> str:
    names = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char"}
    names.update({"uint8": "Byte", "bool": "Bool"})
    return names.get(str(dtype), str(dtype))


# ------------------------------------------- isclose, count_nonzero
def isclose(
    input: Tensor,
    other: Tensor,
    rtol: builtins.float = 1e-05,
    atol: builtins.float = 1e-08,
    equal_nan: builtins.bool = False,
) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise (a bool tensor);
    equal infinities are close, NaNs only with equal_nan.

    >>> isclose(tensor([1.0, 2.0]), tensor([1.0, 2.1]))
    tensor([ True, False])
    """
    _check(input, "isclose")
    if not isinstance(other, TensorBase):
        raise TypeError(
            f"isclose(): argument 'other' must be Tensor, not {type(other).__name__}"
        )
    if input.dtype != other.dtype:
        raise RuntimeError(f"{input.dtype} did not match {other.dtype}")
    if rtol < 0:
        raise RuntimeError(
            f"rtol must be greater than or equal to zero, but got {rtol}"
        )
    if atol < 0:
        raise RuntimeError(
            f"atol must be greater than or equal to zero, but got {atol}"
        )
    a, b = input.array, other.array
    same = a == b
    if a.dtype == xp.bool:
        return _make(same)
    if a.dtype not in INEXACT:
        a, b = xp.astype(a, xp.float64), xp.astype(b, xp.float64)
    if equal_nan:
        same = xp.logical_or(same, xp.logical_and(xp.isnan(a), xp.isnan(b)))
    finite = xp.logical_and(xp.isfinite(a), xp.isfinite(b))
    zero = xp.zeros_like(a)  # no inf - inf (an invalid-value warning)
    diff = xp.abs(xp.where(finite, a, zero) - xp.where(finite, b, zero))
    near = xp.logical_and(finite, diff <= atol + rtol * xp.abs(b))
    return _make(xp.logical_or(same, near))


def count_nonzero(
    input: Tensor, dim: builtins.int | Sequence[builtins.int] | None = None
) -> Tensor:
    """The number of nonzero elements (along dim), as int64.

    >>> count_nonzero(tensor([0, 1, 2]))
    tensor(2)
    """
    _check(input, "count_nonzero")
    if dim is None:
        axes: tuple[builtins.int, ...] | None = None
    elif isinstance(dim, builtins.int):
        axes = (_dim(dim, input.ndim),)
    else:
        axes = tuple(_dim(d, input.ndim) for d in dim)
        if len(set(axes)) != len(axes):
            raise RuntimeError("dim appears multiple times in the list of dims")
    flags = xp.astype(input.array != 0, xp.int64)
    return _make(xp.sum(flags, axis=axes))
