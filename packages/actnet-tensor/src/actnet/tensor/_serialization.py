"""`save` and `load`: torch.save / torch.load for actnet, in actnet's own format.

Not torch's zip archive: torch.load cannot read these files, and `load` refuses
a file torch.save wrote, saying how to convert it. A file (format 1) is

    header    b"\\x89ACTNET-SAVE\\r\\n\\x1a\\n", the format version (u32)
    records   the values of each tensor and NumPy array, C order, little-endian,
              each starting at a multiple of 64 bytes
    pickle    the object, in which tensors, arrays, dtypes and devices are
              persistent ids: ("tensor", key, offset, dtype, shape, location,
              requires_grad) (key: one per tensor object, which loads as one
              object), ("ndarray", offset, dtype, shape), ("dtype", name),
              ("device", name)
    trailer   the pickle's offset and length (u64 each), b"\\x89ACTEND\\n"

(integers little-endian, offsets from the header's first byte). The records come
first so that both ways stream: `save` copies each tensor to the host and writes
it as the pickler meets it, `load` reads each when the unpickler asks for it, so
neither holds more than one tensor's values on the host.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import struct
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Final, TypeAlias

import numpy as np

from actnet.device import Device, get_device
from actnet.tensor._creation import tensor
from actnet.tensor._promotion import as_dtype
from actnet.tensor._tensor import Tensor
from actnet.tensor._weights_only import WeightsUnpickler, weights_only_message

FileLike: TypeAlias = str | os.PathLike[str] | IO[bytes]
MapLocation: TypeAlias = (
    str
    | Device
    | Mapping[str, str | Device]
    | Callable[[Tensor, str], Tensor | None]
    | None
)
# values on the host, the location tag they were saved from, requires_grad
_Place: TypeAlias = Callable[[np.ndarray[Any, Any], str, bool], Tensor]

_MAGIC: Final = b"\x89ACTNET-SAVE\r\n\x1a\n"
_VERSION: Final = 1
_HEADER: Final = struct.Struct("<16sI")
_TRAILER: Final = struct.Struct("<QQ8s")
_END: Final = b"\x89ACTEND\n"
_ALIGN: Final = 64  # record offsets: any dtype's alignment, a cache line
# The dtypes a record may hold (the tensor dtypes, and NumPy's unsigned ones).
_DTYPES: Final = frozenset(
    {"bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32"}
    | {"int64", "float16", "bfloat16", "float32", "float64"}
    | {"complex64", "complex128"}
)
# What torch.save writes: a zip archive holding data.pkl (PyTorch 1.6 on), or a
# pickle whose first object is PyTorch's magic number (the legacy format).
_ZIP: Final = b"PK\x03\x04"
_TORCH_LEGACY_MAGIC: Final = bytes.fromhex("8a0a 6cfc9c46f9206aa85019")


class _DamagedFile(pickle.UnpicklingError):
    """A file with actnet's header that cannot be read (never reworded as a
    weights-only refusal)."""


def save(
    obj: object,
    f: FileLike,
    pickle_module: Any = pickle,
    pickle_protocol: int = 2,
) -> None:
    """Write `obj` (a state dict, a checkpoint dict, a tensor, a whole module:
    anything that pickles) to `f`, a path or a binary file object. torch.save's
    signature, in actnet's format (not torch's: torch.load cannot read it).

    Tensors keep their values, dtype, shape, device and `requires_grad` (a
    tensor that requires grad loads as a leaf that does); a view is saved as
    its values, independent of its base. A path is replaced atomically: the
    bytes go to a temporary file in the same folder, which is renamed over the
    path, so a failure leaves the old file (or none) and nothing half-written.

    >>> save({"epoch": 3, "model": model.state_dict()}, "checkpoint.pt")
    """
    if (
        isinstance(pickle_protocol, bool)
        or not isinstance(pickle_protocol, int)
        or pickle_protocol == 0
    ):
        raise ValueError(
            f"pickle_protocol must be a binary pickle protocol (1 to "
            f"{pickle.HIGHEST_PROTOCOL}, or -1), got {pickle_protocol!r}"
        )
    if isinstance(f, str | os.PathLike):
        target = Path(f)
        _write_atomic(
            target, lambda stream: _write(obj, stream, pickle_module, pickle_protocol)
        )
    elif callable(getattr(f, "write", None)):
        _write(obj, f, pickle_module, pickle_protocol)
    else:
        raise TypeError(
            "f must be a path (str or os.PathLike) or a binary file object, got "
            f"{type(f).__name__}"
        )


def load(
    f: FileLike,
    map_location: MapLocation = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """The object `save` wrote to `f` (a path or a seekable binary file object).
    torch.load's signature and rules (torch 2.13):

    - `weights_only` (default True, or False when `pickle_module` is given)
      builds only tensors, dtypes, devices, NumPy arrays of numbers, Python
      containers and primitives, `collections.OrderedDict` and `Counter`, and
      what `serialization.add_safe_globals` allowed; any other global is a
      `pickle.UnpicklingError` naming it. `weights_only=False` loads anything
      (a whole module): only for files you trust.
    - `map_location`: None (each tensor where it was saved from), a device name
      or Device (all there), a dict from saved location ("cpu", "cuda:1") to
      location, or a callable `(cpu_tensor, location) -> tensor or None`.
    - `mmap=True` is refused: actnet's tensors live in device arenas, never in
      the file; load reads one tensor at a time, never the whole file.

    >>> model.load_state_dict(load("model.pt"))
    """
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError(
            "Can not safely load weights when explicit pickle_module is specified"
        )
    if mmap:
        raise ValueError(
            "mmap=True is not supported: actnet's tensors live in its devices' "
            "memory arenas, so a loaded tensor cannot be backed by the file; load "
            "reads each tensor's values from the file when it is needed, never the "
            "whole file"
        )
    if pickle_load_args and weights_only:
        warnings.warn(
            "pickle_load_args only works if `weights_only=False`.",
            UserWarning,
            stacklevel=2,
        )
    pickle_load_args.setdefault("encoding", "utf-8")
    place = _placement(map_location)
    with _opened(f) as (stream, name):
        archive = _Archive(stream, name, place)
        data = io.BytesIO(archive.pickle)
        if not weights_only:
            module = pickle if pickle_module is None else pickle_module
            unpickler = module.Unpickler(data, **pickle_load_args)
            unpickler.persistent_load = archive.persistent_load  # as torch does
            return unpickler.load()
        restricted = WeightsUnpickler(
            data,
            encoding=pickle_load_args["encoding"],
            persistent_load=archive.persistent_load,
        )
        try:
            return restricted.load()
        except _DamagedFile:
            raise
        except pickle.UnpicklingError as exc:
            raise pickle.UnpicklingError(weights_only_message(str(exc))) from None


# ---------------------------------------------------------------------- writing
class _Writer:
    """Writes each tensor's or array's values as the pickler meets it, and gives
    the pickler its persistent id."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.position = 0
        # One record per tensor object: kept alive so that ids stay unique.
        self._tensors: dict[int, tuple[Any, ...]] = {}
        self._keep: list[Tensor] = []

    def write(self, data: bytes | memoryview) -> None:
        self._stream.write(data)
        self.position += memoryview(data).nbytes

    def align(self) -> None:
        padding = -self.position % _ALIGN
        if padding:
            self.write(bytes(padding))

    def persistent_id(self, obj: object) -> tuple[Any, ...] | None:
        kind = type(obj)
        if kind is Tensor:
            return self._tensor(obj)  # type: ignore[arg-type]
        if kind is np.ndarray:
            host: np.ndarray[Any, Any] = obj  # type: ignore[assignment]
            name = _dtype_name(host.dtype)
            if name is not None:
                return ("ndarray", self._record(host), name, host.shape)
        elif isinstance(obj, np.dtype):
            name = _dtype_name(obj)
            if name is not None:
                return ("dtype", name)
        elif kind is Device:
            return ("device", obj.name)  # type: ignore[attr-defined]
        return None  # pickled as usual (a Tensor subclass: by its __reduce__)

    def _tensor(self, t: Tensor) -> tuple[Any, ...]:
        pid = self._tensors.get(id(t))
        if pid is None:
            host = np.asarray(t.array)  # a view: its values alone
            name = _dtype_name(host.dtype)
            if name is None:
                raise TypeError(f"cannot save a tensor of dtype {host.dtype}")
            key = len(self._keep)
            location = _location(t.device)
            offset = self._record(host)
            pid = ("tensor", key, offset, name, host.shape, location, t.requires_grad)
            self._tensors[id(t)] = pid
            self._keep.append(t)
        return pid

    def _record(self, host: np.ndarray[Any, Any]) -> int:
        host = np.asarray(host, order="C")  # (ascontiguousarray makes 0-d 1-d)
        if not host.dtype.isnative:
            host = host.astype(host.dtype.newbyteorder("="))
        if sys.byteorder == "big":
            host = host.byteswap()
        self.align()
        offset = self.position
        if host.size:
            self.write(host.reshape(-1).view(np.uint8).data)
        return offset


def _write(obj: object, stream: IO[bytes], pickle_module: Any, protocol: int) -> None:
    writer = _Writer(stream)
    writer.write(_HEADER.pack(_MAGIC, _VERSION))
    buffer = io.BytesIO()
    pickler = pickle_module.Pickler(buffer, protocol=protocol)
    pickler.persistent_id = writer.persistent_id  # as torch does
    pickler.dump(obj)
    writer.align()
    offset = writer.position
    data = buffer.getbuffer()
    writer.write(data)
    writer.write(_TRAILER.pack(offset, data.nbytes, _END))


def _write_atomic(target: Path, write: Callable[[IO[bytes]], None]) -> None:
    """`write` into a temporary file beside `target`, flushed to disk, then
    renamed over it; on any failure (KeyboardInterrupt too) the temporary file
    is removed and `target` is as it was."""
    folder = target.parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            if hasattr(os, "fchmod"):  # mkstemp's file is private (0600)
                os.fchmod(stream.fileno(), _file_mode(target))
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if os.name == "posix":  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _file_mode(path: Path) -> int:
    """The mode of the file at `path`, or the one open() gives a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _dtype_name(dtype: np.dtype[Any]) -> str | None:
    name = dtype.name
    return name if name in _DTYPES and dtype.isnative else None


def _location(device: Device) -> str:
    """torch's location tag: "cpu" for the CPU, else the device's name."""
    return "cpu" if device.name == "cpu:0" else device.name


# ---------------------------------------------------------------------- reading
@contextmanager
def _opened(f: FileLike) -> Iterator[tuple[IO[bytes], str | None]]:
    """A seekable binary stream of `f`, and its path when there is one."""
    if isinstance(f, str | os.PathLike):
        with open(f, "rb") as stream:
            yield stream, os.fspath(f)
        return
    if not callable(getattr(f, "read", None)):
        raise TypeError(
            "f must be a path (str or os.PathLike) or a binary file object, got "
            f"{type(f).__name__}"
        )
    name = getattr(f, "name", None)
    seekable = getattr(f, "seekable", None)
    if seekable is None or not seekable():
        yield io.BytesIO(f.read()), None  # a pipe: read it whole
    else:
        yield f, name if isinstance(name, str) else None


class _Archive:
    """An open file of actnet's format: its pickle, and the records the
    unpickler asks for by persistent id."""

    def __init__(self, stream: IO[bytes], name: str | None, place: _Place) -> None:
        self._stream = stream
        self._where = repr(name) if name else "The file"
        self._place = place
        self._tensors: dict[Any, Tensor] = {}  # by key: one per saved tensor
        self._base = stream.tell()
        head = stream.read(_HEADER.size)
        if len(head) < _HEADER.size or not head.startswith(_MAGIC):
            stream.seek(self._base)
            raise pickle.UnpicklingError(_foreign_file_message(stream, name))
        version = _HEADER.unpack(head)[1]
        if version != _VERSION:
            raise _DamagedFile(
                f"{self._where} is in actnet's format {version}, which this actnet "
                f"cannot read (it reads format {_VERSION}): a newer actnet wrote it"
            )
        size = stream.seek(0, os.SEEK_END) - self._base
        if size >= _HEADER.size + _TRAILER.size:
            stream.seek(self._base + size - _TRAILER.size)
            offset, length, end = _TRAILER.unpack(stream.read(_TRAILER.size))
        else:
            offset, length, end = 0, 0, b""
        if end != _END or offset + length + _TRAILER.size != size:
            raise _DamagedFile(
                f"{self._where} starts as a file actnet.tensor.save wrote but does "
                "not end as one: it is truncated or damaged"
            )
        self._records_end = offset
        stream.seek(self._base + offset)
        self.pickle = self._read_exact(length)

    def persistent_load(self, pid: Any) -> Any:
        """What a persistent id of the pickle stands for, checked field by
        field (a weights-only load trusts nothing in the file)."""
        if type(pid) is tuple and pid:
            kind, fields = pid[0], pid[1:]
            if kind == "dtype" and len(fields) == 1:
                return _dtype(fields[0], self._where)
            if kind == "device" and len(fields) == 1 and type(fields[0]) is str:
                return _device(fields[0])
            if kind == "ndarray" and len(fields) == 3:
                return self._read(*fields).copy()
            if kind == "tensor" and len(fields) == 6:
                return self._tensor(*fields)
        raise _DamagedFile(f"{self._where} holds an unknown persistent id {pid!r}")

    def _tensor(
        self, key: Any, offset: Any, dtype: Any, shape: Any, location: Any, grad: Any
    ) -> Tensor:
        if type(key) is not int:
            raise _DamagedFile(f"{self._where}: a tensor record is malformed")
        found = self._tensors.get(key)
        if found is None:
            host = self._read(offset, dtype, shape)
            if type(location) is not str or type(grad) is not bool:
                raise _DamagedFile(f"{self._where}: a tensor record is malformed")
            found = self._place(host, location, grad)
            self._tensors[key] = found
        return found

    def _read(self, offset: Any, dtype: Any, shape: Any) -> np.ndarray[Any, Any]:
        kind = _dtype(dtype, self._where)
        if (
            type(offset) is not int
            or type(shape) is not tuple
            or not all(type(n) is int and n >= 0 for n in shape)
        ):
            raise _DamagedFile(f"{self._where}: a record is malformed")
        nbytes = math.prod(shape) * kind.itemsize
        if offset < _HEADER.size or offset + nbytes > self._records_end:
            raise _DamagedFile(f"{self._where}: a record lies outside the file")
        self._stream.seek(self._base + offset)
        host = np.frombuffer(self._read_exact(nbytes), dtype=kind).reshape(shape)
        return host.byteswap() if sys.byteorder == "big" else host

    def _read_exact(self, nbytes: int) -> bytes:
        data = self._stream.read(nbytes)
        if len(data) != nbytes:
            raise _DamagedFile(f"{self._where} is truncated")
        return data


def _dtype(name: Any, where: str) -> np.dtype[Any]:
    if type(name) is not str or name not in _DTYPES:
        raise _DamagedFile(f"{where} holds a record of unknown dtype {name!r}")
    return as_dtype(name) if name == "bfloat16" else np.dtype(name)


def _device(name: str | Device) -> Device:
    """The device `name` names; a CUDA one that cannot be made is torch's
    RuntimeError."""
    try:
        return get_device(name)
    except RuntimeError as exc:
        if isinstance(name, str) and name.startswith("cuda"):
            raise RuntimeError(
                f"Attempting to deserialize object on a CUDA device ({name!r}) but "
                "actnet.tensor.cuda.is_available() is False. If you are running on "
                "a CPU-only machine, please use actnet.tensor.load with "
                "map_location='cpu' to map the tensors to the CPU."
            ) from exc
        raise


def _new(host: np.ndarray[Any, Any], device: Device, requires_grad: bool) -> Tensor:
    return tensor(host, dtype=host.dtype, device=device, requires_grad=requires_grad)


def _placement(map_location: MapLocation) -> _Place:
    """Where each tensor goes, as torch.load's `map_location` says."""
    if map_location is None:
        return lambda host, location, grad: _new(host, _device(location), grad)
    if isinstance(map_location, str | Device):
        target = _device(map_location)
        return lambda host, location, grad: _new(host, target, grad)
    if isinstance(map_location, Mapping):
        table = dict(map_location)

        def mapped(host: np.ndarray[Any, Any], location: str, grad: bool) -> Tensor:
            canonical = location if ":" in location else f"{location}:0"
            target = table.get(location, table.get(canonical, location))
            return _new(host, _device(target), grad)

        return mapped
    if callable(map_location):
        function = map_location

        def called(host: np.ndarray[Any, Any], location: str, grad: bool) -> Tensor:
            out = function(_new(host, get_device("cpu"), False), location)
            if out is None:  # torch: the default placement
                return _new(host, _device(location), grad)
            if not isinstance(out, Tensor):
                raise TypeError(
                    "map_location's function must return a Tensor or None, got "
                    f"{type(out).__name__}"
                )
            out = out.detach()
            return out.requires_grad_(True) if grad else out

        return called
    raise TypeError(
        "map_location must be None, a device name such as 'cpu', a Device, a dict "
        "from saved locations to locations, or a callable (tensor, location), got "
        f"{type(map_location).__name__}"
    )


def _foreign_file_message(stream: IO[bytes], name: str | None) -> str:
    """What a file without actnet's header is, and what to do with it."""
    where = repr(name) if name else "The file"
    start = stream.tell()
    head = stream.read(32)
    stream.seek(start)
    if not head:
        return f"{where} is empty, not a file that actnet.tensor.save wrote"
    what = _torch_file(stream, head)
    source = repr(name) if name else "f"
    out = repr(_converted_name(name)) if name else "'model.safetensors'"
    if what is not None:
        return (
            f"{where} is {what}. actnet.tensor.save writes actnet's own format, not "
            "torch's, and actnet.tensor.load reads only that: actnet never "
            "unpickles torch's files. Convert it once where PyTorch is installed: "
            f"`safetensors.torch.save_file(torch.load({source}), {out})` (if it "
            "holds a whole model rather than a state dict, save its "
            f"`model.state_dict()`), then load it with `actnet.nn.load_safetensors("
            f"{out})`"
        )
    length = int.from_bytes(head[:8], "little")
    if len(head) > 8 and head[8:9] == b"{" and length > 1:
        return (
            f"{where} is a safetensors file, not a file that actnet.tensor.save "
            "wrote: load it with `actnet.nn.load_safetensors(path)`"
        )
    if head[0] == 0x80 and len(head) > 1 and 2 <= head[1] <= 5:
        return (
            f"{where} is a Python pickle, not a file that actnet.tensor.save "
            "wrote: if you trust it, read it with the pickle module"
        )
    return f"{where} is not a file that actnet.tensor.save wrote (no actnet header)"


def _torch_file(stream: IO[bytes], head: bytes) -> str | None:
    if head.startswith(_ZIP):
        try:
            with zipfile.ZipFile(stream) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return "a PyTorch checkpoint written by torch.save (a zip archive)"
        return None
    if head[0] == 0x80 and _TORCH_LEGACY_MAGIC in head:
        return "a PyTorch checkpoint written by torch.save (its legacy pickle)"
    return None


def _converted_name(name: str) -> str:
    target = Path(name).with_suffix(".safetensors")
    if target == Path(name):  # a pickle named .safetensors: not converted in place
        target = target.with_name(f"{target.stem}-converted.safetensors")
    return os.fspath(target)
