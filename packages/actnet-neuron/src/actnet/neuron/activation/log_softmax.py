"""log_softmax: x - log(sum(exp(x))) along a dim."""

from __future__ import annotations

from typing import Any

from actnet.ndarray import from_buffer
from actnet.neuron._arguments import cast, check_dim
from actnet.neuron._checks import check_tensor
from actnet.neuron.activation.softmax import contiguous, implicit_dim
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled


class LogSoftmax(Function):
    """(x - max) - log(sum(exp(x - max))) along dim: exp stays at most 1 and the
    sum at least 1, so neither overflows nor takes the log of 0; one device call
    (`log_softmax`, summed in float64). Backward keeps only the output y:
    grad_x = grad - exp(y) * sum(grad), one device call (`log_softmax_backward`);
    under create_graph, Tensor operations on the output Tensor (which carries
    the graph for double backward)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int) -> Tensor:
        xb = contiguous(x)
        out = as_tensor(from_buffer(xb.device.log_softmax(xb, dim)))
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(out)
            ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (y,) = ctx.saved_tensors
        if is_grad_enabled():  # create_graph: a backward that is differentiable
            return grad - y.exp() * grad.sum(ctx.dim, keepdim=True), None
        yb = contiguous(y)
        grad_x = yb.device.log_softmax_backward(contiguous(grad), yb, ctx.dim)
        return as_tensor(from_buffer(grad_x)), None


def log_softmax(
    input: Tensor,
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
) -> Tensor:
    """log(softmax(input)) along dim, computed stably
    (torch.nn.functional.log_softmax); with dtype, input is converted to it first.

    >>> log_softmax(tensor([0.0, 0.0]), dim=0)
    tensor([-0.6931472, -0.6931472])
    """
    if dtype is not None:
        check_tensor(input, "log_softmax", kinds="biuf")
        input = cast(input, dtype, "log_softmax")
    check_tensor(input, "log_softmax", kinds="f")
    ndim = input.ndim
    if dim is None:
        dim = implicit_dim("log_softmax", ndim, _stacklevel)
    d = check_dim(dim, ndim, "log_softmax")
    if ndim == 0:  # one element along dim 0
        one: Tensor = LogSoftmax.apply(input.reshape(1), 0)
        return one.reshape(())
    if input.shape[d] == 0:
        return input * 1.0  # empty along dim: an empty result, with its graph
    result: Tensor = LogSoftmax.apply(input, d)
    return result
