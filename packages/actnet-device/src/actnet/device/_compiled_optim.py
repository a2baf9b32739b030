"""Compiled kernels of the fused optimiser updates (the `cpu` device).

Each kernel is one loop over a tensor's flat contiguous arrays that numba compiles
(`_jit.compiled`): per element it reads the parameter, gradient and state once,
does the reference kernel's operations in the same order, in the arrays' dtype
(every scalar comes in that dtype; numba contracts no multiply-add, as the
reference's separate ufuncs do not), and writes them once. So it equals the
reference bit for bit, in one pass instead of ten to fourteen. Other dtypes and
layouts take the reference kernel, tensor by tensor.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

from actnet.device._jit import compiled
from actnet.device._kernels_optim import AdamScalars, Array, OptimKernels, SGDScalars

# From this many elements an update runs on the threads set_num_threads allows.
# It is bound by memory bandwidth: below, a second thread gains less than waking
# it costs (every tensor of the digits MLP, 64->256->256->10, stays serial).
PARALLEL_MIN: Final = 1 << 17
COMPILED_DTYPES: Final = (np.dtype(np.float32), np.dtype(np.float64))

prange = range  # numba's prange once compiled with parallel=True (see _jit)


def _sgd(
    param: Array,
    grad: Array,
    maximize: bool,
    decay: bool,
    weight_decay: Any,
    neg_lr: Any,
) -> None:
    for i in prange(param.size):
        g = grad[i]
        if maximize:
            g = -g
        p = param[i]
        if decay:
            g = g + p * weight_decay
        param[i] = p + g * neg_lr


def _sgd_momentum(
    param: Array,
    grad: Array,
    buf: Array,
    first: bool,
    maximize: bool,
    decay: bool,
    nesterov: bool,
    weight_decay: Any,
    momentum: Any,
    dampening_scale: Any,
    neg_lr: Any,
) -> None:
    for i in prange(param.size):
        g = grad[i]
        if maximize:
            g = -g
        p = param[i]
        if decay:
            g = g + p * weight_decay
        b = g if first else buf[i] * momentum + g * dampening_scale
        buf[i] = b
        g = g + b * momentum if nesterov else b
        param[i] = p + g * neg_lr


def _adam(
    param: Array,
    grad: Array,
    m: Array,
    v: Array,
    vmax: Array,
    amsgrad: bool,
    maximize: bool,
    decay: bool,
    decoupled: bool,
    small: bool,
    decay_factor: Any,
    lerp_weight: Any,
    beta2: Any,
    one_minus_beta2: Any,
    bias_correction2_sqrt: Any,
    eps: Any,
    neg_step_size: Any,
) -> None:
    for i in prange(param.size):
        g = grad[i]
        if maximize:
            g = -g
        p = param[i]
        if decay:
            if decoupled:
                p = p * decay_factor
            else:
                g = g + p * decay_factor
        mi = m[i]
        mi = mi + (g - mi) * lerp_weight if small else g - (g - mi) * lerp_weight
        m[i] = mi
        vi = v[i] * beta2 + (g * one_minus_beta2) * g
        v[i] = vi
        if amsgrad:
            top = vmax[i]
            if vi > top or math.isnan(vi):  # as numpy.maximum: NaN wins
                top = vi
            vmax[i] = top
            vi = top
        denom = np.sqrt(vi) / bias_correction2_sqrt + eps
        param[i] = p + (mi * neg_step_size) / denom


def flat(written: tuple[Array, ...], read: Array) -> tuple[Array, ...] | None:
    """The arrays (written ones first, then `read`) as 1-d views when all are
    C-contiguous NumPy arrays of one compiled dtype (the device has checked that
    they have one shape), the written ones writeable; else None (the reference
    kernel runs)."""
    if written[0].dtype not in COMPILED_DTYPES:
        return None
    for a in written:
        flags = a.flags
        if not (flags.c_contiguous and flags.writeable):
            return None
    if not read.flags.c_contiguous:
        return None
    return (*(a.ravel() for a in written), read.ravel())


class OptimCompiled(OptimKernels):
    """The compiled forms of OptimKernels' per-tensor updates."""

    def _sgd_tensor(
        self,
        param: Array,
        grad: Array,
        buf: Array | None,
        first: bool,
        s: SGDScalars,
        nesterov: bool,
        maximize: bool,
    ) -> None:
        written = (param,) if buf is None else (param, buf)
        arrays = flat(written, grad)
        if arrays is None:
            super()._sgd_tensor(param, grad, buf, first, s, nesterov, maximize)
            return
        parallel = param.size >= PARALLEL_MIN
        if buf is None:
            p, g = arrays
            kernel: Any = compiled(_sgd, parallel=parallel)
            kernel(p, g, maximize, s.decay, s.weight_decay, s.neg_lr)
            return
        p, b, g = arrays
        kernel = compiled(_sgd_momentum, parallel=parallel)
        kernel(
            p,
            g,
            b,
            first,
            maximize,
            s.decay,
            nesterov,
            s.weight_decay,
            s.momentum,
            s.dampening_scale,
            s.neg_lr,
        )

    def _adam_tensor(
        self,
        param: Array,
        grad: Array,
        m: Array,
        v: Array,
        vmax: Array | None,
        s: AdamScalars,
        decay: bool,
        decoupled: bool,
        maximize: bool,
    ) -> None:
        written = (param, m, v) if vmax is None else (param, m, v, vmax)
        arrays = flat(written, grad)
        if arrays is None:
            super()._adam_tensor(param, grad, m, v, vmax, s, decay, decoupled, maximize)
            return
        if vmax is None:
            p, fm, fv, g = arrays
            top = fv[:0]  # not read without amsgrad; of the kernel's type
        else:
            p, fm, fv, top, g = arrays
        kernel: Any = compiled(_adam, parallel=param.size >= PARALLEL_MIN)
        kernel(
            p,
            g,
            fm,
            fv,
            top,
            vmax is not None,
            maximize,
            decay,
            decoupled,
            s.small,
            s.decay_factor,
            s.lerp_weight,
            s.beta2,
            s.one_minus_beta2,
            s.bias_correction2_sqrt,
            s.eps,
            s.neg_step_size,
        )
