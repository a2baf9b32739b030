"""Products and running totals: cumsum, cumprod, prod, and logsumexp.

Integer and bool inputs accumulate in int64, as PyTorch's do (or in `dtype=`).
cumsum's gradient is the reversed running total of the gradient (flip,
cumsum, flip); cumprod's and prod's are PyTorch's, zeros included: a product
with one zero factor has the product of the others as that factor's
gradient, with two or more the gradient is zero. logsumexp is a composition
(max-shifted, so that it does not overflow).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._arithmetic import add, div, mul, sub
from actnet.tensor._autocast import autocast_op
from actnet.tensor._default_dtype import get_default_dtype
from actnet.tensor._floating import INEXACT
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._layout import flip
from actnet.tensor._math import exp, log, where
from actnet.tensor._promotion import as_dtype
from actnet.tensor._reductions import _axes, _restore_dims, sum
from actnet.tensor._saved import Saved, SavedOutput, SavingNode, activation, label
from actnet.tensor._shape import reshape, to
from actnet.tensor._tensor_base import TensorBase, _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


def _accumulated(input: Tensor, dtype: Any, op: str) -> NDArray:
    """input's values in the dtype the accumulation runs in."""
    if not isinstance(input, TensorBase):
        raise TypeError(f"{op}(): input must be a Tensor, not {type(input).__name__}")
    if dtype is not None:
        target = as_dtype(dtype)
    else:
        target = xp.int64 if input.dtype.kind in "biu" else input.dtype
    return input.array if input.dtype == target else xp.astype(input.array, target)


def _grad(grads: list[Tensor | None]) -> Tensor:
    g = grads[0]
    assert g is not None
    return g


# ----------------------------------------------------------------- cumsum
def _reverse_cumsum(t: Tensor, d: builtins.int) -> Tensor:
    """The totals of t from each place to the end, along d."""
    return flip(cumsum(flip(t, (d,)), d), (d,))


class CumsumBackward(Node):
    __slots__ = ("dim",)

    def __init__(self, edges: tuple[Edge, ...], dim: builtins.int) -> None:
        super().__init__(edges)
        self.dim = dim

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        return (_reverse_cumsum(_grad(grads), self.dim),)


def cumsum(input: Tensor, dim: builtins.int, *, dtype: Any = None) -> Tensor:
    """The running totals of input along dim.

    >>> cumsum(tensor([1, 2, 3]), 0)
    tensor([1, 3, 6])
    """
    values = _accumulated(input, dtype, "cumsum")
    d = _dim(dim, input.ndim)
    if dtype is not None and values.dtype != input.dtype and needs_grad(input):
        return cumsum(to(input, None, values.dtype), d)  # the cast differentiable
    if input.ndim:
        values = xp.cumulative_sum(values, axis=d)
    else:
        values = xp.asarray(values, copy=True)
    data = label(values, activation("cumsum"))
    if not needs_grad(input):
        return _make(data)
    return _make(data, True, CumsumBackward((edge_of(input),), d))


# ---------------------------------------------------------------- cumprod
class CumprodBackward(SavingNode):
    """Without zeros in the input, the reversed running total of g * output,
    over the input; with zeros, each element's gradient is taken as the sum
    over the later outputs of g times the product of the other factors
    (computed, not recorded: a second derivative there is not built)."""

    __slots__ = ("dim",)

    def __init__(
        self, edges: tuple[Edge, ...], x: Tensor, out: Tensor, dim: builtins.int
    ) -> None:
        super().__init__(edges)
        self.saved = (Saved(x), SavedOutput(out))
        self.dim = dim

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = _grad(grads)
        sx, sy = self._saved()
        x = sx.get(self)
        if x.ndim == 0:
            return (g,)
        if not builtins.bool(xp.any(x.array == 0)):
            return (div(_reverse_cumsum(mul(g, sy.get(self)), self.dim), x),)
        return (_make(_cumprod_grad_with_zeros(x.array, g.array, self.dim)),)


def _cumprod_grad_with_zeros(x: NDArray, g: NDArray, d: builtins.int) -> NDArray:
    xs, gs = xp.moveaxis(x, d, -1), xp.moveaxis(g, d, -1)
    n = xs.shape[-1]
    positions = xp.arange(n, device=x.device)
    one = xp.ones((), dtype=x.dtype, device=x.device)
    columns = []
    for k in range(n):
        others = xp.cumulative_prod(xp.where(positions == k, one, xs), axis=-1)
        columns.append(xp.sum((gs * others)[..., k:], axis=-1))
    return xp.moveaxis(xp.stack(columns, axis=-1), -1, d)


def cumprod(input: Tensor, dim: builtins.int, *, dtype: Any = None) -> Tensor:
    """The running products of input along dim.

    >>> cumprod(tensor([1, 2, 3]), 0)
    tensor([1, 2, 6])
    """
    values = _accumulated(input, dtype, "cumprod")
    d = _dim(dim, input.ndim)
    if dtype is not None and values.dtype != input.dtype and needs_grad(input):
        return cumprod(to(input, None, values.dtype), d)
    if input.ndim:
        values = xp.cumulative_prod(values, axis=d)
    else:
        values = xp.asarray(values, copy=True)
    out = _make(label(values, activation("cumprod")))
    if needs_grad(input):
        node = CumprodBackward((edge_of(input),), input, out, d)
        out._requires_grad, out.grad_fn = True, node
    return out


# ------------------------------------------------------------------- prod
class ProdBackward(SavingNode):
    """PyTorch's: in a product without zeros, product / x; where x is its
    product's one zero, the product of the others; elsewhere zero. Written
    with the operations (the product of the others is a prod itself), so
    differentiable again; the second derivative is exact where the input has
    no zeros."""

    __slots__ = ("axes", "keepdim", "shape")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        x: Tensor,
        axes: tuple[builtins.int, ...] | None,
        keepdim: builtins.bool,
    ) -> None:
        super().__init__(edges)
        self.saved = (Saved(x),)
        self.axes, self.keepdim, self.shape = axes, keepdim, x.shape

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = _restore_dims(_grad(grads), self.shape, self.axes, self.keepdim)
        x = self._saved()[0].get(self)
        zeros = x.array == 0
        one = xp.ones((), dtype=x.dtype, device=x.device)
        safe = where(_make(zeros), _make(one), x)
        if self.axes is None:
            others = _restore_dims(prod(safe), self.shape, None, False)
        else:
            others = _restore_dims(
                prod(safe, self.axes[0], True), self.shape, self.axes, True
            )
        count = xp.sum(xp.astype(zeros, xp.int64), axis=self.axes, keepdims=True)
        none = _make(xp.broadcast_to(count == 0, self.shape))
        lone = _make(xp.logical_and(zeros, count == 1))
        zero = _make(xp.zeros((), dtype=x.dtype, device=x.device))
        weight = where(none, div(others, safe), where(lone, others, zero))
        return (mul(g, weight),)


@autocast_op("prod")
def prod(
    input: Tensor,
    dim: builtins.int | None = None,
    keepdim: builtins.bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """The product of input's elements (along dim).

    >>> prod(tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
    tensor([ 2., 12.])
    """
    values = _accumulated(input, dtype, "prod")
    if dtype is not None and values.dtype != input.dtype and needs_grad(input):
        return prod(to(input, None, values.dtype), dim, keepdim)
    if dim is not None and type(dim) is not builtins.int:
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    axes = _axes(dim, input.ndim)
    data = label(xp.prod(values, axis=axes, keepdims=keepdim), activation("prod"))
    if not needs_grad(input):
        return _make(data)
    return _make(data, True, ProdBackward((edge_of(input),), input, axes, keepdim))


# -------------------------------------------------------------- logsumexp
def logsumexp(
    input: Tensor,
    dim: builtins.int | Sequence[builtins.int],
    keepdim: builtins.bool = False,
) -> Tensor:
    """log(sum(exp(input), dim)), computed as m + log(sum(exp(sub(input, m)))) with
    m the maximum (taken as 0 where it is infinite), so that it neither
    overflows nor gives NaN for a row of -inf. Integer inputs give float32.

    >>> logsumexp(tensor([0.0, 0.0]), 0)
    tensor(0.6931)
    """
    if not isinstance(input, TensorBase):
        raise TypeError(
            f"logsumexp(): input must be a Tensor, not {type(input).__name__}"
        )
    if input.dtype not in INEXACT:
        input = to(input, None, get_default_dtype())
    if input.ndim == 0:
        _axes(dim, 0)
        flat = logsumexp(reshape(input, (1,)), 0, keepdim)
        return flat if not keepdim else reshape(flat, ())
    axes = _axes(dim, input.ndim)
    shift = xp.max(input.array, axis=axes, keepdims=True)
    shift = xp.where(xp.isinf(shift), xp.zeros_like(shift), shift)
    m = _make(shift)
    total = sum(exp(sub(input, m)), axes, True)
    out = add(log(total), m)
    if keepdim:
        return out
    return reshape(
        out, tuple(n for i, n in enumerate(input.shape) if i not in (axes or ()))
    )
