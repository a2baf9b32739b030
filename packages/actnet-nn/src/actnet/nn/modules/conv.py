"""Conv1d, Conv2d, ConvTranspose1d and ConvTranspose2d (torch.nn's, with its
arguments, initialisation and repr)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import actnet.ndarray as xp
import actnet.neuron as F
from actnet.nn._module import Module
from actnet.nn._parameter import Parameter
from actnet.nn.modules._utils import (
    check_bool,
    check_int,
    new_parameter,
    ntuple,
    reset_linear_parameters,
)
from actnet.tensor import Tensor, as_tensor

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolutions share: weight (out_channels, in_channels / groups,
    *kernel_size) (transposed: (in_channels, out_channels / groups,
    *kernel_size)) and bias (out_channels,), both from U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) with fan_in = weight.shape[1] * prod(kernel_size), i.e.
    in_channels / groups * prod(kernel_size) (transposed: out_channels / groups
    * ...) (PyTorch's kaiming_uniform_ with a = sqrt(5)).

    padding is ints, 'valid' (none) or 'same' (output as long as the input;
    stride 1 only). padding_mode 'zeros' pads with zeros; 'reflect',
    'replicate' and 'circular' pad the input first (reflect: mirrored without
    the edge; replicate: the edge repeated; circular: wrapped around), then
    convolve unpadded, as PyTorch does.
    """

    in_channels: int
    out_channels: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: str | tuple[int, ...]
    dilation: tuple[int, ...]
    output_padding: tuple[int, ...]
    transposed: bool
    groups: int
    padding_mode: str
    weight: Parameter
    bias: Parameter | None
    _pads: tuple[tuple[int, int], ...]  # (before, after) per spatial dim

    def __init__(
        self,
        n: int,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        groups: int,
        bias: bool,
        padding_mode: str,
        device: Any,
        dtype: Any,
        *,
        output_padding: Any = 0,
        transposed: bool = False,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_int(in_channels, name, "in_channels")
        check_int(out_channels, name, "out_channels")
        check_int(groups, name, "groups", minimum=None)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        kernel = ntuple(kernel_size, n, name, "kernel_size", minimum=1)
        strides = ntuple(stride, n, name, "stride", minimum=1)
        dilations = ntuple(dilation, n, name, "dilation", minimum=1)
        pads: str | tuple[int, ...]
        if isinstance(padding, str) and not transposed:
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of "
                    "{'same', 'valid'}"
                )
            if padding == "same" and any(s != 1 for s in strides):
                raise ValueError(
                    "padding='same' is not supported for strided convolutions"
                )
            pads = padding
        else:
            pads = ntuple(padding, n, name, "padding")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                f"padding_mode='{padding_mode}'"
            )
        check_bool(bias, name, "bias")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel
        self.stride = strides
        self.padding = pads
        self.dilation = dilations
        self.output_padding = ntuple(output_padding, n, name, "output_padding")
        self.transposed = transposed
        self.groups = groups
        self.padding_mode = padding_mode
        self._pads = _explicit_pads(pads, kernel, dilations)
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel)
        else:
            shape = (out_channels, in_channels // groups, *kernel)
        self.weight = new_parameter(shape, device, dtype)
        if bias:
            self.bias = new_parameter((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_linear_parameters(self.weight, self.bias)

    def _padded(self, input: Tensor) -> Tensor:
        """input with padding_mode's padding on its trailing (spatial) dims."""
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{type(self).__name__}: input must be a Tensor, got "
                f"{type(input).__name__}"
            )
        n = len(self.kernel_size)
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(
                f"{type(self).__name__}: expected a {n + 1}-d (unbatched) or "
                f"{n + 2}-d (batched) input, got shape {input.shape}"
            )
        for i, (before, after) in enumerate(self._pads):
            dim = input.ndim - n + i
            index = _pad_index(
                input.shape[dim], before, after, self.padding_mode, dim, input
            )
            if index is not None:
                input = F.index_select(input, dim, as_tensor(index))
        return input

    def _conv(self, input: Tensor) -> Tensor:
        conv = F.conv1d if len(self.kernel_size) == 1 else F.conv2d
        if self.padding_mode != "zeros":
            return conv(
                self._padded(input),
                self.weight,
                self.bias,
                self.stride,
                0,
                self.dilation,
                self.groups,
            )
        return conv(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )

    def forward(self, input: Tensor) -> Tensor:
        return self._conv(input)

    def extra_repr(self) -> str:
        n = len(self.kernel_size)
        s = (
            f"{self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}"
        )
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


def _explicit_pads(
    padding: str | tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial dim: 'same' puts the odd one after, as
    PyTorch does."""
    if padding == "valid":
        return tuple((0, 0) for _ in kernel)
    if padding == "same":
        pads = []
        for k, d in zip(kernel, dilation, strict=True):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    assert not isinstance(padding, str)
    return tuple((p, p) for p in padding)


def _pad_index(
    size: int, before: int, after: int, mode: str, dim: int, input: Tensor
) -> xp.NDArray | None:
    """The positions along a dim of `size` that make its padded version (None
    when there is nothing to pad)."""
    if before == 0 and after == 0:
        return None
    if size == 0:
        raise ValueError(
            f"padding_mode={mode!r} needs a non-empty input, dim {dim} is empty"
        )
    if mode == "reflect" and max(before, after) >= size:
        raise ValueError(
            f"padding_mode='reflect': padding ({before}, {after}) must be less than "
            f"the size {size} of input dim {dim}"
        )
    if mode == "circular" and max(before, after) > size:
        raise ValueError(
            f"padding_mode='circular': padding ({before}, {after}) wraps around more "
            f"than once (input dim {dim} has size {size})"
        )
    positions = xp.arange(-before, size + after, dtype=xp.int64, device=input.device)
    if mode == "replicate":
        return xp.clip(positions, min=0, max=size - 1)
    if mode == "circular":
        return xp.remainder(positions, size)
    # reflect: -1 -> 1, size -> size - 2 (the edge itself is not repeated)
    mirrored = xp.abs(positions)
    return (size - 1) - xp.abs((size - 1) - mirrored)


class Conv1d(_ConvNd):
    """1-d convolution (cross-correlation) of (N, C_in, L) or (C_in, L) inputs.

    >>> Conv1d(16, 33, 3, stride=2)(at.randn(20, 16, 50)).shape
    (20, 33, 24)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: str | int | tuple[int] = 0,
        dilation: int | tuple[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: PaddingMode = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            1,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )


class Conv2d(_ConvNd):
    """2-d convolution (cross-correlation) of (N, C_in, H, W) or (C_in, H, W)
    inputs.

    >>> Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2))(
    ...     at.randn(20, 16, 50, 100)).shape
    (20, 33, 28, 100)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: str | int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: PaddingMode = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            2,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share: PyTorch's transposed
    convolution modules (the gradient of Conv{n}d with respect to its input),
    only padding_mode='zeros', and forward(input, output_size=None)."""

    padding: tuple[int, ...]

    def __init__(
        self,
        n: int,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        output_padding: Any,
        groups: int,
        bias: bool,
        dilation: Any,
        padding_mode: str,
        device: Any,
        dtype: Any,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {type(self).__name__}'
            )
        super().__init__(
            n,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            output_padding=output_padding,
            transposed=True,
        )

    def _output_padding(
        self, input: Tensor, output_size: Sequence[int] | None
    ) -> tuple[int, ...]:
        """output_padding, or the one that makes the output `output_size` long
        (its spatial sizes, or the whole shape): PyTorch's choice and messages."""
        if output_size is None:
            return self.output_padding
        n = len(self.kernel_size)
        name = type(self).__name__
        if not isinstance(output_size, Sequence) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in output_size
        ):
            raise TypeError(
                f"{name}: output_size must be a sequence of ints, got {output_size!r}"
            )
        leading = 2 if input.ndim == n + 2 else 1
        sizes = list(output_size)
        if len(sizes) == leading + n:
            sizes = sizes[leading:]
        if len(sizes) != n:
            raise ValueError(
                f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have "
                f"{n} or {leading + n} elements (got {len(sizes)})"
            )
        spatial = input.shape[input.ndim - n :]
        smallest = [
            (m - 1) * s - 2 * p + d * (k - 1) + 1
            for m, s, p, d, k in zip(
                spatial,
                self.stride,
                self.padding,
                self.dilation,
                self.kernel_size,
                strict=True,
            )
        ]
        largest = [a + s - 1 for a, s in zip(smallest, self.stride, strict=True)]
        for size, low, high in zip(sizes, smallest, largest, strict=True):
            if not low <= size <= high:
                raise ValueError(
                    f"requested an output size of {sizes}, but valid sizes range "
                    f"from {smallest} to {largest} (for an input of {spatial})"
                )
        return tuple(size - low for size, low in zip(sizes, smallest, strict=True))

    def forward(
        self, input: Tensor, output_size: Sequence[int] | None = None
    ) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{type(self).__name__}: input must be a Tensor, got "
                f"{type(input).__name__}"
            )
        conv = F.conv_transpose1d if len(self.kernel_size) == 1 else F.conv_transpose2d
        return conv(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution of (N, C_in, L) or (C_in, L) inputs: Conv1d's
    gradient with respect to its input. Weight (in_channels, out_channels /
    groups, k); forward(input, output_size=None) picks the output_padding that
    gives `output_size` (torch's).

    >>> ConvTranspose1d(16, 33, 3, stride=2)(at.randn(20, 16, 50)).shape
    (20, 33, 101)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] = 0,
        output_padding: int | tuple[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int] = 1,
        padding_mode: Literal["zeros"] = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            1,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            output_padding,
            groups,
            bias,
            dilation,
            padding_mode,
            device,
            dtype,
        )


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution ("deconvolution") of (N, C_in, H, W) or
    (C_in, H, W) inputs: Conv2d's gradient with respect to its input. Weight
    (in_channels, out_channels / groups, kH, kW); the output is (H - 1) * stride
    - 2 * padding + dilation * (kH - 1) + output_padding + 1 high (and likewise
    wide); forward(input, output_size=None) picks the output_padding that gives
    `output_size`, e.g. the size of the input a strided Conv2d was given.

    >>> down = Conv2d(16, 16, 3, stride=2, padding=1)
    >>> up = ConvTranspose2d(16, 16, 3, stride=2, padding=1)
    >>> x = at.randn(1, 16, 12, 12)
    >>> up(down(x), output_size=x.shape).shape
    (1, 16, 12, 12)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: Literal["zeros"] = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            2,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            output_padding,
            groups,
            bias,
            dilation,
            padding_mode,
            device,
            dtype,
        )
