"""Sample transforms in torchvision's style: `Compose`, `Lambda`, `Normalize`,
and `AsTensor`.

Each is a callable object: ``transform(sample) -> sample``. They take actnet
Tensors and NumPy arrays, and give back the kind they were given (`AsTensor`
makes Tensors).

>>> t = Compose([AsTensor(dtype="float32"), Normalize(mean=0.5, std=0.25)])
>>> t(np.array([0.0, 0.5, 1.0]))
tensor([-2.,  0.,  2.])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import actnet.tensor as at
from actnet.device import Device, get_device

__all__ = ["AsTensor", "Compose", "Lambda", "Normalize"]

Array = np.ndarray[Any, Any]


class Compose:
    """Apply `transforms` one after the other.

    >>> Compose([Lambda(lambda x: x + 1), Lambda(lambda x: 2 * x)])(3)
    8
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        transforms = list(transforms)
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(
                    f"Compose: transform {i} must be callable, got {type(t).__name__}"
                )
        self.transforms = transforms

    def __call__(self, sample: Any) -> Any:
        for t in self.transforms:
            sample = t(sample)
        return sample

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(
                f"Argument lambd should be callable, got {type(lambd).__name__!r}"
            )
        self.lambd = lambd

    def __call__(self, sample: Any) -> Any:
        return self.lambd(sample)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _as_floats(value: float | Sequence[float], name: str) -> list[float]:
    values = [value] if isinstance(value, int | float) else list(value)
    if not values:
        raise ValueError(f"Normalize: {name} must not be empty")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float | np.number):
            raise TypeError(f"Normalize: {name} must hold numbers, got {value!r}")
        if not math.isfinite(float(v)):
            raise ValueError(f"Normalize: {name} must be finite, got {value!r}")
    return [float(v) for v in values]


class Normalize:
    """(x - mean) / std, computed in x's float dtype.

    `mean` and `std` are numbers, or one value per channel along `dim`: -3 by
    default, the channel dimension of torchvision's (..., C, H, W) images; pass
    ``dim=-1`` for per-feature statistics of (..., F) data. With `inplace` a
    Tensor or NumPy array is overwritten (torchvision's ``inplace``).

    >>> Normalize([0.0, 10.0], [1.0, 2.0], dim=-1)(np.array([1.0, 14.0]))
    array([1., 2.])
    """

    def __init__(
        self,
        mean: float | Sequence[float],
        std: float | Sequence[float],
        inplace: bool = False,
        *,
        dim: int = -3,
    ) -> None:
        self.mean = _as_floats(mean, "mean")
        self.std = _as_floats(std, "std")
        if len(self.mean) != len(self.std) and 1 not in (
            len(self.mean),
            len(self.std),
        ):
            raise ValueError(
                f"Normalize: mean has {len(self.mean)} values and std "
                f"{len(self.std)}; expected the same number, or one of them 1"
            )
        if not isinstance(inplace, bool):
            raise TypeError(f"Normalize: inplace must be a bool, got {inplace!r}")
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Normalize: dim must be an int, got {dim!r}")
        self.inplace = inplace
        self.dim = dim

    def _shaped(self, values: list[float], x: Any, name: str) -> Array:
        """`values` in x's dtype, shaped to broadcast along `dim`."""
        arr = np.asarray(values, dtype=x.dtype)
        if len(values) == 1:
            return arr.reshape(())
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(
                f"Normalize: dim {self.dim} is out of range for a sample of shape "
                f"{tuple(x.shape)}; for (..., features) data pass dim=-1"
            )
        axis = self.dim % x.ndim
        if x.shape[axis] != len(values):
            raise ValueError(
                f"Normalize: {name} has {len(values)} values but dimension "
                f"{self.dim} of the sample has size {x.shape[axis]}"
            )
        return arr.reshape((len(values),) + (1,) * (x.ndim - axis - 1))

    def __call__(self, x: Any) -> Any:
        if not isinstance(x, at.Tensor | np.ndarray):
            raise TypeError(
                f"Normalize expects a Tensor or NumPy array, got {type(x).__name__}"
            )
        if x.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {x.dtype}.")
        mean = self._shaped(self.mean, x, "mean")
        std = self._shaped(self.std, x, "std")
        if (std == 0).any():
            raise ValueError(
                f"std evaluated to zero after conversion to {x.dtype}, leading to "
                "division by zero."
            )
        if isinstance(x, np.ndarray):
            if self.inplace:
                x -= mean
                x /= std
                return x
            out: Array = (x - mean) / std
            return out
        mean_t = at.tensor(mean, device=x.device)
        std_t = at.tensor(std, device=x.device)
        if self.inplace:
            return x.sub_(mean_t).div_(std_t)
        return (x - mean_t) / std_t

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class AsTensor:
    """Convert a sample (NumPy array, number, nested list, Tensor) to an actnet
    Tensor, optionally of `dtype` and on `device` (as ``torch.as_tensor``: a
    Tensor that already matches is returned as it is).

    >>> AsTensor(dtype="float32")(np.arange(3))
    tensor([0., 1., 2.])
    """

    def __init__(self, dtype: Any = None, device: Device | str | None = None) -> None:
        self.dtype = dtype
        self.device = None if device is None else get_device(device)

    def __call__(self, sample: Any) -> at.Tensor:
        if isinstance(sample, at.Tensor):
            # `to` keeps the autograd history, and is the tensor itself when it
            # already matches (torch.as_tensor's rule).
            tensor: at.Tensor = sample
            if self.device is not None and tensor.device is not self.device:
                tensor = tensor.to(self.device)
            if self.dtype is not None:
                tensor = tensor.to(self.dtype)
            return tensor
        return at.as_tensor(sample, dtype=self.dtype, device=self.device)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dtype={self.dtype!r}, device={self.device!r})"
