"""Creating tensors: from data, filled, ranges, and random (counter-based RNG)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

import actnet.ndarray as xp
from actnet.device import Device, Generator, default_generator, get_device
from actnet.ndarray import NDArray, from_buffer
from actnet.tensor._default_dtype import default_complex, get_default_dtype
from actnet.tensor._promotion import as_dtype
from actnet.tensor._saved import leaf
from actnet.tensor._tensor import Tensor
from actnet.tensor._tensor_base import _make, _shape_args


def _dtype_or(dtype: Any, default: np.dtype[Any] | None) -> np.dtype[Any] | None:
    return default if dtype is None else as_dtype(dtype)


def tensor(
    data: Any,
    *,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A new tensor with a copy of `data` (nested lists, scalars, NumPy arrays,
    NDArrays, Tensors). Python floats become float32 (the default dtype:
    set_default_dtype), ints int64."""
    if isinstance(data, Tensor):
        data = data.array
    elif isinstance(data, Sequence) and not isinstance(data, list | tuple | str):
        data = _elements(data)  # a deque, a range
    target = _dtype_or(dtype, None)
    if target is None and get_default_dtype() != xp.float32:
        target = _python_default(data)
    if type(data) is NDArray:
        values = xp.asarray(data, dtype=target, device=device, copy=True)
    else:
        try:
            values = xp.asarray(data, dtype=target, device=device)
        except TypeError:
            if not isinstance(data, list | tuple):
                raise
            # tensors among the values (`torch.tensor([R])`): a second pass,
            # only for these, so that plain lists pay nothing
            values = xp.asarray(_elements(data), dtype=target, device=device)
        if values.buffer.base is not None:
            values = xp.asarray(values, copy=True)
    return leaf(values, requires_grad, "tensor")


def _elements(data: Sequence[Any]) -> list[Any]:
    """`data` (any sequence: a list, a deque, a range) as nested lists, each
    tensor in it as its value (a 0-d NDArray, which keeps its dtype): torch
    takes one-element tensors among the values (`torch.tensor([R])`)."""
    items: list[Any] = []
    for item in data:
        if isinstance(item, Tensor):
            if item.numel() != 1:
                raise ValueError(
                    "only one element tensors can be converted to Python scalars"
                )
            items.append(xp.reshape(item.detach().array, ()))
        elif isinstance(item, Sequence) and not isinstance(item, str):
            items.append(_elements(item))
        else:
            items.append(item)
    return items


def _python_default(data: Any) -> np.dtype[Any] | None:
    """The default dtype when `data` is Python floats (the default complex when
    it has Python complex numbers) and nothing else but ints and bools; None
    otherwise (the dtype is inferred, as for NumPy data)."""
    kinds: set[type] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif type(item) in (builtins.bool, int, float, complex):
            kinds.add(type(item))
        else:
            return None
    if complex in kinds:
        return default_complex()
    if float in kinds or not kinds:  # an empty sequence: the default too
        return get_default_dtype()
    return None


def as_tensor(
    data: Any, dtype: Any = None, device: Device | str | None = None
) -> Tensor:
    """A tensor over `data` without copying when it is an NDArray (or Tensor) of
    the dtype and device asked for. The tensor shares the memory, not the NDArray
    itself: a later write to `data` (value semantics) copies first, so the tensor
    never sees it. Otherwise a converted copy (torch.as_tensor); a DLPack producer
    (a torch tensor, ...) is copied. This is how Function.forward wraps the
    NDArrays it computes."""
    if isinstance(data, Tensor):
        data = data.array
    if type(data) is NDArray:
        target = _dtype_or(dtype, None)
        if (target is None or target == data.dtype) and (
            device is None or get_device(device) is data.device
        ):
            return _make(from_buffer(data.buffer))
        return _make(xp.asarray(data, dtype=target, device=device))
    return tensor(data, dtype=dtype, device=device)


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor with a copy of a DLPack producer's data (a torch tensor, a NumPy
    array, an NDArray, ...), as torch.from_dlpack reads it; unlike torch's, the
    memory is not shared: a tensor's memory lives in a device arena."""
    return leaf(xp.from_dlpack(ext_tensor), False, "from_dlpack")


def from_numpy(array: np.ndarray[Any, Any]) -> Tensor:
    """A tensor with a copy of a NumPy array (its dtype kept). Unlike PyTorch, the
    memory is not shared: a tensor's memory lives in a device arena."""
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"from_numpy expects a numpy.ndarray, got {type(array).__name__}"
        )
    return leaf(xp.asarray(array), False, "from_numpy")


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    return _shape_args(size)


def zeros(
    *size: Any,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    data = xp.zeros(
        _size(size), dtype=_dtype_or(dtype, get_default_dtype()), device=device
    )
    return leaf(data, requires_grad, "zeros")


def ones(
    *size: Any,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    data = xp.ones(
        _size(size), dtype=_dtype_or(dtype, get_default_dtype()), device=device
    )
    return leaf(data, requires_grad, "ones")


def empty(
    *size: Any,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    data = xp.empty(
        _size(size), dtype=_dtype_or(dtype, get_default_dtype()), device=device
    )
    return leaf(data, requires_grad, "empty")


def full(
    size: Sequence[int],
    fill_value: builtins.bool | complex,
    *,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    target = _dtype_or(dtype, None)
    if target is None and isinstance(fill_value, float):
        target = get_default_dtype()
    elif target is None and isinstance(fill_value, complex):
        target = default_complex()
    data = xp.full(_size(tuple(size)), fill_value, dtype=target, device=device)
    return leaf(data, requires_grad, "full")


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    target = _dtype_or(dtype, None)
    if target is None and any(isinstance(v, float) for v in (start, end, step)):
        target = get_default_dtype()  # torch.arange(0.0, 1.0, 0.1)
    data = xp.arange(start, end, step, dtype=target, device=device)
    return leaf(data, requires_grad, "arange")


def linspace(
    start: float,
    end: float,
    steps: int,
    *,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """`steps` evenly spaced values from start to end, both included (the
    default dtype unless `dtype`; an integer dtype truncates). Computed as
    PyTorch does: the first half from start, the second half back from end.

    >>> linspace(0, 1, 5)
    tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    if type(steps) is not int:
        raise TypeError(f"linspace(): steps must be an int, got {steps!r}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    target = _dtype_or(dtype, get_default_dtype())
    assert target is not None
    work = target if target.kind in "fc" else np.dtype(np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps, dtype=work)
    host = np.where(i < steps // 2, start + i * step, end - (steps - 1 - i) * step)
    data = xp.asarray(host.astype(target), device=device)
    return leaf(data, requires_grad, "linspace")


def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """An n x m (n x n) matrix of ones on the diagonal, zeros elsewhere."""
    for name, value in (("n", n), ("m", m)):
        if value is not None and (type(value) is not int or value < 0):
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    target = _dtype_or(dtype, get_default_dtype())
    data = xp.eye(n, m, dtype=target, device=device)
    return leaf(data, requires_grad, "eye")


def rand(
    *size: Any,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    generator: Generator | None = None,
) -> Tensor:
    """Uniform in [0, 1) from the counter-based generator (default_generator)."""
    gen = default_generator if generator is None else generator
    target = _dtype_or(dtype, get_default_dtype())
    buf = gen.uniform(
        _size(size), target, device=device if device is not None else "cpu"
    )
    return leaf(from_buffer(buf), requires_grad, "rand")


def randn(
    *size: Any,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    generator: Generator | None = None,
) -> Tensor:
    """Standard normal from the counter-based generator (default_generator)."""
    gen = default_generator if generator is None else generator
    target = _dtype_or(dtype, get_default_dtype())
    buf = gen.normal(
        _size(size), target, device=device if device is not None else "cpu"
    )
    return leaf(from_buffer(buf), requires_grad, "randn")


def _like(t: Tensor, dtype: Any, device: Any) -> tuple[tuple[int, ...], Any, Any]:
    if not isinstance(t, Tensor):
        raise TypeError(f"expected a Tensor, got {type(t).__name__}")
    return (
        t.shape,
        (t.dtype if dtype is None else as_dtype(dtype)),
        (t.device if device is None else device),
    )


def zeros_like(
    t: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    shape, d, dev = _like(t, dtype, device)
    return zeros(shape, dtype=d, device=dev, requires_grad=requires_grad)


def ones_like(
    t: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    shape, d, dev = _like(t, dtype, device)
    return ones(shape, dtype=d, device=dev, requires_grad=requires_grad)


def empty_like(
    t: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    shape, d, dev = _like(t, dtype, device)
    return empty(shape, dtype=d, device=dev, requires_grad=requires_grad)


def full_like(
    t: Tensor,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    shape, d, dev = _like(t, dtype, device)
    return full(shape, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


def rand_like(
    t: Tensor,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    generator: Generator | None = None,
) -> Tensor:
    shape, d, dev = _like(t, dtype, device)
    return rand(
        shape, dtype=d, device=dev, requires_grad=requires_grad, generator=generator
    )


def randn_like(
    t: Tensor,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    generator: Generator | None = None,
) -> Tensor:
    shape, d, dev = _like(t, dtype, device)
    return randn(
        shape, dtype=d, device=dev, requires_grad=requires_grad, generator=generator
    )
