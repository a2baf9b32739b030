"""amax, amin, median and norm.

amax and amin share the gradient evenly among the elements equal to the
extreme (PyTorch's rule, unlike max's single index along a dim); median's
value is `gather` at the index it picks, so the gradient goes to that
element. norm is a composition: p=1 a sum of abs, p=inf an amax of abs, p=2
('fro') its own node (0 where the norm is 0, as PyTorch's), other p the sum of
powers.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._arithmetic import add, div, mul
from actnet.tensor._floating import FLOATING, INEXACT
from actnet.tensor._graph import Edge, edge_of, needs_grad
from actnet.tensor._indexing import gather
from actnet.tensor._math import abs, pow, where
from actnet.tensor._promotion import as_dtype
from actnet.tensor._reductions import _axes, _restore_dims, sum
from actnet.tensor._saved import Saved, SavedOutput, SavingNode, activation, label
from actnet.tensor._shape import reshape, to
from actnet.tensor._tensor_base import TensorBase, _dim, _make

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor

Dims = builtins.int | Sequence[builtins.int] | None


class MedianResult(NamedTuple):
    """What median with a dim returns (PyTorch's `torch.return_types.median`)."""

    values: Tensor
    indices: Tensor


def _check(a: Any, op: str) -> None:
    if not isinstance(a, TensorBase):
        raise TypeError(f"{op}(): input must be a Tensor, not {type(a).__name__}")


# ---------------------------------------------------------------- amax, amin
class AmaxBackward(SavingNode):
    """The gradient, restored to the input's shape, times the saved weights:
    1 / (number of ties) where the input equals the extreme, else 0."""

    __slots__ = ("axes", "keepdim", "shape")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        weights: NDArray,
        axes: tuple[builtins.int, ...] | None,
        keepdim: builtins.bool,
    ) -> None:
        super().__init__(edges)
        self.saved = (weights,)
        self.axes, self.keepdim, self.shape = axes, keepdim, weights.shape

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        (weights,) = self._saved()
        full = _restore_dims(g, self.shape, self.axes, self.keepdim)
        return (mul(full, _make(weights)),)


def _extreme(
    input: Tensor, dim: Dims, keepdim: builtins.bool, largest: builtins.bool
) -> Tensor:
    op = "amax" if largest else "amin"
    _check(input, op)
    if isinstance(dim, Sequence) and len(dim) == 0:
        dim = None  # PyTorch: dim=() reduces every dim
    axes = _axes(dim, input.ndim)
    if input.ndim == 0:
        axes = None
    for i in range(input.ndim) if axes is None else axes:
        if input.shape[i] == 0:
            raise IndexError(
                f"{op}(): Expected reduction dim {i} to have non-zero size."
            )
    x = input.array
    keys = xp.astype(x, xp.uint8) if x.dtype == xp.bool else x
    reduce = xp.max if largest else xp.min
    values = reduce(keys, axis=axes, keepdims=keepdim)
    if x.dtype == xp.bool:
        values = xp.astype(values, xp.bool)
    data = label(values, activation(op))
    if not needs_grad(input):
        return _make(data)
    ties = x == reduce(keys, axis=axes, keepdims=True)
    counts = xp.sum(xp.astype(ties, x.dtype), axis=axes, keepdims=True)
    weights = xp.astype(ties, x.dtype) / counts
    node = AmaxBackward((edge_of(input),), weights, axes, keepdim)
    return _make(data, True, node)


def amax(input: Tensor, dim: Dims = (), keepdim: builtins.bool = False) -> Tensor:
    """The largest element over `dim` (an int or a tuple; () or None: all
    dims); the gradient is shared evenly among equal largest elements.

    >>> amax(tensor([[1.0, 5.0], [7.0, 2.0]]), 1)
    tensor([5., 7.])
    """
    return _extreme(input, dim, keepdim, largest=True)


def amin(input: Tensor, dim: Dims = (), keepdim: builtins.bool = False) -> Tensor:
    """The smallest element over `dim` (see amax)."""
    return _extreme(input, dim, keepdim, largest=False)


# ------------------------------------------------------------------ median
def _median_indices(x: NDArray, d: builtins.int) -> NDArray:
    """The int64 index along d of the lower median of each slice; of its first
    NaN where it has one (PyTorch's median propagates NaN)."""
    n = x.shape[d]
    keys = xp.astype(x, xp.uint8) if x.dtype == xp.bool else x
    order = xp.argsort(keys, axis=d)  # stable; NaN sorts last
    pick = order[(slice(None),) * d + (slice((n - 1) // 2, (n - 1) // 2 + 1),)]
    if x.dtype in FLOATING:
        nan = xp.isnan(x)
        first_nan = xp.argmax(xp.astype(nan, xp.uint8), axis=d, keepdims=True)
        has_nan = xp.any(nan, axis=d, keepdims=True)
        pick = xp.where(has_nan, xp.astype(first_nan, xp.int64), pick)
    return xp.astype(pick, xp.int64)


def median(
    input: Tensor, dim: builtins.int | None = None, keepdim: builtins.bool = False
) -> Any:
    """The lower median of input's elements (of an even count, the smaller of
    the two middle ones), NaN if any is NaN; with dim, (values, indices) along
    it (`MedianResult`).

    >>> median(tensor([3.0, 1.0, 4.0, 2.0]))
    tensor(2.)
    """
    _check(input, "median")
    if input.dtype.kind == "c":
        raise RuntimeError("median() does not support complex dtypes")
    if dim is None:
        if input.numel() == 0:
            return _make(xp.full((), math.nan, dtype=input.dtype, device=input.device))
        flat = reshape(input, (-1,))
        picked = _median_indices(flat.array, 0)
        return reshape(gather(flat, 0, _make(picked)), ())
    if input.ndim == 0:
        _dim(dim, 0)
        return MedianResult(
            reshape(input, ()), _make(xp.zeros((), dtype=xp.int64, device=input.device))
        )
    d = _dim(dim, input.ndim)
    if input.shape[d] == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    picked = _median_indices(input.array, d)
    values = gather(input, d, _make(picked))
    if keepdim:
        return MedianResult(values, _make(picked))
    kept = input.shape[:d] + input.shape[d + 1 :]
    return MedianResult(reshape(values, kept), _make(xp.reshape(picked, kept)))


# -------------------------------------------------------------------- norm
class Norm2Backward(SavingNode):
    """d ||x|| = x / ||x|| (0 where the norm is 0, as PyTorch's)."""

    __slots__ = ("axes", "keepdim")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        x: Tensor,
        out: Tensor,
        axes: tuple[builtins.int, ...] | None,
        keepdim: builtins.bool,
    ) -> None:
        super().__init__(edges)
        self.saved = (Saved(x), SavedOutput(out))
        self.axes, self.keepdim = axes, keepdim

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        sx, sn = self._saved()
        x, norm = sx.get(self), sn.get(self)
        zero = _make(xp.zeros((), dtype=g.dtype, device=g.device))
        scale = where(_make(norm.array == 0), zero, div(g, norm))
        return (mul(x, _restore_dims(scale, x.shape, self.axes, self.keepdim)),)


def _norm2(
    x: Tensor, axes: tuple[builtins.int, ...] | None, keepdim: builtins.bool
) -> Tensor:
    values = x.array
    if values.dtype.kind == "c":
        squares = xp.real(values * xp.conj(values))
        norm = xp.sqrt(xp.sum(squares, axis=axes, keepdims=keepdim))
    else:  # one pass, the squares summed in float64
        norm = xp.linalg.vector_norm(values, axis=axes, keepdims=keepdim)
    data = label(norm, activation("norm"))
    out = _make(data)
    if needs_grad(x):
        out._requires_grad = True
        out.grad_fn = Norm2Backward((edge_of(x),), x, out, axes, keepdim)
    return out


def norm(
    input: Tensor,
    p: builtins.float | str | None = "fro",
    dim: Dims = None,
    keepdim: builtins.bool = False,
    dtype: Any = None,
) -> Tensor:
    """The vector norm of input over `dim` (None: all elements): p = 2 or
    'fro' (the default), 1, inf, -inf, 0 (the count of nonzeros), or any other
    number (the p-th root of the sum of |x|^p).

    >>> norm(tensor([3.0, 4.0]))
    tensor(5.)
    """
    _check(input, "norm")
    if dtype is not None:
        input = to(input, None, as_dtype(dtype))
    if input.dtype not in INEXACT:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as "
            f"input. Got {input.dtype}"
        )
    if p is None:
        p = "fro"
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"norm(p={p!r}) is not built in actnet.tensor")
        if dim is not None and not isinstance(dim, builtins.int) and len(dim) > 2:
            raise RuntimeError(
                f"linalg.matrix_norm: dim must be a 2-tuple. Got {list(dim)}"
            )
        p = 2.0
    axes = _axes(dim, input.ndim)
    if input.ndim == 0:
        axes = None
    if p == 2:
        return _norm2(input, axes, keepdim)
    magnitude = abs(input)
    if p == 1:
        return sum(magnitude, axes, keepdim)
    if p == math.inf:
        return _extreme(magnitude, axes, keepdim, largest=True)
    if p == -math.inf:
        return _extreme(magnitude, axes, keepdim, largest=False)
    if p == 0:
        nonzero = xp.astype(magnitude.array != 0, magnitude.dtype)
        count = _make(xp.sum(nonzero, axis=axes, keepdims=keepdim))
        return add(mul(sum(magnitude, axes, keepdim), 0.0), count)  # gradient 0
    return pow(sum(pow(magnitude, p), axes, keepdim), 1.0 / p)
