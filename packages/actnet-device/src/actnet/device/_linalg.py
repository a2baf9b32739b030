"""Products and linear algebra: matmul, add_scaled (BLAS's gemm and axpy), and the
array API's linalg functions (solve, inv, det, slogdet, cholesky, qr, svd, svdvals,
eigh)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from actnet.device._buffer import Buffer
from actnet.device._checks import matmul_shape
from actnet.device._core import DeviceCore
from actnet.device._opset import LINALG_DTYPES, OPS


class LinalgOps(DeviceCore):
    """The products and linear algebra of a Device."""

    def matmul(self, a: Buffer, b: Buffer, out: Buffer | None = None) -> Buffer:
        """NumPy's matmul: batched over leading axes (broadcast), 1-d operands
        promoted to a row / column and the added axis dropped."""
        xa = self._own(a, "matmul", "a")
        xb = self._own(b, "matmul", "b")
        if xa.dtype != xb.dtype:
            raise TypeError(f"matmul: operands have dtypes {xa.dtype} and {xb.dtype}")
        result = self._result_dtype("matmul", OPS["matmul"].dtypes, xa.dtype)
        shape = matmul_shape(xa.shape, xb.shape)
        out = self._output("matmul", out, shape, result)
        self._check_no_overlap("matmul", out, a, b)
        self._backend.matmul(xa, xb, out.native)
        return out

    def matmul_add(self, a: Buffer, b: Buffer, c: Buffer) -> Buffer:
        """a @ b + c, batched as matmul (torch.addmm's arithmetic with its factors
        1), c broadcast to the product's shape: the product rounded, then the
        sum, as matmul followed by add. On `cpu` each part of the product gets
        its part of c added while it is in cache: a Linear layer's bias without
        a pass over the output of its own.

        >>> y = dev.matmul_add(x, w.T, bias)  # x @ w^T + bias
        """
        xa = self._own(a, "matmul_add", "a")
        xb = self._own(b, "matmul_add", "b")
        xc = self._own(c, "matmul_add", "c")
        if not xa.dtype == xb.dtype == xc.dtype:
            raise TypeError(
                f"matmul_add: a, b and c have dtypes {xa.dtype}, {xb.dtype} and "
                f"{xc.dtype}; they must be one"
            )
        result = self._result_dtype("matmul_add", OPS["matmul_add"].dtypes, xa.dtype)
        shape = matmul_shape(xa.shape, xb.shape)
        try:
            fits = np.broadcast_shapes(xc.shape, shape) == shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"matmul_add: c of shape {xc.shape} does not broadcast to the "
                f"product's shape {shape}"
            )
        out = self._empty(shape, result)
        self._backend.matmul_add(xa, xb, xc, out.native)
        return out

    def matmuls(self, products: Sequence[tuple[Buffer, Buffer]]) -> tuple[Buffer, ...]:
        """(matmul(a, b) for a, b in products), computed as one piece of work: the
        products are independent, so a backend may run them side by side (`cpu`
        gives each thread whole products where it can, instead of cutting every
        product across all threads in turn: each cut packs the other operand for
        BLAS again). Linear's backward takes its input's and its weight's
        gradients this way.

        >>> gx, gw = dev.matmuls([(g, w), (g.T, x)])  # g @ w and g^T @ x
        """
        if not isinstance(products, Sequence) or isinstance(products, str):
            raise TypeError(
                f"matmuls: products must be a sequence of (a, b) pairs, got "
                f"{type(products).__name__}"
            )
        parts = []
        outs: list[Buffer] = []
        for i, pair in enumerate(products):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise TypeError(f"matmuls: products[{i}] must be an (a, b) pair")
            a, b = pair
            xa = self._own(a, "matmuls", f"products[{i}][0]")
            xb = self._own(b, "matmuls", f"products[{i}][1]")
            if xa.dtype != xb.dtype:
                raise TypeError(
                    f"matmuls: products[{i}] has dtypes {xa.dtype} and {xb.dtype}"
                )
            result = self._result_dtype("matmuls", OPS["matmuls"].dtypes, xa.dtype)
            out = self._empty(matmul_shape(xa.shape, xb.shape), result)
            parts.append((xa, xb, out.native))
            outs.append(out)
        self._backend.matmuls(parts)
        return tuple(outs)

    def add_scaled(
        self, a: Buffer, b: Buffer, alpha: float, out: Buffer | None = None
    ) -> Buffer:
        """a + alpha * b (`torch.add(a, b, alpha=alpha)`, BLAS's axpy): a and b of
        one floating dtype and one shape, alpha a real Python number taken in that
        dtype. `out` may be a itself (an optimizer's in-place update) or b itself,
        but no other view of their memory.

        A backend may fuse the multiply-add and round once (the NumPy backend calls
        the BLAS that NumPy links, on its threads, for contiguous float32 and
        float64 written into a), or round the product before the sum: the results
        then differ by at most one rounding of the product."""
        xa = self._own(a, "add_scaled", "a")
        xb = self._own(b, "add_scaled", "b")
        if xa.dtype != xb.dtype:
            raise TypeError(
                f"add_scaled: a and b have dtypes {xa.dtype} and {xb.dtype}"
            )
        if xa.shape != xb.shape:
            raise ValueError(
                f"add_scaled: a has shape {xa.shape} and b {xb.shape}; they must "
                "be equal"
            )
        if isinstance(alpha, bool | np.bool_) or not isinstance(alpha, numbers.Real):
            raise TypeError(
                f"add_scaled: alpha must be a real Python number, got "
                f"{type(alpha).__name__}"
            )
        result = self._result_dtype("add_scaled", OPS["add_scaled"].dtypes, xa.dtype)
        if out is a or out is b:  # the usual in-place update: nothing to compare
            into_a = out is a
        else:
            out = self._output("add_scaled", out, xa.shape, result)
            into_a = self._same_view(out, a)
            if not into_a and not self._same_view(out, b):
                self._check_no_overlap("add_scaled", out, a, b)
        self._backend.add_scaled(xa, xb, float(alpha), out.native, into_a)
        return out

    def _same_view(self, x: Buffer, y: Buffer) -> bool:
        """Whether x and y show the same elements of the same memory alike."""
        if x._owner() is not y._owner():
            return False
        address = self._backend.address
        xa, ya = x.native, y.native
        return bool(address(xa) == address(ya) and xa.strides == ya.strides)

    def _linalg(self, op: str, inputs: Sequence[Buffer], **params: Any) -> Any:
        arrays = [
            self._own(b, op, name) for b, name in zip(inputs, ("a", "b"), strict=False)
        ]
        for arr in arrays:
            self._result_dtype(op, LINALG_DTYPES, arr.dtype)
            if arr.ndim < 2 and not (
                op == "solve" and arr is arrays[-1] and len(arrays) == 2
            ):
                raise ValueError(
                    f"{op}: needs a stack of matrices, got shape {arr.shape}"
                )
        if len(arrays) == 2 and arrays[0].dtype != arrays[1].dtype:
            raise TypeError(
                f"{op}: dtypes {arrays[0].dtype} and {arrays[1].dtype} differ"
            )
        square = arrays[0].shape[-1] == arrays[0].shape[-2]
        if op not in ("qr", "svd", "svdvals") and not square:
            raise ValueError(
                f"{op}: needs square matrices, got shape {arrays[0].shape}"
            )
        token = self._backend.begin_quiet()
        try:
            result = self._backend.linalg(op, arrays, params)
        except self._backend.linalg_error as exc:
            raise ValueError(f"{op}: {exc}") from exc
        finally:
            self._backend.end_quiet(token)
        if isinstance(result, tuple):
            return tuple(self._keep(r) for r in result)
        return self._keep(result)

    def solve(self, a: Buffer, b: Buffer) -> Buffer:
        """x with a @ x = b; b is a stack of matrices, or one vector when 1-d."""
        result: Buffer = self._linalg("solve", [a, b])
        return result

    def inv(self, a: Buffer) -> Buffer:
        result: Buffer = self._linalg("inv", [a])
        return result

    def det(self, a: Buffer) -> Buffer:
        result: Buffer = self._linalg("det", [a])
        return result

    def slogdet(self, a: Buffer) -> tuple[Buffer, Buffer]:
        """(sign, log|det|)."""
        result: tuple[Buffer, Buffer] = self._linalg("slogdet", [a])
        return result

    def cholesky(self, a: Buffer, *, upper: bool = False) -> Buffer:
        """The Cholesky factor L (a = L @ L^H), or U = L^H when `upper`."""
        result: Buffer = self._linalg("cholesky", [a], upper=upper)
        return result

    def qr(
        self, a: Buffer, *, mode: Literal["reduced", "complete"] = "reduced"
    ) -> tuple[Buffer, Buffer]:
        if mode not in ("reduced", "complete"):
            raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
        result: tuple[Buffer, Buffer] = self._linalg("qr", [a], mode=mode)
        return result

    def svd(
        self, a: Buffer, *, full_matrices: bool = True
    ) -> tuple[Buffer, Buffer, Buffer]:
        """(U, S, Vh) with a = U @ diag(S) @ Vh."""
        result: tuple[Buffer, Buffer, Buffer] = self._linalg(
            "svd", [a], full_matrices=full_matrices
        )
        return result

    def svdvals(self, a: Buffer) -> Buffer:
        """The singular values, in descending order."""
        result: Buffer = self._linalg("svdvals", [a])
        return result

    def eigh(self, a: Buffer) -> tuple[Buffer, Buffer]:
        """(eigenvalues ascending, eigenvectors) of a Hermitian matrix (its lower
        triangle is read)."""
        result: tuple[Buffer, Buffer] = self._linalg("eigh", [a])
        return result
