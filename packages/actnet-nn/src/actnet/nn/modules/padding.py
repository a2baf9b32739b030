"""The padding layers (torch.nn.modules.padding): ReflectionPad, ReplicationPad,
CircularPad, ConstantPad and ZeroPad in 1, 2 and 3 dims, each `F.pad` with its
mode over the last 1, 2 or 3 dims."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import actnet.neuron as F
from actnet.nn._module import Module
from actnet.nn.modules._utils import check_number
from actnet.tensor import Tensor


def _padding(value: Any, dims: int, layer: str) -> tuple[int, ...]:
    """An int (the same on every side) or 2 * dims ints (left, right, top, bottom,
    front, back), as a tuple (PyTorch's _pair, _quadruple, _ntuple(6), checked).
    Negative ints crop, as in F.pad."""
    n = 2 * dims
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = tuple(value)
        if len(items) != n:
            raise ValueError(
                f"{layer}: padding must be an int or {n} ints, got {value!r}"
            )
    else:
        items = (value,) * n
    if not all(isinstance(p, int) and not isinstance(p, bool) for p in items):
        raise TypeError(f"{layer}: padding must be an int or {n} ints, got {value!r}")
    return items


class _PadNd(Module):
    """F.pad(input, padding, mode) of the last `_dims` dims."""

    _mode: ClassVar[str] = "constant"
    _dims: ClassVar[int] = 1
    padding: tuple[int, ...]

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _padding(padding, self._dims, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """(N, C, W) or (C, W) padded by mirroring, without repeating the edge; each
    pad less than the dim's size.

    >>> ReflectionPad1d((3, 1))(at.arange(4.0).reshape(1, 4)).tolist()
    [[3.0, 2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0]]
    """

    _mode = "reflect"
    _dims = 1


class ReflectionPad2d(_PadNd):
    """(N, C, H, W) or (C, H, W) padded by mirroring: (left, right, top, bottom).

    >>> ReflectionPad2d(1)(at.ones(1, 3, 4, 4)).shape
    (1, 3, 6, 6)
    """

    _mode = "reflect"
    _dims = 2


class ReflectionPad3d(_PadNd):
    """(N, C, D, H, W) or (C, D, H, W) padded by mirroring: (left, right, top,
    bottom, front, back).

    >>> ReflectionPad3d(1)(at.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    _mode = "reflect"
    _dims = 3


class ReplicationPad1d(_PadNd):
    """(N, C, W) or (C, W) padded by repeating the edge.

    >>> ReplicationPad1d(2)(at.arange(3.0).reshape(1, 3)).tolist()
    [[0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0]]
    """

    _mode = "replicate"
    _dims = 1


class ReplicationPad2d(_PadNd):
    """(N, C, H, W) or (C, H, W) padded by repeating the edge.

    >>> ReplicationPad2d((1, 1, 2, 0))(at.ones(1, 1, 3, 3)).shape
    (1, 1, 5, 5)
    """

    _mode = "replicate"
    _dims = 2


class ReplicationPad3d(_PadNd):
    """(N, C, D, H, W) or (C, D, H, W) padded by repeating the edge.

    >>> ReplicationPad3d(1)(at.ones(2, 2, 2, 2)).shape
    (2, 4, 4, 4)
    """

    _mode = "replicate"
    _dims = 3


class _CircularPadNd(_PadNd):
    """F.pad(input, padding, "circular"), after PyTorch's check of the input's
    rank: the layer's dims plus one (unbatched) or two."""

    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{type(self).__name__}: input must be a Tensor, got {input!r}"
            )
        if input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(
                f"expected {self._dims + 1}D or {self._dims + 2}D input (got "
                f"{input.ndim}D input)"
            )
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """(N, C, W) or (C, W) padded by wrapping around; each pad at most the dim's
    size.

    >>> CircularPad1d(2)(at.arange(4.0).reshape(1, 4)).tolist()
    [[2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 0.0, 1.0]]
    """

    _dims = 1


class CircularPad2d(_CircularPadNd):
    """(N, C, H, W) or (C, H, W) padded by wrapping around.

    >>> CircularPad2d((1, 1, 2, 0))(at.ones(1, 1, 3, 3)).shape
    (1, 1, 5, 5)
    """

    _dims = 2


class CircularPad3d(_CircularPadNd):
    """(N, C, D, H, W) or (C, D, H, W) padded by wrapping around.

    >>> CircularPad3d(1)(at.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    _dims = 3


class _ConstantPadNd(_PadNd):
    """F.pad(input, padding, "constant", value): any rank of input, the last
    `_dims` dims padded; negative pads crop."""

    value: float

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = check_number(value, type(self).__name__, "value")

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """The last dim padded with `value`.

    >>> ConstantPad1d((3, 1), 3.5)(at.zeros(1, 2)).tolist()
    [[3.5, 3.5, 3.5, 0.0, 0.0, 3.5]]
    """

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """The last two dims padded with `value`: (left, right, top, bottom).

    >>> ConstantPad2d((3, 0, 2, 1), 3.5)(at.zeros(1, 2, 2)).shape
    (1, 5, 5)
    """

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """The last three dims padded with `value`.

    >>> ConstantPad3d(1, 3.5)(at.zeros(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    _dims = 3


class ZeroPad1d(ConstantPad1d):
    """The last dim padded with zeros.

    >>> ZeroPad1d((3, 1))(at.ones(1, 2)).tolist()
    [[0.0, 0.0, 0.0, 1.0, 1.0, 0.0]]
    """

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """The last two dims padded with zeros: (left, right, top, bottom).

    >>> ZeroPad2d((1, 1, 2, 0))(at.ones(1, 1, 3, 3)).shape
    (1, 1, 5, 5)
    """

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """The last three dims padded with zeros.

    >>> ZeroPad3d(1)(at.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
