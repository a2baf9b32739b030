"""Linear algebra functions of the standard's main namespace: matmul,
matrix_transpose, tensordot and vecdot (also in `actnet.ndarray.linalg`).

    a = xp.reshape(xp.arange(6.0), (2, 3))
    xp.matmul(a, xp.matrix_transpose(a))            # (2, 2), as a @ a.mT
    xp.tensordot(a, a, axes=([1], [1]))             # the same
    xp.vecdot(a, a)                                 # [5.0, 50.0]: row norms squared

Operands promote by the standard's table; bool arrays are refused (numeric
dtypes only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from actnet.device import Buffer
from actnet.ndarray._arguments import (
    array_arg,
    broadcast_shapes,
    common_device,
    int_arg,
    normalize_axes,
)
from actnet.ndarray._array import NDArray, _promote_pair, _wrap
from actnet.ndarray._statistical import checked

__all__ = ["matmul", "matrix_transpose", "tensordot", "vecdot"]


def numeric_pair(x1: Any, x2: Any, op: str) -> tuple[Buffer, Buffer]:
    """The buffers of two numeric NDArrays on one device, promoted to one dtype."""
    checked(x1, op, "numeric", "x1")
    checked(x2, op, "numeric", "x2")
    common_device([x1, x2], op, ["x1", "x2"])
    return _promote_pair(x1, x2)


def contiguous(buf: Buffer) -> Buffer:
    """`buf`, or a C-contiguous copy of it (so that any reshape is a view)."""
    return buf if buf.is_contiguous else buf.device.copy(buf)


def matmul(x1: NDArray, x2: NDArray, /) -> NDArray:
    """The matrix product, batched over leading axes (which broadcast); a 1-d
    operand is a row (x1) or column (x2) vector whose added axis is dropped.

    >>> xp.matmul(xp.ones((4, 2, 3)), xp.ones(3)).shape    # (4, 2)
    """
    a, b = numeric_pair(x1, x2, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands need at least one axis, got shapes {x1.shape} and "
            f"{x2.shape} (multiply scalars with *)"
        )
    return _wrap(a.device.matmul(a, b))


def matrix_transpose(x: NDArray, /) -> NDArray:
    """The transpose of each matrix in the stack x (its last two axes), a view.

    >>> xp.matrix_transpose(xp.ones((5, 2, 3))).shape      # (5, 3, 2)
    """
    array_arg(x, "matrix_transpose")
    if x.ndim < 2:
        raise ValueError(
            f"matrix_transpose: x needs at least 2 axes, got shape {x.shape}"
        )
    return _wrap(x.buffer.swapaxes(-1, -2))


def _tensordot_axes(
    axes: Any, ndim1: int, ndim2: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """`axes` (an int, or two sequences of axes) as the axes of x1 and of x2 to
    contract, paired in order."""
    if isinstance(axes, int):
        count = int_arg(axes, "tensordot", "axes")
        if count < 0 or count > ndim1 or count > ndim2:
            raise ValueError(
                f"tensordot: axes={count} must be non-negative and at most the "
                f"number of axes of x1 ({ndim1}) and of x2 ({ndim2})"
            )
        return tuple(range(ndim1 - count, ndim1)), tuple(range(count))
    if not isinstance(axes, tuple | list) or len(axes) != 2:
        raise TypeError(
            f"tensordot: axes must be an int or a pair of sequences of ints, "
            f"got {axes!r}"
        )
    pair = []
    for name, items, ndim in (("x1", axes[0], ndim1), ("x2", axes[1], ndim2)):
        if not isinstance(items, Sequence) or isinstance(items, str):
            raise TypeError(
                f"tensordot: the axes of {name} must be a sequence of ints, "
                f"got {items!r}"
            )
        pair.append(normalize_axes(tuple(items), ndim, "tensordot", f"axes of {name}"))
    if len(pair[0]) != len(pair[1]):
        raise ValueError(
            f"tensordot: axes {axes!r} name {len(pair[0])} axes of x1 but "
            f"{len(pair[1])} of x2"
        )
    return pair[0], pair[1]


def tensordot(
    x1: NDArray,
    x2: NDArray,
    /,
    *,
    axes: int | tuple[Sequence[int], Sequence[int]] = 2,
) -> NDArray:
    """The sum of products over the contracted axes: the last `axes` axes of x1
    with the first `axes` of x2, or the axes listed for each (paired in order,
    equal extents: they do not broadcast). The result has x1's other axes, then
    x2's.

    >>> xp.tensordot(xp.ones((2, 3, 4)), xp.ones((4, 5)), axes=1).shape  # (2, 3, 5)
    """
    a, b = numeric_pair(x1, x2, "tensordot")
    axes1, axes2 = _tensordot_axes(axes, a.ndim, b.ndim)
    for i, j in zip(axes1, axes2, strict=True):
        if a.shape[i] != b.shape[j]:
            raise ValueError(
                f"tensordot: axis {i} of x1 (extent {a.shape[i]}) and axis {j} of "
                f"x2 (extent {b.shape[j]}) must have equal extents"
            )
    free1 = [i for i in range(a.ndim) if i not in axes1]
    free2 = [j for j in range(b.ndim) if j not in axes2]
    shape1 = [a.shape[i] for i in free1]
    shape2 = [b.shape[j] for j in free2]
    inner = math.prod(a.shape[i] for i in axes1)
    # (free1, contracted) @ (contracted, free2) as one matrix product.
    left = contiguous(a.transpose((*free1, *axes1))).reshape(math.prod(shape1), inner)
    right = contiguous(b.transpose((*axes2, *free2))).reshape(inner, math.prod(shape2))
    product = a.device.matmul(left, right)
    return _wrap(product.reshape((*shape1, *shape2)))


def vector_axis(axis: Any, ndim1: int, ndim2: int, op: str) -> int:
    """`axis` of vecdot and cross: a negative int counting from the end, in
    [-min(x1.ndim, x2.ndim), -1]."""
    a = int_arg(axis, op, "axis")
    low = -min(ndim1, ndim2)
    if not low <= a <= -1:
        raise ValueError(
            f"{op}: axis must be in [{low}, -1] for arrays with {ndim1} and "
            f"{ndim2} axes, got {a}"
        )
    return a


def vectors_last(a: Buffer, b: Buffer, axis: int, op: str) -> tuple[Buffer, Buffer]:
    """Views of a and b with the vectors' `axis` (negative) last, broadcast
    together over the other axes; the vectors' extents must be equal."""
    if a.shape[axis] != b.shape[axis]:
        raise ValueError(
            f"{op}: x1 and x2 must have equal extents along axis {axis}, got shapes "
            f"{a.shape} and {b.shape} (the vector axis does not broadcast)"
        )
    moved = []
    for buf in (a, b):
        position = buf.ndim + axis
        order = [i for i in range(buf.ndim) if i != position] + [position]
        moved.append(buf.transpose(tuple(order)))
    batch = broadcast_shapes([m.shape[:-1] for m in moved], op)
    n = a.shape[axis]
    return moved[0].broadcast_to(*batch, n), moved[1].broadcast_to(*batch, n)


def vecdot(x1: NDArray, x2: NDArray, /, *, axis: int = -1) -> NDArray:
    """The dot product sum(conj(x1) * x2) of the vectors along `axis` (negative,
    within both arrays' axes); the other axes broadcast.

    >>> xp.vecdot(xp.asarray([1j, 2]), xp.asarray([1j, 1]))   # (3+0j): x1 conjugated
    """
    a, b = numeric_pair(x1, x2, "vecdot")
    position = vector_axis(axis, a.ndim, b.ndim, "vecdot")
    u, v = vectors_last(a, b, position, "vecdot")
    dev = a.device
    if u.dtype.kind == "c":
        u = dev.conj(u)
    # (..., 1, n) @ (..., n, 1): the products are summed by the matrix product.
    product = dev.matmul(u[..., None, :], v[..., :, None])
    return _wrap(product[..., 0, 0])
