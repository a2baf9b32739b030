"""Loss layers (torch.nn.modules.loss): each keeps its constructor arguments and
calls its actnet.neuron function. Class weights (weight, pos_weight) are buffers,
as in PyTorch, so they move with the module and appear in its state dict."""

from __future__ import annotations

import actnet.neuron as F
from actnet.neuron import legacy_reduction
from actnet.nn._module import Module
from actnet.nn.modules._utils import check_bool, check_int, check_number
from actnet.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(
    size_average: bool | None,
    reduce: bool | None,
    reduction: str,
    layer: str,
    allowed: tuple[str, ...],
    stacklevel: int,
) -> str:
    """reduction, checked; the deprecated size_average and reduce win when given
    (with PyTorch's warning, `stacklevel` frames up from the caller)."""
    reduction = legacy_reduction(
        layer, reduction, size_average, reduce, stacklevel=stacklevel + 1
    )
    if reduction not in allowed:
        raise ValueError(
            f"{layer}: reduction must be one of {', '.join(map(repr, allowed))}, "
            f"got {reduction!r}"
        )
    return reduction


def _optional_tensor(value: Tensor | None, layer: str, name: str) -> Tensor | None:
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{layer}: {name} must be a Tensor or None, got {value!r}")
    return value


class _Loss(Module):
    """A loss with PyTorch's reduction arguments."""

    _reductions: tuple[str, ...] = _REDUCTIONS
    reduction: str

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        # The warning points at the code that built the layer: above every
        # __init__ of the class chain down to this one.
        chain = [c for c in type(self).__mro__ if issubclass(c, _Loss)]
        inits = sum("__init__" in vars(c) for c in chain)
        self.reduction = _legacy_reduction(
            size_average,
            reduce,
            reduction,
            type(self).__name__,
            self._reductions,
            stacklevel=inits + 1,
        )


class _WeightedLoss(_Loss):
    """A loss with a per-class `weight` buffer (None when not given)."""

    weight: Tensor | None

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer(
            "weight", _optional_tensor(weight, type(self).__name__, "weight")
        )


class L1Loss(_Loss):
    """|input - target|, reduced.

    >>> L1Loss()(at.tensor([1.0, 2.0]), at.tensor([0.0, 0.0]))
    tensor(1.5000)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """(input - target)^2, reduced.

    >>> MSELoss()(at.tensor([1.0, 2.0]), at.tensor([0.0, 0.0]))
    tensor(2.5000)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target).

    >>> SmoothL1Loss()(at.tensor([0.5, 3.0]), at.tensor([0.0, 0.0]))
    tensor(1.3125)
    """

    beta: float

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = check_number(beta, type(self).__name__, "beta")
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta}")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta).

    >>> HuberLoss()(at.tensor([0.5, 3.0]), at.tensor([0.0, 0.0]))
    tensor(1.3125)
    """

    delta: float

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = check_number(delta, type(self).__name__, "delta")
        if delta <= 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """-(t log p + (1 - t) log(1 - p)) for probabilities p, optionally weighted.

    >>> BCELoss()(at.tensor([0.5]), at.tensor([1.0]))
    tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(
            input, target, weight=self.weight, reduction=self.reduction
        )


class BCEWithLogitsLoss(_Loss):
    """BCELoss on sigmoid(input), computed stably; pos_weight weighs the positive
    term per class. weight and pos_weight are buffers.

    >>> BCEWithLogitsLoss()(at.tensor([0.0]), at.tensor([1.0]))
    tensor(0.6931)
    """

    weight: Tensor | None
    pos_weight: Tensor | None

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        name = type(self).__name__
        self.register_buffer("weight", _optional_tensor(weight, name, "weight"))
        self.register_buffer(
            "pos_weight", _optional_tensor(pos_weight, name, "pos_weight")
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input,
            target,
            self.weight,
            pos_weight=self.pos_weight,
            reduction=self.reduction,
        )


class NLLLoss(_WeightedLoss):
    """-input[n, target[n]] for log-probabilities input (N, C, ...) and class
    indices target (N, ...), optionally weighted by class; targets equal to
    ignore_index do not count.

    >>> NLLLoss()(at.tensor([[-1.0, -2.0]]), at.tensor([1]))
    tensor(2.)
    """

    ignore_index: int

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = check_int(
            ignore_index, type(self).__name__, "ignore_index", minimum=None
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class CrossEntropyLoss(_WeightedLoss):
    """log_softmax then NLLLoss, for logits (N, C, ...) or (C,) and class indices
    or class probabilities as target; label_smoothing mixes the target with the
    uniform distribution.

    >>> CrossEntropyLoss()(at.zeros(1, 2), at.tensor([1]))
    tensor(0.6931)
    """

    ignore_index: int
    label_smoothing: float

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        name = type(self).__name__
        self.ignore_index = check_int(ignore_index, name, "ignore_index", None)
        self.label_smoothing = check_number(label_smoothing, name, "label_smoothing")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"{name}: label_smoothing must be between 0.0 and 1.0, got "
                f"{label_smoothing}"
            )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class KLDivLoss(_Loss):
    """target * (log target - input) for log-probabilities input; with
    log_target the target is given as log-probabilities too. Use
    reduction='batchmean' for the mathematical KL divergence.

    >>> KLDivLoss(reduction="batchmean")(at.log(at.tensor([[0.5, 0.5]])),
    ...                                  at.tensor([[0.5, 0.5]]))
    tensor(0.)
    """

    _reductions = (*_REDUCTIONS, "batchmean")
    log_target: bool

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = check_bool(log_target, type(self).__name__, "log_target")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(
            input, target, reduction=self.reduction, log_target=self.log_target
        )
