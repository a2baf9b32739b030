"""The standard's linear algebra extension, as `actnet.ndarray.linalg`.

    import actnet.ndarray as xp
    a = xp.asarray([[4.0, 2.0], [2.0, 3.0]])
    L = xp.linalg.cholesky(a)                    # a == L @ L.mT
    w, v = xp.linalg.eigh(a)                     # ascending eigenvalues
    x = xp.linalg.solve(a, xp.asarray([1.0, 0.0]))
    xp.linalg.matrix_norm(a, ord="nuc")          # the sum of singular values

Functions of matrices take stacks of them: the last two axes are the matrix, the
leading ones a batch. Factorizations and solvers take floating dtypes only (a
TypeError otherwise); float16 is computed in float32 and returned in float16.
Results of several arrays are named tuples, as the standard asks.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, Literal, NamedTuple

from actnet.device import Buffer
from actnet.ndarray import _dtypes as dt
from actnet.ndarray._arguments import (
    array_arg,
    broadcast_shapes,
    common_device,
    int_arg,
)
from actnet.ndarray._array import NDArray, _promote_pair, _wrap
from actnet.ndarray._creation import eye
from actnet.ndarray._linear_algebra import (
    matmul,
    matrix_transpose,
    numeric_pair,
    tensordot,
    vecdot,
    vector_axis,
    vectors_last,
)
from actnet.ndarray._statistical import (
    accumulation_dtype,
    bool_arg,
    checked,
    reduction_axes,
)

__all__ = [
    "EighResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "cholesky",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "trace",
    "vecdot",
    "vector_norm",
]


class EighResult(NamedTuple):
    eigenvalues: NDArray
    eigenvectors: NDArray


class QRResult(NamedTuple):
    Q: NDArray
    R: NDArray


class SlogdetResult(NamedTuple):
    sign: NDArray
    logabsdet: NDArray


class SVDResult(NamedTuple):
    U: NDArray
    S: NDArray
    Vh: NDArray


# ------------------------------------------------------------------ helpers
def _matrices(
    x: Any, op: str, *, square: builtins.bool = False, kind: str = "floating-point"
) -> NDArray:
    """`x`, checked: an NDArray of `kind` with at least two axes (the last two
    equal when `square`)."""
    array = checked(x, op, kind)
    if array.ndim < 2:
        raise ValueError(
            f"{op}: x must be a stack of matrices (at least 2 axes), got shape "
            f"{array.shape}"
        )
    if square and array.shape[-1] != array.shape[-2]:
        raise ValueError(
            f"{op}: x must be a stack of square matrices, got shape {array.shape}"
        )
    return array


def _lapack(buf: Buffer) -> Buffer:
    """`buf` in a dtype the device's factorizations take: float16 as float32."""
    if buf.dtype == dt.float16:
        return buf.device.astype(buf, dt.float32)
    return buf


def _restored(buf: Buffer, dtype: dt.DType) -> Buffer:
    """A factorization's result in float16 again when its input was float16."""
    if dtype == dt.float16 and buf.dtype == dt.float32:
        return buf.device.astype(buf, dt.float16)
    return buf


def _conj_transpose(buf: Buffer) -> Buffer:
    """The conjugate transpose of each matrix (a view for real dtypes)."""
    flipped = buf.swapaxes(-1, -2)
    return buf.device.conj(flipped) if buf.dtype.kind == "c" else flipped


def _singular_values(x: NDArray) -> Buffer:
    """x's singular values (descending) in the real dtype of x's precision."""
    return _restored(x.device.svdvals(_lapack(x.buffer)), x.dtype)


def _common(a: Buffer, b: Buffer) -> tuple[Buffer, Buffer]:
    """Two buffers promoted to one dtype by the table."""
    return _promote_pair(_wrap(a), _wrap(b))


def _tolerance(
    x: NDArray, singular: Buffer, rtol: Any, op: str
) -> tuple[Buffer, Buffer]:
    """The singular values and the cutoff rtol * their largest (shape (..., 1)),
    in one dtype. rtol: a number, an array broadcasting against the stack's
    batch shape, or None for max(M, N) * eps."""
    dev = singular.device
    largest = dev.max(singular, -1, True)
    if rtol is None:
        rtol = builtins.max(x.shape[-2:]) * dt.finfo(singular.dtype).eps
    if type(rtol) is NDArray:
        checked(rtol, op, "real floating-point", "rtol")
        common_device([x, rtol], op, ["x", "rtol"])
        big, relative = _common(largest, rtol.buffer)
        cutoff = dev.multiply(big, relative[..., None])
    elif isinstance(rtol, int | float) and not isinstance(rtol, builtins.bool):
        cutoff = dev.multiply(largest, float(rtol))
    else:
        raise TypeError(f"{op}: rtol must be a float, an NDArray or None, got {rtol!r}")
    return _common(singular, cutoff)


# ------------------------------------------------------------ factorizations
def cholesky(x: NDArray, /, *, upper: builtins.bool = False) -> NDArray:
    """The Cholesky factor of each Hermitian positive-definite matrix: L, lower
    triangular with x = L @ conj(L).mT, or U = conj(L).mT when `upper`. A matrix
    that is not positive-definite is a ValueError."""
    _matrices(x, "cholesky", square=True)
    bool_arg(upper, "cholesky", "upper")
    factor = x.device.cholesky(_lapack(x.buffer), upper=upper)
    return _wrap(_restored(factor, x.dtype))


def eigh(x: NDArray, /) -> EighResult:
    """Eigenvalues (ascending, real) and eigenvectors (the columns) of each
    Hermitian matrix; only the lower triangle is read."""
    _matrices(x, "eigh", square=True)
    values, vectors = x.device.eigh(_lapack(x.buffer))
    return EighResult(
        _wrap(_restored(values, x.dtype)), _wrap(_restored(vectors, x.dtype))
    )


def eigvalsh(x: NDArray, /) -> NDArray:
    """The eigenvalues of each Hermitian matrix, ascending."""
    _matrices(x, "eigvalsh", square=True)
    return eigh(x).eigenvalues


def qr(x: NDArray, /, *, mode: Literal["reduced", "complete"] = "reduced") -> QRResult:
    """x = Q @ R with orthonormal columns in Q and R upper triangular; for an
    (M, N) matrix, Q is (M, K) and R (K, N) with K = min(M, N) ("reduced"), or
    Q is (M, M) and R (M, N) ("complete")."""
    _matrices(x, "qr")
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    q, r = x.device.qr(_lapack(x.buffer), mode=mode)
    return QRResult(_wrap(_restored(q, x.dtype)), _wrap(_restored(r, x.dtype)))


def svd(x: NDArray, /, *, full_matrices: builtins.bool = True) -> SVDResult:
    """x = U @ diag(S) @ Vh, S descending; with full_matrices=False, U is (M, K)
    and Vh (K, N) for K = min(M, N), else U is (M, M) and Vh (N, N)."""
    _matrices(x, "svd")
    bool_arg(full_matrices, "svd", "full_matrices")
    u, s, vh = x.device.svd(_lapack(x.buffer), full_matrices=full_matrices)
    return SVDResult(*(_wrap(_restored(b, x.dtype)) for b in (u, s, vh)))


def svdvals(x: NDArray, /) -> NDArray:
    """The singular values of each matrix, descending, in x's real dtype."""
    _matrices(x, "svdvals")
    return _wrap(_singular_values(x))


# ------------------------------------------------------------------ solvers
def det(x: NDArray, /) -> NDArray:
    """The determinant of each square matrix."""
    _matrices(x, "det", square=True)
    return _wrap(_restored(x.device.det(_lapack(x.buffer)), x.dtype))


def slogdet(x: NDArray, /) -> SlogdetResult:
    """The sign (a unit complex number for complex x; 0 for a singular matrix)
    and the natural log of the absolute value of each determinant."""
    _matrices(x, "slogdet", square=True)
    sign, logabs = x.device.slogdet(_lapack(x.buffer))
    return SlogdetResult(
        _wrap(_restored(sign, x.dtype)), _wrap(_restored(logabs, x.dtype))
    )


def inv(x: NDArray, /) -> NDArray:
    """The inverse of each square matrix; a singular one is a ValueError."""
    _matrices(x, "inv", square=True)
    return _wrap(_restored(x.device.inv(_lapack(x.buffer)), x.dtype))


def solve(x1: NDArray, x2: NDArray, /) -> NDArray:
    """The solution of x1 @ result = x2: x2 of shape (M,) is one vector (the
    result is x1.shape[:-1]); otherwise x2 is a stack of (M, K) matrices whose
    batch broadcasts with x1's."""
    checked(x1, "solve", "floating-point", "x1")
    checked(x2, "solve", "floating-point", "x2")
    common_device([x1, x2], "solve", ["x1", "x2"])
    _matrices(x1, "solve", square=True)
    m = x1.shape[-1]
    if x2.ndim == 1:
        rows = x2.shape[0]
    elif x2.ndim >= 2:
        rows = x2.shape[-2]
        broadcast_shapes([x1.shape[:-2], x2.shape[:-2]], "solve")
    else:
        raise ValueError("solve: x2 must be a vector or a stack of matrices, got 0-d")
    if rows != m:
        raise ValueError(
            f"solve: x2 of shape {x2.shape} needs {m} rows to match x1 of shape "
            f"{x1.shape}"
        )
    a, b = _promote_pair(x1, x2)
    result = a.device.solve(_lapack(a), _lapack(b))
    return _wrap(_restored(result, a.dtype))


def pinv(x: NDArray, /, *, rtol: float | NDArray | None = None) -> NDArray:
    """The Moore-Penrose pseudo-inverse of each matrix, from its SVD: singular
    values at most rtol times the largest count as zero (rtol defaults to
    max(M, N) * eps)."""
    _matrices(x, "pinv")
    dev = x.device
    m, n = x.shape[-2:]
    if builtins.min(m, n) == 0:
        return _wrap(dev.full((*x.shape[:-2], n, m), 0, x.dtype))
    u, s, vh = dev.svd(_lapack(x.buffer), full_matrices=False)
    s, cutoff = _tolerance(x, s, rtol, "pinv")
    inverse = dev.where(dev.greater(s, cutoff), dev.reciprocal(s), 0)
    inverse = dev.astype(inverse, u.dtype) if inverse.dtype != u.dtype else inverse
    # pinv = V @ diag(1/S) @ U^H, with V = Vh^H
    scaled = dev.multiply(inverse[..., :, None], _conj_transpose(u))
    return _wrap(_restored(dev.matmul(_conj_transpose(vh), scaled), x.dtype))


def matrix_rank(x: NDArray, /, *, rtol: float | NDArray | None = None) -> NDArray:
    """The number of singular values of each matrix above rtol times the largest
    (rtol defaults to max(M, N) * eps), as default integers."""
    _matrices(x, "matrix_rank")
    dev = x.device
    if builtins.min(x.shape[-2:]) == 0:
        return _wrap(dev.full(x.shape[:-2], 0, dt.DEFAULT_INT))
    s, cutoff = _tolerance(x, _singular_values(x), rtol, "matrix_rank")
    above = dev.astype(dev.greater(s, cutoff), dt.DEFAULT_INT)
    return _wrap(dev.sum(above, -1))


def matrix_power(x: NDArray, n: int, /) -> NDArray:
    """x multiplied by itself n times: the identity for n = 0, powers of the
    inverse for n < 0.

    >>> xp.linalg.matrix_power(xp.asarray([[1.0, 1.0], [0.0, 1.0]]), 3)
    NDArray([[1., 3.],
             [0., 1.]])
    """
    _matrices(x, "matrix_power", square=True)
    count = int_arg(n, "matrix_power", "n")
    if count == 0:
        identity = eye(x.shape[-1], dtype=x.dtype, device=x.device)
        return _wrap(identity.buffer.broadcast_to(x.shape))
    base = x.buffer if count > 0 else inv(x).buffer
    return _wrap(_power(base, builtins.abs(count)))


def _power(base: Buffer, count: int) -> Buffer:
    """base ** count (count >= 1) by repeated squaring: O(log count) products."""
    dev = base.device
    result: Buffer | None = None
    while True:
        if count & 1:
            result = base if result is None else dev.matmul(result, base)
        count >>= 1
        if not count:
            assert result is not None
            return result
        base = dev.matmul(base, base)


# -------------------------------------------------------------------- norms
def matrix_norm(
    x: NDArray,
    /,
    *,
    keepdims: builtins.bool = False,
    ord: float | Literal["fro", "nuc"] | None = "fro",
) -> NDArray:
    """A norm of each matrix, in x's real dtype: "fro" (Frobenius; also None),
    "nuc" (sum of singular values), 1 / -1 (largest / smallest column sum of |x|),
    inf / -inf (row sums), 2 / -2 (largest / smallest singular value). With
    keepdims, the matrix axes stay, as extents of 1."""
    _matrices(x, "matrix_norm")
    bool_arg(keepdims, "matrix_norm", "keepdims")
    norms = _matrix_norm(x, ord)
    if keepdims:
        norms = norms.reshape((*x.shape[:-2], 1, 1))
    return _wrap(norms)


def _matrix_norm(x: NDArray, ord: Any) -> Buffer:
    dev = x.device
    matrix_axes = (x.ndim - 2, x.ndim - 1)
    if ord == "fro" or ord is None:  # None: the default, as in NumPy
        magnitude = dev.abs(x.buffer)
        return dev.sqrt(dev.sum(dev.multiply(magnitude, magnitude), matrix_axes))
    if ord == "nuc":
        return dev.sum(_singular_values(x), -1)
    if isinstance(ord, int | float) and not isinstance(ord, builtins.bool):
        if ord in (2, -2):
            return _extreme(_singular_values(x), ord > 0, "matrix_norm")
        if ord in (1, -1, math.inf, -math.inf):
            # 1: sums down each column (axis -2); inf: along each row (axis -1)
            summed_axis = x.ndim - 2 if builtins.abs(ord) == 1 else x.ndim - 1
            sums = dev.sum(dev.abs(x.buffer), summed_axis)
            return _extreme(sums, ord > 0, "matrix_norm")
    raise ValueError(
        f"matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got {ord!r}"
    )


def _extreme(values: Buffer, largest: builtins.bool, op: str) -> Buffer:
    """The largest (or smallest) of the non-negative `values` along the last
    axis; the largest of none is 0, the smallest of none an error."""
    dev = values.device
    if values.shape[-1] == 0:
        if not largest:
            raise ValueError(f"{op}: the smallest of no values is undefined")
        return dev.full(values.shape[:-1], 0, values.dtype)
    return dev.max(values, -1) if largest else dev.min(values, -1)


def vector_norm(
    x: NDArray,
    /,
    *,
    axis: int | tuple[int, ...] | None = None,
    keepdims: builtins.bool = False,
    ord: float = 2,
) -> NDArray:
    """The p-norm (sum |x|^p)^(1/p) over `axis` (every axis when None) for
    p = ord, in x's real dtype; inf and -inf take the largest and smallest |x|,
    0 counts the nonzero elements.

    >>> xp.linalg.vector_norm(xp.asarray([3.0, -4.0]))      # 5.0
    """
    checked(x, "vector_norm", "floating-point")
    axes = reduction_axes(x, axis, "vector_norm")
    bool_arg(keepdims, "vector_norm", "keepdims")
    if isinstance(ord, builtins.bool) or not isinstance(ord, int | float):
        raise TypeError(f"vector_norm: ord must be an int or a float, got {ord!r}")
    dev = x.device
    if ord == 2 and x.dtype.kind != "c":  # one pass, in float64 (no |x| needed)
        return _wrap(dev.sqrt(dev.sum_of_squares(x.buffer, axes, keepdims)))
    magnitude = dev.abs(x.buffer)
    if ord in (math.inf, -math.inf):
        return _wrap(_vector_extreme(magnitude, axes, keepdims, ord > 0))
    if ord == 0:
        nonzero = dev.astype(dev.not_equal(magnitude, 0), magnitude.dtype)
        return _wrap(dev.sum(nonzero, axes, keepdims))
    if ord == 1:
        return _wrap(dev.sum(magnitude, axes, keepdims))
    if ord == 2:
        squares = dev.multiply(magnitude, magnitude)
        return _wrap(dev.sqrt(dev.sum(squares, axes, keepdims)))
    powers = dev.sum(dev.pow(magnitude, float(ord)), axes, keepdims)
    return _wrap(dev.pow(powers, 1.0 / ord))


def _vector_extreme(
    magnitude: Buffer, axes: tuple[int, ...], keepdims: builtins.bool, largest: bool
) -> Buffer:
    """The largest (or smallest) |x| over `axes`: the largest of none is 0 (as
    NumPy's), the smallest of none an error."""
    dev = magnitude.device
    if any(magnitude.shape[a] == 0 for a in axes):
        if not largest:
            raise ValueError(
                f"vector_norm: ord=-inf over an empty extent (shape "
                f"{magnitude.shape}) is undefined"
            )
        shape = tuple(
            1 if i in axes else n
            for i, n in enumerate(magnitude.shape)
            if keepdims or i not in axes
        )
        return dev.full(shape, 0, magnitude.dtype)
    method = dev.max if largest else dev.min
    return method(magnitude, axes, keepdims)


# ------------------------------------------------------ diagonals and vectors
def diagonal(x: NDArray, /, *, offset: int = 0) -> NDArray:
    """The diagonal of each matrix (above the main one for offset > 0, below
    for offset < 0), a view.

    >>> xp.linalg.diagonal(xp.reshape(xp.arange(9), (3, 3)), offset=1)   # [1, 5]
    """
    array_arg(x, "diagonal")
    if x.ndim < 2:
        raise ValueError(f"diagonal: x needs at least 2 axes, got shape {x.shape}")
    return _wrap(x.buffer.diagonal(int_arg(offset, "diagonal", "offset"), -2, -1))


def trace(x: NDArray, /, *, offset: int = 0, dtype: Any = None) -> NDArray:
    """The sum of each matrix's diagonal (see `diagonal`), accumulated as `sum`
    does: integers in the default integer dtype of their signedness."""
    _matrices(x, "trace", kind="numeric")
    target = accumulation_dtype(x.dtype, dtype, "trace")
    diag = x.buffer.diagonal(int_arg(offset, "trace", "offset"), -2, -1)
    return _wrap(x.device.sum(diag, -1, dtype=target))


def outer(x1: NDArray, x2: NDArray, /) -> NDArray:
    """The outer product of two vectors: result[i, j] = x1[i] * x2[j]."""
    a, b = numeric_pair(x1, x2, "outer")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(
            f"outer: x1 and x2 must be 1-d, got shapes {x1.shape} and {x2.shape}"
        )
    return _wrap(a.device.multiply(a[:, None], b[None, :]))


def cross(x1: NDArray, x2: NDArray, /, *, axis: int = -1) -> NDArray:
    """The cross product of the 3-vectors along `axis` (negative, within both
    arrays' axes); the other axes broadcast.

    >>> xp.linalg.cross(xp.asarray([1, 0, 0]), xp.asarray([0, 1, 0]))   # [0, 0, 1]
    """
    a, b = numeric_pair(x1, x2, "cross")
    position = vector_axis(axis, a.ndim, b.ndim, "cross")
    if a.shape[position] != 3:
        raise ValueError(
            f"cross: the vectors along axis {position} must have 3 elements, got "
            f"shape {a.shape}"
        )
    u, v = vectors_last(a, b, position, "cross")
    dev = a.device

    def component(i: int, j: int) -> Buffer:
        product = dev.subtract(
            dev.multiply(u[..., i], v[..., j]), dev.multiply(u[..., j], v[..., i])
        )
        return product[..., None]

    stacked = dev.concatenate([component(1, 2), component(2, 0), component(0, 1)], -1)
    # The vectors' axis goes back to the position `axis` names in the result.
    order = list(range(stacked.ndim - 1))
    order.insert(stacked.ndim + position, stacked.ndim - 1)
    return _wrap(stacked.transpose(tuple(order)))
