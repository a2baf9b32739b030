"""torch's functions and Tensor methods that are neuron's operations: registered
with actnet.tensor (`register_function`) when actnet.neuron is imported, so that
PyTorch code ported by its imports finds `torch.softmax(x, 1)`,
`x.log_softmax(-1)` and `x.relu()` (the operations live here, above
actnet.tensor, which cannot import them).

    import actnet.tensor as torch
    import actnet.nn                      # imports actnet.neuron
    torch.zeros(2, 3).softmax(dim=-1)
"""

from __future__ import annotations

from typing import Any

from actnet.neuron.activation.log_softmax import log_softmax
from actnet.neuron.activation.relu import relu, relu_
from actnet.neuron.activation.softmax import softmax
from actnet.tensor import Tensor, register_function


def _softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """torch.softmax(input, dim, dtype=None): dim is required, as in PyTorch."""
    return softmax(input, dim, dtype=dtype)


def _log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """torch.log_softmax(input, dim, dtype=None)."""
    return log_softmax(input, dim, dtype=dtype)


def _softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Tensor.softmax(dim, dtype=None)."""
    return softmax(self, dim, dtype=dtype)


def _log_softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Tensor.log_softmax(dim, dtype=None)."""
    return log_softmax(self, dim, dtype=dtype)


def _relu(input: Tensor) -> Tensor:
    """torch.relu(input) and Tensor.relu()."""
    return relu(input)


def _relu_(input: Tensor) -> Tensor:
    """torch.relu_(input) and Tensor.relu_(): in place."""
    return relu_(input)


def register() -> None:
    """Register the functions and methods with actnet.tensor."""
    register_function("softmax", _softmax, _softmax_method)
    register_function("log_softmax", _log_softmax, _log_softmax_method)
    register_function("relu", _relu, _relu)
    register_function("relu_", _relu_, _relu_)
