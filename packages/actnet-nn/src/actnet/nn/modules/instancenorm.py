"""InstanceNorm1d, 2d and 3d (torch.nn's, with its defaults, affine=False and
track_running_stats=False, its buffers and key names)."""

from __future__ import annotations

import warnings
from typing import Any

import actnet.neuron as F
from actnet.nn.modules.batchnorm import _NormBase
from actnet.tensor import Tensor


class _InstanceNorm(_NormBase):
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
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device,
            dtype, bias,
        )  # fmt: skip

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
