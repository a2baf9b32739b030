"""Parameter: the Tensor that a Module registers as a parameter."""

from __future__ import annotations

from typing import Any, Self

import numpy as np

import actnet.tensor as at
from actnet.ndarray import NDArray
from actnet.nn._labels import label
from actnet.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned to an attribute.

    >>> w = Parameter(at.randn(3, 4))      # requires_grad=True
    """

    __slots__ = ()

    def __new__(
        cls, data: Tensor | NDArray | None = None, requires_grad: bool = True
    ) -> Self:
        if data is None:
            values = at.empty(0).array
        elif isinstance(data, Tensor):
            values = data.array
        elif isinstance(data, NDArray):
            values = data
        else:
            raise TypeError(
                f"Parameter expects a Tensor or an NDArray, got {type(data).__name__}"
            )
        p = at.as_tensor(values).as_subclass(cls)
        label(values, ("parameter", "Parameter"))
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self) -> tuple[Any, ...]:
        host = np.asarray(self.detach())
        return (_restore_parameter, (host, self.device.name, self.requires_grad))


def _restore_parameter(
    host: np.ndarray[Any, Any], device: str, requires_grad: bool
) -> Parameter:
    return Parameter(at.tensor(host, device=device), requires_grad)
