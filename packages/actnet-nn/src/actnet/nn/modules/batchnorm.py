"""BatchNorm1d and BatchNorm2d (torch.nn's, with its buffers and key names)."""

from __future__ import annotations

from typing import Any

import actnet.neuron as F
from actnet.nn._module import Module
from actnet.nn._parameter import Parameter
from actnet.nn.modules._utils import (
    affine_parameters,
    check_bool,
    check_int,
    check_number,
    reset_affine,
)
from actnet.tensor import Tensor, int64, no_grad, ones, tensor, zeros


class _NormBase(Module):
    """What batch and instance normalization share (PyTorch's `_NormBase`): the
    checked options, the affine parameters (ones and zeros at first) and the
    buffers running_mean, running_var and num_batches_tracked when
    track_running_stats (else None, for the state dict's keys), their resets,
    and the repr."""

    num_features: int
    eps: float
    momentum: float | None
    affine: bool
    track_running_stats: bool
    weight: Parameter | None
    bias: Parameter | None
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(
        self,
        num_features: int,
        eps: float,
        momentum: float | None,
        affine: bool,
        track_running_stats: bool,
        device: Any,
        dtype: Any,
        bias: bool,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = check_int(num_features, name, "num_features")
        self.eps = check_number(eps, name, "eps")
        if momentum is not None:
            check_number(momentum, name, "momentum")
        self.momentum = momentum
        self.affine = check_bool(affine, name, "affine")
        self.track_running_stats = check_bool(
            track_running_stats, name, "track_running_stats"
        )
        check_bool(bias, name, "bias")
        affine_parameters(self, (num_features,), affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer(
                "running_mean", zeros(num_features, dtype=dtype, device=device)
            )
            self.register_buffer(
                "running_var", ones(num_features, dtype=dtype, device=device)
            )
            self.register_buffer(
                "num_batches_tracked", tensor(0, dtype=int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.running_mean is not None:
            with no_grad():
                self.running_mean.zero_()
        if self.running_var is not None:
            with no_grad():
                self.running_var.fill_(1.0)
        if self.num_batches_tracked is not None:
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine(self)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Normalize each channel of (N, C, *) over the batch (and length or
    spatial dims), then * weight + bias (ones and zeros at first).

    In training the batch's statistics normalize (biased variance), and with
    track_running_stats the buffers running_mean, running_var (unbiased
    variance) and num_batches_tracked follow them: running = (1 - momentum) *
    running + momentum * batch, or, with momentum=None, the cumulative average
    (momentum 1 / num_batches_tracked). In eval mode the running statistics
    normalize; without them (track_running_stats=False) the batch's do.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device,
            dtype, bias,
        )  # fmt: skip

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        tracked = self.num_batches_tracked
        if self.training and self.track_running_stats and tracked is not None:
            with no_grad():
                tracked.add_(1)
            if self.momentum is None:  # the cumulative moving average
                factor = 1.0 / int(tracked.item().real)
        # Batch statistics in training, and in eval mode without running ones.
        use_batch = self.training or (
            self.running_mean is None and self.running_var is None
        )
        # The buffers go in when they are updated or are what normalizes.
        keep = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs.

    >>> BatchNorm1d(100)(at.randn(20, 100)).shape
    (20, 100)
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(f"BatchNorm1d: input must be a Tensor, got {input!r}")
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs.

    >>> BatchNorm2d(100, affine=False)(at.randn(20, 100, 35, 45)).shape
    (20, 100, 35, 45)
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(f"BatchNorm2d: input must be a Tensor, got {input!r}")
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")
