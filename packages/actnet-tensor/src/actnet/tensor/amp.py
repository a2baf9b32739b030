"""`torch.amp`'s place: automatic mixed precision for code ported by its imports.

`autocast` (also `actnet.tensor.autocast`) runs the operations on PyTorch's
CPU autocast lists in bfloat16 or float32 (see `actnet.tensor._autocast`);
`GradScaler` scales a loss and unscales the gradients, skipping steps whose
gradients are not finite, as torch's does for float16 training; `custom_fwd` and
`custom_bwd` decorate a custom Function's forward and backward. `autocast_op`
(a decorator) and `autocast_cast` are how an operation applies its entry on the
lists (actnet.neuron's layers use them).

    import actnet.tensor as torch
    scaler = torch.amp.GradScaler("cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = loss_fn(model(x), y)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import actnet.ndarray as xp
from actnet.tensor._autocast import (
    DEVICE_TYPES,
    autocast,
    autocast_cast,
    autocast_op,
    get_autocast_dtype,
    is_autocast_enabled,
)
from actnet.tensor._autocast_lists import CPU_CAST_POLICIES
from actnet.tensor._grad_scaler import GradScaler
from actnet.tensor._shape import to
from actnet.tensor._tensor import Tensor

__all__ = [
    "CPU_CAST_POLICIES",
    "GradScaler",
    "autocast",
    "autocast_cast",
    "autocast_op",
    "custom_bwd",
    "custom_fwd",
    "is_autocast_available",
]

F = TypeVar("F", bound=Callable[..., Any])


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast knows `device_type` ("cpu"; "cuda" is known, and
    disables itself with a warning: actnet casts on cpu only).

    >>> is_autocast_available("cpu")
    True
    """
    return device_type in DEVICE_TYPES


def _device(device_type: Any, op: str) -> str:
    if not isinstance(device_type, str):  # torch's ValueError, for ported code
        raise ValueError(  # noqa: TRY004
            f"{op}: expected `device_type` of type `str`, got: `{type(device_type)}`"
        )
    return device_type


def _cast_floating(value: Any, device_type: str, dtype: Any) -> Any:
    """value with its floating tensors of `device_type` (not float64) in
    `dtype`, through lists, tuples and dicts (torch.amp's _cast)."""
    if isinstance(value, Tensor):
        floating = value.is_floating_point() and value.dtype != xp.float64
        if floating and value.device.kind == device_type:
            return to(value, None, dtype)
        return value
    if isinstance(value, dict):
        return {k: _cast_floating(v, device_type, dtype) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_cast_floating(v, device_type, dtype) for v in value)
    return value


def custom_fwd(
    fwd: F | None = None, *, device_type: str, cast_inputs: Any = None
) -> Any:
    """Decorate a custom Function's `forward` (torch.amp.custom_fwd): with
    `cast_inputs`, inside an autocast region its floating tensor arguments are
    cast to that dtype and it runs with autocast off; without, it runs under the
    region's state, which `custom_bwd` then gives its backward.

    >>> class MyMM(Function):
    ...     @staticmethod
    ...     @custom_fwd(device_type="cpu", cast_inputs=float32)
    ...     def forward(ctx, a, b): ...
    """
    device = _device(device_type, "custom_fwd")
    if fwd is None:
        return functools.partial(
            custom_fwd, device_type=device, cast_inputs=cast_inputs
        )
    forward = fwd

    @functools.wraps(forward)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device)
            return forward(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not is_autocast_enabled(device):
            return forward(*args, **kwargs)
        with autocast(device, enabled=False):
            return forward(
                *_cast_floating(args, device, cast_inputs),
                **_cast_floating(kwargs, device, cast_inputs),
            )

    return decorate_fwd


def custom_bwd(bwd: F | None = None, *, device_type: str) -> Any:
    """Decorate a custom Function's `backward` (torch.amp.custom_bwd): it runs
    with the autocast state its forward ran with."""
    device = _device(device_type, "custom_bwd")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device)
    backward = bwd

    @functools.wraps(backward)
    def decorate_bwd(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0]
        with autocast(device, dtype=ctx._dtype, enabled=ctx._fwd_used_autocast):
            return backward(*args, **kwargs)

    return decorate_bwd
