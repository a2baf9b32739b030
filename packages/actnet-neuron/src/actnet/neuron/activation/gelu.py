"""gelu: x * Phi(x), Phi the standard normal CDF (or its tanh approximation)."""

from __future__ import annotations

from typing import Any, Literal

import actnet.ndarray as xp
from actnet.device import Buffer
from actnet.ndarray import buffer_of, from_buffer
from actnet.neuron._checks import check_tensor
from actnet.neuron.activation.tanh import Tanh
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled

_SQRT1_2 = 0.7071067811865476  # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi): the normal density at 0
_BETA = 0.7978845608028654  # sqrt(2 / pi), the tanh form's scale
_KAPPA = 0.044715  # the tanh form's cubic coefficient

_Approximate = Literal["none", "tanh"]


def contiguous(t: Tensor) -> Buffer:
    """The device buffer of t's values, contiguous: the device's compiled kernels
    read flat memory (a transposed input, or a broadcast gradient, would take
    the slower reference kernel)."""
    buf = buffer_of(t.array)
    return buf if buf.is_contiguous else buf.device.copy(buf)


class GELU(Function):
    """x * Phi(x): Phi(x) = (1 + erf(x / sqrt 2)) / 2, or with approximate="tanh",
    (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2: one device call (`gelu`,
    computed in float64 and rounded once). Backward keeps only the input and is
    one device call (`gelu_backward`); under create_graph, the derivative is a
    Function of its own (GELUDerivative), so that double backward works without
    erf among the Tensor operations."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, approximate: str) -> Tensor:
        xb = contiguous(x)
        mode: _Approximate = "tanh" if approximate == "tanh" else "none"
        out = as_tensor(from_buffer(xb.device.gelu(xb, mode)))
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x)
            ctx.approximate = mode
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        if is_grad_enabled() or grad.dtype != x.dtype or grad.shape != x.shape:
            # create_graph (or an odd gradient): Tensor operations
            slope: Tensor = GELUDerivative.apply(x, ctx.approximate)
            return grad * slope, None
        xb = contiguous(x)
        grad_x = xb.device.gelu_backward(contiguous(grad), xb, ctx.approximate)
        return as_tensor(from_buffer(grad_x)), None


class GELUDerivative(Function):
    """gelu'(x): Phi(x) + x phi(x) (phi the normal density), or for the tanh form
    (1 + t)/2 + x (1 - t^2) u'/2 with u = sqrt(2/pi) (x + k x^3), t = tanh(u).
    Its own backward (gelu'') uses Tensor operations, so any order works."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, approximate: str) -> Tensor:
        data = x.array
        square = data * data
        if approximate == "none":
            cdf = xp.erf(data * _SQRT1_2) * 0.5 + 0.5
            pdf = xp.exp(square * -0.5) * _INV_SQRT_2PI
            out = cdf + data * pdf
        else:
            t = xp.tanh(data * (square * (_BETA * _KAPPA) + _BETA))
            du = square * (3.0 * _BETA * _KAPPA) + _BETA
            out = t * 0.5 + 0.5 + data * 0.5 * (1.0 - t * t) * du
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x)
            ctx.approximate = approximate
        return as_tensor(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        square = x * x
        if ctx.approximate == "none":
            # (Phi + x phi)' = 2 phi + x phi' = phi (2 - x^2)
            pdf = (square * -0.5).exp() * _INV_SQRT_2PI
            return grad * pdf * (2.0 - square), None
        # ((1 + t)/2 + x (1 - t^2) u'/2)' = (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2)
        t: Tensor = Tanh.apply(x * (square * (_BETA * _KAPPA) + _BETA))
        du = square * (3.0 * _BETA * _KAPPA) + _BETA
        ddu = x * (6.0 * _BETA * _KAPPA)
        second = (1.0 - t * t) * (du + x * 0.5 * (ddu - t * du * du * 2.0))
        return grad * second, None


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """input * Phi(input), Phi the standard normal CDF (torch.nn.functional.gelu);
    approximate="tanh" uses 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    >>> gelu(tensor([-1.0, 0.0, 1.0]))
    tensor([-0.15865526,  0.        ,  0.8413447 ])
    """
    check_tensor(input, "gelu", kinds="f")
    if approximate != "none" and approximate != "tanh":
        raise ValueError(
            f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}"
        )
    result: Tensor = GELU.apply(input, approximate)
    return result
