"""The fused LSTM cell of a Device: one step forward (lstm_cell) and backward
(lstm_cell_backward), each one pass, as PyTorch's `_thnn_fused_lstm_cell`
without its biases (the layer above adds them into one of the projections)."""

from __future__ import annotations

from typing import Any

from actnet.device._buffer import Buffer
from actnet.device._core import DeviceCore
from actnet.device._opset import OPS


class RecurrentOps(DeviceCore):
    """lstm_cell and lstm_cell_backward. They run quiet (OPS): inf and NaN in,
    IEEE results out, no warnings."""

    def _cell(self, op: str, name: str, buffer: Buffer) -> Any:
        """The array of the (B, H) operand that sets B, H and the dtype
        (checked: 2-d, a dtype of op's table, held by this device)."""
        arr = self._own(buffer, op, name)
        try:
            self._result_dtype(op, OPS[op].dtypes, arr.dtype)
        except TypeError as exc:
            raise TypeError(f"{exc} (the dtype of {name})") from None
        if arr.ndim != 2:
            raise ValueError(f"{op}: {name} must be 2-d (B, H), got shape {arr.shape}")
        return arr

    def _like(
        self, op: str, name: str, buffer: Buffer, cell: str, cell_arr: Any, wide: bool
    ) -> Any:
        """`buffer`'s array, checked to have the dtype of the operand named
        `cell` (its array `cell_arr`, (B, H)), and shape (B, 4H) if `wide`,
        else (B, H)."""
        arr = self._own(buffer, op, name)
        if arr.dtype != cell_arr.dtype:
            raise TypeError(
                f"{op}: {name} has dtype {arr.dtype}, but {cell} has "
                f"{cell_arr.dtype}: the operands must have one dtype"
            )
        rows, hidden = cell_arr.shape
        shape = (rows, 4 * hidden) if wide else (rows, hidden)
        if arr.shape != shape:
            form = "(B, 4H)" if wide else "(B, H)"
            raise ValueError(
                f"{op}: {name} must have shape {form} = {shape} for {cell} of "
                f"shape (B, H) = {cell_arr.shape}, got {arr.shape}"
            )
        return arr

    def lstm_cell(
        self, gates_x: Buffer, gates_h: Buffer, c: Buffer
    ) -> tuple[Buffer, Buffer, Buffer]:
        """(h_new, c_new, gates) of one LSTM step. gates_x and gates_h (B, 4H)
        are the gate pre-activations from the input and from the hidden state
        (summed here), blocks i, f, g, o in PyTorch's order; c (B, H) the cell.
        i, f, o = sigmoid, g = tanh of their block of gates_x + gates_h; c_new =
        f c + i g; h_new = o tanh(c_new). `gates` (B, 4H) holds the activated
        i, f, g, o (what the backward needs: PyTorch's workspace). One dtype
        for all (float32, float64, float16, bfloat16); any 2-d layouts (a
        step's rows of a projection of the whole sequence); the results are
        new C-contiguous buffers. On `cpu` computed in float64, each output
        rounded once, tanh taken of c_new as stored.

        >>> gx = dev.matmul(x_t, w_ih_t)  # (B, 4H); gh = h @ w_hh_t likewise
        >>> h, c, gates = dev.lstm_cell(gx, gh, c)
        """
        op = "lstm_cell"
        cc = self._cell(op, "c", c)
        gx = self._like(op, "gates_x", gates_x, "c", cc, True)
        gh = self._like(op, "gates_h", gates_h, "c", cc, True)
        shape, dtype = cc.shape, cc.dtype
        h_new = self._empty(shape, dtype, held=True)
        c_new = self._empty(shape, dtype, held=True)
        gates = self._empty(gx.shape, dtype, held=True)
        outs = (h_new.native, c_new.native, gates.native)
        self._call(OPS[op].quiet, self._backend.lstm_cell, gx, gh, cc, *outs)
        return h_new, c_new, gates

    def lstm_cell_backward(
        self,
        grad_h: Buffer,
        grad_c: Buffer | None,
        c: Buffer,
        c_new: Buffer,
        gates: Buffer,
    ) -> tuple[Buffer, Buffer]:
        """(grad_gates, grad_c_prev) of lstm_cell: grad_gates (B, 4H) the
        gradient of the pre-activations gates_x + gates_h (so of each),
        grad_c_prev (B, H) that of c, from the gradients of h_new and c_new
        (grad_c None is zeros), c, and the forward's c_new and gates.
        tc = tanh(c_new); dc = grad_c + grad_h o (1 - tc^2); d_i = dc g i
        (1 - i); d_f = dc c f (1 - f); d_g = dc i (1 - g^2); d_o = grad_h tc o
        (1 - o); grad_c_prev = dc f. One dtype, any 2-d layouts; on `cpu` in
        float64, each output rounded once.

        >>> grad_gates, grad_c = dev.lstm_cell_backward(gh, gc, c, c_new, gates)
        """
        op = "lstm_cell_backward"
        gh = self._cell(op, "grad_h", grad_h)
        gc = None
        if grad_c is not None:
            gc = self._like(op, "grad_c", grad_c, "grad_h", gh, False)
        cc = self._like(op, "c", c, "grad_h", gh, False)
        cn = self._like(op, "c_new", c_new, "grad_h", gh, False)
        gt = self._like(op, "gates", gates, "grad_h", gh, True)
        grad_gates = self._empty(gt.shape, gh.dtype, held=True)
        grad_c_prev = self._empty(gh.shape, gh.dtype, held=True)
        outs = (grad_gates.native, grad_c_prev.native)
        kernel = self._backend.lstm_cell_backward
        self._call(OPS[op].quiet, kernel, gh, gc, cc, cn, gt, *outs)
        return grad_gates, grad_c_prev
