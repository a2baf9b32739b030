"""The arguments pooling functions share: window sizes and the (C, H, W) form."""

from __future__ import annotations

from typing import Any

from actnet.neuron._checks import check_tensor
from actnet.neuron._windows import int_tuple
from actnet.tensor import Tensor


def pool_arguments(
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    op: str,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """kernel, stride (the kernel when None or empty) and padding as pairs, after
    checking the input is a floating (C, H, W) or (N, C, H, W) tensor and the
    padding at most half the kernel (PyTorch's rule)."""
    check_tensor(input, op, "input", kinds="f")
    if input.ndim not in (3, 4):
        raise ValueError(
            f"{op}: input must be 3-d (C, H, W) or 4-d (N, C, H, W), got shape "
            f"{input.shape}"
        )
    kernel = int_tuple(kernel_size, 2, op, "kernel_size")
    if stride is None or (isinstance(stride, tuple | list) and not stride):
        strides = kernel
    else:
        strides = int_tuple(stride, 2, op, "stride")
    pad = int_tuple(padding, 2, op, "padding")
    if any(p > k // 2 for p, k in zip(pad, kernel, strict=True)):
        raise ValueError(
            f"{op}: padding {pad} must be at most half of kernel_size {kernel}"
        )
    return kernel, strides, pad  # type: ignore[return-value]  # pairs by int_tuple
