"""`default_collate` and `default_convert`: PyTorch's rules, giving actnet Tensors.

default_collate(samples) stacks the samples along a new first dimension:
- actnet Tensors and NDArrays: stacked (dtype kept);
- NumPy arrays and NumPy scalars: converted with their dtype, then stacked;
- Python floats: a float64 tensor; ints: int64; bools: bool;
- str and bytes: the list, unchanged;
- mappings, namedtuples and sequences: collated field by field, recursively (a
  tuple sample gives a list of batches, as in PyTorch).

>>> default_collate([(np.zeros(2), 0), (np.ones(2), 1)])
[tensor([[0., 0.],
         [1., 1.]], dtype=float64), tensor([0, 1])]
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any

import numpy as np

import actnet.tensor as at
from actnet.device import Device
from actnet.ndarray import NDArray

__all__ = ["default_collate", "default_convert"]

_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)


def _is_text(dtype: np.dtype[Any]) -> bool:
    """Strings and objects, which have no tensor form (PyTorch's rule too)."""
    return dtype.kind in "OSUV"


def _rebuild(template: Any, items: list[Any]) -> Any:
    """A sequence of `template`'s type holding `items` (a list where that fails)."""
    try:
        if isinstance(template, MutableSequence):
            clone = copy.copy(template)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(template)(items)
    except TypeError:
        return items


def _rebuild_mapping(template: Mapping[Any, Any], items: dict[Any, Any]) -> Any:
    try:
        if isinstance(template, MutableMapping):
            clone = copy.copy(template)
            clone.update(items)
            return clone
        make: Any = type(template)  # a Mapping class built from a dict
        return make(items)
    except TypeError:
        return items


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch (see the module docstring)."""
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, at.Tensor):
        return at.stack(list(batch), 0)
    if isinstance(elem, NDArray):
        return at.stack([at.as_tensor(b) for b in batch], 0)
    if isinstance(elem, np.ndarray):
        if _is_text(elem.dtype):
            raise TypeError(_ERROR.format(elem.dtype))
        return at.tensor(np.stack(batch))
    if isinstance(elem, np.bool_ | np.number):
        return at.tensor(np.asarray(batch))
    if isinstance(elem, float):
        return at.tensor(list(batch), dtype=at.float64)
    if isinstance(elem, int):  # bools too: a bool tensor
        return at.tensor(list(batch))
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _rebuild_mapping(elem, fields)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(s) for s in zip(*batch, strict=True)]
        if isinstance(elem, tuple):
            return columns  # a list, as PyTorch gives
        return _rebuild(elem, columns)
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Convert NumPy arrays and scalars (at any depth of mappings and sequences)
    to actnet Tensors, without adding a batch dimension: the collate function of
    a DataLoader with ``batch_size=None``, and of batches a dataset gathers
    itself (``get_batch``)."""
    if isinstance(data, at.Tensor):
        return data
    if isinstance(data, NDArray):
        return at.as_tensor(data)
    if isinstance(data, np.ndarray):
        return data if _is_text(data.dtype) else at.tensor(data)
    if isinstance(data, np.bool_ | np.number):
        return at.tensor(data)
    if isinstance(data, Mapping):
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # a list, as PyTorch gives
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        return _rebuild(data, [default_convert(d) for d in data])
    return data


def to_device(data: Any, device: Device) -> Any:
    """`data` with every Tensor moved to `device` (containers rebuilt)."""
    if isinstance(data, at.Tensor):
        return data if data.device is device else data.to(device)
    if isinstance(data, Mapping):
        return _rebuild_mapping(
            data, {k: to_device(v, device) for k, v in data.items()}
        )
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(to_device(d, device) for d in data))
    if isinstance(data, tuple):
        return tuple(to_device(d, device) for d in data)
    if isinstance(data, list):
        return [to_device(d, device) for d in data]
    return data
