"""Adam (and, with decoupled weight decay, AdamW): PyTorch's single-tensor algorithm,
computed in the same order on device buffers, in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import actnet.tensor as at
from actnet.device import Buffer
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

# lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay
_Options: TypeAlias = tuple[float, float, float, float, float, bool, bool, bool]


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
    state are updated in place by the device's fused `adam_update`: one call per
    device and dtype, one pass per tensor (a gradient whose shape, dtype or
    device is not its parameter's takes the same update in separate device
    operations, whose temporaries go when the step returns).

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
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_implementation(foreach, fused, differentiable, capturable)
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

    def _group_options(self, group: dict[str, Any]) -> tuple[_Options, int]:
        beta1, beta2 = (float(b) for b in group["betas"])
        options = (
            float(group["lr"]),
            beta1,
            beta2,
            float(group["eps"]),
            float(group["weight_decay"]),
            bool(group["amsgrad"]),
            bool(group["maximize"]),
            bool(group["decoupled_weight_decay"]),
        )
        _, _, _, _, weight_decay, _, maximize, decoupled = options
        own_grad = maximize or (weight_decay != 0 and not decoupled)
        return options, 3 if own_grad else 2

    def _update_group(
        self, group: dict[str, Any], work: list[tuple[Tensor, Tensor]]
    ) -> None:
        batches, rest = fused_batches("adam_update", work)
        if rest:
            super()._update_group(group, rest)
        if not batches:
            return
        options, _ = self._group_options(group)
        lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = options
        for (device, _), (params, grads) in batches.items():
            # Every buffer is made writable before any view of it exists.
            buffers = [at.writable_buffer(p) for p in params]
            exp_avgs: list[Buffer] = []
            exp_avg_sqs: list[Buffer] = []
            max_exp_avg_sqs: list[Buffer] = []
            steps: list[float] = []
            for p in params:
                state, step = self._count_step(p, amsgrad)
                steps.append(step)
                exp_avgs.append(at.writable_buffer(state["exp_avg"]))
                exp_avg_sqs.append(at.writable_buffer(state["exp_avg_sq"]))
                if amsgrad:
                    max_exp_avg_sqs.append(at.writable_buffer(state["max_exp_avg_sq"]))
            device.adam_update(
                buffers,
                grads,
                exp_avgs,
                exp_avg_sqs,
                max_exp_avg_sqs,
                steps=steps,
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                eps=eps,
                weight_decay=weight_decay,
                decoupled_weight_decay=decoupled,
                amsgrad=amsgrad,
                maximize=maximize,
            )

    def _count_step(self, p: Tensor, amsgrad: bool) -> tuple[dict[str, Any], float]:
        """p's state (made on its first step), its step count one up, and the
        count."""
        state = self._init_state(p, amsgrad)
        step_buf = at.writable_buffer(state["step"])
        device = step_buf.device
        # PyTorch's `step += 1` in the tensor's dtype (float32): count + 1 is exact
        # in a Python float, then rounded once, as the device's add would round it.
        step = float(step_buf.dtype.type(float(device.to_host(step_buf)) + 1.0))
        device.full(step_buf.shape, step, step_buf.dtype, out=step_buf)
        return state, step

    def _state_buffers(
        self, p: Tensor, buffers: list[Buffer], options: _Options
    ) -> tuple[float, float]:
        """Counts the step, appends exp_avg, exp_avg_sq (and max_exp_avg_sq);
        returns the step's (step_size, sqrt(bias_correction2))."""
        lr, beta1, beta2, _, _, amsgrad, _, _ = options
        state, step = self._count_step(p, amsgrad)
        # PyTorch's bias corrections, in its order (Python floats)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        buffers.append(at.writable_buffer(state["exp_avg"]))
        buffers.append(at.writable_buffer(state["exp_avg_sq"]))
        if amsgrad:
            buffers.append(at.writable_buffer(state["max_exp_avg_sq"]))
        return step_size, bias_correction2_sqrt

    def _init_state(self, p: Tensor, amsgrad: bool) -> dict[str, Any]:
        state = self.state[p]
        if not state:
            who = type(self).__name__
            state["step"] = at.tensor(0.0, dtype="float32")
            label_state(state["step"], f"{who}.step")
            for key in ("exp_avg", "exp_avg_sq"):
                state[key] = at.zeros_like(p)
                label_state(state[key], f"{who}.{key}")
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = at.zeros_like(p)
            label_state(
                state["max_exp_avg_sq"], f"{type(self).__name__}.max_exp_avg_sq"
            )
        return state

    def _update_block(
        self,
        buffers: list[Buffer],
        scratch: Sequence[Buffer],
        options: _Options,
        extra: tuple[float, float],
    ) -> None:
        lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = options
        step_size, bias_correction2_sqrt = extra
        param, g, m, v = buffers[:4]
        t1, t2 = scratch[0], scratch[1]
        device = param.device
        if maximize:
            device.negative(g, out=scratch[2])
            g = scratch[2]
        if weight_decay != 0:
            if decoupled:
                device.multiply(param, 1 - lr * weight_decay, out=param)
            else:
                device.multiply(param, weight_decay, out=t1)
                device.add(g, t1, out=scratch[2])
                g = scratch[2]
        _moments(m, v, g, t1, beta1, beta2)
        if amsgrad:
            device.maximum(buffers[4], v, out=buffers[4])
            v = buffers[4]
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
