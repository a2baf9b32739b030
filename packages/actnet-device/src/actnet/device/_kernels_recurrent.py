"""Reference kernels of the fused LSTM cell, written once against an array module.

One LSTM step as PyTorch's fused cell (`torch._thnn_fused_lstm_cell` without its
biases) takes it: the gate pre-activations gates_x + gates_h (B, 4H) in blocks
i, f, g, o; i, f, o = sigmoid and g = tanh of their block; c_new = f c + i g;
h_new = o tanh(c_new). `gates` keeps the activated i, f, g, o: all the backward
reads besides c and c_new (PyTorch's workspace).

The natural composition, op by op in the operands' dtype (float32, float64);
the half-precision types compute in float32 scratch from the arena and round
each output once, as the elementwise operators do. tanh(c_new) is taken of
c_new as stored (rounded to its dtype), in the forward as in the backward,
which recomputes it. sigmoid(w) is 1 / (1 + e) for w >= 0 and e / (1 + e)
below, e = exp(-|w|) <= 1: nothing overflows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

Array = Any  # a numpy.ndarray or cupy.ndarray

_F32: Final = np.dtype(np.float32)
_F64: Final = np.dtype(np.float64)
_BOOL: Final = np.dtype(np.bool_)


class RecurrentKernels:
    """lstm_cell and lstm_cell_backward."""

    xp: Any
    scratch: Callable[[tuple[int, ...], np.dtype[Any]], Any]

    def lstm_cell(
        self,
        gates_x: Array,
        gates_h: Array,
        c: Array,
        h_new: Array,
        c_new: Array,
        gates: Array,
    ) -> None:
        """h_new, c_new and the activated gates of one step, from the gate
        pre-activations gates_x + gates_h (B, 4H) and the cell c (B, H)."""
        if gates.dtype in (_F32, _F64):
            self._lstm_forward(gates_x, gates_h, c, h_new, c_new, gates, c_new)
            return
        held = self._widened((gates_x, gates_h, c), (h_new, c_new, gates))
        wx, wh, wc, wh_new, wc_new, wgates = (a.native for a in held)
        self._lstm_forward(wx, wh, wc, wh_new, wc_new, wgates, c_new)
        for target, work in ((h_new, wh_new), (gates, wgates)):
            self.xp.copyto(target, work, casting="unsafe")

    def lstm_cell_backward(
        self,
        grad_h: Array,
        grad_c: Array | None,
        c: Array,
        c_new: Array,
        gates: Array,
        grad_gates: Array,
        grad_c_prev: Array,
    ) -> None:
        """grad_gates (B, 4H), the gradient of the pre-activations, and
        grad_c_prev (B, H); grad_c None is zeros."""
        if gates.dtype in (_F32, _F64):
            self._lstm_backward(
                grad_h, grad_c, c, c_new, gates, grad_gates, grad_c_prev
            )
            return
        inputs = (grad_h, grad_c, c, c_new, gates)
        held = self._widened(inputs, (grad_gates, grad_c_prev))
        work: list[Any] = [a.native for a in held]
        if grad_c is None:
            work.insert(1, None)
        self._lstm_backward(*work)
        for target, result in ((grad_gates, work[5]), (grad_c_prev, work[6])):
            self.xp.copyto(target, result, casting="unsafe")

    def _widened(
        self, inputs: tuple[Array | None, ...], outputs: tuple[Array, ...]
    ) -> list[Any]:
        """float32 scratch holders: one per input that is not None, holding its
        values, then one per output, shaped as it."""
        held = []
        for a in inputs:
            if a is not None:
                holder = self.scratch(tuple(a.shape), _F32)
                self.xp.copyto(holder.native, a)
                held.append(holder)
        held.extend(self.scratch(tuple(a.shape), _F32) for a in outputs)
        return held

    def _lstm_forward(
        self,
        gx: Array,
        gh: Array,
        c: Array,
        h_new: Array,
        c_new: Array,
        gates: Array,
        stored: Array,
    ) -> None:
        """The forward in the arrays' one dtype; `stored` is c_new's output (c_new
        itself, or the half-precision buffer it is rounded into), whose values
        tanh takes."""
        xp = self.xp
        hidden = c.shape[1]
        xp.add(gx, gh, gates)
        i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
        xp.tanh(g, g)
        self._sigmoid(gates[:, : 2 * hidden])
        self._sigmoid(o)
        held = self.scratch(tuple(c.shape), gates.dtype)
        work = held.native
        xp.multiply(f, c, c_new)
        xp.multiply(i, g, work)
        xp.add(c_new, work, c_new)
        if stored is not c_new:  # c_new as stored, rounded
            xp.copyto(stored, c_new, casting="unsafe")
            xp.copyto(c_new, stored)
        xp.tanh(c_new, work)
        xp.multiply(o, work, h_new)

    def _sigmoid(self, w: Array) -> None:
        """w = sigmoid(w), in place (a 2-d view)."""
        xp = self.xp
        shape = tuple(w.shape)
        held = self.scratch((2, *shape), w.dtype)
        e, d = held.native[0], held.native[1]
        flags = self.scratch(shape, _BOOL)
        upper = flags.native
        xp.greater_equal(w, 0.0, upper)  # NaN: not, and e / (1 + e) is NaN
        xp.absolute(w, e)
        xp.negative(e, e)
        xp.exp(e, e)  # e = exp(-|w|)
        xp.add(e, 1.0, d)
        xp.divide(1.0, d, d)  # 1 / (1 + e)
        xp.multiply(e, d, w)  # e / (1 + e)
        xp.copyto(w, d, where=upper)

    def _lstm_backward(
        self,
        grad_h: Array,
        grad_c: Array | None,
        c: Array,
        c_new: Array,
        gates: Array,
        grad_gates: Array,
        grad_c_prev: Array,
    ) -> None:
        """tc = tanh(c_new); dc = grad_c + grad_h o (1 - tc^2); d_i = dc g i
        (1 - i), d_f = dc c f (1 - f), d_g = dc i (1 - g^2), d_o = grad_h tc o
        (1 - o); grad_c_prev = dc f. In the arrays' one dtype."""
        xp = self.xp
        hidden = c.shape[1]
        i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
        d_i, d_f, d_g, d_o = (
            grad_gates[:, k * hidden : (k + 1) * hidden] for k in range(4)
        )
        held = self.scratch((3, *c.shape), gates.dtype)
        tc, dc, rest = held.native[0], held.native[1], held.native[2]
        xp.tanh(c_new, tc)
        xp.multiply(tc, tc, dc)
        xp.subtract(1.0, dc, dc)
        xp.multiply(grad_h, o, rest)
        xp.multiply(rest, dc, dc)
        if grad_c is not None:
            xp.add(grad_c, dc, dc)
        # the sigmoid gates: out = a b s (1 - s), in that order
        for out, a, b, s in ((d_o, grad_h, tc, o), (d_i, dc, g, i), (d_f, dc, c, f)):
            xp.multiply(a, b, out)
            xp.multiply(out, s, out)
            xp.subtract(1.0, s, rest)
            xp.multiply(out, rest, out)
        xp.multiply(g, g, rest)
        xp.subtract(1.0, rest, rest)
        xp.multiply(dc, i, d_g)
        xp.multiply(d_g, rest, d_g)
        xp.multiply(dc, f, grad_c_prev)
