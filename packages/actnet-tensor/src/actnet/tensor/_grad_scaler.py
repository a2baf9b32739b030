"""GradScaler: loss scaling for float16 training (`torch.amp.GradScaler`).

Scale the loss before backward so small float16 gradients do not flush to zero;
unscale them before the optimizer's step, and skip the step when any is inf or
NaN (the scale was too large), backing the scale off; grow it again after
`growth_interval` steps without one. bfloat16 has float32's range and needs no
scaling; code written for CUDA's float16 still constructs one, so
`GradScaler("cuda")` without CUDA warns and passes everything through, as
torch's does (`step` calls `optimizer.step()`, `scale` returns its input).

The optimizer is anything with `param_groups` (dicts with "params") and
`step()`: actnet.nn.optim's optimizers, or torch-like ones.
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

import actnet.ndarray as xp
from actnet.tensor._cuda_devices import is_available as cuda_is_available
from actnet.tensor._grad_mode import no_grad
from actnet.tensor._logic import isfinite
from actnet.tensor._tensor import Tensor


class _Stage(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict[str, Any]:
    return {"stage": _Stage.READY, "found_inf": None}


class GradScaler:
    """Dynamic loss scaling (torch.amp.GradScaler's arguments and methods).

    >>> scaler = GradScaler("cpu")
    >>> scaler.scale(loss).backward()
    >>> scaler.unscale_(optimizer)  # optional: to clip unscaled gradients
    >>> scaler.step(optimizer)      # skipped when a gradient is not finite
    >>> scaler.update()             # back off, or grow every growth_interval
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not cuda_is_available():
            warnings.warn(
                "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                "Disabling.",
                stacklevel=2,
            )
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = float(init_scale)
        self._scale: Tensor | None = None  # 0-d float32, made by the first scale()
        self._value = self._init_scale  # the scale's value, as a Python float
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ scale
    def scale(self, outputs: Any) -> Any:
        """outputs (a tensor, or lists and tuples of them) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale_on(outputs)
        if isinstance(outputs, list):
            return [self.scale(v) for v in outputs]
        if isinstance(outputs, tuple):
            return tuple(self.scale(v) for v in outputs)
        if isinstance(outputs, Iterable):
            return (self.scale(v) for v in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _scale_on(self, like: Tensor) -> Tensor:
        if self._scale is None:
            self._scale = like.new_full((), self._init_scale, dtype=xp.float32)
        return self._scale

    def _check_scaled(self, funcname: str) -> Tensor:
        if self._scale is None:
            raise AssertionError(
                f"Attempted {funcname} but _scale is None.  This may indicate your "
                "script did not call `GradScaler.scale` on the loss earlier in the "
                "iteration."
            )
        return self._scale

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer.setdefault(id(optimizer), _fresh_state())

    # ---------------------------------------------------------------- unscale
    def unscale_(self, optimizer: Any) -> None:
        """Divide the optimizer's gradients by the scale, in place, noting
        whether any is inf or NaN (once per optimizer between updates)."""
        if not self._enabled:
            return
        self._check_scaled("unscale_")
        state = self._state(optimizer)
        if state["stage"] is _Stage.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the "
                "last update()."
            )
        if state["stage"] is _Stage.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # the reciprocal in float64, then float32 (torch's, bit for bit)
        inv_scale = float(np.float32(1.0 / self._value))
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if grad.dtype == xp.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    if not bool(isfinite(grad).all()):
                        found_inf = True
                    grad.mul_(inv_scale)
        state["found_inf"] = found_inf
        state["stage"] = _Stage.UNSCALED

    # ------------------------------------------------------------------- step
    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless done), then `optimizer.step(*args, **kwargs)` unless
        a gradient was inf or NaN; its return value, or None when skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError(
                "Closure use is not currently supported if GradScaler is enabled."
            )
        self._check_scaled("step")
        state = self._state(optimizer)
        if state["stage"] is _Stage.STEPPED:
            raise RuntimeError(
                "step() has already been called since the last update()."
            )
        if state["stage"] is _Stage.READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _Stage.STEPPED
        return result

    # ----------------------------------------------------------------- update
    def update(self, new_scale: float | Tensor | None = None) -> None:
        """The next iteration's scale: `new_scale` when given; else backed off
        when a step was skipped, grown after growth_interval clean steps."""
        if not self._enabled:
            return
        scale = self._check_scaled("update")
        if new_scale is not None:
            value = new_scale.item() if isinstance(new_scale, Tensor) else new_scale
            self._set_scale(scale, float(np.float32(value.real)))
        else:
            states = [
                s for s in self._per_optimizer.values() if s["found_inf"] is not None
            ]
            if not states:
                raise AssertionError("No inf checks were recorded prior to update.")
            current = self._value
            if any(s["found_inf"] for s in states):
                self._set_scale(scale, current * self._backoff_factor)
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = float(np.float32(current * self._growth_factor))
                    if math.isfinite(grown):
                        self._set_scale(scale, grown)
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def _set_scale(self, scale: Tensor, value: float) -> None:
        """The scale becomes `value` (a float32 number, as torch's tensor holds)."""
        self._value = float(np.float32(value))
        with no_grad():
            scale.fill_(self._value)

    # -------------------------------------------------------------- accessors
    def get_scale(self) -> float:
        """The scale now (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._value

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """scale, growth_factor, backoff_factor, growth_interval and
        _growth_tracker (torch's keys); empty when disabled."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved "
                "from a disabled instance of GradScaler."
            )
        self._init_scale = self._value = float(state_dict["scale"])
        if self._scale is not None:
            self._set_scale(self._scale, self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
