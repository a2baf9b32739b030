"""Masking: tril and triu, masked_fill and masked_fill_ (in place, by the rules
of _inplace.py).

The operations follow the pattern of _shape.py.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import actnet.ndarray as xp
from actnet.ndarray import NDArray
from actnet.tensor._copy_on_write import sole_buffer
from actnet.tensor._graph import Edge, Node, edge_of, needs_grad
from actnet.tensor._inplace import _history, _rebase
from actnet.tensor._math import where
from actnet.tensor._promotion import cast_scalar, is_scalar, numpy_scalar
from actnet.tensor._reductions import sum
from actnet.tensor._saved import SavingNode, activation, label
from actnet.tensor._shape import to, unbroadcast
from actnet.tensor._tensor_base import Scalar, TensorBase, _make
from actnet.tensor._views import before_write, changed

if TYPE_CHECKING:
    from actnet.tensor._tensor import Tensor


# ---------------------------------------------------------------- tril, triu
class TriangleBackward(Node):
    __slots__ = ("diagonal", "lower")

    def __init__(
        self, edges: tuple[Edge, ...], diagonal: builtins.int, lower: builtins.bool
    ) -> None:
        super().__init__(edges)
        self.diagonal, self.lower = diagonal, lower

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        return (_triangle(g, self.diagonal, self.lower),)


def _triangle(a: Tensor, diagonal: builtins.int, lower: builtins.bool) -> Tensor:
    op = "tril" if lower else "triu"
    if not isinstance(a, TensorBase):
        raise TypeError(f"{op}(): input must be a Tensor, got {type(a).__name__}")
    if type(diagonal) is not builtins.int:
        raise TypeError(f"{op}(): diagonal must be an int, got {diagonal!r}")
    if a.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    values = xp.tril(a.array, k=diagonal) if lower else xp.triu(a.array, k=diagonal)
    data = label(values, activation(op))
    if not needs_grad(a):
        return _make(data)
    return _make(data, True, TriangleBackward((edge_of(a),), diagonal, lower))


def tril(input: Tensor, diagonal: builtins.int = 0) -> Tensor:
    """input with the elements above the `diagonal`-th diagonal of its last two
    dims zeroed (diagonal > 0: above the main one).

    >>> tril(ones(3, 3))  # the causal mask of attention, as 1s and 0s
    """
    return _triangle(input, diagonal, lower=True)


def triu(input: Tensor, diagonal: builtins.int = 0) -> Tensor:
    """input with the elements below the `diagonal`-th diagonal zeroed."""
    return _triangle(input, diagonal, lower=False)


# --------------------------------------------------------------- masked_fill
def _fill_array(value: Any, like: NDArray) -> NDArray:
    """masked_fill's value (a Python or NumPy scalar, or a 0-d Tensor) as a 0-d
    array of like's dtype, on like's device."""
    if isinstance(value, TensorBase):
        if value.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got "
                f"tensor with {value.ndim} dimension(s)."
            )
        data = value.array
        if data.dtype != like.dtype:
            data = xp.astype(data, like.dtype)
        return data if data.device is like.device else data.to_device(like.device)
    value = numpy_scalar(value)
    if not is_scalar(value):
        raise TypeError(
            "masked_fill(): value must be a number or a 0-dim Tensor, got "
            f"{type(value).__name__}"
        )
    return xp.asarray(
        cast_scalar(value, like.dtype), dtype=like.dtype, device=like.device
    )


class MaskedFillBackward(SavingNode):
    """The input's gradient is zero where the mask is set; the value's (a 0-d
    tensor) is the sum of the gradient there."""

    __slots__ = ("input_shape", "value_dtype")

    def __init__(
        self,
        edges: tuple[Edge, ...],
        mask: NDArray,
        input_shape: tuple[builtins.int, ...],
        value_dtype: Any,
    ) -> None:
        super().__init__(edges)
        self.saved = (mask,)
        self.input_shape, self.value_dtype = input_shape, value_dtype

    def backward(self, grads: list[Tensor | None]) -> Sequence[Tensor | None]:
        g = grads[0]
        assert g is not None
        (mask,) = self._saved()
        zero = _make(xp.zeros((), dtype=g.dtype, device=g.device))
        m = _make(mask)
        gi = gv = None
        if self.next_edges[0]:
            gi = unbroadcast(where(m, zero, g), self.input_shape)
        if len(self.next_edges) > 1 and self.next_edges[1]:
            gv = to(sum(where(m, g, zero)), None, self.value_dtype)
        return gi, gv


def masked_fill(input: Tensor, mask: Tensor, value: Tensor | Scalar) -> Tensor:
    """input with `value` where the bool `mask` (broadcast with input) is true;
    value is a number or a 0-d tensor (differentiable), cast to input's dtype.

    >>> scores.masked_fill(~causal, float("-inf"))
    """
    if not isinstance(input, TensorBase):
        raise TypeError(f"masked_fill(): input must be a Tensor, not {type(input)}")
    if not isinstance(mask, TensorBase):
        raise TypeError(
            f"masked_fill(): mask must be a Tensor, not {type(mask).__name__}"
        )
    if mask.dtype != xp.bool:
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{mask.dtype}"
        )
    x = input.array
    fill = _fill_array(value, x)
    data = label(xp.where(mask.array, fill, x), activation("masked_fill"))
    if not needs_grad(input, value):
        return _make(data)
    edges: tuple[Edge, ...] = (edge_of(input),)
    value_dtype = None
    if isinstance(value, TensorBase):
        edges, value_dtype = (edge_of(input), edge_of(value)), value.dtype
    node = MaskedFillBackward(edges, mask.array, input.shape, value_dtype)
    return _make(data, True, node)


def masked_fill_(t: Tensor, mask: Tensor, value: Tensor | Scalar) -> Tensor:
    """t with `value` where `mask` (which broadcasts to t's shape) is true, in
    place: into t's own buffer when nothing else holds it (copy-on-write)."""
    before_write(t, "masked_fill_")
    if needs_grad(t, value):
        return _rebase(t, masked_fill(_history(t), mask, value))
    result = masked_fill(_make(t.array), mask, value).array
    if result.shape != t.shape:
        raise RuntimeError(
            f"output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}"
        )
    buf = sole_buffer(t)
    if buf is not None:
        buf.device.copy(result.buffer, out=buf)
    else:
        t.array = result
    return changed(t)
