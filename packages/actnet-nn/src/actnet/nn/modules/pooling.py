"""MaxPool2d and AvgPool2d (torch.nn's; the arguments are kept as given, so the
repr reads as PyTorch's)."""

from __future__ import annotations

from typing import Any

import actnet.neuron as F
from actnet.nn._module import Module
from actnet.nn.modules._utils import check_bool, check_int, ntuple
from actnet.tensor import Tensor


def _check_window(value: Any, layer: str, name: str, minimum: int) -> Any:
    """An int or a pair of ints (at least `minimum`), kept as given."""
    ntuple(value, 2, layer, name, minimum=minimum)
    return value


class MaxPool2d(Module):
    """The maximum over each kernel_size window of (N, C, H, W) or (C, H, W);
    stride defaults to kernel_size, padding counts as -inf (at most half the
    kernel). With return_indices, forward returns (output, indices), the flat
    h * W + w position of each maximum.

    >>> MaxPool2d(3, stride=2)(at.randn(20, 16, 50, 32)).shape
    (20, 16, 24, 15)
    """

    kernel_size: Any
    stride: Any
    padding: Any
    dilation: Any
    return_indices: bool
    ceil_mode: bool

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _check_window(kernel_size, name, "kernel_size", 1)
        self.stride = (
            kernel_size if stride is None else _check_window(stride, name, "stride", 1)
        )
        self.padding = _check_window(padding, name, "padding", 0)
        self.dilation = _check_window(dilation, name, "dilation", 1)
        self.return_indices = check_bool(return_indices, name, "return_indices")
        self.ceil_mode = check_bool(ceil_mode, name, "ceil_mode")

    def forward(self, input: Tensor) -> Any:
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, "
            f"ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """The mean over each kernel_size window of (N, C, H, W) or (C, H, W);
    stride defaults to kernel_size; zero padding (at most half the kernel) is
    counted in the divisor when count_include_pad; divisor_override replaces
    the divisor.

    >>> AvgPool2d((3, 2), stride=(2, 1))(at.randn(20, 16, 50, 32)).shape
    (20, 16, 24, 31)
    """

    kernel_size: Any
    stride: Any
    padding: Any
    ceil_mode: bool
    count_include_pad: bool
    divisor_override: int | None

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _check_window(kernel_size, name, "kernel_size", 1)
        self.stride = (
            kernel_size if stride is None else _check_window(stride, name, "stride", 1)
        )
        self.padding = _check_window(padding, name, "padding", 0)
        self.ceil_mode = check_bool(ceil_mode, name, "ceil_mode")
        self.count_include_pad = check_bool(
            count_include_pad, name, "count_include_pad"
        )
        if divisor_override is not None:
            check_int(divisor_override, name, "divisor_override", minimum=1)
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}"
        )
