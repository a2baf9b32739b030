"""Weights in the safetensors format (no pickle): a JSON header, then raw bytes.

Files written here load with `safetensors.torch.load_file` and files written by
PyTorch load here, so weights move between the two frameworks. A file that
`torch.save` wrote (pickles, in a zip archive or alone) is refused with a message
that says so and how to convert it.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Final, cast

import numpy as np
import safetensors
import safetensors.numpy

import actnet.tensor as at
from actnet.device import Device, is_bfloat16
from actnet.ndarray import NDArray
from actnet.nn._module import Module
from actnet.nn.utils import write_atomic
from actnet.tensor import Tensor


class _Codes(Mapping[str, np.dtype[Any]]):
    """Safetensors dtype codes and the NumPy dtype of each, read-only. BF16's,
    bfloat16, is loaded (ml_dtypes: 0.6 s, see actnet.device) when first read."""

    def __init__(self, dtypes: Mapping[str, np.dtype[Any] | None]) -> None:
        self._dtypes = dict(dtypes)  # None: bfloat16

    def __getitem__(self, code: str) -> np.dtype[Any]:
        dtype = self._dtypes[code]
        return at.bfloat16 if dtype is None else dtype

    def __iter__(self) -> Iterator[str]:
        return iter(self._dtypes)

    def __len__(self) -> int:
        return len(self._dtypes)


_CODES: Final[dict[str, np.dtype[Any] | None]] = {
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
    "BF16": None,  # bfloat16, loaded on first use
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
    "C64": np.dtype(np.complex64),
}
# The safetensors dtype codes actnet knows, and the NumPy dtype of each (one table
# for every reader and writer of safetensors in actnet, actnet-util's checkpoints
# included). Files from other frameworks may hold more (F8_*, ...): those are
# refused by name.
SAFETENSORS_DTYPES: Final[Mapping[str, np.dtype[Any]]] = _Codes(_CODES)
# save_safetensors and load_safetensors keep to the real dtypes: only recent
# safetensors releases (and so PyTorch's loader, through them) know C64, and the
# weights files written here must load wherever PyTorch's do.
_DTYPES: Final = _Codes({code: d for code, d in _CODES.items() if code != "C64"})
_WRITABLE: Final = frozenset(  # and bfloat16 (is_bfloat16: not loaded here)
    d for code, d in _CODES.items() if d is not None and code != "C64"
)

# The binding's parser (untyped): file bytes -> [(name, {dtype, shape, data})].
# It checks the header length, the JSON, the dtype names and that the offsets
# cover the data exactly; the same call exists from safetensors 0.4 on.
_deserialize = cast(
    Callable[[bytes], list[tuple[str, dict[str, Any]]]], safetensors.deserialize
)


# What torch.save writes: a zip archive holding data.pkl (PyTorch 1.6 on), or a
# pickle whose first object is PyTorch's magic number 0x1950A86A20F9469CFC6C (the
# legacy format): pickle's LONG1 opcode, 10 bytes, little-endian.
_ZIP: Final = b"PK\x03\x04"
_TORCH_LEGACY_MAGIC: Final = bytes.fromhex("8a0a 6cfc9c46f9206aa85019")


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
        # The parser reads a pickle's first bytes as a huge header length and says
        # "header too large": name what the file is instead.
        torch_file = _torch_file_message(io.BytesIO(raw), name)
        raise SafetensorsError(
            torch_file or f"{name!r} is not a valid safetensors file: {exc}"
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


def torch_file_message(path: str | os.PathLike[str]) -> str | None:
    """If `torch.save` wrote the file at `path`, a message that says so and how to
    convert it to safetensors; None for any other file. Reads the file's first
    bytes (and a zip archive's directory) only.

    >>> torch_file_message("model.pt")
    "'model.pt' is a PyTorch checkpoint written by torch.save (a zip archive ..."
    """
    with open(path, "rb") as f:
        return _torch_file_message(f, os.fspath(path))


def _torch_file_message(f: BinaryIO, name: str) -> str | None:
    head = f.read(32)
    size = f.seek(0, os.SEEK_END)
    # A safetensors file starts with its header's length: a pickle's first bytes
    # read as one are more than the file holds (b"\x80\x02..." is 0x...0280).
    too_long = len(head) >= 8 and int.from_bytes(head[:8], "little") > size - 8
    if head.startswith(_ZIP):
        try:
            with zipfile.ZipFile(f) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return None  # another zip archive (NumPy's .npz, ...)
        what = "a PyTorch checkpoint written by torch.save (a zip archive of pickles)"
    elif too_long and head[0] == 0x80 and 2 <= head[1] <= 5:  # PROTO 2-5
        if _TORCH_LEGACY_MAGIC in head:
            what = "a PyTorch checkpoint written by torch.save (its legacy pickle)"
        else:
            what = "a Python pickle (as torch.save's legacy format writes)"
    else:
        return None
    target = Path(name).with_suffix(".safetensors")
    if target == Path(name):  # a pickle named .safetensors: not converted in place
        target = target.with_name(f"{target.stem}-converted.safetensors")
    out = os.fspath(target)
    return (
        f"{name!r} is {what}, not a safetensors file, and actnet never unpickles; "
        "convert it once where PyTorch is installed: "
        f"`safetensors.torch.save_file(torch.load({name!r}), {out!r})` (if it "
        "holds a whole model rather than a state dict, save its `state_dict()`), "
        f"then `load_safetensors({out!r})`"
    )


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
    native = host.dtype.newbyteorder("=")
    if native not in _WRITABLE and not is_bfloat16(native):
        raise TypeError(
            f"state_dict[{key!r}] has dtype {host.dtype}, which safetensors cannot "
            "hold for actnet (bool, (u)int8-64, float16, bfloat16, float32, float64)"
        )
    # (np.ascontiguousarray would make a 0-d array 1-d.)
    return np.asarray(host, dtype=host.dtype.newbyteorder("<"), order="C")
