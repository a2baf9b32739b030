"""Reference kernels of the fused optimiser updates, written once against an array
module.

Each updates one tensor in place by PyTorch's single-tensor algorithm
(`torch/optim/sgd.py`, `adam.py`: `_single_tensor_sgd`, `_single_tensor_adam`),
one operation after another, each rounded in the tensor's dtype, with every
scalar first rounded to that dtype, as PyTorch's CPU kernels take them. The
compiled kernels (`_compiled_optim.py`) do the same operations in the same order
element by element, so in float32 and float64 the two agree bit for bit.

The scalars the formulas derive from the options (bias corrections, lerp's
weight) are computed here, in Python floats in PyTorch's order, for both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

Array = Any  # a numpy.ndarray or cupy.ndarray


class SGDScalars(NamedTuple):
    """SGD's scalars in the tensors' dtype."""

    decay: bool  # weight_decay != 0 (as given, before rounding)
    weight_decay: Any
    momentum: Any
    dampening_scale: Any  # 1 - dampening
    neg_lr: Any  # -lr


class AdamScalars(NamedTuple):
    """Adam's scalars for one step count, in the tensors' dtype."""

    decay_factor: Any  # 1 - lr * weight_decay (decoupled), or weight_decay
    lerp_weight: Any  # 1 - beta1 (small), else 1 - (1 - beta1) in the dtype
    small: bool  # |1 - beta1| < 0.5: lerp's first form
    beta2: Any
    one_minus_beta2: Any
    bias_correction2_sqrt: Any
    eps: Any
    neg_step_size: Any  # -lr / (1 - beta1**step)


def sgd_scalars(
    dtype: np.dtype[Any],
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
) -> SGDScalars:
    """SGD's options as scalars of `dtype`."""
    t = dtype.type
    return SGDScalars(
        weight_decay != 0, t(weight_decay), t(momentum), t(1 - dampening), t(-lr)
    )


def adam_scalars(
    dtype: np.dtype[Any],
    step: float,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
) -> AdamScalars:
    """Adam's options and bias corrections at `step`, as scalars of `dtype`: the
    corrections in Python floats in PyTorch's order (1 - beta**step, lr / bc1,
    bc2**0.5); lerp's weight w = 1 - beta1 for the form PyTorch's lerp picks:
    |w| < 0.5 takes start + w (end - start), else end - (end - start) (1 - w),
    1 - w computed in the dtype."""
    t = dtype.type
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    weight = 1 - beta1
    small = abs(weight) < 0.5
    lerp_weight = t(weight) if small else t(1) - t(weight)
    decay_factor = t(1 - lr * weight_decay) if decoupled else t(weight_decay)
    return AdamScalars(
        decay_factor,
        lerp_weight,
        small,
        t(beta2),
        t(1 - beta2),
        t(bias_correction2_sqrt),
        t(eps),
        t(-step_size),
    )


class OptimKernels:
    """sgd_update and adam_update: a loop over the tensors, each updated by
    `_sgd_tensor` / `_adam_tensor` (which a compiled backend overrides)."""

    xp: Any
    scratch: Callable[[tuple[int, ...], np.dtype[Any]], Any]

    # ---------------------------------------------------------------- SGD
    def sgd_update(
        self,
        params: Sequence[Array],
        grads: Sequence[Array],
        momentum_buffers: Sequence[Array] | None,
        first_step: Sequence[bool],
        scalars: SGDScalars,
        nesterov: bool,
        maximize: bool,
    ) -> None:
        """Update each params[i] (and momentum_buffers[i], when given) in place;
        first_step[i]: the buffer is new, and becomes the gradient."""
        for i, param in enumerate(params):
            buf = None if momentum_buffers is None else momentum_buffers[i]
            self._sgd_tensor(
                param, grads[i], buf, first_step[i], scalars, nesterov, maximize
            )

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
        """g = -grad (maximize); g = g + wd param; buf = g (first) or mom buf +
        (1 - dampening) g; g = g + mom buf (Nesterov) or buf; param += -lr g."""
        xp = self.xp
        held = self.scratch((2, *param.shape), param.dtype)
        # [i, ...]: arrays even when param is 0-d ([i] would be scalars)
        work, product = held.native[0, ...], held.native[1, ...]
        g = grad
        if maximize:
            xp.negative(g, out=work)
            g = work
        if s.decay:
            xp.multiply(param, s.weight_decay, out=product)
            xp.add(g, product, out=work)
            g = work
        if buf is not None:
            if first:
                xp.copyto(buf, g)
            else:
                xp.multiply(buf, s.momentum, out=buf)
                if s.dampening_scale != 1:
                    xp.multiply(g, s.dampening_scale, out=product)
                    xp.add(buf, product, out=buf)
                else:  # g * 1 is g: skip the pass
                    xp.add(buf, g, out=buf)
            if nesterov:
                xp.multiply(buf, s.momentum, out=product)
                xp.add(g, product, out=work)
                g = work
            else:
                g = buf
        xp.multiply(g, s.neg_lr, out=product)  # the product rounded, then added
        xp.add(param, product, out=param)

    # --------------------------------------------------------------- Adam
    def adam_update(
        self,
        params: Sequence[Array],
        grads: Sequence[Array],
        exp_avgs: Sequence[Array],
        exp_avg_sqs: Sequence[Array],
        max_exp_avg_sqs: Sequence[Array] | None,
        scalars: Sequence[AdamScalars],
        decay: bool,
        decoupled: bool,
        maximize: bool,
    ) -> None:
        """Update each params[i], exp_avgs[i], exp_avg_sqs[i] (and
        max_exp_avg_sqs[i]: amsgrad) in place with scalars[i] (its step's);
        `decay`: weight_decay != 0."""
        for i, param in enumerate(params):
            vmax = None if max_exp_avg_sqs is None else max_exp_avg_sqs[i]
            self._adam_tensor(
                param,
                grads[i],
                exp_avgs[i],
                exp_avg_sqs[i],
                vmax,
                scalars[i],
                decay,
                decoupled,
                maximize,
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
        """g = -grad (maximize); param *= 1 - lr wd (decoupled) or g = g + wd param;
        m = lerp(m, g, 1 - beta1); v = beta2 v + ((1 - beta2) g) g; vmax =
        max(vmax, v) (amsgrad: v is vmax below); param += (-step_size m) /
        (sqrt(v) / sqrt(bc2) + eps)."""
        xp = self.xp
        held = self.scratch((3, *param.shape), param.dtype)
        t1, t2, work = held.native[0, ...], held.native[1, ...], held.native[2, ...]
        g = grad
        if maximize:
            xp.negative(g, out=work)
            g = work
        if decay:
            if decoupled:
                xp.multiply(param, s.decay_factor, out=param)
            else:
                xp.multiply(param, s.decay_factor, out=t1)
                xp.add(g, t1, out=work)
                g = work
        xp.subtract(g, m, out=t1)
        xp.multiply(t1, s.lerp_weight, out=t1)
        if s.small:
            xp.add(m, t1, out=m)
        else:
            xp.subtract(g, t1, out=m)
        xp.multiply(v, s.beta2, out=v)
        xp.multiply(g, s.one_minus_beta2, out=t1)
        xp.multiply(t1, g, out=t1)
        xp.add(v, t1, out=v)
        if vmax is not None:
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        xp.sqrt(v, out=t1)
        xp.divide(t1, s.bias_correction2_sqrt, out=t1)
        xp.add(t1, s.eps, out=t1)
        xp.multiply(m, s.neg_step_size, out=t2)
        xp.divide(t2, t1, out=t2)
        xp.add(param, t2, out=param)
