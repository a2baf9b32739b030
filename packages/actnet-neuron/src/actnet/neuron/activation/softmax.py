"""softmax: exp(x) / sum(exp(x)) along a dim."""

from __future__ import annotations

import warnings
from typing import Any

from actnet.device import Buffer
from actnet.ndarray import buffer_of, from_buffer
from actnet.neuron._arguments import cast, check_dim
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled


def contiguous(t: Tensor) -> Buffer:
    """The device buffer of t's values, contiguous: the device's compiled softmax
    kernels read rows of contiguous memory (a transposed input, or a broadcast
    gradient, would take the slower reference kernel)."""
    buf = buffer_of(t.array)
    return buf if buf.is_contiguous else buf.device.copy(buf)


class Softmax(Function):
    """exp(x - max) / sum(exp(x - max)) along dim: subtracting the max keeps exp
    at most 1, so nothing overflows; one device call (`softmax`, summed in
    float64). Backward keeps only the output y: grad_x = y * (grad - sum(grad *
    y)), one device call (`softmax_backward`); under create_graph, Tensor
    operations on the output Tensor (which carries the graph for double
    backward)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int) -> Tensor:
        xb = contiguous(x)
        out = as_tensor(from_buffer(xb.device.softmax(xb, dim)))
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(out)
            ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (y,) = ctx.saved_tensors
        if is_grad_enabled():  # create_graph: a backward that is differentiable
            gy = grad * y
            return gy - y * gy.sum(ctx.dim, keepdim=True), None
        yb = contiguous(y)
        grad_x = yb.device.softmax_backward(contiguous(grad), yb, ctx.dim)
        return as_tensor(from_buffer(grad_x)), None


def implicit_dim(op: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy choice when no dim is given (0 for 0-, 1- and 3-d inputs,
    else 1), with its deprecation warning."""
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(
    input: Tensor,
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
) -> Tensor:
    """exp(input) / sum(exp(input)) along dim (torch.nn.functional.softmax); with
    dtype, input is converted to it first.

    >>> softmax(tensor([1000.0, 1000.0]), dim=0)  # exp(1000) would overflow
    tensor([0.5, 0.5])
    """
    if dtype is not None:
        check_tensor(input, "softmax", kinds="biuf")
        input = cast(input, dtype, "softmax")
    check_tensor(input, "softmax", kinds="f")
    ndim = input.ndim
    if dim is None:
        dim = implicit_dim("softmax", ndim, _stacklevel)
    d = check_dim(dim, ndim, "softmax")
    if ndim == 0:  # one element along dim 0
        one: Tensor = Softmax.apply(input.reshape(1), 0)
        return one.reshape(())
    if input.shape[d] == 0:
        return input * 1.0  # empty along dim: an empty result, with its graph
    result: Tensor = Softmax.apply(input, d)
    return result
