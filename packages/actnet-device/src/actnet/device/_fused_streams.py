"""Conformance streams of the fused operators (one per family): each on small
inputs and on inputs large enough for the compiled kernels' threaded paths."""

from __future__ import annotations

from typing import Any

import numpy as np

from actnet.device import _dtypes as dt
from actnet.device._device import Device
from actnet.device._opset import OPS
from actnet.device._stream import Ref, Stream, _data, _held, _positive


def _fused_stream(dev: Device, rng: np.random.Generator) -> Stream:
    """Each fused operator, on small and on large (compiled, threaded) inputs, in
    every dtype its table holds; the libm-dependent ones read loosely."""
    s = Stream("fused")
    for dtype in _held(dev, list(OPS["gelu"].dtypes)):
        # |x| <= 4 and beyond: the compiled exact gelu's two forms
        for shape, spread in (((3, 5), 3), ((70, 1000), 3), ((70, 1000), 0.5)):
            x = s.load((_data(rng, shape, dtype) * spread).astype(dtype))
            g = s.load(_data(rng, shape, dtype))
            for approximate in ("none", "tanh"):
                s.read(s.run("gelu", x, approximate=approximate), loose=True)
                s.read(
                    s.run("gelu_backward", g, x, approximate=approximate), loose=True
                )
            s.read(s.run("silu", x), loose=True)
            s.read(s.run("silu_backward", g, x), loose=True)
    for dtype in _held(dev, list(OPS["dropout"].dtypes)):
        # the masks and values exactly; a view, a counter about to wrap
        for shape, counter in (((3, 5), 7), ((70, 1001), 2**64 - 9)):
            x = s.load(_data(rng, shape, dtype))
            y, mask = s.run("dropout", x, 0.3, (12345, 678), counter, n_outputs=2)
            s.read(y)
            s.read(mask)
            s.read(s.run("dropout_backward", x, mask, 0.3))
            xt = s.view(x, "swapaxes", 0, 1)
            s.read(s.run("dropout", xt, 0.5, (9, 10), counter, n_outputs=2)[0])
    _lstm_steps(s, dev, rng)
    return s


def _lstm_steps(s: Stream, dev: Device, rng: np.random.Generator) -> None:
    """lstm_cell and lstm_cell_backward (with and without grad_c): small, large
    (B H past the compiled kernels' PARALLEL_MIN: threaded), and a step of a
    (B, T, 4H) projection with a transposed gates_h (rows not contiguous).
    Read loosely: exp and tanh differ between libms, and the reference rounds
    each operation in the operands' dtype."""
    for dtype in _held(dev, list(OPS["lstm_cell"].dtypes)):
        for rows, hidden in ((3, 5), (40, 1000), (4, 6)):
            gx = s.load((_data(rng, (rows, 4 * hidden), dtype) * 2).astype(dtype))
            gh = s.load(_data(rng, (rows, 4 * hidden), dtype))
            if hidden == 6:
                seq = s.load(_data(rng, (rows, 3, 4 * hidden), dtype))
                gx = s.view(seq, "__getitem__", (slice(None), 1))
                wide = s.load(_data(rng, (4 * hidden, rows), dtype))
                gh = s.view(wide, "swapaxes", 0, 1)
            c = s.load((_data(rng, (rows, hidden), dtype) * 2).astype(dtype))
            outputs = s.run("lstm_cell", gx, gh, c, n_outputs=3)
            grad_h = s.load(_data(rng, (rows, hidden), dtype))
            grad_c = s.load(_data(rng, (rows, hidden), dtype))
            _, c_new, gates = outputs
            grads = s.run("lstm_cell_backward", grad_h, grad_c, c, c_new, gates,
                          n_outputs=2)  # fmt: skip
            without = s.run("lstm_cell_backward", grad_h, None, c, c_new, gates,
                            n_outputs=2)  # fmt: skip
            for ref in (*outputs, *grads, *without):
                s.read(ref, loose=True)


def _attention_stream(dev: Device, rng: np.random.Generator) -> Stream:
    """sdpa and sdpa_backward, causal and not: small, and larger than a tile
    (L != S, sizes not multiples of the blocks: compiled and threaded), and a
    transposed key (not contiguous). Read loosely: exp differs between libms,
    and float32 sums run in another order."""
    s = Stream("attention")
    shapes = (
        ((2, 5, 3), (2, 7, 3), (2, 7, 2)),
        ((4, 70, 16), (4, 100, 16), (4, 100, 24)),
    )
    for dtype in _held(dev, list(OPS["sdpa"].dtypes)):
        for q_shape, k_shape, v_shape in shapes:
            q, k, v = (
                s.load(_data(rng, sh, dtype)) for sh in (q_shape, k_shape, v_shape)
            )
            g = s.load(_data(rng, (*q_shape[:-1], v_shape[-1]), dtype))
            for causal in (False, True):
                out, lse = s.run("sdpa", q, k, v, causal=causal, n_outputs=2)
                grads = s.run("sdpa_backward", g, q, k, v, out, lse, causal=causal,
                              n_outputs=3)  # fmt: skip
                for result in (out, lse, *grads):
                    s.read(result, loose=True)
        kt = s.view(s.load(_data(rng, (2, 3, 7), dtype)), "swapaxes", 1, 2)
        q, v = (
            s.load(_data(rng, (2, 5, 3), dtype)),
            s.load(_data(rng, (2, 7, 4), dtype)),
        )
        s.read(s.run("sdpa", q, kt, v, scale=0.5, n_outputs=2)[0], loose=True)
    return s


def _softmax_stream(dev: Device, rng: np.random.Generator) -> Stream:
    """softmax, log_softmax and cross-entropy, forward and backward: the last
    axis, small and large (compiled, threaded), a middle axis and a transposed
    input (not contiguous), -inf logits and a row of them (NaN); cross-entropy
    with ignored targets, weights, smoothing and each reduction. Read loosely:
    exp differs between libms (cross-entropy's row statistics only in float64:
    for float32 logits they are what float32 results need, not float64's last
    bits)."""
    s = Stream("softmax")
    # (1030, 256): past the compiled kernels' PARALLEL_MIN_NO_EXP (threaded)
    cases = (((3, 5), -1), ((4, 3, 6), 1), ((1030, 256), -1), ((7, 5), 1))
    for dtype in _held(dev, list(OPS["softmax"].dtypes)):
        for shape, axis in cases:
            data = (_data(rng, shape, dtype) * 3).astype(dtype)
            data[0, 1] = -np.inf
            data[1] = -np.inf
            x = s.load(data)
            if shape == (7, 5):
                x = s.view(x, "swapaxes", 0, 1)
                shape = (5, 7)
            g = s.load(_data(rng, shape, dtype))
            for op in ("softmax", "log_softmax"):
                y = s.run(op, x, axis=axis)
                s.read(y, loose=True)
                s.read(s.run(f"{op}_backward", g, y, axis=axis), loose=True)
    for dtype in _held(dev, list(OPS["cross_entropy"].dtypes)):
        for rows, classes in ((6, 5), (700, 200)):  # past PARALLEL_MIN
            x = s.load((_data(rng, (rows, classes), dtype) * 3).astype(dtype))
            labels = rng.integers(0, classes, rows)
            labels[[1, 4]] = -100
            t = s.load(labels)
            w = s.load(_positive(rng, (classes,), dtype))
            settings = (
                (None, 0.0, "mean"),
                (w, 0.0, "sum"),
                (w, 0.2, "mean"),
                (None, 0.1, "none"),
            )
            for weight, eps, reduction in settings:
                options: dict[str, Any] = {
                    "weight": weight,
                    "label_smoothing": eps,
                    "reduction": reduction,
                }
                loss, stats = s.run("cross_entropy", x, t, n_outputs=2, **options)
                s.read(loss, loose=True)
                if np.dtype(dtype) == dt.float64:
                    s.read(stats, loose=True)
                gl = s.load(_data(rng, (rows,) if reduction == "none" else (), dtype))
                s.read(s.run("cross_entropy_backward", gl, x, t, stats, **options),
                       loose=True)  # fmt: skip
    return s


def _norm_stream(dev: Device, rng: np.random.Generator) -> Stream:
    """layer_norm and rms_norm, forward and backward: one and two normalized
    axes, a large input (compiled, threaded), a transposed one (not contiguous),
    with and without weight and bias; the backwards' sums read loosely."""
    s = Stream("norms")
    for dtype in _held(dev, list(OPS["layer_norm"].dtypes)):
        for shape, k in (((3, 5), 1), ((4, 3, 6), 2), ((300, 256), 1), ((7, 5), 1)):
            x = s.load((_data(rng, shape, dtype) * 2 + 1).astype(dtype))
            if shape == (7, 5):
                x = s.view(x, "swapaxes", 0, 1)
                shape = (5, 7)
            w = s.load(_data(rng, shape[len(shape) - k :], dtype))
            b = s.load(_data(rng, shape[len(shape) - k :], dtype))
            g = s.load(_data(rng, shape, dtype))
            y, mean, rstd = s.run("layer_norm", x, w, b, k, 1e-5, n_outputs=3)
            grads = s.run("layer_norm_backward", g, x, mean, rstd, w, k, n_outputs=3)
            y0, mean0, rstd0 = s.run("layer_norm", x, None, None, k, 0.1, n_outputs=3)
            grads0 = s.run("layer_norm_backward", g, x, mean0, rstd0, None, k,
                           (True, False, True), n_outputs=3)  # fmt: skip
            for ref in (y, mean, rstd, y0, mean0, rstd0):
                s.read(ref)
            for ref in (*grads, grads0[0], grads0[2]):
                s.read(ref, loose=True)
            y, rstd = s.run("rms_norm", x, w, k, None, n_outputs=2)
            grads = s.run("rms_norm_backward", g, x, rstd, w, k, n_outputs=2)
            y0, rstd0 = s.run("rms_norm", x, None, k, 1e-3, n_outputs=2)
            grads0 = s.run("rms_norm_backward", g, x, rstd0, None, k, (True, False),
                           n_outputs=2)  # fmt: skip
            for ref in (y, rstd, y0, rstd0):
                s.read(ref)
            for ref in (*grads, grads0[0]):
                s.read(ref, loose=True)
    return s


def _optim_stream(dev: Device, rng: np.random.Generator) -> Stream:
    """sgd_update and adam_update over a small and a large (compiled, threaded)
    tensor, three steps of different options, in every dtype their tables hold."""
    s = Stream("optim")

    def tensors(dtype: np.dtype[Any]) -> list[Ref]:
        return [s.load(_data(rng, shape, dtype)) for shape in ((3, 5), (400, 400))]

    sgd: tuple[dict[str, Any], ...] = ({"first_step": True, "weight_decay": 0.01},
           {"nesterov": True, "maximize": True}, {"dampening": 0.25})  # fmt: skip
    for dtype in _held(dev, list(OPS["sgd_update"].dtypes)):
        params, bufs = tensors(dtype), tensors(dtype)
        for options in sgd:
            s.run("sgd_update", params, tensors(dtype), bufs, lr=0.1, momentum=0.9,
                  **options)  # fmt: skip
        for ref in (*params, *bufs):
            s.read(ref)
    adam: tuple[dict[str, Any], ...] = (
        {"amsgrad": True, "weight_decay": 0.1},
        {"amsgrad": True, "weight_decay": 0.1, "decoupled_weight_decay": True,
         "maximize": True}, {"beta1": 0.3})  # fmt: skip
    for dtype in _held(dev, list(OPS["adam_update"].dtypes)):
        params, ms = tensors(dtype), tensors(dtype)
        vs = [s.run("abs", v) for v in tensors(dtype)]
        vmax = [s.run("abs", v) for v in tensors(dtype)]
        for step, options in enumerate(adam, 1):
            betas = {"beta1": 0.9, "beta2": 0.999} | options
            s.run("adam_update", params, tensors(dtype), ms, vs, vmax, lr=0.01,
                  steps=[step, step + 3], eps=1e-8, **betas)  # fmt: skip
        for ref in (*params, *ms, *vs, *vmax):
            s.read(ref)
    return s


def _conv_stream(dev: Device, rng: np.random.Generator) -> Stream:
    """conv2d and its two backwards, max_pool2d and its backward: a small
    geometry with strides, dilation, uneven padding and groups, the digits
    CNN's layer, and (float32, float64) one large enough for the compiled
    kernels' threads; a transposed input (not contiguous). The convolutions'
    sums read loosely (their products may run in another order); max pooling
    exactly."""
    s = Stream("conv")
    cases: list[tuple[Any, ...]] = [
        ((3, 4, 9, 8), (6, 2, 3, 3), (2, 1), ((1, 2), (0, 1)), (1, 2), 2),
        ((64, 16, 4, 4), (32, 16, 3, 3), 1, 1, 1, 1),
    ]
    for dtype in _held(dev, list(OPS["conv2d"].dtypes)):
        large = [((8, 16, 32, 32), (8, 16, 3, 3), 1, 1, 1, 1)]
        wide = np.dtype(dtype) in (dt.float32, dt.float64)
        for x_shape, w_shape, stride, padding, dilation, groups in cases + (
            large if wide else []
        ):
            # The weight's gradient sums over every output position: positive
            # x and gradient, so that no cancellation turns the rounding of
            # those long sums into relative error (the large case: positive w
            # too, for the forward's and the input gradient's sums).
            x = s.load(_positive(rng, x_shape, dtype))
            make = _positive if x_shape[0] == 8 else _data
            w = s.load(make(rng, w_shape, dtype))
            b = s.load(_data(rng, w_shape[:1], dtype))
            geometry = (stride, padding, dilation, groups)
            y = s.run("conv2d", x, w, b, *geometry)
            s.read(y, loose=True)
            g = s.run("abs", y)
            gx = s.run("conv2d_backward_input", g, w, x_shape[2:], *geometry)
            s.read(gx, loose=True)
            gw, gb = s.run("conv2d_backward_weight", g, x, w_shape[2:], *geometry,
                           n_outputs=2)  # fmt: skip
            s.read(gw, loose=True)
            s.read(gb, loose=True)
            out, idx = s.run("max_pool2d", x, (3, 2), (2, 1), 1, (1, 2), True,
                             n_outputs=2)  # fmt: skip
            s.read(out)
            s.read(idx)
            s.read(s.run("max_pool2d_backward", out, idx, x_shape[2:]))
        xt = s.view(s.load(_data(rng, (5, 4, 3, 2), dtype)), "permute", 3, 2, 1, 0)
        w = s.load(_data(rng, (2, 3, 2, 2), dtype))
        s.read(s.run("conv2d", xt, w, None, 1, 1), loose=True)
        out, idx = s.run("max_pool2d", xt, 2, n_outputs=2)
        s.read(out)
        s.read(idx)
    return s
