"""Adam (and, with decoupled weight decay, AdamW): PyTorch's single-tensor algorithm,
computed in the same order on device buffers, in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import actnet.tensor as at
from actnet.device import Buffer
from actnet.ndarray import buffer_of
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


class Adam(Optimizer):
    """Adam (PyTorch's `torch.optim.Adam`, same algorithm and order of operations):

        g = -grad if maximize else grad
        param *= 1 - lr * weight_decay         (decoupled_weight_decay: AdamW)
        g = g + weight_decay * param           (otherwise, if weight_decay)
        m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        vmax = max(vmax, v)                    (amsgrad; then v = vmax below)
        denom = sqrt(v) / sqrt(1 - beta2**t) + eps
        param += -lr / (1 - beta1**t) * m / denom

    The state of a parameter: "step" (a float32 0-d tensor on the cpu device, as
    PyTorch keeps it), "exp_avg" (m), "exp_avg_sq" (v) and, with amsgrad,
    "max_exp_avg_sq". Parameters without a gradient are skipped. Parameters and
    state are updated in place; a step's temporaries go when it returns.

    >>> opt = Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_number(lr, "lr", "learning rate")
        check_number(eps, "eps", "epsilon value")
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of floats, got {betas!r}")
        for i, beta in enumerate(betas):
            check_number(beta, f"betas[{i}]", f"beta parameter at index {i}")
            if not beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_number(weight_decay, "weight_decay", "weight_decay value")
        defaults = {
            "lr": lr,
            "betas": (betas[0], betas[1]),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_params(self, params: list[Tensor]) -> None:
        check_float_params(params, type(self).__name__, complex_ok=False)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:
                p_state = self.state.get(p)
                if p_state and not isinstance(p_state["step"], Tensor):
                    p_state["step"] = at.tensor(float(p_state["step"]), dtype="float32")

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

    def _init_state(self, p: Tensor, amsgrad: bool) -> dict[str, Any]:
        state = self.state[p]
        if not state:
            who = type(self).__name__
            state["step"] = at.tensor(0.0, dtype="float32")
            label(state["step"], f"{who}.step")
            for key in ("exp_avg", "exp_avg_sq"):
                state[key] = at.zeros_like(p)
                label(state[key], f"{who}.{key}")
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = at.zeros_like(p)
            label(state["max_exp_avg_sq"], f"{type(self).__name__}.max_exp_avg_sq")
        return state

    def _update(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        amsgrad = bool(group["amsgrad"])
        maximize = bool(group["maximize"])
        decoupled = bool(group["decoupled_weight_decay"])
        own_grad = maximize or (weight_decay != 0 and not decoupled)
        work = [
            (p, p.grad, self._init_state(p, amsgrad))
            for p in group["params"]
            if p.grad is not None
        ]
        scratch = Scratch(3 if own_grad else 2)
        for p, _, _ in work:
            scratch.reserve(buffer_of(p.data), BLOCK)
        for p, grad, state in work:
            step_buf = at.writable_buffer(state["step"])
            step_buf.device.add(step_buf, 1, out=step_buf)
            step = float(step_buf.device.to_host(step_buf))
            # PyTorch's bias corrections, in its order (Python floats)
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            # Every buffer is made writable before any view of it exists.
            operands = [
                at.writable_buffer(p),
                buffer_of(grad.data),
                at.writable_buffer(state["exp_avg"]),
                at.writable_buffer(state["exp_avg_sq"]),
            ]
            if amsgrad:
                operands.append(at.writable_buffer(state["max_exp_avg_sq"]))
            for block in blocks(operands):
                param, g, m, v = block[:4]
                views = scratch.views(param)
                t1, t2 = views[0], views[1]
                device = param.device
                if maximize:
                    device.negative(g, out=views[2])
                    g = views[2]
                if weight_decay != 0:
                    if decoupled:
                        device.multiply(param, 1 - lr * weight_decay, out=param)
                    else:
                        device.multiply(param, weight_decay, out=t1)
                        device.add(g, t1, out=views[2])
                        g = views[2]
                _moments(m, v, g, t1, beta1, beta2)
                if amsgrad:
                    device.maximum(block[4], v, out=block[4])
                    v = block[4]
                # denom = sqrt(v) / sqrt(bias_correction2) + eps, into t1
                device.sqrt(v, out=t1)
                device.divide(t1, bias_correction2_sqrt, out=t1)
                device.add(t1, eps, out=t1)
                # param += (-step_size * m) / denom (addcdiv's order)
                device.multiply(m, -step_size, out=t2)
                device.divide(t2, t1, out=t2)
                device.add(param, t2, out=param)


def _moments(
    m: Buffer, v: Buffer, g: Buffer, tmp: Buffer, beta1: float, beta2: float
) -> None:
    """m = lerp(m, g, 1 - beta1); v = beta2 * v + ((1 - beta2) * g) * g, in place
    (PyTorch's lerp_ and mul_().addcmul_(), same order; tmp is scratch)."""
    device = m.device
    weight = 1 - beta1
    device.subtract(g, m, out=tmp)
    if abs(weight) < 0.5:  # lerp's two forms, as PyTorch picks them
        device.multiply(tmp, weight, out=tmp)
        device.add(m, tmp, out=m)
    else:  # 1 - weight as PyTorch computes it: in the tensors' dtype
        one = m.dtype.type(1)
        device.multiply(tmp, float(one - m.dtype.type(weight)), out=tmp)
        device.subtract(g, tmp, out=m)
    device.multiply(v, beta2, out=v)
    device.multiply(g, 1 - beta2, out=tmp)
    device.multiply(tmp, g, out=tmp)
    device.add(v, tmp, out=v)
