"""Fused activations of a Device: gelu and silu, and their backwards, each one pass."""

from __future__ import annotations

from typing import Any, Literal

from actnet.device._buffer import Buffer
from actnet.device._core import DeviceCore
from actnet.device._opset import OPS

Approximate = Literal["none", "tanh"]


class ActivationOps(DeviceCore):
    """The fused activations of a Device. They run quiet (OPS): inf and NaN in,
    IEEE results out, no warnings (x Phi(x) at x = -inf is NaN, as -inf * 0)."""

    def _approximate(self, op: str, approximate: Any) -> bool:
        if approximate not in ("none", "tanh"):
            raise ValueError(
                f"{op}: approximate must be 'none' or 'tanh', got {approximate!r}"
            )
        return bool(approximate == "tanh")

    def gelu(
        self, x: Buffer, approximate: Approximate = "none", out: Buffer | None = None
    ) -> Buffer:
        """x Phi(x), Phi the standard normal CDF (`torch.nn.functional.gelu`):
        computed in float64 and rounded once; `approximate="tanh"` takes
        Phi(x) = (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2."""
        tanh = self._approximate("gelu", approximate)
        arr = self._own(x, "gelu")
        dtype = self._result_dtype("gelu", OPS["gelu"].dtypes, arr.dtype)
        out = self._output("gelu", out, arr.shape, dtype)
        if out is not x:
            self._check_no_overlap("gelu", out, x)
        self._call(True, self._backend.gelu, arr, out.native, tanh)
        return out

    def gelu_backward(
        self,
        grad: Buffer,
        x: Buffer,
        approximate: Approximate = "none",
        out: Buffer | None = None,
    ) -> Buffer:
        """grad * gelu'(x), for gelu's backward: one pass, in float64, rounded
        once. grad and x have one shape and dtype."""
        tanh = self._approximate("gelu_backward", approximate)
        g, arr, out = self._pair_output("gelu_backward", grad, x, out)
        self._call(True, self._backend.gelu_backward, g, arr, out.native, tanh)
        return out

    def _pair_output(
        self, op: str, grad: Buffer, x: Buffer, out: Buffer | None
    ) -> tuple[Any, Any, Buffer]:
        """A backward's grad and x arrays (checked: one shape and dtype) and its
        output buffer, which may be grad or x itself but no other view of them."""
        g = self._own(grad, op, "grad")
        arr = self._own(x, op, "x")
        if g.shape != arr.shape or g.dtype != arr.dtype:
            raise ValueError(
                f"{op}: grad ({g.shape}, {g.dtype}) and x ({arr.shape}, "
                f"{arr.dtype}) must have one shape and dtype"
            )
        dtype = self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        out = self._output(op, out, arr.shape, dtype)
        self._check_no_overlap(op, out, *(b for b in (grad, x) if b is not out))
        return g, arr, out

    def silu(self, x: Buffer, out: Buffer | None = None) -> Buffer:
        """x sigmoid(x) (`torch.nn.functional.silu`): computed in float64 and
        rounded once."""
        arr = self._own(x, "silu")
        dtype = self._result_dtype("silu", OPS["silu"].dtypes, arr.dtype)
        out = self._output("silu", out, arr.shape, dtype)
        if out is not x:
            self._check_no_overlap("silu", out, x)
        self._call(True, self._backend.silu, arr, out.native)
        return out

    def silu_backward(
        self, grad: Buffer, x: Buffer, out: Buffer | None = None
    ) -> Buffer:
        """grad * silu'(x) = grad s (1 + x (1 - s)), s = sigmoid(x), for silu's
        backward: one pass, in float64, rounded once. grad and x have one shape
        and dtype."""
        g, arr, out = self._pair_output("silu_backward", grad, x, out)
        self._call(True, self._backend.silu_backward, g, arr, out.native)
        return out
