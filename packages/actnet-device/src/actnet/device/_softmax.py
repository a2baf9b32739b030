"""Fused softmax family of a Device: softmax, log_softmax and cross-entropy over
class indices, each forward and backward in one pass over the rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._buffer import Buffer
from actnet.device._core import DeviceCore
from actnet.device._kernels_softmax import REDUCTIONS
from actnet.device._opset import OPS

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


class SoftmaxOps(DeviceCore):
    """The fused softmax family of a Device."""

    def _softmax_axis(self, op: str, axis: Any, ndim: int) -> int:
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"{op}: axis must be an int, got {axis!r}")
        if ndim == 0:
            raise ValueError(f"{op}: takes a buffer with at least one axis, got 0-d")
        if not -ndim <= axis < ndim:
            raise IndexError(f"{op}: axis {axis} is out of range for {ndim} dimensions")
        return axis % ndim

    def _softmax_rowwise(
        self, op: str, x: Buffer, axis: Any, out: Buffer | None
    ) -> tuple[Any, int, Buffer]:
        """(array, axis, out) of a forward: x checked, out allocated."""
        arr = self._own(x, op)
        ax = self._softmax_axis(op, axis, arr.ndim)
        dtype = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        result = self._output(op, out, arr.shape, dtype)
        if result is not x:
            self._check_no_overlap(op, result, x)
        return arr, ax, result

    def _softmax_rowwise_backward(
        self, op: str, grad: Buffer, y: Buffer, axis: Any, out: Buffer | None
    ) -> tuple[Any, Any, int, Buffer]:
        """(grad array, y array, axis, out) of a backward, checked."""
        g = self._own(grad, op, "grad")
        arr = self._own(y, op, "y")
        if g.shape != arr.shape or g.dtype != arr.dtype:
            raise ValueError(
                f"{op}: grad ({g.shape}, {g.dtype}) and y ({arr.shape}, {arr.dtype}) "
                "must have one shape and dtype"
            )
        ax = self._softmax_axis(op, axis, arr.ndim)
        dtype = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        result = self._output(op, out, arr.shape, dtype)
        self._check_no_overlap(op, result, *(b for b in (grad, y) if b is not result))
        return g, arr, ax, result

    def softmax(self, x: Buffer, axis: int = -1, out: Buffer | None = None) -> Buffer:
        """exp(x - max) / sum(exp(x - max)) along `axis`
        (`torch.softmax`): summed in float64 and rounded once. A row of -inf
        (or holding NaN or +inf) is NaN, as in PyTorch.

        >>> cpu = get_device("cpu")
        >>> cpu.to_host(cpu.softmax(cpu.from_host(np.array([0.0, np.log(3.0)]))))
        array([0.25, 0.75])
        """
        arr, ax, result = self._softmax_rowwise("softmax", x, axis, out)
        if arr.size:
            self._call(True, self._backend.softmax, arr, ax, result.native)
        return result

    def log_softmax(
        self, x: Buffer, axis: int = -1, out: Buffer | None = None
    ) -> Buffer:
        """(x - max) - log(sum(exp(x - max))) along `axis`
        (`torch.log_softmax`): summed in float64 and rounded once."""
        arr, ax, result = self._softmax_rowwise("log_softmax", x, axis, out)
        if arr.size:
            self._call(True, self._backend.log_softmax, arr, ax, result.native)
        return result

    def softmax_backward(
        self, grad: Buffer, y: Buffer, axis: int = -1, out: Buffer | None = None
    ) -> Buffer:
        """y (grad - sum(grad y)) along `axis`: softmax's backward from its
        output y, in float64, rounded once. grad and y have one shape and dtype."""
        g, arr, ax, result = self._softmax_rowwise_backward(
            "softmax_backward", grad, y, axis, out
        )
        if arr.size:
            self._call(True, self._backend.softmax_backward, g, arr, ax, result.native)
        return result

    def log_softmax_backward(
        self, grad: Buffer, y: Buffer, axis: int = -1, out: Buffer | None = None
    ) -> Buffer:
        """grad - exp(y) sum(grad) along `axis`: log_softmax's backward from its
        output y, in float64, rounded once."""
        g, arr, ax, result = self._softmax_rowwise_backward(
            "log_softmax_backward", grad, y, axis, out
        )
        if arr.size:
            kernel = self._backend.log_softmax_backward
            self._call(True, kernel, g, arr, ax, result.native)
        return result

    def _ce_arguments(
        self,
        op: str,
        logits: Buffer,
        target: Buffer,
        weight: Buffer | None,
        ignore_index: Any,
        label_smoothing: Any,
        reduction: Any,
    ) -> tuple[Any, Any, Any, np.dtype[Any]]:
        """(logits, target, weight arrays, result dtype) of cross_entropy's
        forward and backward, checked."""
        x = self._own(logits, op, "logits")
        t = self._own(target, op, "target")
        if x.ndim != 2:
            raise ValueError(f"{op}: logits must be (N, C), got shape {x.shape}")
        dtype = self._result_dtype(op, OPS[op].dtypes, x.dtype)
        if t.dtype.kind not in "iu":
            raise TypeError(f"{op}: target must hold integers, got {t.dtype}")
        if t.shape != x.shape[:1]:
            raise ValueError(
                f"{op}: target of shape {t.shape} does not match logits of shape "
                f"{x.shape}: class indices must have shape ({x.shape[0]},)"
            )
        w = None
        if weight is not None:
            w = self._own(weight, op, "weight")
            if w.shape != x.shape[1:] or w.dtype != x.dtype:
                raise ValueError(
                    f"{op}: weight must be a ({x.shape[1]},) buffer of {x.dtype}, "
                    f"got {w.shape} of {w.dtype}"
                )
        if type(ignore_index) is not int:
            raise TypeError(f"{op}: ignore_index must be an int, got {ignore_index!r}")
        if not _INT64_MIN <= ignore_index <= _INT64_MAX:
            raise ValueError(f"{op}: ignore_index {ignore_index} does not fit in int64")
        if not isinstance(label_smoothing, int | float) or not (
            0.0 <= label_smoothing <= 1.0
        ):
            raise ValueError(
                f"{op}: label_smoothing must be in [0, 1], got {label_smoothing!r}"
            )
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}"
            )
        return x, t, w, dtype

    def _ce_quietly(self, kernel: Any, *args: Any) -> Any:
        """kernel(*args) with floating-point warnings off (NaN and inf are the
        answer for rows of -inf, and for 'mean' over no row), and its result."""
        token = self._backend.begin_quiet()
        try:
            return kernel(*args)
        finally:
            self._backend.end_quiet(token)

    def _ce_stats_dtype(self, dtype: np.dtype[Any]) -> np.dtype[Any]:
        """The dtype of cross_entropy's row statistics: float64 where held, else
        float32 (the gradient takes exp of x - max - log_sum: rounded to a
        half-precision dtype, they would be off by more than the logits)."""
        for wide in (dt.float64, dt.float32):
            if wide in self._dtypes:
                return wide
        return dtype

    def _ce_check_targets(self, op: str, bounds: tuple[int, int], classes: int) -> None:
        """Raise for a target that is neither a class index nor ignore_index."""
        low, high = bounds
        if low < 0:
            raise IndexError(
                f"{op}: target {low} is out of bounds (neither a class index nor "
                "the ignore_index)"
            )
        if high >= classes:
            raise IndexError(
                f"{op}: target {high} is out of bounds for {classes} classes"
            )

    def cross_entropy(
        self,
        logits: Buffer,
        target: Buffer,
        weight: Buffer | None = None,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> tuple[Buffer, Buffer]:
        """The cross-entropy of logits (N, C) against class indices (N,)
        (`torch.nn.functional.cross_entropy`), and what `cross_entropy_backward`
        takes: (loss, stats), stats (N, 2) each row's maximum and the log of its
        sum of exp(x - max) (their sum is the row's logsumexp; apart, x - max -
        log_sum keeps its digits near 0, where p is near 1).

        Row n adds (1 - eps) w[y] (-log p[y]) + eps / C sum_c w[c] (-log p[c])
        (p = softmax(logits[n]), y = target[n], w = weight or ones); a row whose
        target is `ignore_index` adds 0, and 'mean' divides by the summed w[y] of
        the others (NaN when there is none). Computed in float64, rounded once;
        `stats` is float64 where the device holds it. A target that is neither a
        class index nor `ignore_index` raises IndexError.

        >>> cpu = get_device("cpu")
        >>> x = cpu.from_host(np.array([[0.0, 0.0]]))
        >>> loss, stats = cpu.cross_entropy(x, cpu.from_host(np.array([1])))
        >>> float(cpu.to_host(loss))  # log 2
        0.6931471805599453
        """
        op = "cross_entropy"
        x, t, w, dtype = self._ce_arguments(
            op, logits, target, weight, ignore_index, label_smoothing, reduction
        )
        rows, classes = x.shape
        loss = self._empty((rows,) if reduction == "none" else (), dtype)
        stats = self._empty((rows, 2), self._ce_stats_dtype(dtype))
        bounds = self._ce_quietly(
            self._backend.cross_entropy,
            x,
            t,
            w,
            ignore_index,
            float(label_smoothing),
            REDUCTIONS[reduction],
            loss.native,
            stats.native,
        )
        self._check_kernel_result(
            bounds, lambda b: self._ce_check_targets(op, b, classes)
        )
        return loss, stats

    def cross_entropy_backward(
        self,
        grad: Buffer,
        logits: Buffer,
        target: Buffer,
        stats: Buffer,
        weight: Buffer | None = None,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
        out: Buffer | None = None,
    ) -> Buffer:
        """The gradient of `cross_entropy`'s loss with respect to the logits, in
        one pass: coef (total softmax - a), a = (1 - eps) w[y] one_hot(y) + eps / C
        w and total its sum, coef the loss's gradient `grad` (0-d, or (N,) for
        'none'; divided by the summed w[y] for 'mean'); 0 on ignored rows (all
        rows ignored under 'mean': zeros, as in PyTorch). `stats` is the forward's."""
        op = "cross_entropy_backward"
        x, t, w, dtype = self._ce_arguments(
            op, logits, target, weight, ignore_index, label_smoothing, reduction
        )
        g = self._own(grad, op, "grad")
        shape = x.shape[:1] if reduction == "none" else ()
        if g.shape != shape or g.dtype != x.dtype:
            raise ValueError(
                f"{op}: grad must be a {shape} buffer of {x.dtype} for reduction "
                f"{reduction!r}, got {g.shape} of {g.dtype}"
            )
        s = self._own(stats, op, "stats")
        stats_dtype = self._ce_stats_dtype(dtype)
        if s.shape != (x.shape[0], 2) or s.dtype != stats_dtype:
            raise ValueError(
                f"{op}: stats must be the forward's ({x.shape[0]}, 2) buffer of "
                f"{stats_dtype}, got {s.shape} of {s.dtype}"
            )
        result = self._output(op, out, x.shape, dtype)
        inputs = (grad, logits, target, stats, weight)
        self._check_no_overlap(op, result, *(b for b in inputs if b is not None))
        bounds = self._ce_quietly(
            self._backend.cross_entropy_backward,
            g,
            x,
            t,
            s,
            w,
            ignore_index,
            float(label_smoothing),
            REDUCTIONS[reduction],
            result.native,
        )
        classes = x.shape[1]
        self._check_kernel_result(
            bounds, lambda b: self._ce_check_targets(op, b, classes)
        )
        return result
