"""Adagrad: PyTorch's single-tensor algorithm (dense gradients), on device
buffers, in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

from actnet.device import Buffer
from actnet.nn.optim._stepped import SteppedOptimizer, addcdiv, gradient
from actnet.nn.optim.optimizer import ParamsT, check_number


class _Options(NamedTuple):
    lr: float
    lr_decay: float
    weight_decay: float
    eps: float
    maximize: bool


class Adagrad(SteppedOptimizer):
    """Adagrad (PyTorch's `torch.optim.Adagrad`, same algorithm and order of
    operations), at step t:

        g = -grad if maximize else grad
        g = g + weight_decay * param                  (if weight_decay)
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g
        param -= clr * g / (sqrt(sum) + eps)

    The state of a parameter: "step" and "sum", which starts at
    initial_accumulator_value. As in PyTorch, the constructor makes the state of
    every parameter it is given; a parameter group added later gets its state on
    its first step, starting from the constructor's initial_accumulator_value.

    >>> opt = Adagrad(model.parameters(), lr=1e-2, initial_accumulator_value=0.1)
    """

    _group_defaults: ClassVar[dict[str, Any]] = {"maximize": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_number(lr, "lr", "learning rate")
        check_number(lr_decay, "lr_decay", "lr_decay value")
        check_number(weight_decay, "weight_decay", "weight_decay value")
        check_number(
            initial_accumulator_value,
            "initial_accumulator_value",
            "initial_accumulator_value value",
        )
        check_number(eps, "eps", "epsilon value")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, ("sum",))

    def _initial_value(self, key: str) -> float:
        # PyTorch's lazy start reads the defaults, not the group
        return float(self.defaults["initial_accumulator_value"])

    def _group_options(self, group: dict[str, Any]) -> tuple[_Options, int]:
        options = _Options(
            float(group["lr"]),
            float(group["lr_decay"]),
            float(group["weight_decay"]),
            float(group["eps"]),
            bool(group["maximize"]),
        )
        return options, 3

    def _state_keys(self, options: _Options) -> tuple[str, ...]:
        return ("sum",)

    def _step_values(
        self, state: dict[str, Any], step: float, options: _Options
    ) -> float:
        """The step's learning rate, clr."""
        return options.lr / (1 + (step - 1) * options.lr_decay)

    def _update_block(
        self,
        buffers: list[Buffer],
        scratch: Sequence[Buffer],
        options: _Options,
        extra: float,
    ) -> None:
        param, grad, state_sum = buffers
        own, std, tmp = scratch
        device = param.device
        g = gradient(param, grad, own, tmp, options.maximize, options.weight_decay)
        device.multiply(g, g, out=tmp)  # state_sum.addcmul_(g, g, value=1)
        device.add(state_sum, tmp, out=state_sum)
        device.sqrt(state_sum, out=std)
        device.add(std, options.eps, out=std)
        addcdiv(param, g, std, -extra, tmp)
