"""Tensor.new_zeros, new_ones, new_empty, new_full and new_tensor: new leaves
with another tensor's dtype and device unless told otherwise (PyTorch's
`x.new_zeros(...)`, for code that does not name a device)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import actnet.ndarray as xp
from actnet.device import Device, get_device
from actnet.ndarray import NDArray
from actnet.tensor._promotion import as_dtype, cast_scalar, numpy_scalar
from actnet.tensor._saved import leaf
from actnet.tensor._tensor_base import Scalar, TensorBase, _shape_args

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _like(
    t: Tensor, dtype: Any, device: Device | str | None
) -> tuple[np.dtype[Any], Device]:
    return (
        t.dtype if dtype is None else as_dtype(dtype),
        t.device if device is None else get_device(device),
    )


def new_full(
    t: Tensor,
    size: Sequence[builtins.int],
    fill_value: Scalar,
    *,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """A tensor of `size` filled with fill_value, of t's dtype and device unless
    given."""
    if not isinstance(size, tuple | list):
        raise TypeError(
            "new_full(): argument 'size' must be tuple of ints, not "
            f"{type(size).__name__}"
        )
    target, dev = _like(t, dtype, device)
    value = cast_scalar(numpy_scalar(fill_value), target)
    data = xp.full(_shape_args((size,)), value, dtype=target, device=dev)
    return leaf(data, requires_grad, "new_full")


def _filled(
    op: str,
    t: Tensor,
    size: tuple[Any, ...],
    fill_value: Scalar | None,
    dtype: Any,
    device: Device | str | None,
    requires_grad: builtins.bool,
) -> Tensor:
    target, dev = _like(t, dtype, device)
    shape = _shape_args(size)
    if fill_value is None:
        data = xp.empty(shape, dtype=target, device=dev)
    else:
        data = xp.full(shape, cast_scalar(fill_value, target), dtype=target, device=dev)
    return leaf(data, requires_grad, op)


def new_zeros(
    t: Tensor,
    *size: Any,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Zeros of `size` (ints, or one tuple), of t's dtype and device unless given.

    >>> x.new_zeros(2, 3)  # on x's device, in x's dtype
    """
    return _filled("new_zeros", t, size, 0, dtype, device, requires_grad)


def new_ones(
    t: Tensor,
    *size: Any,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Ones of `size`, of t's dtype and device unless given."""
    return _filled("new_ones", t, size, 1, dtype, device, requires_grad)


def new_empty(
    t: Tensor,
    *size: Any,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """An uninitialised tensor of `size`, of t's dtype and device unless given."""
    return _filled("new_empty", t, size, None, dtype, device, requires_grad)


def new_tensor(
    t: Tensor,
    data: Any,
    *,
    dtype: Any = None,
    device: Device | str | None = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """A copy of `data` (nested lists, scalars, arrays, tensors) in t's dtype and
    on t's device unless given: `x.new_tensor([1.5])` of an int64 x is [1]."""
    target, dev = _like(t, dtype, device)
    if isinstance(data, TensorBase):
        data = data.array
    if type(data) is NDArray:
        values = xp.asarray(xp.astype(data, target), device=dev, copy=True)
    else:
        values = xp.asarray(np.asarray(data).astype(target), device=dev)
    return leaf(values, requires_grad, "new_tensor")
