"""Adamax: Adam over the infinity norm, PyTorch's single-tensor algorithm, on
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
)
from actnet.nn.optim.optimizer import ParamsT, check_number


class _Options(NamedTuple):
    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    maximize: bool


class Adamax(SteppedOptimizer):
    """Adamax (PyTorch's `torch.optim.Adamax`, same algorithm and order of
    operations), at step t:

        g = -grad if maximize else grad
        g = g + weight_decay * param                  (if weight_decay)
        m = lerp(m, g, 1 - beta1)
        u = max(beta2 * u, |g| + eps)
        param -= lr / (1 - beta1**t) * m / u

    The state of a parameter: "step", "exp_avg" (m) and "exp_inf" (u).

    >>> opt = Adamax(model.parameters(), lr=2e-3, betas=(0.9, 0.999))
    """

    _group_defaults: ClassVar[dict[str, Any]] = {"maximize": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
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
            bool(group["maximize"]),
        )
        return options, 2

    def _state_keys(self, options: _Options) -> tuple[str, ...]:
        return ("exp_avg", "exp_inf")

    def _step_values(
        self, state: dict[str, Any], step: float, options: _Options
    ) -> float:
        """The step's learning rate, lr / (1 - beta1**t)."""
        bias_correction: float = 1 - options.beta1**step
        return options.lr / bias_correction

    def _update_block(
        self,
        buffers: list[Buffer],
        scratch: Sequence[Buffer],
        options: _Options,
        extra: float,
    ) -> None:
        param, grad, exp_avg, exp_inf = buffers
        own, tmp = scratch
        device = param.device
        g = gradient(param, grad, own, tmp, options.maximize, options.weight_decay)
        lerp(exp_avg, g, 1 - options.beta1, tmp)
        # torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
        device.multiply(exp_inf, options.beta2, out=exp_inf)
        device.abs(g, out=tmp)
        device.add(tmp, options.eps, out=tmp)
        device.maximum(exp_inf, tmp, out=exp_inf)
        addcdiv(param, exp_avg, exp_inf, -extra, tmp)
