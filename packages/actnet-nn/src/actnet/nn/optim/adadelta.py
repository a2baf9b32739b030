"""Adadelta: PyTorch's single-tensor algorithm, on device buffers, in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

from actnet.device import Buffer
from actnet.nn.optim._stepped import SteppedOptimizer, gradient, moving_square
from actnet.nn.optim.optimizer import ParamsT, check_number


class _Options(NamedTuple):
    lr: float
    rho: float
    eps: float
    weight_decay: float
    maximize: bool


class Adadelta(SteppedOptimizer):
    """Adadelta (PyTorch's `torch.optim.Adadelta`, same algorithm and order of
    operations):

        g = -grad if maximize else grad
        g = g + weight_decay * param                  (if weight_decay)
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        param -= lr * delta

    The state of a parameter: "step", "square_avg" (v) and "acc_delta" (u), made
    on its first step. pytorch/examples' MNIST trains with it (lr=1.0 and a
    StepLR of gamma 0.7).

    >>> opt = Adadelta(model.parameters(), lr=1.0, rho=0.9)
    """

    _group_defaults: ClassVar[dict[str, Any]] = {"maximize": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        check_number(lr, "lr", "learning rate")
        check_number(rho, "rho", "rho value")
        if not rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_number(eps, "eps", "epsilon value")
        check_number(weight_decay, "weight_decay", "weight_decay value")
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _group_options(self, group: dict[str, Any]) -> tuple[_Options, int]:
        options = _Options(
            float(group["lr"]),
            float(group["rho"]),
            float(group["eps"]),
            float(group["weight_decay"]),
            bool(group["maximize"]),
        )
        return options, 4

    def _state_keys(self, options: _Options) -> tuple[str, ...]:
        return ("square_avg", "acc_delta")

    def _update_block(
        self,
        buffers: list[Buffer],
        scratch: Sequence[Buffer],
        options: _Options,
        extra: Any,
    ) -> None:
        param, grad, square_avg, acc_delta = buffers
        own, std, delta, tmp = scratch
        device = param.device
        g = gradient(param, grad, own, tmp, options.maximize, options.weight_decay)
        moving_square(square_avg, g, options.rho, tmp)
        # std = square_avg.add(eps).sqrt_(); delta = acc_delta.add(eps).sqrt_()
        device.add(square_avg, options.eps, out=std)
        device.sqrt(std, out=std)
        device.add(acc_delta, options.eps, out=delta)
        device.sqrt(delta, out=delta)
        # delta.div_(std).mul_(grad)
        device.divide(delta, std, out=delta)
        device.multiply(delta, g, out=delta)
        moving_square(acc_delta, delta, options.rho, tmp)
        device.add_scaled(param, delta, -options.lr, out=param)
