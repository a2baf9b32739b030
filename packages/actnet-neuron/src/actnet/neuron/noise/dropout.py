"""dropout: zero elements at random, scale the rest by 1 / (1 - p)."""

from __future__ import annotations

from typing import Any

from actnet.device import Buffer, Generator, default_generator
from actnet.ndarray import from_buffer
from actnet.neuron._checks import check_tensor
from actnet.neuron.activation.gelu import contiguous
from actnet.tensor import Function, Tensor, apply_in_place, as_tensor

_OP = "dropout"


class Dropout(Function):
    """x * keep / (1 - p) with keep ~ Bernoulli(1 - p) from the counter-based
    generator: one device call (`dropout`, which runs Philox in its kernel on
    the generator's next counters and draws `bernoulli(1 - p)`'s very mask).
    Backward keeps the mask as bits (one bit an element, the device's), not the
    input: one device call, through DropoutBackward (differentiable)."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        p: float,
        generator: Generator,
    ) -> Tensor:
        xb = contiguous(input)  # the mask follows x's C order either way
        key, counter = generator.reserve(2 * xb.size)  # 2 words an element
        y, mask = xb.device.dropout(xb, p, key, counter)
        if ctx.needs_input_grad[0]:
            ctx.mask = mask
            ctx.p = p
        return as_tensor(from_buffer(y))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        result: Tensor = DropoutBackward.apply(grad, ctx.mask, ctx.p)
        return result, None, None


class DropoutBackward(Function):
    """grad / (1 - p) where the mask keeps, 0 elsewhere: linear in grad, so its
    backward is itself (any order of derivative works)."""

    @staticmethod
    def forward(ctx: Any, grad: Tensor, mask: Buffer, p: float) -> Tensor:
        gb = contiguous(grad)
        ctx.mask = mask
        ctx.p = p
        return as_tensor(from_buffer(gb.device.dropout_backward(gb, mask, p)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        result: Tensor = DropoutBackward.apply(grad, ctx.mask, ctx.p)
        return result, None, None


def dropout(
    input: Tensor,  # torch's names
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """Each element zeroed with probability `p`, the others scaled by 1 / (1 - p)
    (torch.nn.functional.dropout); `input` itself when not `training` or p == 0.
    With inplace, input itself is overwritten and returned, as in PyTorch (the
    rules of actnet.tensor.apply_in_place).
    The mask comes from `generator` (actnet.device's counter-based default
    generator when None), so a seeded generator repeats it on every device.

    >>> dropout(ones(4), p=0.5, generator=Generator(0))
    tensor([2., 0., 0., 0.])
    """
    check_tensor(input, _OP, kinds="f")
    if not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
        raise ValueError(
            f"{_OP}: dropout probability has to be between 0 and 1, but got {p!r}"
        )
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(
            f"{_OP}: generator must be an actnet.device.Generator, got "
            f"{type(generator).__name__}"
        )
    if not training or p == 0:
        return input
    if p == 1:  # everything dropped: zeros, with a gradient of zeros
        if inplace:
            return apply_in_place(input, lambda x: x * 0.0, "dropout_")
        return input * 0.0
    gen = default_generator if generator is None else generator
    if inplace:
        return apply_in_place(
            input, lambda x: Dropout.apply(x, float(p), gen), "dropout_"
        )
    result: Tensor = Dropout.apply(input, float(p), gen)
    return result
