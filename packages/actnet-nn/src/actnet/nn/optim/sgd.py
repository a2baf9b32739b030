"""SGD: stochastic gradient descent with momentum, dampening, Nesterov, L2 decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import actnet.tensor as at
from actnet.ndarray import buffer_of, from_buffer
from actnet.nn.optim.optimizer import (
    BLOCK,
    Optimizer,
    ParamsT,
    Scratch,
    blocks,
    check_float_params,
    check_number,
    label,
)
from actnet.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's `torch.optim.SGD`, same algorithm):

        g = -grad if maximize else grad
        g = g + weight_decay * param                      (if weight_decay)
        buf = g at the first step, else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf       (if momentum)
        param = param - lr * g

    The state of a parameter is its "momentum_buffer" (when momentum != 0).
    Parameters and state are updated in place; `-lr * g` and `(1 - dampening) *
    g` are added with the device's `add_scaled` (one fused pass where the device
    has one), as PyTorch's `add_(alpha=)` adds them.

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
    ) -> None:
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

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure()'s
        loss (evaluated first, with the graph recorded) when a closure is given."""
        loss = None
        if closure is not None:
            with at.enable_grad():
                loss = closure()
        with at.no_grad():
            for group in self.param_groups:
                self._update(group)
        return loss

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov = bool(group["nesterov"])
        maximize = bool(group["maximize"])
        work = [(p, p.grad) for p in group["params"] if p.grad is not None]
        if not (maximize or weight_decay != 0 or nesterov):
            # buf = momentum * buf + (1 - dampening) * g; param += -lr * buf (or g):
            # whole buffers, no scratch; add_scaled is one fused pass where the
            # device has one (BLAS's axpy), as PyTorch's add_(alpha=) is
            for p, grad in work:
                self._plain_update(p, grad, lr, momentum, dampening)
            return
        extra = maximize or weight_decay != 0 or nesterov or dampening != 0
        scratch = Scratch(2 if extra else 1)
        for p, _ in work:
            scratch.reserve(buffer_of(p.data), BLOCK)
        for p, grad in work:
            # Every buffer is made writable before any view of it exists.
            operands = [at.writable_buffer(p), buffer_of(grad.data)]
            first = False
            if momentum != 0:
                state = self.state[p]
                buf_t: Tensor | None = state.get("momentum_buffer")
                if buf_t is None:  # the first step: it starts as the gradient
                    first = True
                    g0 = operands[1]
                    empty = g0.device.alloc(g0.shape, g0.dtype)
                    buf_t = at.as_tensor(from_buffer(empty))
                    del empty
                    label(buf_t, "SGD.momentum_buffer")
                    state["momentum_buffer"] = buf_t
                    operands.append(buffer_of(buf_t.data))
                else:
                    operands.append(at.writable_buffer(buf_t))
                del buf_t
            for block in blocks(operands):
                param, g = block[0], block[1]
                device = param.device
                views = scratch.views(param)
                s1, s2 = views[-1], views[0]  # one buffer when s1 is not needed
                if maximize:
                    device.negative(g, out=s1)
                    g = s1
                if weight_decay != 0:
                    device.multiply(param, weight_decay, out=s2)
                    device.add(g, s2, out=s1)
                    g = s1
                if momentum != 0:
                    buf = block[2]
                    if first:
                        device.copy(g, out=buf)
                    else:
                        device.multiply(buf, momentum, out=buf)
                        if dampening != 0:
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

    def _plain_update(
        self, p: Tensor, grad: Tensor, lr: float, momentum: float, dampening: float
    ) -> None:
        """SGD without maximize, weight decay or Nesterov, on whole buffers."""
        # Every buffer is made writable before any view of it exists.
        param, g = at.writable_buffer(p), buffer_of(grad.data)
        device = param.device
        if momentum != 0:
            state = self.state[p]
            buf_t: Tensor | None = state.get("momentum_buffer")
            if buf_t is None:  # the first step: it starts as the gradient
                buf = device.copy(g)
                buf_t = at.as_tensor(from_buffer(buf))
                label(buf_t, "SGD.momentum_buffer")
                state["momentum_buffer"] = buf_t
            else:
                buf = at.writable_buffer(buf_t)
                device.multiply(buf, momentum, out=buf)
                device.add_scaled(buf, g, 1 - dampening, out=buf)
            g = buf
        device.add_scaled(param, g, -lr, out=param)
