"""`parameters_to_vector` and `vector_to_parameters` (PyTorch's
`torch.nn.utils.convert_parameters`): the parameters as one flat vector, and back.

    vec = parameters_to_vector(model.parameters())   # (n,), in the graph
    vector_to_parameters(vec * 0.5, model.parameters())
"""

from __future__ import annotations

from collections.abc import Iterable

import actnet.tensor as at
from actnet.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters: Iterable[Tensor], name: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}[{i}] must be a Tensor, got {type(p).__name__}")
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise ValueError(
            f"{name}: the parameters are on several devices "
            f"({sorted(d.name for d in devices)}); they must be on one"
        )
    return params


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened (C order) and concatenated, one 1-D tensor that
    gradients flow through."""
    params = _tensors(parameters, "parameters")
    if not params:
        raise ValueError("parameters_to_vector: no parameters")
    return at.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Set each parameter's values from consecutive slices of the 1-D `vec` (as
    `param.data = ...`: no graph); `vec` must have exactly their total size."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = _tensors(parameters, "parameters")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vec must be 1-D with the parameters' {total} elements, got shape "
            f"{tuple(vec.shape)}"
        )
    offset = 0
    for p in params:
        n = p.numel()
        p.data = vec.detach()[offset : offset + n].reshape(p.shape).to(dtype=p.dtype)
        offset += n
