"""RAdam: Adam with the variance of its adaptive learning rate rectified,
PyTorch's single-tensor algorithm, on device buffers, in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

from actnet.device import Buffer
from actnet.nn.optim._stepped import (
    SteppedOptimizer,
    check_betas,
    gradient,
    lerp,
    moving_square,
)
from actnet.nn.optim.optimizer import ParamsT, check_number


class _Options(NamedTuple):
    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    decoupled_weight_decay: bool
    maximize: bool


class _StepValues(NamedTuple):
    bias_correction1: float
    bias_correction2_sqrt: float
    rect: float | None  # None: the plain momentum step (rho_t <= 5)


class RAdam(SteppedOptimizer):
    """RAdam (PyTorch's `torch.optim.RAdam`, same algorithm and order of
    operations), at step t:

        g = -grad if maximize else grad
        param *= 1 - lr * weight_decay                (decoupled_weight_decay)
        g = g + weight_decay * param                  (otherwise, if weight_decay)
        m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        param -= m / (1 - beta1**t) * lr * adaptive * rect    (if rho_t > 5)
        param -= m / (1 - beta1**t) * lr                      (otherwise)

    where adaptive = sqrt(1 - beta2**t) / (sqrt(v) + eps) and
    rect = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t)).
    The state of a parameter: "step", "exp_avg" (m) and "exp_avg_sq" (v).

    >>> opt = RAdam(model.parameters(), lr=1e-3, weight_decay=1e-2,
    ...             decoupled_weight_decay=True)
    """

    _group_defaults: ClassVar[dict[str, Any]] = {
        "maximize": False,
        "decoupled_weight_decay": False,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_number(lr, "lr", "learning rate")
        check_number(eps, "eps", "epsilon value")
        betas = check_betas(betas)
        check_number(weight_decay, "weight_decay", "weight_decay value")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _group_options(self, group: dict[str, Any]) -> tuple[_Options, int]:
        beta1, beta2 = (float(b) for b in group["betas"])
        options = _Options(
            float(group["lr"]),
            beta1,
            beta2,
            float(group["eps"]),
            float(group["weight_decay"]),
            bool(group["decoupled_weight_decay"]),
            bool(group["maximize"]),
        )
        return options, 3

    def _state_keys(self, options: _Options) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def _step_values(
        self, state: dict[str, Any], step: float, options: _Options
    ) -> _StepValues:
        """The step's scalars (PyTorch's Python floats, in its order)."""
        beta1, beta2 = options.beta1, options.beta2
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        rect = None
        if rho_t > 5.0:
            rect = (
                (rho_t - 4)
                * (rho_t - 2)
                * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            ) ** 0.5
        return _StepValues(bias_correction1, bias_correction2**0.5, rect)

    def _update_block(
        self,
        buffers: list[Buffer],
        scratch: Sequence[Buffer],
        options: _Options,
        extra: _StepValues,
    ) -> None:
        param, grad, exp_avg, exp_avg_sq = buffers
        own, update, adaptive = scratch
        device = param.device
        decoupled = options.decoupled_weight_decay
        coupled_decay = 0.0 if decoupled else options.weight_decay
        g = gradient(param, grad, own, update, options.maximize, coupled_decay)
        if decoupled and options.weight_decay != 0:
            device.multiply(param, 1 - options.lr * options.weight_decay, out=param)
        lerp(exp_avg, g, 1 - options.beta1, update)
        moving_square(exp_avg_sq, g, options.beta2, update)
        # update = exp_avg / bias_correction1 * lr (* adaptive * rect)
        device.divide(exp_avg, extra.bias_correction1, out=update)
        device.multiply(update, options.lr, out=update)
        if extra.rect is not None:
            # bias_correction2**0.5 / (sqrt(v) + eps): PyTorch's float / tensor
            # is tensor.reciprocal() * float
            device.sqrt(exp_avg_sq, out=adaptive)
            device.add(adaptive, options.eps, out=adaptive)
            device.reciprocal(adaptive, out=adaptive)
            device.multiply(adaptive, extra.bias_correction2_sqrt, out=adaptive)
            device.multiply(update, adaptive, out=update)
            device.multiply(update, extra.rect, out=update)
        device.subtract(param, update, out=param)  # param.add_(update, alpha=-1)
