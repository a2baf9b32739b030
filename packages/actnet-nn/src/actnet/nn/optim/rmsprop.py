"""RMSprop: PyTorch's single-tensor algorithm, on device buffers, in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

from actnet.device import Buffer
from actnet.nn.optim._stepped import (
    SteppedOptimizer,
    addcdiv,
    gradient,
    lerp,
    moving_square,
)
from actnet.nn.optim.optimizer import ParamsT, check_number


class _Options(NamedTuple):
    lr: float
    alpha: float
    eps: float
    weight_decay: float
    momentum: float
    centered: bool
    maximize: bool


class RMSprop(SteppedOptimizer):
    """RMSprop (PyTorch's `torch.optim.RMSprop`, same algorithm and order of
    operations):

        g = -grad if maximize else grad
        g = g + weight_decay * param                  (if weight_decay)
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v) + eps, or, centered:
            g_avg = lerp(g_avg, g, 1 - alpha); avg = sqrt(v - g_avg**2) + eps
        buf = momentum * buf + g / avg; param -= lr * buf   (if momentum > 0)
        param -= lr * g / avg                               (otherwise)

    The state of a parameter: "step", "square_avg" (v), "momentum_buffer" (when
    momentum > 0) and "grad_avg" (centered).

    >>> opt = RMSprop(model.parameters(), lr=1e-2, alpha=0.99, momentum=0.9)
    """

    _group_defaults: ClassVar[dict[str, Any]] = {
        "momentum": 0,
        "centered": False,
        "maximize": False,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_number(lr, "lr", "learning rate")
        check_number(eps, "eps", "epsilon value")
        check_number(momentum, "momentum", "momentum value")
        check_number(weight_decay, "weight_decay", "weight_decay value")
        check_number(alpha, "alpha", "alpha value")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _group_options(self, group: dict[str, Any]) -> tuple[_Options, int]:
        options = _Options(
            float(group["lr"]),
            float(group["alpha"]),
            float(group["eps"]),
            float(group["weight_decay"]),
            float(group["momentum"]),
            bool(group["centered"]),
            bool(group["maximize"]),
        )
        return options, 3

    def _state_keys(self, options: _Options) -> tuple[str, ...]:
        keys: tuple[str, ...] = ("square_avg",)
        if options.momentum > 0:
            keys += ("momentum_buffer",)
        if options.centered:
            keys += ("grad_avg",)
        return keys

    def _update_block(
        self,
        buffers: list[Buffer],
        scratch: Sequence[Buffer],
        options: _Options,
        extra: Any,
    ) -> None:
        param, grad, square_avg = buffers[:3]
        own, avg, tmp = scratch
        device = param.device
        g = gradient(param, grad, own, tmp, options.maximize, options.weight_decay)
        moving_square(square_avg, g, options.alpha, tmp)
        if options.centered:
            grad_avg = buffers[-1]
            lerp(grad_avg, g, 1 - options.alpha, tmp)
            # square_avg.addcmul(grad_avg, grad_avg, value=-1): the same rounding
            device.multiply(grad_avg, grad_avg, out=avg)
            device.subtract(square_avg, avg, out=avg)
            device.sqrt(avg, out=avg)
        else:
            device.sqrt(square_avg, out=avg)
        device.add(avg, options.eps, out=avg)
        if options.momentum > 0:
            buf = buffers[3]
            # buf.mul_(momentum).addcdiv_(g, avg); param.add_(buf, alpha=-lr)
            device.multiply(buf, options.momentum, out=buf)
            device.divide(g, avg, out=tmp)
            device.add(buf, tmp, out=buf)
            device.add_scaled(param, buf, -options.lr, out=param)
        else:
            addcdiv(param, g, avg, -options.lr, tmp)
