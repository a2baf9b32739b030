"""Fused activations of a Device: gelu and its backward, each one pass."""

from __future__ import annotations

from typing import Any, Literal

from actnet.device._buffer import Buffer
from actnet.device._core import DeviceCore
from actnet.device._opset import OPS

Approximate = Literal["none", "tanh"]


class ActivationOps(DeviceCore):
    """The fused activations of a Device."""

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
        self._backend.gelu(arr, out.native, tanh)
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
        g = self._own(grad, "gelu_backward", "grad")
        arr = self._own(x, "gelu_backward", "x")
        if g.shape != arr.shape or g.dtype != arr.dtype:
            raise ValueError(
                f"gelu_backward: grad ({g.shape}, {g.dtype}) and x ({arr.shape}, "
                f"{arr.dtype}) must have one shape and dtype"
            )
        dtype = self._result_dtype("gelu_backward", OPS["gelu"].dtypes, arr.dtype)
        out = self._output("gelu_backward", out, arr.shape, dtype)
        self._check_no_overlap(
            "gelu_backward", out, *(b for b in (grad, x) if b is not out)
        )
        self._backend.gelu_backward(g, arr, out.native, tanh)
        return out
