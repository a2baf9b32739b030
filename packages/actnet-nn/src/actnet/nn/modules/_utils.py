"""Constructor arguments of the layers, checked once: the messages name the layer
and the argument (torch.nn.modules.utils' _single and _pair, with checks)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from actnet.nn import init
from actnet.nn._module import Module
from actnet.nn._parameter import Parameter
from actnet.tensor import empty


def check_int(value: Any, layer: str, name: str, minimum: int | None = 0) -> int:
    """value, after checking it is an int (not a bool) of at least `minimum`."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{layer}: {name} must be at least {minimum}, got {value}")
    return value


def check_number(value: Any, layer: str, name: str) -> float:
    """value, after checking it is a real number (not a bool)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be a number, got {value!r}")
    return value


def check_bool(value: Any, layer: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be a bool, got {value!r}")
    return value


def ntuple(
    value: Any, n: int, layer: str, name: str, minimum: int = 0
) -> tuple[int, ...]:
    """An int repeated n times, or a sequence of n ints, as a tuple of ints, each
    at least `minimum` (PyTorch's _single and _pair, checked)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = tuple(value)
        if len(items) != n:
            raise ValueError(
                f"{layer}: {name} must be an int or {n} ints, got {value!r}"
            )
    else:
        items = (value,) * n
    for item in items:
        if not isinstance(item, int) or isinstance(item, bool):
            raise TypeError(
                f"{layer}: {name} must be an int or {n} ints, got {value!r}"
            )
        if item < minimum:
            raise ValueError(
                f"{layer}: {name} must be at least {minimum}, got {value!r}"
            )
    return items


def new_parameter(shape: tuple[int, ...], device: Any, dtype: Any) -> Parameter:
    """An uninitialised Parameter of the shape, on the device, with the dtype
    (float32 when None); the layer's reset_parameters fills it."""
    return Parameter(empty(shape, dtype=dtype, device=device))


def reset_linear_parameters(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's initialisation of Linear and of the convolutions: weight from
    kaiming_uniform_ with a = sqrt(5), whose bound is 1 / sqrt(fan_in)
    (pytorch/pytorch#57109), bias uniform in +-1 / sqrt(fan_in)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def affine_parameters(
    module: Module,
    shape: tuple[int, ...],
    affine: bool,
    bias: bool,
    device: Any,
    dtype: Any,
) -> None:
    """A normalization layer's `weight` and `bias` of `shape` (None when not
    affine, `bias` None when not bias), registered in PyTorch's order."""
    if affine:
        module.weight = new_parameter(shape, device, dtype)
        if bias:
            module.bias = new_parameter(shape, device, dtype)
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def reset_affine(module: Module) -> None:
    """A normalization layer's identity transform: weight ones, bias zeros."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)
