"""linear: input @ weight.T + bias, over any leading batch dims."""

from __future__ import annotations

from typing import Any, Final

import actnet.ndarray as xp
from actnet.device import Buffer, is_bfloat16
from actnet.ndarray import NDArray, buffer_of, from_buffer
from actnet.neuron._checks import check_tensor
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled
from actnet.tensor.amp import autocast_op

_OP = "linear"


class Linear(Function):
    """y = x W^T + b for x (*, in), W (out, in), b (out,). Backward keeps x (for
    W's gradient) and W (for x's), each only when asked, and is written with
    tensor operations (differentiable)."""

    contracts = True  # selective checkpointing's dots_saveable keeps its output

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        weight: Tensor,
        bias: Tensor | None,
    ) -> Tensor:
        if is_bfloat16(input.dtype):
            y = _bfloat16_affine(input, weight, bias)
        else:
            x, w = buffer_of(input.array), buffer_of(weight.array)
            if bias is None:
                y = from_buffer(x.device.matmul(x, w.T))  # a view BLAS reads
            else:  # the bias added to each part of the product while in cache
                y = from_buffer(x.device.matmul_add(x, w.T, buffer_of(bias.array)))
        needs = ctx.needs_input_grad
        if True in needs:  # also when only the bias needs one: backward unpacks two
            ctx.save_for_backward(
                input if needs[1] else None, weight if needs[0] else None
            )
        return as_tensor(y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if not is_grad_enabled():  # no graph to build: the device directly
            return _plain_backward(grad, x, w, needs)
        out_features = grad.shape[-1] if grad.ndim else 1
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = grad @ w
        if needs[1] or needs[2]:
            g2 = grad.reshape(-1, out_features)  # the batch dims as one
            if needs[1]:
                grad_w = g2.T @ x.reshape(-1, x.shape[-1])
            if needs[2]:
                grad_b = g2.sum(0)
        return grad_x, grad_w, grad_b


def _bfloat16_affine(x: Tensor, w: Tensor, b: Tensor | None) -> NDArray:
    """x W^T + b for bfloat16 operands as PyTorch's CPU computes it: products,
    sums and the bias in float32 (every bfloat16 is a float32), rounded to
    bfloat16 once (the product alone would round before the bias is added)."""
    y = xp.astype(x.array, xp.float32) @ xp.astype(w.array, xp.float32).mT
    if b is not None:
        y = y + xp.astype(b.array, xp.float32)
    return xp.astype(y, x.dtype)


# A temporary of the backward; actnet-tensor relabels it ("gradient") when it
# becomes a leaf's `.grad`.
_GRADIENT: Final = ("activation", "linear backward")


def _plain_backward(
    grad: Tensor, x: Tensor | None, w: Tensor | None, needs: tuple[bool, ...]
) -> tuple[Tensor | None, ...]:
    """Linear.backward without graph recording (the usual backward), on device
    buffers: the same products and sum, without the Tensor layer's dispatch."""
    g = buffer_of(grad.array)
    dev = g.device
    products: list[tuple[Buffer, Buffer]] = []
    if needs[0]:
        assert w is not None
        products.append((g, buffer_of(w.array)))
    grad_b = None
    if needs[1] or needs[2]:
        if not g.is_contiguous:  # the batch dims as one: a view needs contiguity
            g = dev.copy(g)
        g2 = g.reshape(-1, g.shape[-1] if g.ndim else 1)
        if needs[1]:
            assert x is not None
            xs = buffer_of(x.array)
            if not xs.is_contiguous:
                xs = dev.copy(xs)
            products.append((g2.T, xs.reshape(-1, xs.shape[-1])))
        if needs[2]:
            grad_b = _result(dev.sum(g2, (0,)))
    # the two products side by side (see Device.matmuls)
    results = iter([_result(r) for r in dev.matmuls(products)])
    grad_x = next(results) if needs[0] else None
    grad_w = next(results) if needs[1] else None
    return grad_x, grad_w, grad_b


def _result(buf: Buffer) -> Tensor:
    buf.info = _GRADIENT
    return as_tensor(from_buffer(buf))


@autocast_op("linear")
def linear(
    input: Tensor,  # torch's names
    weight: Tensor,
    bias: Tensor | None = None,
) -> Tensor:
    """input @ weight.T + bias for input (*, in_features), weight (out_features,
    in_features) and bias (out_features,) (torch.nn.functional.linear).

    >>> w = tensor([[1.0, 0.0], [0.5, 0.5]])
    >>> linear(tensor([[1.0, 2.0]]), w, tensor([0.0, 1.0]))
    tensor([[1. , 2.5]])
    """
    check_tensor(input, _OP, "input", kinds="fc")
    check_tensor(weight, _OP, "weight", kinds="fc")
    if weight.ndim != 2:
        raise ValueError(
            f"{_OP}: weight must be 2-d (out_features, in_features), got shape "
            f"{weight.shape}"
        )
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"{_OP}: input of shape {input.shape} does not fit weight of shape "
            f"{weight.shape}: input's last dim must be in_features = {weight.shape[1]}"
        )
    if weight.dtype != input.dtype:
        raise TypeError(
            f"{_OP}: weight has dtype {weight.dtype}, input has {input.dtype}"
        )
    if bias is not None:
        check_tensor(bias, _OP, "bias", kinds="fc")
        if bias.shape != (weight.shape[0],) or bias.dtype != input.dtype:
            raise ValueError(
                f"{_OP}: bias must be a ({weight.shape[0]},) tensor of {input.dtype}, "
                f"got {bias.shape} of {bias.dtype}"
            )
    result: Tensor = Linear.apply(input, weight, bias)
    return result
