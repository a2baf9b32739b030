"""Argument checks shared by the namespace's functions: arrays, axes, devices.

Each check names the function and the argument it refuses, so an error says what
to change. An axis out of range raises `AxisError`, which is both a ValueError
and an IndexError (as NumPy's is): the standard asks for IndexError in some
places, and libraries written against NumPy catch ValueError.
"""

from __future__ import annotations

import builtins
import itertools
import numbers
import operator
from collections.abc import Sequence
from typing import Any

from actnet.device import Device
from actnet.ndarray._array import NDArray

__all__ = [
    "AxisError",
    "array_arg",
    "as_int",
    "broadcast_shapes",
    "common_device",
    "int_arg",
    "normalize_axes",
    "normalize_axis",
    "shape_arg",
]


class AxisError(ValueError, IndexError):
    """An axis argument outside [-ndim, ndim)."""


def array_arg(x: Any, op: str, argument: str = "x") -> NDArray:
    """`x`, after checking it is an NDArray."""
    if type(x) is not NDArray:
        raise TypeError(f"{op}: {argument} must be an NDArray, got {type(x).__name__}")
    return x


def as_int(value: Any) -> int | None:
    """`value` as a Python int when it is an integer, else None (a bool is not).

    Any `numbers.Integral` counts, as in array_api_strict and NumPy: clients pass
    NumPy integers where they computed a size with NumPy (SciPy's stats functions
    broadcast to shapes of np.int64)."""
    if type(value) is int:  # the common case, without the ABC check
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, builtins.bool):
        return operator.index(value)
    return None


def int_arg(value: Any, op: str, argument: str) -> int:
    """`value` as a Python int, after checking it is an integer (`as_int`)."""
    n = as_int(value)
    if n is None:
        raise TypeError(f"{op}: {argument} must be an int, got {value!r}")
    return n


def normalize_axis(axis: Any, ndim: int, op: str, argument: str = "axis") -> int:
    """`axis` as a position in [0, ndim); negative axes count from the end."""
    a = int_arg(axis, op, argument)
    if not -ndim <= a < ndim:
        raise AxisError(
            f"{op}: {argument} {a} is out of range for an array with {ndim} axes"
        )
    return a % ndim


def normalize_axes(
    axis: Any, ndim: int, op: str, argument: str = "axis"
) -> tuple[int, ...]:
    """An int or a tuple of ints as distinct positions in [0, ndim), in the order
    given; a repeated axis is a ValueError."""
    items = axis if isinstance(axis, tuple) else (axis,)
    result = tuple(normalize_axis(a, ndim, op, argument) for a in items)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: {argument} {axis!r} repeats an axis")
    return result


def shape_arg(shape: Any, op: str, argument: str = "shape") -> tuple[int, ...]:
    """`shape` (a tuple or list of ints) as a tuple; extents are not checked."""
    if not isinstance(shape, tuple | list):
        raise TypeError(f"{op}: {argument} must be a tuple of ints, got {shape!r}")
    return tuple(int_arg(n, op, argument) for n in shape)


def common_device(
    arrays: Sequence[NDArray], op: str, names: str | Sequence[str]
) -> Device:
    """The device all `arrays` are on; a ValueError names the first that is not.

    `names` are the arguments' names, or one name for a sequence argument (its
    items are then called name[0], name[1], ...).
    """
    labels = (
        [f"{names}[{i}]" for i in range(len(arrays))]
        if isinstance(names, str)
        else list(names)
    )
    device = arrays[0].device
    for label, a in zip(labels[1:], arrays[1:], strict=True):
        if a.device is not device:
            raise ValueError(
                f"{op}: {label} is on {a.device.name}, {labels[0]} on "
                f"{device.name}; move one to the other's device first "
                "(`Tensor.to`, `NDArray.to_device`)"
            )
    return device


def broadcast_shapes(shapes: Sequence[tuple[int, ...]], op: str) -> tuple[int, ...]:
    """The shape all `shapes` broadcast to, by the standard's rules."""
    result: list[int] = []
    for extents in itertools.zip_longest(*(reversed(s) for s in shapes), fillvalue=1):
        sizes = {n for n in extents if n != 1}
        if len(sizes) > 1:
            raise ValueError(
                f"{op}: shapes {', '.join(map(str, shapes))} do not broadcast together"
            )
        result.append(sizes.pop() if sizes else 1)
    return tuple(reversed(result))
