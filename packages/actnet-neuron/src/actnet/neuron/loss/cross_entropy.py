"""cross_entropy: log_softmax and the negative log likelihood, fused.

Every training step of a classifier ends here, so the class-index path of
logits (N, C) (and (C,)) is the device's fused pair: `cross_entropy` (one pass
over the rows: the loss and each row's logsumexp, the targets' bounds checked in
the same pass) and `cross_entropy_backward` (softmax - one_hot, smoothed,
weighted, scaled, in one pass). Logits (N, C, d1, ...) take a Function of device
operators: forward keeps exp(x - max) and its row sums, backward is the same
formula written into one fresh buffer.
"""

from __future__ import annotations

from typing import Any

import actnet.ndarray as xp
from actnet.device import Buffer, Device
from actnet.ndarray import NDArray, buffer_of, from_buffer
from actnet.neuron._checks import check_tensor
from actnet.neuron.activation.softmax import Softmax, contiguous
from actnet.neuron.loss._common import (
    check_class_targets,
    class_indices,
    gather_targets,
    mean_divisor,
    reduction_of,
)
from actnet.tensor import Function, Tensor, as_tensor, is_grad_enabled
from actnet.tensor.amp import autocast_op

_OP = "cross_entropy"
_INT64 = (-(1 << 63), (1 << 63) - 1)  # what the device's ignore_index may be


def _softmax_parts(dev: Device, x: Buffer, axis: int) -> tuple[Buffer, Buffer, Buffer]:
    """x - max, exp(x - max) and its sum along `axis` (kept): softmax is e / s,
    log_softmax is shifted - log(s)."""
    shifted = dev.subtract(x, dev.max(x, (axis,), True))
    e = dev.exp(shifted)
    return shifted, e, dev.sum(e, (axis,), True)


class FusedCrossEntropy(Function):
    """Class-index targets of logits (N, C): loss[n] = (1 - eps) w[y] (-log p[n, y])
    + eps / C sum_c w[c] (-log p[n, c]), zero where y is ignore_index, as the
    device's `cross_entropy`. Backward keeps the logits, the targets, the weight
    and each row's max and log(sum(exp(x - max))) (2 N floats): one device call,
    `cross_entropy_backward`; under create_graph, softmax as a Function and the
    rest with Tensor operations, so that double backward works."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        weight: Tensor | None,
        ignore_index: int,
        reduction: str,
        label_smoothing: float,
    ) -> Tensor:
        x = contiguous(input)
        t = buffer_of(target.array)
        w = None if weight is None else buffer_of(weight.array)
        loss, stats = x.device.cross_entropy(
            x, t, w, ignore_index, label_smoothing, reduction
        )
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(input)
            ctx.parts = (x, t, w, stats)
            ctx.options = (ignore_index, label_smoothing, reduction)
        return as_tensor(from_buffer(loss))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.needs_input_grad[2]:
            raise RuntimeError(f"{_OP}: the derivative for 'weight' is not implemented")
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None
        x, t, w, stats = ctx.parts
        ignore_index, eps, reduction = ctx.options
        if is_grad_enabled():  # create_graph: a backward that is differentiable
            (input,) = ctx.saved_tensors
            grad_x = _tensor_backward(input, grad, t, w, ignore_index, eps, reduction)
            return grad_x, None, None, None, None, None
        g = contiguous(grad)
        grad_x = x.device.cross_entropy_backward(
            g, x, t, stats, w, ignore_index, eps, reduction
        )
        return as_tensor(from_buffer(grad_x)), None, None, None, None, None


def _tensor_backward(
    input: Tensor,  # torch's names
    grad: Tensor,
    target: Buffer,
    w: Buffer | None,
    ignore_index: int,
    eps: float,
    reduction: str,
) -> Tensor:
    """FusedCrossEntropy's gradient with Tensor operations (recorded under
    create_graph): (total softmax - a) coef, a = (1 - eps) w[y] one_hot(y) +
    eps / C w (0 on ignored rows), total = sum_c a[c], coef the loss gradient."""
    dev = target.device
    rows, classes = input.shape
    valid, safe = class_indices(dev, as_tensor(from_buffer(target)), ignore_index)
    valid_f = dev.astype(valid, input.dtype)  # (N, 1)
    wv = valid_f
    if w is not None:
        wv = dev.multiply(dev.take(w, safe.reshape(-1), 0).reshape(safe.shape), wv)
    hot = dev.full((rows, classes), 0, input.dtype)
    dev.scatter(hot, safe, dev.multiply(wv, 1.0 - eps), 1, out=hot)
    total = dev.multiply(wv, 1.0 - eps)
    if eps:
        wb = dev.full((1, classes), 1, input.dtype) if w is None else w.reshape(1, -1)
        spread = dev.multiply(dev.multiply(valid_f, wb), eps / classes)
        hot = dev.add(hot, spread)
        total = dev.add(total, dev.sum(spread, (1,), True))
    if reduction == "none":
        coef = grad.reshape(rows, 1)
    elif reduction == "mean":
        coef = grad / as_tensor(from_buffer(mean_divisor(dev, dev.sum(wv))))
    else:
        coef = grad
    p: Tensor = Softmax.apply(input, 1)
    a = as_tensor(from_buffer(hot))
    return (p * as_tensor(from_buffer(total)) - a) * coef


class CrossEntropy(Function):
    """Class-index targets of logits (N, C, d1, ...): loss[n] = (1 - eps) w[y]
    (-log p[n, y]) + eps / C sum_c w[c] (-log p[n, c]), zero where y is
    ignore_index. Backward keeps exp(x - max) (one input-sized buffer) and
    per-sample vectors."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        weight: Tensor | None,
        ignore_index: int,
        reduction: str,
        label_smoothing: float,
    ) -> Tensor:
        x = buffer_of(input.array)
        dev = x.device
        classes = x.shape[1]
        shifted, e, s = _softmax_parts(dev, x, 1)
        log_s = dev.log(s)
        valid, safe = class_indices(dev, target, ignore_index)
        nll = dev.subtract(log_s, gather_targets(dev, shifted, safe, _OP))
        valid_f = dev.astype(valid, x.dtype)
        w = None if weight is None else buffer_of(weight.array)
        if w is None:
            wv = valid_f
        else:
            picked = dev.take(w, safe.reshape(-1), 0).reshape(safe.shape)
            wv = dev.multiply(picked, valid_f)
        loss = dev.multiply(nll, wv)
        if label_smoothing:
            eps = label_smoothing
            if w is None:
                total = dev.multiply(log_s, classes)
                smooth = dev.subtract(total, dev.sum(shifted, (1,), True))
            else:
                wb = w.reshape(_class_shape(x.ndim, classes))
                total = dev.multiply(log_s, dev.sum(w))
                weighted = dev.sum(dev.multiply(shifted, wb), (1,), True)
                smooth = dev.subtract(total, weighted)
            smooth = dev.multiply(dev.multiply(smooth, valid_f), eps / classes)
            loss = dev.add(dev.multiply(loss, 1.0 - eps), smooth)
        if reduction == "none":
            out = loss.squeeze(1)
        elif reduction == "sum":
            out = dev.sum(loss)
        else:  # PyTorch's mean: over the weights of the targets not ignored
            ctx.denom = dev.sum(wv)
            out = dev.divide(dev.sum(loss), ctx.denom)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(as_tensor(from_buffer(e)))
            ctx.parts = (s, safe, wv, valid_f, w)
            ctx.options = (reduction, label_smoothing)
        return as_tensor(from_buffer(out))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.needs_input_grad[2]:
            raise RuntimeError(f"{_OP}: the derivative for 'weight' is not implemented")
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None
        (saved,) = ctx.saved_tensors
        e = buffer_of(saved.array)
        s, safe, wv, valid_f, w = ctx.parts
        reduction, eps = ctx.options
        dev = e.device
        classes = e.shape[1]
        g = buffer_of(grad.array)
        if reduction == "none":
            coef = g.expand_dims(1)
        elif reduction == "mean":
            coef = dev.divide(g, mean_divisor(dev, ctx.denom))
        else:
            coef = g
        # d/dx of sum_k a_k (-log p_k) is (sum_k a_k) p - a, with
        # a = (1 - eps) w[y] one_hot(y) + eps / C w, zero for an ignored target.
        total = wv
        if eps and w is not None:
            spread = dev.multiply(valid_f, dev.multiply(dev.sum(w), eps / classes))
            total = dev.add(dev.multiply(wv, 1.0 - eps), spread)
        row = dev.divide(dev.multiply(coef, total), s)
        grad_x = dev.multiply(e, row)  # (sum_k a_k) softmax, scaled
        hot = dev.multiply(dev.multiply(coef, wv), eps - 1.0)
        # grad_x is this function's own fresh buffer: update it in place.
        dev.scatter_add(grad_x, safe, hot, 1, out=grad_x)
        if eps:
            spread = dev.multiply(dev.multiply(coef, valid_f), eps / classes)
            if w is not None:
                spread = dev.multiply(spread, w.reshape(_class_shape(e.ndim, classes)))
            grad_x = dev.subtract(grad_x, spread)
        return as_tensor(from_buffer(grad_x)), None, None, None, None, None


class CrossEntropyProbs(Function):
    """Class-probability targets: loss = -sum_c w[c] t[c] log p[c], with t
    smoothed to t (1 - eps) + eps / C. Differentiable in input and target;
    backward keeps log p (one input-sized array)."""

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,  # torch's names
        target: Tensor,
        weight: Tensor | None,
        reduction: str,
        label_smoothing: float,
    ) -> Tensor:
        x = buffer_of(input.array)
        axis = 0 if x.ndim == 1 else 1
        classes = x.shape[axis]
        shifted, _, s = _softmax_parts(x.device, x, axis)
        logp = from_buffer(shifted) - xp.log(from_buffer(s))
        t = target.array
        if label_smoothing:
            t = t * (1.0 - label_smoothing) + label_smoothing / classes
        wb = None
        if weight is not None:
            wb = xp.reshape(weight.array, _class_shape(x.ndim, classes))
            t = t * wb
        loss = -xp.sum(t * logp, axis=axis)
        count = loss.size  # samples (and positions d1, ...): what 'mean' divides by
        if reduction == "sum":
            loss = xp.sum(loss)
        elif reduction == "mean":
            loss = xp.sum(loss) / count
        if any(ctx.needs_input_grad[:2]):
            ctx.save_for_backward(as_tensor(logp))
            ctx.parts = (t, wb, axis, reduction, label_smoothing, count)
        return as_tensor(loss)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.needs_input_grad[2]:
            raise RuntimeError(f"{_OP}: the derivative for 'weight' is not implemented")
        (saved,) = ctx.saved_tensors
        logp: NDArray = saved.array
        t, wb, axis, reduction, eps, count = ctx.parts
        g = grad.array
        if reduction == "none":
            g = xp.expand_dims(g, axis=axis)
        elif reduction == "mean":
            g = g / count
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:  # (sum_c t[c]) softmax - t, t weighted
            total = xp.sum(t, axis=axis, keepdims=True)
            grad_x = as_tensor((total * xp.exp(logp) - t) * g)
        if ctx.needs_input_grad[1]:
            scale = g * (eps - 1.0) if eps else -g
            grad_t = as_tensor(logp * scale if wb is None else logp * wb * scale)
        return grad_x, grad_t, None, None, None


def _class_shape(ndim: int, classes: int) -> tuple[int, ...]:
    """The shape that broadcasts a per-class vector along the class dim."""
    if ndim == 1:
        return (classes,)
    return (1, classes, *(1,) * (ndim - 2))


@autocast_op("cross_entropy_loss")
def cross_entropy(
    input: Tensor,  # torch's names
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """The cross entropy of logits `input` (N, C, d1, ...) or (C,) against class
    indices (N, d1, ...) or class probabilities of input's shape
    (torch.nn.functional.cross_entropy).

    With class indices, targets equal to `ignore_index` add nothing, and 'mean'
    divides by the summed `weight` of the targets counted (NaN when none is);
    with probabilities, 'mean' divides by the number of samples. `weight` gets
    no gradient.

    >>> cross_entropy(tensor([[2.0, 0.5, -1.0]]), tensor([0]), label_smoothing=0.1)
    tensor(0.39131123)
    """
    reduction = reduction_of(_OP, reduction, size_average, reduce)
    if not isinstance(label_smoothing, int | float) or not (
        0.0 <= label_smoothing <= 1.0
    ):
        raise ValueError(
            f"{_OP}: label_smoothing must be in [0, 1], got {label_smoothing!r}"
        )
    check_tensor(input, _OP, "input", kinds="f")
    if isinstance(target, Tensor) and target.is_floating_point():
        return _with_probabilities(input, target, weight, reduction, label_smoothing)
    check_class_targets(input, target, weight, _OP)
    if type(ignore_index) is not int:
        raise TypeError(f"{_OP}: ignore_index must be an int, got {ignore_index!r}")
    eps = float(label_smoothing)
    # (C,) and (N, C): the device's fused pair (its ignore_index is an int64)
    fused = input.ndim <= 2 and _INT64[0] <= ignore_index <= _INT64[1]
    function = FusedCrossEntropy if fused else CrossEntropy
    if input.ndim == 1:  # one sample: as a batch of one
        batch = input.reshape(1, input.shape[0])
        out: Tensor = function.apply(
            batch, target.reshape(1), weight, ignore_index, reduction, eps
        )
        return out.reshape(()) if reduction == "none" else out
    result: Tensor = function.apply(input, target, weight, ignore_index, reduction, eps)
    return result


def _with_probabilities(
    input: Tensor,  # torch's names
    target: Tensor,
    weight: Tensor | None,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    if target.shape != input.shape:
        raise ValueError(
            f"{_OP}: target of class probabilities must have input's shape "
            f"{input.shape}, got {target.shape} (class indices need an integer "
            "dtype)"
        )
    if target.dtype != input.dtype:
        raise TypeError(
            f"{_OP}: target has dtype {target.dtype}, input has {input.dtype}"
        )
    if input.ndim == 0:
        raise ValueError(f"{_OP}: input must have a class dimension, got a 0-d tensor")
    if weight is not None:
        classes = input.shape[0 if input.ndim == 1 else 1]
        check_tensor(weight, _OP, "weight", kinds="f")
        if weight.shape != (classes,) or weight.dtype != input.dtype:
            raise ValueError(
                f"{_OP}: weight must be a ({classes},) tensor of {input.dtype}, got "
                f"{weight.shape} of {weight.dtype}"
            )
    result: Tensor = CrossEntropyProbs.apply(
        input, target, weight, reduction, float(label_smoothing)
    )
    return result
