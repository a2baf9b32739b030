"""`Tensor(...)`: PyTorch's legacy constructor, what older model code (and
pytorch/examples' generate.py) calls: `Tensor(data)` copies nested sequences or
an array as float32 (the default dtype: set_default_dtype), `Tensor(*sizes)`
is an uninitialised float32 tensor of that shape, `Tensor()` an empty one. The
factories (`tensor`, `empty`, ...) are the way to write new code."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

import actnet.ndarray as xp
from actnet.device import Device
from actnet.ndarray import NDArray
from actnet.tensor._default_dtype import get_default_dtype
from actnet.tensor._saved import leaf
from actnet.tensor._tensor_base import TensorBase

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _is_size(value: object) -> builtins.bool:
    return isinstance(value, builtins.int | np.integer) and not isinstance(
        value, builtins.bool
    )


def construct(args: tuple[Any, ...], device: Device | str | None) -> Tensor:
    """The float32 (default dtype) leaf that `torch.Tensor(*args, device=device)`
    makes."""
    if args and builtins.all(_is_size(a) for a in args):
        shape = tuple(builtins.int(a) for a in args)
        if builtins.any(n < 0 for n in shape):
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {min(shape)}: "
                f"{list(shape)}"
            )
        return leaf(
            xp.empty(shape, dtype=get_default_dtype(), device=device), False, "Tensor"
        )
    if not args:
        return leaf(
            xp.empty((0,), dtype=get_default_dtype(), device=device), False, "Tensor"
        )
    if len(args) > 1:
        raise TypeError(
            "new(): a Tensor is made from one sequence of data or from ints "
            f"(its size), got {', '.join(type(a).__name__ for a in args)}"
        )
    (data,) = args
    if isinstance(data, TensorBase):
        raise TypeError(
            "Tensor(tensor) would share the tensor's memory, which actnet's "
            "Tensor(...) does not do: use tensor.float() or tensor.clone()"
        )
    if isinstance(data, str | bytes):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not (
        isinstance(data, list | tuple | np.ndarray | NDArray)
        or hasattr(data, "__array__")
    ):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    values = np.asarray(data, dtype=get_default_dtype())
    return leaf(xp.asarray(values, device=device), False, "Tensor")
