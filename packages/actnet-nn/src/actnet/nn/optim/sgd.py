"""SGD: stochastic gradient descent with momentum, dampening, Nesterov, L2 decay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import actnet.tensor as at
from actnet.device import Buffer
from actnet.ndarray import buffer_of, from_buffer
from actnet.nn.optim._fused import fused_batches
from actnet.nn.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_float_params,
    check_implementation,
    check_number,
    label_state,
)
from actnet.tensor import Tensor

# lr, momentum, dampening, weight_decay, nesterov, maximize
_Options: TypeAlias = tuple[float, float, float, float, bool, bool]


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's `torch.optim.SGD`, same algorithm):

        g = -grad if maximize else grad
        g = g + weight_decay * param                      (if weight_decay)
        buf = g at the first step, else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf       (if momentum)
        param = param - lr * g

    The state of a parameter is its "momentum_buffer" (when momentum != 0).
    Parameters and state are updated in place, by the device's fused
    `sgd_update`: one call per device and dtype, one pass per tensor (a gradient
    whose shape, dtype or device is not its parameter's takes the same update
    in separate device operations).

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_implementation(foreach, fused, differentiable)
        check_number(lr, "lr", "learning rate")
        check_number(momentum, "momentum", "momentum value")
        check_number(weight_decay, "weight_decay", "weight_decay value")
        if isinstance(dampening, bool) or not isinstance(dampening, int | float):
            raise TypeError(
                f"dampening must be a float, got {type(dampening).__name__}"
            )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_params(self, params: list[Tensor]) -> None:
        check_float_params(params, "SGD", complex_ok=True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)

    def _update_group(
        self, group: dict[str, Any], work: list[tuple[Tensor, Tensor]]
    ) -> None:
        batches, rest = fused_batches("sgd_update", work)
        if rest:
            super()._update_group(group, rest)
        if not batches:
            return
        options, _ = self._group_options(group)
        lr, momentum, dampening, weight_decay, nesterov, maximize = options
        for (device, _), (params, grads) in batches.items():
            # Every buffer is made writable before any view of it exists.
            buffers = [at.writable_buffer(p) for p in params]
            momentum_buffers: list[Buffer] = []
            first_step: list[bool] = []
            if momentum != 0:
                for p, buf, g in zip(params, buffers, grads, strict=True):
                    held = [buf, g]
                    first_step.append(self._state_buffers(p, held, options))
                    momentum_buffers.append(held[2])
            device.sgd_update(
                buffers,
                grads,
                momentum_buffers,
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
                first_step=first_step,
            )

    def _group_options(self, group: dict[str, Any]) -> tuple[_Options, int]:
        options = (
            float(group["lr"]),
            float(group["momentum"]),
            float(group["dampening"]),
            float(group["weight_decay"]),
            bool(group["nesterov"]),
            bool(group["maximize"]),
        )
        _, _, _, weight_decay, nesterov, maximize = options
        if maximize or weight_decay != 0 or nesterov:
            return options, 2  # block by block, with two temporaries
        # buf = momentum * buf + (1 - dampening) * g; param += -lr * buf (or g):
        # whole buffers, no scratch; add_scaled is one fused pass where the
        # device has one (BLAS's axpy), as PyTorch's add_(alpha=) is
        return options, 0

    def _state_buffers(
        self, p: Tensor, buffers: list[Buffer], options: _Options
    ) -> bool:
        """Appends the momentum_buffer (none without momentum); True on its first
        step (the update then copies the gradient into it)."""
        if options[1] == 0:
            return False
        state = self.state[p]
        buf_t: Tensor | None = state.get("momentum_buffer")
        if buf_t is not None:
            buffers.append(at.writable_buffer(buf_t))
            return False
        grad = buffers[1]
        buf_t = at.as_tensor(from_buffer(grad.device.alloc(grad.shape, grad.dtype)))
        label_state(buf_t, "SGD.momentum_buffer")
        state["momentum_buffer"] = buf_t
        buffers.append(buffer_of(buf_t.array))
        return True

    def _update_block(
        self,
        buffers: list[Buffer],
        scratch: Sequence[Buffer],
        options: _Options,
        first: bool,
    ) -> None:
        lr, momentum, dampening, weight_decay, nesterov, maximize = options
        param, g = buffers[0], buffers[1]
        device = param.device
        if scratch:  # maximize, weight decay or Nesterov: two temporaries
            s2, s1 = scratch
            if maximize:
                device.negative(g, out=s1)
                g = s1
            if weight_decay != 0:
                device.multiply(param, weight_decay, out=s2)
                device.add(g, s2, out=s1)
                g = s1
        if momentum != 0:
            buf = buffers[2]
            if first:  # the buffer starts as the gradient
                device.copy(g, out=buf)
            else:
                device.multiply(buf, momentum, out=buf)
                if not scratch:  # whole buffers: one fused pass
                    device.add_scaled(buf, g, 1 - dampening, out=buf)
                elif dampening != 0:
                    device.multiply(g, 1 - dampening, out=s2)
                    device.add(buf, s2, out=buf)
                else:
                    device.add(buf, g, out=buf)
            if nesterov:
                device.multiply(buf, momentum, out=s2)
                device.add(g, s2, out=s1)
                g = s1
            else:
                g = buf
        device.add_scaled(param, g, -lr, out=param)
