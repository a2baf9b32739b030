"""scan: one layer of a recurrent network in one direction, as one Function.

The input projection of every time step (x W_ih^T + b_ih, one matmul over the
whole sequence) is computed before, by `linear`; the scan runs the recurrence:
per step one product h W_hh^T and the cell's elementwise arithmetic
(`_steps.py`), on NDArrays, with no graph per step. Its backward is
backpropagation through time on NDArrays: per step the cell's backward and one
product dgates W_hh, then the weight gradients as single products over all
steps ((T*B, G)^T @ (T*B, H): cuDNN's layout), which is much less work for the
engine and the allocator than a recorded graph of every step.

Under create_graph the backward instead recomputes the recurrence with Tensor
operations (the same step code) and lets the engine differentiate it, so the
gradients it returns are differentiable themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import actnet.ndarray as xp
import actnet.tensor as at
from actnet.ndarray import NDArray
from actnet.neuron.recurrent._steps import ARRAYS, STEPS, TENSORS, Step, Value
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled

_INPUTS = 6  # xw, h0, c0, w_hh, b_hh, w_hr: the Tensor arguments


def _order(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def run(
    ops: Any,
    step: Step,
    xs: Sequence[Value],
    h0: Value,
    c0: Value,
    w_hh_t: Value,
    b_hh: Value,
    w_hr_t: Value,
    reverse: bool,
) -> tuple[list[Value], Value, Value, list[tuple[Value, ...]]]:
    """The recurrence over the per-step input gates xs (in time order), with
    W_hh^T and W_hr^T (or None) given transposed: the outputs and what each
    step keeps for backward (both in time order), and the last h and c."""
    outs: list[Value] = [None] * len(xs)
    kept: list[tuple[Value, ...]] = [()] * len(xs)
    h, c = h0, c0
    for t in _order(len(xs), reverse):
        gh = h @ w_hh_t
        if b_hh is not None:
            gh = gh + b_hh
        h, c, kept[t] = step.forward(ops, xs[t], gh, h, c)
        if w_hr_t is not None:  # LSTM's projection (proj_size)
            h = h @ w_hr_t
        outs[t] = h
    return outs, h, c, kept


def _contiguous(x: NDArray) -> NDArray:
    # W^T as a contiguous copy: OpenBLAS multiplies (32, 256) @ (256, 1024) in
    # 0.6-0.95x the time it takes with the transposed view (measured, 1 thread)
    return xp.asarray(x, copy=True)


class Scan(Function):
    """(output, h_n[, c_n]) of one layer and direction: xw (T, B, G) the input
    gates of every step, h0 (B, H_out), c0 (B, H) for an LSTM, w_hh (G, H_out),
    b_hh (G,) or None (added to h W_hh^T every step: the GRU needs it there, the
    others may fold it into xw), w_hr (H_out, H) or None. Backward keeps the
    inputs, the output, and the cell's per-step values (LSTM: its activated
    gates and c; GRU: r and z, n, and h W_hn^T + b_hn)."""

    @staticmethod
    def forward(
        ctx: Any,
        xw: Tensor,
        h0: Tensor,
        c0: Tensor | None,
        w_hh: Tensor,
        b_hh: Tensor | None,
        w_hr: Tensor | None,
        mode: str,
        reverse: bool,
    ) -> tuple[Tensor, ...]:
        step = STEPS[mode]
        outs, h, c, kept = run(
            ARRAYS,
            step,
            ARRAYS.unbind(xw.array),
            h0.array,
            None if c0 is None else c0.array,
            _contiguous(w_hh.array.mT),
            None if b_hh is None else b_hh.array,
            None if w_hr is None else _contiguous(w_hr.array.mT),
            reverse,
        )
        out = as_tensor(xp.stack(outs))
        if True in ctx.needs_input_grad:
            fields = [
                as_tensor(xp.stack([k[j] for k in kept])) for j in range(len(kept[0]))
            ]
            ctx.save_for_backward(xw, h0, c0, w_hh, b_hh, w_hr, out, *fields)
            ctx.step = step
            ctx.reverse = reverse
        if step.cell:
            return out, as_tensor(h), as_tensor(c)
        return out, as_tensor(h)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor | None, ...]:
        saved = ctx.saved_tensors
        if is_grad_enabled():
            return _recorded_backward(ctx, saved, grads)
        return _backward(ctx, saved, grads)


def _backward(
    ctx: Any, saved: Sequence[Tensor | None], grads: Sequence[Tensor]
) -> tuple[Tensor | None, ...]:
    """Backpropagation through time on NDArrays (no graph)."""
    step: Step = ctx.step
    needs: tuple[bool, ...] = ctx.needs_input_grad
    xw, h0, c0, w_hh, _, w_hr, out = saved[:7]
    assert xw is not None and h0 is not None and w_hh is not None and out is not None
    fields = [f.array for f in saved[7:] if f is not None]
    ys = out.array
    length, batch = ys.shape[0], ys.shape[1]
    order = _order(length, ctx.reverse)
    w = w_hh.array
    wr = None if w_hr is None else w_hr.array
    # every per-step view made at once (one call each, not one per step)
    y_steps = ARRAYS.unbind(ys)
    g_steps = ARRAYS.unbind(grads[0].array)
    kept = list(zip(*(ARRAYS.unbind(f) for f in fields), strict=True))
    if not kept:
        kept = [()] * length
    dh = grads[1].array
    dc = grads[2].array if step.cell else None
    cs = [k[1] for k in kept] if step.cell else None  # the LSTM's c of every step
    placeholder = g_steps[0]  # every entry below is replaced
    dgx = [placeholder] * length
    dgh = [placeholder] * length
    dys = [placeholder] * length
    for k in range(length - 1, -1, -1):
        t = order[k]
        first = k == 0
        h_prev = h0.array if first else y_steps[order[k - 1]]
        c_prev = None
        if cs is not None:
            assert c0 is not None
            c_prev = c0.array if first else cs[order[k - 1]]
        dh = dh + g_steps[t]
        dy = dh
        if wr is not None:
            dys[t] = dh
            dy = dh @ wr
        dgx[t], dgh[t], direct, dc = step.backward(
            dy, dc, h_prev, c_prev, y_steps[t], kept[t]
        )
        if not first or needs[1]:
            dh = dgh[t] @ w
            if direct is not None:
                dh = dh + direct
    grad_xw = as_tensor(xp.stack(dgx)) if needs[0] else None
    grad_h0 = as_tensor(dh) if needs[1] else None
    grad_c0 = as_tensor(dc) if needs[2] and dc is not None else None
    grad_w_hh = grad_b_hh = grad_w_hr = None
    if needs[3] or needs[4]:
        if grad_xw is not None and dgh[0] is dgx[0]:  # the same gates
            all_dgh = grad_xw.array
        else:
            all_dgh = xp.stack(dgh)
        rows = xp.reshape(all_dgh, (length * batch, all_dgh.shape[-1]))
        if needs[3]:
            start = xp.expand_dims(h0.array, axis=0)
            if ctx.reverse:
                h_prev_all = xp.concat([ys[1:], start])
            else:
                h_prev_all = xp.concat([start, ys[:-1]])
            grad_w_hh = as_tensor(
                rows.mT @ xp.reshape(h_prev_all, (length * batch, ys.shape[-1]))
            )
        if needs[4]:
            grad_b_hh = as_tensor(xp.sum(rows, axis=0))
    if needs[5] and wr is not None:
        gates, tanh_c = fields[0], xp.tanh(fields[1])
        hidden = tanh_c.shape[-1]
        r = gates[..., 3 * hidden :] * tanh_c  # o tanh(c): what W_hr multiplied
        dy_rows = xp.reshape(xp.stack(dys), (length * batch, ys.shape[-1]))
        grad_w_hr = as_tensor(dy_rows.mT @ xp.reshape(r, (length * batch, hidden)))
    return grad_xw, grad_h0, grad_c0, grad_w_hh, grad_b_hh, grad_w_hr, None, None


def _recorded_backward(
    ctx: Any, saved: Sequence[Tensor | None], grads: Sequence[Tensor]
) -> tuple[Tensor | None, ...]:
    """The gradients as recorded Tensor operations (create_graph): the
    recurrence recomputed with Tensor operations, differentiated by the engine."""
    step: Step = ctx.step
    needs: tuple[bool, ...] = ctx.needs_input_grad
    inputs = list(saved[:_INPUTS])
    outputs = recompute(step, *inputs, reverse=ctx.reverse)
    roots = [(o, g) for o, g in zip(outputs, grads, strict=True) if o.requires_grad]
    wanted = [i for i in range(_INPUTS) if needs[i]]
    targets: list[Tensor] = []
    for i in wanted:
        target = inputs[i]
        assert target is not None  # needs_input_grad says it is a Tensor
        targets.append(target)
    found = at.grad(
        [o for o, _ in roots],
        targets,
        [g for _, g in roots],
        create_graph=True,
        allow_unused=True,
    )
    result: list[Tensor | None] = [None] * (_INPUTS + 2)
    for i, g in zip(wanted, found, strict=True):
        result[i] = g
    return tuple(result)


def recompute(
    step: Step,
    xw: Tensor | None,
    h0: Tensor | None,
    c0: Tensor | None,
    w_hh: Tensor | None,
    b_hh: Tensor | None,
    w_hr: Tensor | None,
    *,
    reverse: bool,
) -> list[Tensor]:
    """Scan's outputs, computed with recorded Tensor operations."""
    assert xw is not None and h0 is not None and w_hh is not None
    outs, h, c, _ = run(
        TENSORS,
        step,
        TENSORS.unbind(xw),
        h0,
        c0,
        w_hh.mT,
        b_hh,
        None if w_hr is None else w_hr.mT,
        reverse,
    )
    return [TENSORS.stack(outs), h, c] if step.cell else [TENSORS.stack(outs), h]


def scan(
    mode: str,
    xw: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    w_hh: Tensor,
    b_hh: Tensor | None,
    w_hr: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, ...]:
    """Scan.apply: (output, h_n) or, for an LSTM, (output, h_n, c_n). The
    arguments are checked by the caller (`_layers.py`)."""
    result: tuple[Tensor, ...] = Scan.apply(xw, h0, c0, w_hh, b_hh, w_hr, mode, reverse)
    return result
