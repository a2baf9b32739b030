"""SteppedOptimizer: the part that RMSprop, Adagrad, Adamax, NAdam and RAdam share.

Their state is PyTorch's: a "step" count (a float32 0-d tensor on the cpu device),
maybe another such scalar (NAdam's "mu_product"), and buffers of the parameter's
shape, made on its first step. Their update is a sequence of elementwise device
operations in PyTorch's single-tensor order, on the writable buffers that
`Optimizer._update_group` hands out block by block; the pieces they share (the
gradient with maximize and L2 decay, lerp, the moving average of squares,
addcdiv) are the functions below. A scalar taken with a buffer is rounded to
the buffer's dtype, as PyTorch's CPU kernels take it.

A subclass names its state (`_state_keys`) and writes `_group_options`,
`_step_values` (the step's scalars) and `_update_block`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import actnet.tensor as at
from actnet.device import Buffer
from actnet.nn.optim.optimizer import (
    Optimizer,
    check_float_params,
    check_number,
    label_state,
)
from actnet.tensor import Tensor


class SteppedOptimizer(Optimizer):
    """An optimizer whose state counts each parameter's steps (see the module
    docstring). Complex parameters are refused, as by Adam."""

    # Options that an older state dict may lack, and their values (PyTorch's
    # __setstate__ defaults).
    _group_defaults: ClassVar[dict[str, Any]] = {"maximize": False}
    # The float32 0-d state besides "step", and its starting value.
    _scalar_state: ClassVar[dict[str, float]] = {}

    def _check_params(self, params: list[Tensor]) -> None:
        check_float_params(params, type(self).__name__, complex_ok=False)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in self._group_defaults.items():
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p)
                if not p_state:
                    continue
                for key in ("step", *self._scalar_state):
                    value = p_state.get(key)
                    if value is not None and not isinstance(value, Tensor):
                        p_state[key] = at.tensor(float(value), dtype="float32")

    # What each optimizer supplies, beside _group_options and _update_block.
    def _state_keys(self, options: Any) -> tuple[str, ...]:
        """The names of p's state of p's shape, in the order `_update_block`
        reads them (after param and grad)."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def _initial_value(self, key: str) -> float:
        """The value a state buffer starts from."""
        return 0.0

    def _step_values(self, state: dict[str, Any], step: float, options: Any) -> Any:
        """The scalars of this step of one parameter, for `_update_block` (its
        state's scalars may change here: NAdam's mu_product)."""
        return step

    # The shared part.
    def _init_state(self, p: Tensor, keys: Sequence[str]) -> dict[str, Any]:
        """p's state, its missing entries made (the step at 0)."""
        state = self.state[p]
        who = type(self).__name__
        if "step" not in state:
            for key, start in {"step": 0.0, **self._scalar_state}.items():
                state[key] = at.tensor(start, dtype="float32")
                label_state(state[key], f"{who}.{key}")
        for key in keys:
            if key not in state:
                start = self._initial_value(key)
                state[key] = at.full_like(p, start) if start else at.zeros_like(p)
                label_state(state[key], f"{who}.{key}")
        return state

    def _state_buffers(self, p: Tensor, buffers: list[Buffer], options: Any) -> Any:
        """Counts the step and appends the state buffers; returns `_step_values`."""
        keys = self._state_keys(options)
        state = self._init_state(p, keys)
        step = update_scalar(state["step"], 1.0, add=True)
        buffers.extend(at.writable_buffer(state[key]) for key in keys)
        return self._step_values(state, step, options)


def update_scalar(t: Tensor, value: float, *, add: bool) -> float:
    """t += value (add) or t *= value, in place, in t's dtype (PyTorch's
    `step += 1`, `mu_product *= mu` on a 0-d tensor); returns the new value."""
    buf = at.writable_buffer(t)
    device = buf.device
    kind = buf.dtype.type
    old = kind(device.to_host(buf))
    # the exact sum, or the product of two values of the dtype, rounded once:
    # what the device's add or multiply would give
    new = kind(float(old) + value) if add else kind(old * kind(value))
    device.full(buf.shape, float(new), buf.dtype, out=buf)
    return float(new)


def check_betas(betas: Any) -> tuple[float, float]:
    """betas as a pair, after PyTorch's check 0 <= beta < 1."""
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise TypeError(f"betas must be a pair of floats, got {betas!r}")
    for i, beta in enumerate(betas):
        check_number(beta, f"betas[{i}]", f"beta parameter at index {i}")
        if not beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    return betas[0], betas[1]


# ------------------------------------------------ elementwise pieces, in place
def gradient(
    param: Buffer,
    grad: Buffer,
    out: Buffer,
    tmp: Buffer,
    maximize: bool,
    weight_decay: float,
) -> Buffer:
    """The gradient the update takes: -grad with maximize, then plus
    weight_decay * param (`grad.add(param, alpha=weight_decay)`), in `out`;
    grad itself when neither applies (it is never written)."""
    device = param.device
    g = grad
    if maximize:
        device.negative(g, out=out)
        g = out
    if weight_decay != 0:
        device.multiply(param, weight_decay, out=tmp)
        device.add(g, tmp, out=out)
        g = out
    return g


def lerp(m: Buffer, g: Buffer, weight: float, tmp: Buffer) -> None:
    """m = lerp(m, g, weight) (`m.lerp_(g, weight)`, in the form PyTorch picks
    for the weight)."""
    device = m.device
    device.subtract(g, m, out=tmp)
    if abs(weight) < 0.5:
        device.multiply(tmp, weight, out=tmp)
        device.add(m, tmp, out=m)
    else:  # 1 - weight as PyTorch computes it: in the tensors' dtype
        one = m.dtype.type(1)
        device.multiply(tmp, float(one - m.dtype.type(weight)), out=tmp)
        device.subtract(g, tmp, out=m)


def moving_square(v: Buffer, g: Buffer, beta: float, tmp: Buffer) -> None:
    """v = beta * v + ((1 - beta) * g) * g (`v.mul_(beta).addcmul_(g, g,
    value=1 - beta)`)."""
    device = v.device
    device.multiply(v, beta, out=v)
    device.multiply(g, 1 - beta, out=tmp)
    device.multiply(tmp, g, out=tmp)
    device.add(v, tmp, out=v)


def addcdiv(param: Buffer, t1: Buffer, t2: Buffer, value: float, tmp: Buffer) -> None:
    """param += (value * t1) / t2 (`param.addcdiv_(t1, t2, value=value)`)."""
    device = param.device
    device.multiply(t1, value, out=tmp)
    device.divide(tmp, t2, out=tmp)
    device.add(param, tmp, out=param)
