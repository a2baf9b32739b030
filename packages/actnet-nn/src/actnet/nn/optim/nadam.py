"""NAdam: Adam with Nesterov momentum, PyTorch's single-tensor algorithm, on
device buffers, in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

from actnet.device import Buffer
from actnet.nn.optim._stepped import (
    SteppedOptimizer,
    addcdiv,
    check_betas,
    gradient,
    lerp,
    moving_square,
    update_scalar,
)
from actnet.nn.optim.optimizer import ParamsT, check_number


class _Options(NamedTuple):
    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    momentum_decay: float
    decoupled_weight_decay: bool
    maximize: bool


class _StepValues(NamedTuple):
    bias_correction2: float
    grad_value: float  # the addcdiv value of the gradient's term
    exp_avg_value: float  # and of the moving average's


class NAdam(SteppedOptimizer):
    """NAdam (PyTorch's `torch.optim.NAdam`, same algorithm and order of
    operations), at step t:

        g = -grad if maximize else grad
        param *= 1 - lr * weight_decay                (decoupled_weight_decay)
        g = g + weight_decay * param                  (otherwise, if weight_decay)
        mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay))
        mu_product *= mu_t
        m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        param -= lr * (1 - mu_t) / (1 - mu_product) * g / denom
        param -= lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom

    The state of a parameter: "step", "mu_product" (a float32 0-d tensor, as
    PyTorch keeps it), "exp_avg" (m) and "exp_avg_sq" (v).

    >>> opt = NAdam(model.parameters(), lr=2e-3, momentum_decay=4e-3)
    """

    _group_defaults: ClassVar[dict[str, Any]] = {
        "maximize": False,
        "decoupled_weight_decay": False,
    }
    _scalar_state: ClassVar[dict[str, float]] = {"mu_product": 1.0}

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_number(lr, "lr", "learning rate")
        check_number(eps, "eps", "epsilon value")
        betas = check_betas(betas)
        check_number(weight_decay, "weight_decay", "weight_decay value")
        check_number(momentum_decay, "momentum_decay", "momentum_decay value")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
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
            float(group["momentum_decay"]),
            bool(group["decoupled_weight_decay"]),
            bool(group["maximize"]),
        )
        return options, 3

    def _state_keys(self, options: _Options) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def _step_values(
        self, state: dict[str, Any], step: float, options: _Options
    ) -> _StepValues:
        """Updates mu_product; the step's scalars (PyTorch's Python floats)."""
        lr, beta1 = options.lr, options.beta1
        bias_correction2 = 1 - options.beta2**step
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * options.momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * options.momentum_decay)))
        mu_product = update_scalar(state["mu_product"], mu, add=False)
        mu_product_next = mu_product * mu_next
        return _StepValues(
            bias_correction2,
            -lr * (1.0 - mu) / (1.0 - mu_product),
            (-lr * mu_next) / (1.0 - mu_product_next),
        )

    def _update_block(
        self,
        buffers: list[Buffer],
        scratch: Sequence[Buffer],
        options: _Options,
        extra: _StepValues,
    ) -> None:
        param, grad, exp_avg, exp_avg_sq = buffers
        own, denom, tmp = scratch
        device = param.device
        decoupled = options.decoupled_weight_decay
        coupled_decay = 0.0 if decoupled else options.weight_decay
        g = gradient(param, grad, own, tmp, options.maximize, coupled_decay)
        if decoupled and options.weight_decay != 0:
            device.multiply(param, 1 - options.lr * options.weight_decay, out=param)
        lerp(exp_avg, g, 1 - options.beta1, tmp)
        moving_square(exp_avg_sq, g, options.beta2, tmp)
        device.divide(exp_avg_sq, extra.bias_correction2, out=denom)
        device.sqrt(denom, out=denom)
        device.add(denom, options.eps, out=denom)
        addcdiv(param, g, denom, extra.grad_value, tmp)
        addcdiv(param, exp_avg, denom, extra.exp_avg_value, tmp)
