"""What the loss functions share: the `reduction` argument (with PyTorch's legacy
`size_average`/`reduce`), reducing an elementwise loss, and the class-index
target checks of cross_entropy and nll_loss."""

from __future__ import annotations

import warnings

import actnet.ndarray as xp
from actnet.device import Buffer, Device
from actnet.ndarray import NDArray, buffer_of, from_buffer
from actnet.neuron._checks import check_reduction, check_tensor
from actnet.tensor import Tensor


def legacy_reduction(
    op: str,
    reduction: str,
    size_average: bool | None = None,
    reduce: bool | None = None,
    *,
    stacklevel: int = 2,
) -> str:
    """`reduction`, unless the deprecated `size_average` or `reduce` is given: then
    the reduction they mean, with PyTorch's warning (its
    _Reduction.legacy_get_string). Not checked: the caller knows which reductions
    it takes. `stacklevel` is warnings.warn's, counted from the caller."""
    if size_average is None and reduce is None:
        return reduction
    mean = True if size_average is None else size_average
    keep = True if reduce is None else reduce
    reduction = ("mean" if mean else "sum") if keep else "none"
    warnings.warn(
        f"{op}: size_average and reduce are deprecated, please use "
        f"reduction='{reduction}' instead",
        UserWarning,
        stacklevel=stacklevel + 1,
    )
    return reduction


def reduction_of(
    op: str,
    reduction: str,
    size_average: bool | None = None,
    reduce: bool | None = None,
) -> str:
    """`reduction` ('none', 'mean' or 'sum'), checked, after `legacy_reduction`.
    Its warning names the loss's caller: above this, the loss and the wrapper
    of its `autocast_op` (every loss that calls this is on the lists)."""
    reduction = legacy_reduction(op, reduction, size_average, reduce, stacklevel=4)
    return check_reduction(reduction, op)


def reduce_array(loss: NDArray, reduction: str) -> NDArray:
    """The elementwise `loss`, reduced ('mean' of nothing is NaN, as in PyTorch)."""
    if reduction == "sum":
        return xp.sum(loss)
    if reduction == "mean":
        return xp.mean(loss)
    return loss


def grad_scale(grad: Tensor, reduction: str, count: int) -> Tensor:
    """The gradient of the reduced loss as a factor on each element's gradient:
    the elementwise gradient itself for 'none', else a 0-d tensor (divided by the
    element count for 'mean')."""
    if reduction == "mean":
        return grad / max(count, 1)
    return grad


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape a and b broadcast to, or None when they do not."""
    shape = []
    for i in range(1, max(len(a), len(b)) + 1):
        m = a[-i] if i <= len(a) else 1
        n = b[-i] if i <= len(b) else 1
        if m != n and 1 not in (m, n):
            return None
        shape.append(n if m == 1 else m)
    return tuple(reversed(shape))


def float_pair(
    input: Tensor,  # torch's names
    target: Tensor,
    op: str,
    *,
    broadcast: bool = True,
    warn: bool = True,
) -> tuple[Tensor, Tensor]:
    """input and target as floating tensors of one dtype (the wider, as PyTorch
    promotes) and, with `broadcast`, of one shape (PyTorch warns that a target of
    another size is likely a mistake, and so do we, unless not `warn`: kl_div
    broadcasts quietly); without `broadcast` the shapes must be equal."""
    check_tensor(input, op, "input", kinds="f")
    check_tensor(target, op, "target", kinds="f")
    if target.dtype != input.dtype:
        dtype = xp.result_type(input.dtype, target.dtype)
        input, target = input.to(dtype), target.to(dtype)
    if target.shape == input.shape:
        return input, target
    if not broadcast:
        raise ValueError(
            f"{op}: target size {target.shape} must be the same as input size "
            f"{input.shape}"
        )
    shape = broadcast_shape(input.shape, target.shape)
    if shape is None:
        raise ValueError(
            f"{op}: target of shape {target.shape} does not broadcast with input "
            f"of shape {input.shape}"
        )
    if warn:
        warnings.warn(
            f"{op}: using a target size {target.shape} that is different to the input "
            f"size {input.shape}; this will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    return input.expand(*shape), target.expand(*shape)


def check_weight(
    weight: Tensor,
    input: Tensor,
    op: str,
    argument: str = "weight",
) -> None:
    """`weight` (or pos_weight) is a floating tensor that broadcasts to input's
    shape."""
    check_tensor(weight, op, argument, kinds="f")
    if broadcast_shape(weight.shape, input.shape) != input.shape:
        raise ValueError(
            f"{op}: {argument} of shape {weight.shape} does not broadcast to input's "
            f"shape {input.shape}"
        )


def check_class_targets(
    input: Tensor,  # torch's names
    target: Tensor,
    weight: Tensor | None,
    op: str,
) -> None:
    """input (N, C, d1, ...) or (C,) of a floating dtype; target (N, d1, ...) or ()
    of class indices; weight None or (C,) of input's dtype."""
    check_tensor(input, op, "input", kinds="f")
    check_tensor(target, op, "target", kinds="iu")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    expected = () if input.ndim == 1 else (input.shape[0], *input.shape[2:])
    if target.shape != expected:
        raise ValueError(
            f"{op}: target of shape {target.shape} does not match input of shape "
            f"{input.shape}: class indices must have shape {expected}"
        )
    if weight is not None:
        check_tensor(weight, op, "weight", kinds="f")
        classes = input.shape[0 if input.ndim == 1 else 1]
        if weight.shape != (classes,):
            raise ValueError(
                f"{op}: weight must have shape ({classes},), one per class, got "
                f"{weight.shape}"
            )
        if weight.dtype != input.dtype:
            raise TypeError(
                f"{op}: weight has dtype {weight.dtype}, input has {input.dtype}"
            )


def class_indices(
    dev: Device, target: Tensor, ignore_index: int
) -> tuple[Buffer, Buffer]:
    """(valid, safe) for targets (N, d1, ...), as (N, 1, d1, ...) buffers: where the
    target is not ignore_index, and the target with ignored ones replaced by 0."""
    t = buffer_of(target.array).expand_dims(1)
    if t.dtype.kind == "u":
        t = dev.astype(t, xp.int64)  # so that a negative ignore_index compares
    valid = dev.not_equal(t, ignore_index)
    return valid, dev.where(valid, t, 0)


def gather_targets(dev: Device, x: Buffer, safe: Buffer, op: str) -> Buffer:
    """x[n, safe[n, 0, ...], ...]: the entries of the targets, which must be class
    indices in [0, C) (PyTorch refuses negative ones too)."""
    low = int(from_buffer(dev.min(safe))) if safe.size else 0
    if low < 0:
        raise IndexError(
            f"{op}: target {low} is out of bounds (neither a class index nor the "
            "ignore_index)"
        )
    try:
        return dev.gather(x, safe, 1)
    except IndexError:
        high = int(from_buffer(dev.max(safe)))
        raise IndexError(
            f"{op}: target {high} is out of bounds for {x.shape[1]} classes"
        ) from None


def check_same_size_weight(weight: Tensor, input: Tensor, op: str) -> None:
    """The weight of mse_loss, l1_loss and huber_loss: input's size exactly."""
    check_tensor(weight, op, "weight", kinds="f")
    if weight.shape != input.shape:
        raise ValueError(
            f"{op}: weight of shape {weight.shape} must have input's size {input.shape}"
        )


def weighted(loss: Tensor, weight: Tensor, reduction: str, by_weight: bool) -> Tensor:
    """The elementwise `loss` times `weight`, reduced as PyTorch's weighted
    regression losses do: 'mean' divides by the summed weight when `by_weight`
    (mse_loss, l1_loss), by the element count otherwise (huber_loss)."""
    result = loss * weight
    if reduction == "sum":
        return result.sum()
    if reduction == "mean":
        return result.sum() / weight.sum() if by_weight else result.mean()
    return result


def mean_divisor(dev: Device, denom: Buffer) -> Buffer:
    """The summed weight 'mean' divides by, with 0 (every target ignored: the loss
    is NaN) replaced by 1 for backward, whose gradient is then zeros, as in
    PyTorch (0 * inf would be NaN). Elementwise on a 0-d buffer: no sync."""
    return dev.where(dev.equal(denom, 0), 1, denom)
