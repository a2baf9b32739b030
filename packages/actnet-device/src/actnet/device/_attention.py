"""Fused scaled-dot-product attention of a Device: sdpa and its backward.

`sdpa` returns the output and each query's log-sum-exp, all its backward needs
besides q, k and v (PyTorch's `_scaled_dot_product_flash_attention` keeps the
same): the (L, S) probabilities are not kept, and on `cpu` never exist in full.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._buffer import Buffer
from actnet.device._core import DeviceCore
from actnet.device._opset import OPS


def lse_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The log-sum-exp's dtype for inputs of `dtype`: its own for float64 and
    float32, float32 for the half-precision types."""
    return dt.float64 if dtype == dt.float64 else dt.float32


class AttentionOps(DeviceCore):
    """The fused attention operators of a Device."""

    def _attention_inputs(
        self, op: str, q: Buffer, k: Buffer, v: Buffer
    ) -> tuple[Any, Any, Any, np.dtype[Any]]:
        """q, k, v's arrays and dtype, after checking their shapes agree."""
        arrays = tuple(
            self._own(b, op, name) for b, name in ((q, "q"), (k, "k"), (v, "v"))
        )
        qa, ka, va = arrays
        dtype = self._result_dtype(op, OPS[op].dtypes, qa.dtype)
        for a, name in ((ka, "k"), (va, "v")):
            if a.dtype != qa.dtype:
                raise TypeError(
                    f"{op}: {name} has dtype {a.dtype}, q has {qa.dtype}; they must "
                    "match"
                )
        for a, name in zip(arrays, ("q", "k", "v"), strict=True):
            if a.ndim < 2:
                raise ValueError(
                    f"{op}: {name} must be at least 2-d, got shape {a.shape}"
                )
        if not qa.shape[:-2] == ka.shape[:-2] == va.shape[:-2]:
            raise ValueError(
                f"{op}: q, k and v must have the same leading (batch) shape, got "
                f"{qa.shape}, {ka.shape} and {va.shape}"
            )
        if ka.shape[-1] != qa.shape[-1]:
            raise ValueError(
                f"{op}: q's and k's last dimensions (E) differ: {qa.shape} and "
                f"{ka.shape}"
            )
        if ka.shape[-2] != va.shape[-2]:
            raise ValueError(
                f"{op}: k and v must have the same sequence length (dim -2), got "
                f"{ka.shape} and {va.shape}"
            )
        return qa, ka, va, dtype

    def _attention_options(self, op: str, causal: Any, scale: Any, width: int) -> float:
        """The scale, 1 / sqrt(E) when None, after checking both options."""
        if type(causal) is not bool:
            raise TypeError(f"{op}: causal must be a bool, got {type(causal).__name__}")
        if scale is None:
            if width == 0:
                raise ValueError(f"{op}: scale must be given when E is 0")
            return 1.0 / math.sqrt(width)
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            raise TypeError(f"{op}: scale must be a float, got {type(scale).__name__}")
        return float(scale)

    def _attention_output(
        self, shape: tuple[int, ...], width: int, dtype: np.dtype[Any]
    ) -> Buffer:
        """sdpa's output for q of `shape` and values `width` wide. With heads
        (q 4-d or more: (..., H, L, E)) it is laid out as (..., L, H, Ev) and
        returned as the view (..., H, L, Ev): PyTorch's CPU flash attention does
        the same, so that the usual merge of the heads,
        `out.transpose(-3, -2).reshape(..., L, H * Ev)`, is a view rather than a
        copy, and the output is saved for backward once, not twice."""
        if len(shape) < 4:
            return self._empty((*shape[:-1], width), dtype)
        *batch, heads, length, _ = shape
        return self._empty((*batch, length, heads, width), dtype).swapaxes(-3, -2)

    def _gradient_like(self, a: Any, dtype: np.dtype[Any]) -> Buffer:
        """The gradient of q, k or v (array `a`): laid out as sdpa's output is
        when a's heads lie inside its sequence ((..., L, H, E) in memory, as the
        heads split from one projection do), so that merging the gradient's
        heads into the projection's gradient is a view; else C-contiguous (as
        PyTorch's empty_like keeps a dense input's layout)."""
        if a.ndim >= 4 and a.strides[-3] < a.strides[-2]:
            return self._attention_output(a.shape, a.shape[-1], dtype)
        return self._empty(a.shape, dtype)

    def sdpa(
        self,
        q: Buffer,
        k: Buffer,
        v: Buffer,
        causal: bool = False,
        scale: float | None = None,
    ) -> tuple[Buffer, Buffer]:
        """(out, lse): out = softmax(scale q k^T) v over the last two axes and
        lse = log(sum(exp(scale q k^T))) per query, for q (..., L, E), k
        (..., S, E), v (..., S, Ev) with one leading shape and dtype
        (`torch.nn.functional.scaled_dot_product_attention` without a mask or
        dropout). causal masks key j > query i (top-left aligned). scale
        defaults to 1 / sqrt(E). With S = 0, out is zeros and lse -inf. lse is
        float64 for float64 inputs, else float32.

        >>> out, lse = dev.sdpa(q, k, v, causal=True)  # q, k, v (64, 128, 64)
        >>> out.shape, lse.shape
        ((64, 128, 64), (64, 128))

        With heads (q of 4 dimensions or more), out is a view of memory laid
        out as (..., L, H, Ev) (see `_attention_output`).
        """
        op = "sdpa"
        qa, ka, va, dtype = self._attention_inputs(op, q, k, v)
        factor = self._attention_options(op, causal, scale, qa.shape[-1])
        out = self._attention_output(qa.shape, va.shape[-1], dtype)
        lse = self._empty(qa.shape[:-1], lse_dtype(dtype))
        self._call(
            OPS[op].quiet,
            self._backend.sdpa,
            qa,
            ka,
            va,
            out.native,
            lse.native,
            causal,
            factor,
        )
        return out, lse

    def sdpa_backward(
        self,
        grad: Buffer,
        q: Buffer,
        k: Buffer,
        v: Buffer,
        out: Buffer,
        lse: Buffer,
        causal: bool = False,
        scale: float | None = None,
    ) -> tuple[Buffer, Buffer, Buffer]:
        """(dq, dk, dv): the gradients of sdpa's output for its gradient `grad`,
        given sdpa's (out, lse) for the same q, k, v, causal and scale. Each is
        laid out as its input is (`_gradient_like`).

        >>> out, lse = dev.sdpa(q, k, v, causal=True)
        >>> dq, dk, dv = dev.sdpa_backward(grad, q, k, v, out, lse, causal=True)
        """
        op = "sdpa_backward"
        qa, ka, va, dtype = self._attention_inputs(op, q, k, v)
        factor = self._attention_options(op, causal, scale, qa.shape[-1])
        out_shape = (*qa.shape[:-1], va.shape[-1])
        ga = self._own(grad, op, "grad")
        oa = self._own(out, op, "out")
        la = self._own(lse, op, "lse")
        for a, name, shape, want in (
            (ga, "grad", out_shape, dtype),
            (oa, "out", out_shape, dtype),
            (la, "lse", qa.shape[:-1], lse_dtype(dtype)),
        ):
            if a.shape != shape or a.dtype != want:
                raise ValueError(
                    f"{op}: {name} must have shape {shape} and dtype {want}, got "
                    f"{a.shape} and {a.dtype}"
                )
        dq, dk, dv = (self._gradient_like(a, dtype) for a in (qa, ka, va))
        self._call(
            OPS[op].quiet,
            self._backend.sdpa_backward,
            ga,
            qa,
            ka,
            va,
            oa,
            la,
            dq.native,
            dk.native,
            dv.native,
            causal,
            factor,
        )
        return dq, dk, dv
