"""gradcheck and gradgradcheck: analytical gradients against finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import actnet.ndarray as xp
from actnet.device import Generator
from actnet.tensor._engine import grad
from actnet.tensor._tensor import Tensor
from actnet.tensor._tensor_base import _make


class GradcheckError(RuntimeError):
    """The analytical and numerical Jacobians differ."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return x if isinstance(x, tuple) else (x,)


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    return [
        o
        for o in _as_tuple(fn(*inputs))
        if isinstance(o, Tensor) and o.dtype.kind in "fc"
    ]


def _numerical(
    fn: Callable[..., Any], inputs: list[Any], i: int, eps: float
) -> list[np.ndarray[Any, Any]]:
    """d(outputs)/d(inputs[i]) by central differences: one matrix per output, of
    shape (input size, output size)."""
    x = inputs[i]
    base = np.asarray(x.detach()).astype(
        np.complex128 if x.dtype.kind == "c" else np.float64
    )
    flat = base.reshape(-1)
    columns: list[list[np.ndarray[Any, Any]]] = []
    for k in range(flat.size):
        values = []
        for sign in (1.0, -1.0):
            perturbed = flat.copy()
            perturbed[k] += sign * eps
            trial = list(inputs)
            host = perturbed.reshape(base.shape).astype(x.dtype)
            # as the original: fn may differentiate inside (gradgradcheck)
            trial[i] = _make(xp.asarray(host, device=x.device), x.requires_grad)
            outs = _outputs(fn, trial)
            values.append(
                [np.asarray(o.detach()).astype(np.float64).reshape(-1) for o in outs]
            )
        columns.append([(p - m) / (2 * eps) for p, m in zip(*values, strict=True)])
    n_out = len(columns[0]) if columns else 0
    return [
        np.stack([col[j] for col in columns]) if columns else np.zeros((0, 0))
        for j in range(n_out)
    ]


def _analytical(
    fn: Callable[..., Any], inputs: list[Any], wrt: list[int]
) -> list[list[np.ndarray[Any, Any]]]:
    """[output][input]: matrices of shape (input size, output size), by backward
    with one-hot output gradients."""
    outputs = _outputs(fn, inputs)
    result = []
    for out in outputs:
        flat_size = out.numel()
        per_input = [np.zeros((inputs[i].numel(), flat_size)) for i in wrt]
        for j in range(flat_size):
            onehot = np.zeros(flat_size)
            onehot[j] = 1.0
            g = _make(
                xp.asarray(
                    onehot.reshape(out.shape).astype(out.dtype), device=out.device
                )
            )
            grads = grad(
                [out],
                [inputs[i] for i in wrt],
                [g],
                retain_graph=True,
                allow_unused=True,
            )
            for k, gi in enumerate(grads):
                if gi is not None:
                    per_input[k][:, j] = (
                        np.asarray(gi.detach()).astype(np.float64).reshape(-1)
                    )
        result.append(per_input)
    return result


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare the gradients backward computes for fn(*inputs) with central
    differences, for every input that requires grad (float64 inputs, please: the
    differences are too coarse in float32)."""
    args = list(_as_tuple(inputs) if not isinstance(inputs, list) else inputs)
    wrt = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad")
    for i in wrt:
        if args[i].dtype != xp.float64:
            raise ValueError(
                f"gradcheck: input {i} is {args[i].dtype}; use float64 inputs "
                "(finite differences in lower precision are not meaningful)"
            )
    analytical = _analytical(fn, args, wrt)
    for k, i in enumerate(wrt):
        numerical = _numerical(fn, args, i, eps)
        for o, (num, ana) in enumerate(
            zip(numerical, (a[k] for a in analytical), strict=True)
        ):
            if not np.allclose(ana, num, atol=atol, rtol=rtol):
                worst = float(np.max(np.abs(ana - num))) if num.size else 0.0
                message = (
                    f"Jacobian mismatch for output {o} with respect to input {i}: "
                    f"largest difference {worst:.3g} (atol {atol}, rtol {rtol})\n"
                    f"numerical:\n{num}\nanalytical:\n{ana}"
                )
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Tensor,
    grad_outputs: Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """gradcheck of the gradient itself: second derivatives by backward through a
    create_graph=True backward, against finite differences of the first."""
    args = list(_as_tuple(inputs) if not isinstance(inputs, list) else inputs)
    wrt = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    outputs = _outputs(fn, args)
    if grad_outputs is None:
        gen = Generator(seed)
        grad_outputs = [
            _make(
                xp.from_buffer(gen.normal(o.shape, o.dtype, device=o.device))
            ).requires_grad_()
            for o in outputs
        ]
    n = len(args)

    def first_derivative(*values: Any) -> tuple[Tensor, ...]:
        xs, gs = list(values[:n]), list(values[n:])
        outs = _outputs(fn, xs)
        grads = grad(
            outs, [xs[i] for i in wrt], gs, create_graph=True, allow_unused=True
        )
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_derivative, [*args, *grad_outputs], eps, atol, rtol, raise_exception
    )
