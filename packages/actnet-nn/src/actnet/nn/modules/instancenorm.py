"""InstanceNorm1d, 2d and 3d (torch.nn's, with its defaults, affine=False and
track_running_stats=False, its buffers and key names)."""

from __future__ import annotations

import warnings
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


class _InstanceNorm(Module):
    """Normalize each (sample, channel) of (N, C, *) or (C, *) over its spatial
    dims (biased variance), then * weight + bias per channel (with affine; ones
    and zeros at first).

    With track_running_stats, the buffers running_mean and running_var follow
    the mean over the batch of the instances' statistics in training (running =
    (1 - momentum) * running + momentum * batch; momentum=None leaves them as
    they are), and normalize in eval mode. num_batches_tracked is kept for the
    state dict's keys but, as in PyTorch, never counts.
    """

    _spatial_dims = 1  # the dims after (N, C)
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
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
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

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {input!r}")
        unbatched = self._spatial_dims + 1
        if input.ndim not in (unbatched, unbatched + 1):
            raise ValueError(
                f"expected {unbatched}D or {unbatched + 1}D input (got {input.ndim}D "
                "input)"
            )
        feature_dim = input.ndim - unbatched
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match "
                    f"num_features ({self.num_features}), but got: "
                    f"{input.shape[feature_dim]}."
                )
            # PyTorch's words: without affine, num_features only sizes the buffers
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. "
                "You can silence this warning by not passing in num_features, "
                "which is not used because affine=False",
                UserWarning,
                stacklevel=2,
            )
        if input.ndim == unbatched:
            return self._instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._instance_norm(input)

    def _instance_norm(self, input: Tensor) -> Tensor:
        return F.instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L) inputs.

    >>> InstanceNorm1d(3)(at.randn(2, 3, 10)).shape
    (2, 3, 10)
    """

    _spatial_dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) inputs.

    >>> InstanceNorm2d(3, affine=True)(at.randn(2, 3, 8, 8)).shape
    (2, 3, 8, 8)
    """

    _spatial_dims = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W) inputs.

    >>> InstanceNorm3d(3, track_running_stats=True)(at.randn(2, 3, 4, 4, 4)).shape
    (2, 3, 4, 4, 4)
    """

    _spatial_dims = 3
