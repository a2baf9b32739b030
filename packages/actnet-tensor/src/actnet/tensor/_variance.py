"""var and std, with PyTorch's arguments: `correction` (1 by default: Bessel's),
or the older `unbiased=`; `dim` an int, a sequence or None (all dims).

The operations follow the pattern of _shape.py; their backward is PyTorch's
(var_backward and std_backward), written with the operations themselves.
"""

from __future__ import annotations

import builtins
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import actnet.ndarray as xp
from actnet.tensor._arithmetic import div, mul, sub
from actnet.tensor._floating import INEXACT
from actnet.tensor._graph import Edge, edge_of, needs_grad
from actnet.tensor._math import where
from actnet.tensor._reductions import _axes, _restore_dims, mean
from actnet.tensor._saved import Saved, SavedOutput, SavingNode, activation, label
from actnet.tensor._tensor_base import TensorBase, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

Dims = builtins.int | Sequence[builtins.int] | None


class VarBackward(SavingNode):
    """d var / dx = 2 (x - mean) / (N - correction); std first divides the
    gradient by 2 std (0 where std is 0)."""

    __slots__ = ("axes", "dof", "keepdim", "op", "shape")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        a: Tensor,
        axes: tuple[builtins.int, ...] | None,
        keepdim: builtins.bool,
        dof: builtins.float,
        std: Tensor | None,
    ) -> None:
        super().__init__(edges)
        self.saved = (Saved(a), None if std is None else SavedOutput(std))
        self.axes, self.keepdim, self.dof, self.shape = axes, keepdim, dof, a.shape
        self.op = "var" if std is None else "std"

    def name(self) -> str:
        return "StdBackward" if self.op == "std" else "VarBackward"

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        saved_input, saved_std = self._saved()
        if saved_std is not None:  # std: the gradient of its variance
            std = saved_std.get(self)
            zero = _make(xp.zeros((), dtype=g.dtype, device=g.device))
            g = where(_make(std.array == 0), zero, div(g, mul(std, 2.0)))
        x = saved_input.get(self)
        g = _restore_dims(g, self.shape, self.axes, self.keepdim)
        mu = mean(x, self.axes, True)
        # Divided, not multiplied: the device divides quietly, and g / 0 is the
        # signed inf or the NaN (0 / 0) that PyTorch's g * (2 / 0) gives.
        if self.axes is None and self.dof <= 0:
            # PyTorch's: g * NaN where x is its mean, g * inf elsewhere
            nan_or_zero = xp.where(
                x.array == mu.array, math.nan, xp.zeros_like(x.array)
            )
            return (div(g, _make(nan_or_zero)),)
        return (div(mul(g, sub(x, mu)), self.dof / 2.0),)


def _moments(
    op: str,
    input: Tensor,
    dim: Dims | builtins.bool,
    unbiased: builtins.bool | None,
    keepdim: builtins.bool,
    correction: builtins.float | None,
) -> Tensor:
    if not isinstance(input, TensorBase):
        raise TypeError(f"{op}(): input must be a Tensor, not {type(input).__name__}")
    if isinstance(dim, builtins.bool):  # std(input, unbiased): PyTorch's overload
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): give either unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if input.dtype not in INEXACT:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if isinstance(dim, Sequence) and len(dim) == 0:
        dim = None  # PyTorch: an empty dim list reduces all dims
    axes = _axes(dim, input.ndim)
    if input.ndim == 0:
        axes = None
    count = 1
    for i in range(input.ndim) if axes is None else axes:
        count *= input.shape[i]
    dof = count - correction
    if dof <= 0:
        warnings.warn(
            f"{op}(): degrees of freedom is <= 0. Correction should be strictly less "
            "than the reduction factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=3,
        )
    x = input.array
    deviation = x - xp.mean(x, axis=axes, keepdims=True)
    squares = (
        xp.real(deviation * xp.conj(deviation))
        if x.dtype.kind == "c"
        else deviation * deviation
    )
    values = xp.sum(squares, axis=axes, keepdims=keepdim) / builtins.max(dof, 0)
    if op == "std":
        values = xp.sqrt(values)
    out = _make(label(values, activation(op)))
    if needs_grad(input):
        std = out if op == "std" else None
        node = VarBackward((edge_of(input),), input, axes, keepdim, dof, std)
        out._requires_grad, out.grad_fn = True, node
    return out


def var(
    input: Tensor,
    dim: Dims | builtins.bool = None,
    unbiased: builtins.bool | None = None,
    keepdim: builtins.bool = False,
    *,
    correction: builtins.float | None = None,
) -> Tensor:
    """The variance over `dim`: the sum of squared deviations from the mean over
    N - correction (PyTorch's `torch.var`; `unbiased=False` is correction=0).

    >>> var(tensor([1.0, 2.0, 3.0, 4.0]))
    tensor(1.6667)
    """
    return _moments("var", input, dim, unbiased, keepdim, correction)


def std(
    input: Tensor,
    dim: Dims | builtins.bool = None,
    unbiased: builtins.bool | None = None,
    keepdim: builtins.bool = False,
    *,
    correction: builtins.float | None = None,
) -> Tensor:
    """The standard deviation over `dim`: the square root of var.

    >>> std(tensor([[1.0, 3.0], [2.0, 2.0]]), dim=1, keepdim=True)
    tensor([[1.4142], [0.    ]])
    """
    return _moments("std", input, dim, unbiased, keepdim, correction)


def var_mean(
    input: Tensor,
    dim: Dims | builtins.bool = None,
    unbiased: builtins.bool | None = None,
    keepdim: builtins.bool = False,
    *,
    correction: builtins.float | None = None,
) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim`, with var's arguments.

    >>> var_mean(tensor([1.0, 2.0, 3.0]))
    (tensor(1.), tensor(2.))
    """
    variance = _moments("var", input, dim, unbiased, keepdim, correction)
    return variance, mean(input, _mean_dims(input, dim), keepdim)


def std_mean(
    input: Tensor,
    dim: Dims | builtins.bool = None,
    unbiased: builtins.bool | None = None,
    keepdim: builtins.bool = False,
    *,
    correction: builtins.float | None = None,
) -> tuple[Tensor, Tensor]:
    """(std, mean) over `dim`, with std's arguments."""
    deviation = _moments("std", input, dim, unbiased, keepdim, correction)
    return deviation, mean(input, _mean_dims(input, dim), keepdim)


def _mean_dims(input: Tensor, dim: Dims | builtins.bool) -> Dims:
    """The dims `_moments` reduced, for the mean beside it."""
    if isinstance(dim, builtins.bool) or input.ndim == 0:
        return None
    if isinstance(dim, Sequence) and len(dim) == 0:
        return None
    return dim
