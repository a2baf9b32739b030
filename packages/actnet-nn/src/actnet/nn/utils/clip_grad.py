"""Gradient clipping: by the total norm of all gradients, or by value."""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

import actnet.tensor as at
from actnet.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _as_list(parameters: Tensor | Iterable[Tensor], warn_empty: bool) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    is_generator = isinstance(parameters, types.GeneratorType)
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(
                f"parameters must be Tensors or an iterable of Tensors, got an item "
                f"of type {type(p).__name__}"
            )
    if warn_empty and is_generator and not params:
        warnings.warn(
            "`parameters` is an empty generator, no gradient clipping will occur.",
            stacklevel=3,
        )
    return params


def _check_foreach(foreach: bool | None, grads: list[Tensor]) -> None:
    """PyTorch's foreach kernels exist for accelerators only; asking for them on a
    cpu device is an error there, and here."""
    if foreach is not None and not isinstance(foreach, bool):
        raise TypeError(f"foreach must be a bool or None, got {type(foreach).__name__}")
    if foreach:
        for g in grads:
            if g.device.kind == "cpu":
                raise RuntimeError(
                    "foreach=True was passed, but can't use the foreach API on cpu "
                    "tensors"
                )


def _vector_norm(t: Tensor, p: float) -> Tensor:
    """The p-norm of t's elements, flattened (PyTorch's linalg.vector_norm)."""
    if p in (math.inf, -math.inf):
        # at.max / at.min return a (values, indices) pair when given a dim
        extreme: Tensor = at.max(at.abs(t)) if p > 0 else at.min(at.abs(t))
        return extreme
    if p == 0:
        return at.sum((t != 0).to(dtype=t.dtype))
    if p == 1:
        return at.sum(at.abs(t))
    if p == 2:
        return at.norm(t)  # one pass over t (its squares summed in float64)
    return at.pow(at.sum(at.pow(at.abs(t), p)), 1.0 / p)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale the gradients of `parameters` in place so that their total norm (the
    `norm_type`-norm of all of them, concatenated) is at most `max_norm`; returns
    the total norm before clipping, a 0-d Tensor. As in PyTorch:

        clip_coef = min(max_norm / (total_norm + 1e-6), 1.0); grad *= clip_coef

    Parameters without a gradient are skipped. `error_if_nonfinite` raises a
    RuntimeError when the total norm is nan or inf (otherwise the gradients are
    scaled by it anyway). `norm_type` may be inf.

    >>> loss.backward()
    >>> clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> opt.step()
    """
    params = _as_list(parameters, warn_empty=True)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    grads = [p.grad for p in params if p.grad is not None]
    _check_foreach(foreach, grads)
    with at.no_grad():
        if not grads:
            return at.tensor(0.0)
        dtype = grads[0].dtype
        norms = [_vector_norm(g, norm_type) for g in grads]
        norms = [n if n.dtype == dtype else n.to(dtype=dtype) for n in norms]
        total_norm = _vector_norm(at.stack(norms), norm_type)
        # Read on the host only when asked to (it cannot be inside a captured step).
        if error_if_nonfinite and not math.isfinite(float(total_norm)):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from "
                "`parameters` is non-finite, so it cannot be clipped. To disable "
                "this error and scale the gradients by the non-finite norm anyway, "
                "set `error_if_nonfinite=False`"
            )
        clip_coef = at.clamp(max_norm / (total_norm + 1e-6), None, 1.0)
        with warnings.catch_warnings():
            # A non-finite norm makes inf * 0 = nan: expected, silent in PyTorch.
            warnings.simplefilter("ignore", RuntimeWarning)
            for g in grads:
                g.mul_(clip_coef if g.dtype == dtype else clip_coef.to(dtype=g.dtype))
    return total_norm


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor],
    clip_value: float,
    foreach: bool | None = None,
) -> None:
    """Clamp the gradients of `parameters` in place to [-clip_value, clip_value].

    >>> clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    params = _as_list(parameters, warn_empty=False)
    clip_value = float(clip_value)
    grads = [p.grad for p in params if p.grad is not None]
    _check_foreach(foreach, grads)
    with at.no_grad():
        for g in grads:
            g.clamp_(min=-clip_value, max=clip_value)
