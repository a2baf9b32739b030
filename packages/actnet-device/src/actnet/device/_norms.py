"""Fused normalisations of a Device: layer_norm and rms_norm, forward and backward.

Each normalises over x's trailing `normalized_ndim` axes (one row of features
per position of the leading axes) in one call. The forward also returns the
per-row statistics its backward reads (PyTorch's native_layer_norm keeps the
same): mean and rstd = 1 / sqrt(var + eps), shaped like x with the normalised
axes kept as 1, in float64 for float64 x and float32 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._buffer import Buffer
from actnet.device._core import DeviceCore
from actnet.device._opset import OPS

# torch.finfo(dtype).eps, rms_norm's default eps (bfloat16's without ml_dtypes).
_MACHINE_EPS: Final = {
    dt.float16: 2.0**-10,
    dt.float32: 2.0**-23,
    dt.float64: 2.0**-52,
}
dt.on_bfloat16(lambda bfloat16: _MACHINE_EPS.update({bfloat16: 2.0**-7}))


def stats_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype of the statistics for x of `dtype`: its own for float64 and
    float32, float32 for the half-precision types (their precision would spoil
    the backward)."""
    return dt.float64 if dtype == dt.float64 else dt.float32


class NormOps(DeviceCore):
    """The fused normalisations of a Device."""

    def _norm_input(
        self, op: str, x: Buffer, normalized_ndim: Any
    ) -> tuple[Any, np.dtype[Any], tuple[int, ...]]:
        """x's array, its dtype (checked) and the statistics' shape."""
        arr = self._own(x, op, "x")
        dtype = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        k = normalized_ndim
        if type(k) is not int:
            raise TypeError(
                f"{op}: normalized_ndim must be an int, got {type(k).__name__}"
            )
        if not 1 <= k <= arr.ndim:
            raise ValueError(
                f"{op}: normalized_ndim must be in [1, x.ndim = {arr.ndim}], got {k}"
            )
        shape: tuple[int, ...] = arr.shape
        return arr, dtype, shape[: len(shape) - k] + (1,) * k

    def _feature_array(
        self, op: str, name: str, b: Buffer | None, x: Any, k: int
    ) -> Any:
        """weight or bias: None, or an array of x's trailing k axes and dtype."""
        if b is None:
            return None
        arr = self._own(b, op, name)
        features = x.shape[x.ndim - k :]
        if arr.shape != features or arr.dtype != x.dtype:
            raise ValueError(
                f"{op}: {name} must have x's normalized shape {features} and dtype "
                f"{x.dtype}, got {arr.shape} and {arr.dtype}"
            )
        return arr

    def _same_as(self, op: str, name: str, b: Buffer, shape: Any, dtype: Any) -> Any:
        arr = self._own(b, op, name)
        if arr.shape != shape or arr.dtype != dtype:
            raise ValueError(
                f"{op}: {name} must have shape {shape} and dtype {dtype}, got "
                f"{arr.shape} and {arr.dtype}"
            )
        return arr

    def _eps(self, op: str, eps: Any, dtype: np.dtype[Any]) -> float:
        if eps is None and op.startswith("rms_norm"):
            return _MACHINE_EPS[dtype]
        if isinstance(eps, bool) or not isinstance(eps, int | float):
            raise TypeError(f"{op}: eps must be a float, got {type(eps).__name__}")
        return float(eps)

    def _mask(self, op: str, output_mask: Sequence[bool], n: int) -> tuple[bool, ...]:
        mask = tuple(output_mask)
        if len(mask) != n or not all(type(m) is bool for m in mask):
            raise TypeError(f"{op}: output_mask must be {n} bools, got {output_mask!r}")
        return mask

    def layer_norm(
        self,
        x: Buffer,
        weight: Buffer | None = None,
        bias: Buffer | None = None,
        normalized_ndim: int = 1,
        eps: float = 1e-5,
    ) -> tuple[Buffer, Buffer, Buffer]:
        """(y, mean, rstd): y = (x - mean) * rstd * weight + bias, mean and the
        biased variance over x's last `normalized_ndim` axes, rstd = 1 /
        sqrt(var + eps) (`torch.native_layer_norm`). weight and bias, each
        optional, have those axes' shape and x's dtype. Computed in float64,
        y rounded once.

        >>> y, mean, rstd = dev.layer_norm(x, w, b, 1, 1e-5)  # x (16, 128, 256)
        >>> mean.shape
        (16, 128, 1)
        """
        op = "layer_norm"
        arr, dtype, stats = self._norm_input(op, x, normalized_ndim)
        k = normalized_ndim
        w = self._feature_array(op, "weight", weight, arr, k)
        b = self._feature_array(op, "bias", bias, arr, k)
        e = self._eps(op, eps, dtype)
        out = self._empty(arr.shape, dtype)
        mean = self._empty(stats, stats_dtype(dtype))
        rstd = self._empty(stats, stats_dtype(dtype))
        kernel = self._backend.layer_norm
        natives = (out.native, mean.native, rstd.native)
        self._call(OPS[op].quiet, kernel, arr, w, b, k, e, *natives)
        return out, mean, rstd

    def layer_norm_backward(
        self,
        grad: Buffer,
        x: Buffer,
        mean: Buffer,
        rstd: Buffer,
        weight: Buffer | None = None,
        normalized_ndim: int = 1,
        output_mask: Sequence[bool] = (True, True, True),
    ) -> tuple[Buffer | None, Buffer | None, Buffer | None]:
        """(grad_x, grad_weight, grad_bias) of layer_norm, from the mean and rstd
        its forward returned; each only where `output_mask` says (else None).
        With xhat = (x - mean) * rstd and gw = grad * weight: grad_x = rstd (gw
        - mean(gw) - xhat mean(gw xhat)), means over the row; grad_weight and
        grad_bias sum grad * xhat and grad over the rows.

        >>> gx, gw, gb = dev.layer_norm_backward(g, x, mean, rstd, w, 1)
        """
        op = "layer_norm_backward"
        arr, dtype, stats = self._norm_input(op, x, normalized_ndim)
        k = normalized_ndim
        mask = self._mask(op, output_mask, 3)
        g = self._same_as(op, "grad", grad, arr.shape, dtype)
        m = self._same_as(op, "mean", mean, stats, stats_dtype(dtype))
        r = self._same_as(op, "rstd", rstd, stats, stats_dtype(dtype))
        w = self._feature_array(op, "weight", weight, arr, k)
        features = arr.shape[arr.ndim - k :]
        grad_x = self._empty(arr.shape, dtype) if mask[0] else None
        grad_w = self._empty(features, dtype) if mask[1] else None
        grad_b = self._empty(features, dtype) if mask[2] else None
        outs = (None if b is None else b.native for b in (grad_x, grad_w, grad_b))
        kernel = self._backend.layer_norm_backward
        self._call(OPS[op].quiet, kernel, g, arr, m, r, w, k, *outs)
        return grad_x, grad_w, grad_b

    def rms_norm(
        self,
        x: Buffer,
        weight: Buffer | None = None,
        normalized_ndim: int = 1,
        eps: float | None = None,
    ) -> tuple[Buffer, Buffer]:
        """(y, rstd): y = x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + eps)
        over x's last `normalized_ndim` axes (`torch.nn.functional.rms_norm`;
        eps None is the machine epsilon of x's dtype). Computed in float64, y
        rounded once.

        >>> y, rstd = dev.rms_norm(x, w, 1)
        """
        op = "rms_norm"
        arr, dtype, stats = self._norm_input(op, x, normalized_ndim)
        k = normalized_ndim
        w = self._feature_array(op, "weight", weight, arr, k)
        e = self._eps(op, eps, dtype)
        out = self._empty(arr.shape, dtype)
        rstd = self._empty(stats, stats_dtype(dtype))
        kernel = self._backend.rms_norm
        self._call(OPS[op].quiet, kernel, arr, w, k, e, out.native, rstd.native)
        return out, rstd

    def rms_norm_backward(
        self,
        grad: Buffer,
        x: Buffer,
        rstd: Buffer,
        weight: Buffer | None = None,
        normalized_ndim: int = 1,
        output_mask: Sequence[bool] = (True, True),
    ) -> tuple[Buffer | None, Buffer | None]:
        """(grad_x, grad_weight) of rms_norm from the rstd its forward returned,
        each only where `output_mask` says. With xhat = x * rstd and gw = grad *
        weight: grad_x = rstd (gw - xhat mean(gw xhat)); grad_weight sums
        grad * xhat over the rows.

        >>> gx, gw = dev.rms_norm_backward(g, x, rstd, w, 1)
        """
        op = "rms_norm_backward"
        arr, dtype, stats = self._norm_input(op, x, normalized_ndim)
        k = normalized_ndim
        mask = self._mask(op, output_mask, 2)
        g = self._same_as(op, "grad", grad, arr.shape, dtype)
        r = self._same_as(op, "rstd", rstd, stats, stats_dtype(dtype))
        w = self._feature_array(op, "weight", weight, arr, k)
        grad_x = self._empty(arr.shape, dtype) if mask[0] else None
        features = arr.shape[arr.ndim - k :]
        grad_w = self._empty(features, dtype) if mask[1] else None
        outs = (None if b is None else b.native for b in (grad_x, grad_w))
        kernel = self._backend.rms_norm_backward
        self._call(OPS[op].quiet, kernel, g, arr, r, w, k, *outs)
        return grad_x, grad_w
