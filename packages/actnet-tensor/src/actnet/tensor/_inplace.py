"""In-place Tensor methods: copy-on-write over immutable NDArrays.

An in-place method writes into the tensor's own device buffer (through the
device's `out=`) only when nothing else holds that buffer (`sole_buffer`, the
rule of _copy_on_write.py). Otherwise it computes new values and rebinds
`.data`, so no NDArray anyone holds ever changes. Either way the version
counter goes up, which is what backward checks.

When the graph is recorded (the tensor, or an operand, requires grad), an in-place
method is the out-of-place operation with the tensor's history rebased onto it,
as in PyTorch; on a leaf that requires grad it is an error outside no_grad().
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import actnet.ndarray as xp
from actnet.device import Buffer, Generator, default_generator
from actnet.ndarray import NDArray, from_buffer
from actnet.tensor._arithmetic import add, div, mul, sub
from actnet.tensor._copy_on_write import sole_buffer
from actnet.tensor._floating import FLOATING, INEXACT
from actnet.tensor._grad_mode import _state
from actnet.tensor._graph import edge_of, needs_grad
from actnet.tensor._indexing import key_values
from actnet.tensor._math import clamp
from actnet.tensor._promotion import (
    is_scalar,
    numpy_scalar,
    result_dtype,
    scalar_dtype,
)
from actnet.tensor._shape import to
from actnet.tensor._tensor_base import Scalar, TensorBase, _make
from actnet.tensor._views import SetItemBackward, before_write, changed, written

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _rebase(t: Tensor, result: Tensor) -> Tensor:
    """t takes result's values and history (the in-place op, recorded)."""
    if result.shape != t.shape:
        raise RuntimeError(
            f"output with shape {t.shape} doesn't match the broadcast shape "
            f"{result.shape}"
        )
    if result.dtype != t.dtype:
        raise RuntimeError(
            f"result type {result.dtype} can't be cast to {t.dtype} in place"
        )
    t.array = result.array
    t.grad_fn = result.grad_fn
    t._requires_grad = result._requires_grad
    t._output_nr = result._output_nr
    t._version += 1
    written(t)
    return t


def _history(t: Tensor) -> Tensor:
    """A stand-in for t as it was, to be an input of the recorded operation."""
    return _make(t.array, t._requires_grad, t.grad_fn, t._output_nr)


def _operand(t: Tensor, other: Any, op: str) -> Any:
    """other's value (a Buffer or a scalar) in t's dtype, refused when the result
    would need another dtype (as PyTorch refuses)."""
    if isinstance(other, TensorBase):
        target = result_dtype(t.dtype, other.dtype)
        if target != t.dtype:
            raise RuntimeError(f"{op}: result type {target} can't be cast to {t.dtype}")
        data = (
            other.array if other.dtype == t.dtype else xp.astype(other.array, t.dtype)
        )
        return data.buffer
    other = numpy_scalar(other)
    if is_scalar(other):
        target = scalar_dtype(t.dtype, other)
        if target != t.dtype:
            raise RuntimeError(f"{op}: result type {target} can't be cast to {t.dtype}")
        return other
    raise TypeError(
        f"{op}: expected a Tensor or a Python scalar, got {type(other).__name__}"
    )


def _binary_(
    t: Tensor,
    other: Any,
    op: str,
    record: Callable[[Tensor, Any], Tensor],
    device_op: str,
) -> Tensor:
    before_write(t, op)
    if needs_grad(t, other):
        return _rebase(t, record(_history(t), other))
    value = _operand(t, other, op)
    buf = sole_buffer(t)
    if buf is not None and (type(value) is not Buffer or _fits(value.shape, buf.shape)):
        getattr(buf.device, device_op)(buf, value, out=buf)
    else:
        result = record(_make(t.array), other)
        if result.shape != t.shape:
            raise RuntimeError(
                f"output with shape {t.shape} doesn't match the broadcast shape "
                f"{result.shape}"
            )
        t.array = (
            result.array
            if result.dtype == t.dtype
            else xp.astype(result.array, t.dtype)
        )
    return changed(t)


def _fits(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether `shape` broadcasts to exactly `target`."""
    if len(shape) > len(target):
        return False
    return all(
        n in (1, m) for n, m in zip(reversed(shape), reversed(target), strict=False)
    )


# add_scaled's dtypes (actnet.device: BLAS's axpy where it can)
_SCALED: Final = (xp.float32, xp.float64)


def add_(t: Tensor, other: Tensor | Scalar, alpha: Scalar = 1) -> Tensor:
    if alpha != 1:
        if _add_scaled_(t, other, alpha):
            return t
        other = mul(other, alpha) if isinstance(other, TensorBase) else other * alpha
    return _binary_(t, other, "add_", add, "add")


def _owner(b: Buffer) -> Buffer:
    """The buffer owning b's memory (b itself, or the base of the view b)."""
    base = b.base
    return b if base is None else base


def _add_scaled_(t: Tensor, other: Any, alpha: Any) -> bool:
    """t += alpha other as one device pass (`add_scaled`), when nothing is
    recorded and other is a Tensor of t's shape, dtype (float32 or float64) and
    device, alpha a real Python number: the update of `p.data.add_(p.grad,
    alpha=-lr)` in every hand-written training loop. False (nothing done) for
    anything else, which multiplies first."""
    if (
        not isinstance(other, TensorBase)
        or type(alpha) not in (int, float)
        or t.dtype not in _SCALED
        or other.dtype != t.dtype
        or other.shape != t.shape
    ):
        return False
    before_write(t, "add_")
    if needs_grad(t, other):
        return False
    b = other.array.buffer
    if b.device is not t.array.buffer.device:
        return False
    buf = sole_buffer(t)
    if buf is not None and _owner(b) is not _owner(buf):
        buf.device.add_scaled(buf, b, alpha, out=buf)
    else:  # shared, or other shows t's memory: a new buffer
        a = t.array.buffer
        t.array = from_buffer(a.device.add_scaled(a, b, alpha))
    changed(t)
    return True


def mul_(t: Tensor, other: Tensor | Scalar) -> Tensor:
    return _binary_(t, other, "mul_", mul, "multiply")


def div_(t: Tensor, other: Tensor | Scalar) -> Tensor:
    if t.dtype not in INEXACT:
        raise RuntimeError(
            f"div_: result type float can't be cast to {t.dtype} in place"
        )
    return _binary_(t, other, "div_", div, "divide")


def logical_(t: Tensor, result: Tensor, op: str) -> Tensor:
    """t's values replaced by `result`, t's own &, | or ^ with another operand
    (`t |= mask`): bool and integer tensors, whose results need no graph; a
    result of another dtype than t's (an int operand of a bool t) is refused,
    as PyTorch refuses it."""
    if result is NotImplemented:  # from compare, for an operand it does not take
        raise TypeError(f"{op}: unsupported operand for a Tensor of {t.dtype}")
    if result.dtype != t.dtype:
        raise RuntimeError(
            f"result type {result.dtype} can't be cast to the desired output "
            f"type {t.dtype}"
        )
    return copy_(t, result)


def copy_(t: Tensor, src: Tensor | NDArray) -> Tensor:
    """t's values replaced by src's (broadcast, cast to t's dtype)."""
    if type(src) is NDArray:
        src = _make(src)
    if not isinstance(src, TensorBase):
        raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
    before_write(t, "copy_")
    if not _fits(src.shape, t.shape):
        raise RuntimeError(
            f"copy_: source of shape {src.shape} does not broadcast to {t.shape}"
        )
    if needs_grad(t, src):
        return _rebase(t, add(mul(_history(t), 0), to(src, t.device, t.dtype)))
    data = src.array
    if data.dtype != t.dtype:
        data = xp.astype(data, t.dtype)
    if data.device is not t.device:
        data = data.to_device(t.device)
    buf = sole_buffer(t)
    if buf is not None:
        buf.device.copy(data.buffer, out=buf)
    else:
        t.array = xp.asarray(xp.broadcast_to(data, t.shape), copy=True)
    return changed(t)


def fill_(t: Tensor, value: Scalar) -> Tensor:
    before_write(t, "fill_")
    if isinstance(value, TensorBase):
        value = value.item()
    if needs_grad(t):
        filled = _make(xp.full(t.shape, value, dtype=t.dtype, device=t.device))
        return _rebase(t, add(mul(_history(t), 0), filled))
    buf = sole_buffer(t)
    if buf is not None:
        buf.device.full(buf.shape, value, buf.dtype, out=buf)
    else:
        t.array = xp.full(t.shape, value, dtype=t.dtype, device=t.device)
    return changed(t)


def clamp_(t: Tensor, low: Scalar | None, high: Scalar | None) -> Tensor:
    before_write(t, "clamp_")
    if low is None and high is None:
        raise RuntimeError("clamp_: at least one of min and max must be given")
    if needs_grad(t):
        return _rebase(t, clamp(_history(t), low, high))
    buf = sole_buffer(t)
    if buf is not None:
        if low is not None:
            buf.device.maximum(buf, _operand(t, low, "clamp_"), out=buf)
        if high is not None:
            buf.device.minimum(buf, _operand(t, high, "clamp_"), out=buf)
    else:
        t.array = xp.clip(t.array, low, high)
    return changed(t)


def addcmul_(t: Tensor, tensor1: Tensor, tensor2: Tensor, value: Scalar) -> Tensor:
    """t += value * tensor1 * tensor2."""
    with _no_graph_unless(t, tensor1, tensor2):
        product = mul(tensor1, tensor2)
        if value != 1:
            product = mul(product, value)
    return add_(t, product)


def addcdiv_(t: Tensor, tensor1: Tensor, tensor2: Tensor, value: Scalar) -> Tensor:
    """t += value * tensor1 / tensor2."""
    with _no_graph_unless(t, tensor1, tensor2):
        quotient = div(tensor1, tensor2)
        if value != 1:
            quotient = mul(quotient, value)
    return add_(t, quotient)


def lerp_(t: Tensor, end: Tensor, weight: Scalar | Tensor) -> Tensor:
    """t += weight * (end - t)."""
    with _no_graph_unless(t, end, weight):
        step = mul(
            sub(end, _history(t)),
            weight,
        )
    return add_(t, step)


class _no_graph_unless:  # used as a context manager
    """Record the graph only if some operand needs it (a cheap no_grad)."""

    def __init__(self, *operands: Any) -> None:
        self.keep = needs_grad(*operands) if operands else False

    def __enter__(self) -> None:
        self.previous = _state.enabled
        _state.enabled = self.keep

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self.previous


def _random_(t: Tensor, values: Buffer, op: str) -> Tensor:
    before_write(t, op)
    if t.grad_fn is not None and _state.enabled:
        new = _make(from_buffer(values))
        return _rebase(t, add(mul(_history(t), 0), new))
    t.array = from_buffer(values)  # fresh values: the old buffer is simply released
    return changed(t)


def uniform_(t: Tensor, a: float, b: float, generator: Generator | None) -> Tensor:
    gen = default_generator if generator is None else generator
    values = gen.uniform(t.shape, t.dtype, low=a, high=b, device=t.device)
    values.info = ("parameter" if t._requires_grad else "activation", "uniform_")
    return _random_(t, values, "uniform_")


def normal_(t: Tensor, mean: float, std: float, generator: Generator | None) -> Tensor:
    gen = default_generator if generator is None else generator
    values = gen.normal(t.shape, t.dtype, mean=mean, std=std, device=t.device)
    values.info = ("parameter" if t._requires_grad else "activation", "normal_")
    return _random_(t, values, "normal_")


# ---------------------------------------------------------------- t[idx] = v
def _leading_ones(shape: tuple[int, ...]) -> int:
    """How many of shape's first sizes are 1."""
    n = 0
    while n < len(shape) and shape[n] == 1:
        n += 1
    return n


def setitem_(t: Tensor, key: Any, value: Tensor | Scalar) -> None:
    before_write(t, "__setitem__")
    k = key_values(key)
    if isinstance(value, TensorBase) and _leading_ones(value.shape):
        # PyTorch drops a value's leading 1s first (`x[3] = row`, row (1, n))
        value = value.reshape(value.shape[_leading_ones(value.shape) :])
    if isinstance(value, TensorBase):
        target = result_dtype(t.dtype, value.dtype)
        real = value.dtype.kind in "biu" or value.dtype in FLOATING
        if target != t.dtype and not (t.dtype in INEXACT and real):
            raise RuntimeError(f"index_put_: values of {value.dtype} into {t.dtype}")
        v_data: Any = (
            value.array if value.dtype == t.dtype else xp.astype(value.array, t.dtype)
        )
    else:
        v_data = value
    try:
        _write(t, k, value, v_data)
    except ValueError:  # the device's refusal of a value that does not broadcast
        if isinstance(value, TensorBase):
            _refuse_shape(t, k, value)
        raise


def _write(t: Tensor, k: tuple[Any, ...], value: Any, v_data: Any) -> None:
    """t[k] = value (its values `v_data`, in t's dtype)."""
    if needs_grad(t, value):
        old = _history(t)
        data = old.array.at[k].set(v_data)
        edges = (
            (edge_of(old), edge_of(value))
            if isinstance(value, TensorBase)
            else (edge_of(old),)
        )
        value_shape = value.shape if isinstance(value, TensorBase) else ()
        _rebase(t, _make(data, True, SetItemBackward(edges, k, value_shape)))
        return
    buf = sole_buffer(t)
    if buf is not None and all(
        type(i) in (int, slice) or i is None or i is Ellipsis for i in k
    ):
        view = buf[k]
        if type(v_data) is NDArray:
            buf.device.copy(v_data.buffer, out=view)
        else:
            buf.device.full(view.shape, v_data, view.dtype, out=view)
        del view
    else:
        t.array = t.array.at[k].set(v_data)
    changed(t)


def _refuse_shape(t: Tensor, k: tuple[Any, ...], value: Tensor) -> None:
    """PyTorch's RuntimeError for t[k] = value where value's shape does not
    broadcast to t[k]'s (advanced indexing's message, or expand's)."""
    have, want = list(value.shape), list(t.array[k].shape)
    if not all(type(i) in (int, slice) or i is None or i is Ellipsis for i in k):
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {have} cannot be broadcast to "
            f"indexing result of shape {want}"
        ) from None
    if len(have) > len(want):
        raise RuntimeError(
            f"expand({value.type()}{{{have}}}, size={want}): the number of sizes "
            f"provided ({len(want)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(have)})"
        ) from None
    for i in range(-1, -len(have) - 1, -1):
        if have[i] != 1 and have[i] != want[i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({want[i]}) must match the existing "
                f"size ({have[i]}) at non-singleton dimension {len(want) + i}.  "
                f"Target sizes: {want}.  Tensor sizes: {have}"
            ) from None
