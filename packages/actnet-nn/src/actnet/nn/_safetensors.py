"""Weights in the safetensors format (no pickle): a JSON header, then raw bytes.

Files written here load with `safetensors.torch.load_file` and files written by
PyTorch load here, so weights move between the two frameworks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, cast

import numpy as np
import safetensors
import safetensors.numpy

import actnet.tensor as at
from actnet.device import Device
from actnet.ndarray import NDArray
from actnet.nn._module import Module
from actnet.nn.utils import write_atomic
from actnet.tensor import Tensor

# The safetensors dtype codes actnet knows, and the NumPy dtype of each (one table
# for every reader and writer of safetensors in actnet, actnet-util's checkpoints
# included). Files from other frameworks may hold more (F8_*, ...): those are
# refused by name.
SAFETENSORS_DTYPES: Final[Mapping[str, np.dtype[Any]]] = MappingProxyType(
    {
        "BOOL": np.dtype(np.bool_),
        "U8": np.dtype(np.uint8),
        "I8": np.dtype(np.int8),
        "U16": np.dtype(np.uint16),
        "I16": np.dtype(np.int16),
        "U32": np.dtype(np.uint32),
        "I32": np.dtype(np.int32),
        "U64": np.dtype(np.uint64),
        "I64": np.dtype(np.int64),
        "F16": np.dtype(np.float16),
        "BF16": np.dtype(at.bfloat16),
        "F32": np.dtype(np.float32),
        "F64": np.dtype(np.float64),
        "C64": np.dtype(np.complex64),
    }
)
# save_safetensors and load_safetensors keep to the real dtypes: only recent
# safetensors releases (and so PyTorch's loader, through them) know C64, and the
# weights files written here must load wherever PyTorch's do.
_DTYPES: Final = {
    code: dtype for code, dtype in SAFETENSORS_DTYPES.items() if dtype.kind != "c"
}
_WRITABLE: Final = frozenset(_DTYPES.values())

# The binding's parser (untyped): file bytes -> [(name, {dtype, shape, data})].
# It checks the header length, the JSON, the dtype names and that the offsets
# cover the data exactly; the same call exists from safetensors 0.4 on.
_deserialize = cast(
    Callable[[bytes], list[tuple[str, dict[str, Any]]]], safetensors.deserialize
)


class SafetensorsError(ValueError):
    """A safetensors file that cannot be read (truncated, malformed header, bad
    offsets, a dtype actnet lacks), or values that cannot be written."""


def save_safetensors(
    module_or_state_dict: Module
    | Mapping[str, Tensor | NDArray | np.ndarray[Any, Any]],
    path: str | os.PathLike[str],
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a module's `state_dict()` (or a name -> tensor mapping) to `path`.

    The file is replaced atomically (`actnet.nn.utils.write_atomic`): the bytes go
    to a temporary file in the same folder, are flushed to disk, then renamed over
    `path`, so a failure leaves any previous file as it was and no partial file
    behind. Tensors that share memory
    (tied weights) are each written in full, as independent entries; loading gives
    independent tensors. `metadata` is text only (str -> str), stored in the header.

    >>> save_safetensors(model, "model.safetensors", metadata={"epoch": "3"})
    """
    if isinstance(module_or_state_dict, Module):
        state: Mapping[str, Any] = module_or_state_dict.state_dict()
    elif isinstance(module_or_state_dict, Mapping):
        state = module_or_state_dict
    else:
        raise TypeError(
            "save_safetensors expects a Module or a mapping of names to tensors, "
            f"got {type(module_or_state_dict).__name__}"
        )
    header = _check_metadata(metadata)
    arrays = {_check_key(key): _host(key, value) for key, value in state.items()}
    try:
        data = safetensors.numpy.save(arrays, metadata=header)
    except Exception as exc:  # the binding's errors: SafetensorError, ValueError
        raise SafetensorsError(f"cannot write {os.fspath(path)!r}: {exc}") from exc
    write_atomic(path, data)


def load_safetensors(
    path: str | os.PathLike[str], device: Device | str | None = None
) -> dict[str, Tensor]:
    """The tensors of a safetensors file by name, on `device` (default cpu), ready
    for `Module.load_state_dict`. A malformed file raises SafetensorsError; a
    missing one FileNotFoundError.

    >>> model.load_state_dict(load_safetensors("model.safetensors"))
    """
    raw = Path(path).read_bytes()
    name = os.fspath(path)
    try:
        entries = _deserialize(raw)
    except Exception as exc:  # safetensors.SafetensorError, and panics of the parser
        raise SafetensorsError(
            f"{name!r} is not a valid safetensors file: {exc}"
        ) from exc
    out: dict[str, Tensor] = {}
    for key, entry in sorted(entries, key=lambda item: str(item[0])):
        code = entry["dtype"]
        dtype = _DTYPES.get(code)
        if dtype is None:
            raise SafetensorsError(
                f"{name!r}: tensor {key!r} has dtype {code}, which actnet does not "
                f"support (supported: {', '.join(_DTYPES)})"
            )
        shape = tuple(entry["shape"])
        host = np.frombuffer(entry["data"], dtype=dtype.newbyteorder("<"))
        if host.size != int(np.prod(shape)):
            raise SafetensorsError(
                f"{name!r}: tensor {key!r} holds {host.size} values for shape {shape}"
            )
        out[key] = at.tensor(host.astype(dtype).reshape(shape), device=device)
    return out


def _check_key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"tensor names must be str, got {type(key).__name__}")
    if key == "__metadata__":
        raise ValueError("'__metadata__' is reserved for the header's metadata")
    return key


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise TypeError(
            f"metadata must be a mapping of str to str, got {type(metadata).__name__}"
        )
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"metadata must map str to str, got {key!r}: {type(value).__name__}"
            )
    return dict(metadata)


def _host(key: str, value: object) -> np.ndarray[Any, Any]:
    """A contiguous little-endian host copy of one tensor's values."""
    if isinstance(value, Tensor):
        host = np.asarray(value.detach())
    elif isinstance(value, NDArray):
        host = np.asarray(at.as_tensor(value))
    elif isinstance(value, np.ndarray):
        host = value
    else:
        raise TypeError(
            f"state_dict[{key!r}] is a {type(value).__name__}, not a Tensor"
        )
    if host.dtype.newbyteorder("=") not in _WRITABLE:
        raise TypeError(
            f"state_dict[{key!r}] has dtype {host.dtype}, which safetensors cannot "
            "hold for actnet (bool, (u)int8-64, float16, bfloat16, float32, float64)"
        )
    # (np.ascontiguousarray would make a 0-d array 1-d.)
    return np.asarray(host, dtype=host.dtype.newbyteorder("<"), order="C")
