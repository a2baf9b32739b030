"""Checkpoints that are never half-written: one directory per checkpoint, written
under a temporary name, fsynced, then renamed into place.

A checkpoint holds a state: a mapping of entry names ("model", "optimizer",
"scheduler", "trainer", ...) to nested dicts, lists and tuples of Tensors, NumPy
arrays and JSON scalars (what `state_dict()` methods return). On disk:

    step-000123/
        model.safetensors       # the tensors of entry "model", by their dotted path
        optimizer.safetensors   # (the model's keys are its state-dict keys, so the
        ...                     #  file loads in PyTorch or any safetensors reader)
        state.json              # everything else, tensors replaced by references
        MANIFEST.json           # size and sha256 of every file above; written last

Writing: the directory is built as `step-000123.tmp/`, every file and the
directory are fsynced, and only then is it renamed to `step-000123/` (rename is
atomic on POSIX file systems). Saving over an existing checkpoint moves the old
one aside (`.step-000123.replaced`) first. A crash leaves at most such a `.tmp` or
`.replaced` directory, which no reader looks at and the manager's next save
removes.

Reading: `load_checkpoint` checks the manifest first and raises `CheckpointError`
naming the directory and the problem (no manifest: the write was interrupted; a
size or sha256 mismatch: the file was truncated or changed; unreadable JSON or
safetensors). Nothing is ever unpickled.

Which checkpoint resumes (documented choice): `CheckpointManager.latest()` returns
the newest checkpoint that passes these checks. A newer one that fails them is
skipped with a `CheckpointWarning` that names it and why, so a run resumes from the
previous good one; `load_checkpoint` on an explicit path never falls back, it
raises. The manager keeps the newest `keep` (default 2) complete checkpoints.

    >>> manager = CheckpointManager("run/checkpoints", keep=2)
    >>> manager.save(100, {"model": model.state_dict(), "trainer": {"step": 100}})
    >>> state = load_checkpoint(manager.latest())
    >>> model.load_state_dict(state["model"])
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import safetensors
import safetensors.numpy

import actnet.tensor as at
from actnet.device import Device, get_device
from actnet.ndarray import NDArray
from actnet.nn import SAFETENSORS_DTYPES, torch_file_message
from actnet.nn.utils import fsync_directory, write_atomic
from actnet.tensor import Tensor

# write_atomic is actnet-nn's (nn.utils), named here too, where it was before 0.2.
__all__ = [
    "CheckpointError",
    "CheckpointManager",
    "CheckpointWarning",
    "load_checkpoint",
    "save_checkpoint",
    "verify_checkpoint",
    "write_atomic",
]

FORMAT: Final = "actnet-checkpoint"
VERSION: Final = 1
MANIFEST: Final = "MANIFEST.json"
STATE: Final = "state.json"
_ENTRY_NAME: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_STEP_DIR: Final = re.compile(r"^step-(\d+)$")
_RESERVED: Final = {"state", "MANIFEST"}


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete, corrupted or of an unknown format."""


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped (it failed its checks) in favour of an older one."""


# ------------------------------------------------------------------ atomic files
def _write_synced(path: Path, data: bytes) -> None:
    """A file of the temporary checkpoint directory, on disk when this returns
    (the directory's rename makes the whole checkpoint appear at once)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


# ------------------------------------------------------------- state encoding
class _Encoder:
    """Splits a nested state into JSON and tensors; one per checkpoint entry."""

    def __init__(self, entry: str) -> None:
        self.entry = entry
        self.tensors: dict[str, np.ndarray[Any, Any]] = {}

    def _key(self, path: list[str]) -> str:
        key = ".".join(path) or self.entry
        if key in self.tensors:
            n = 1
            while f"{key}#{n}" in self.tensors:
                n += 1
            key = f"{key}#{n}"
        return key

    def encode(self, value: Any, path: list[str]) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, Tensor | NDArray):
            t = value if isinstance(value, Tensor) else at.as_tensor(value)
            key = self._key(path)
            self.tensors[key] = np.array(t.detach(), order="C")  # keeps 0-d shapes
            return {
                "$tensor": key,
                "device": t.device.name,
                "requires_grad": t.requires_grad,
            }
        if isinstance(value, np.ndarray):
            key = self._key(path)
            self.tensors[key] = np.array(value, order="C")
            return {"$ndarray": key}
        if isinstance(value, tuple):
            return {
                "$tuple": [self.encode(v, [*path, str(i)]) for i, v in enumerate(value)]
            }
        if isinstance(value, list):
            return [self.encode(v, [*path, str(i)]) for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {k: self.encode(v, [*path, k]) for k, v in value.items()}
            return {
                "$dict": [
                    [self._key_value(k, path), self.encode(v, [*path, str(k)])]
                    for k, v in value.items()
                ]
            }
        where = ".".join([self.entry, *path])
        raise TypeError(
            f"checkpoint: cannot store {where} of type {type(value).__name__}; "
            "a state holds dicts, lists, tuples, Tensors, NumPy arrays, str, int, "
            "float, bool and None"
        )

    def _key_value(self, key: Any, path: list[str]) -> Any:
        if key is None or isinstance(key, bool | int | float | str):
            return key
        if isinstance(key, np.generic):
            return key.item()
        if isinstance(key, tuple):
            return {"$tuple": [self._key_value(k, path) for k in key]}
        where = ".".join([self.entry, *path])
        raise TypeError(
            f"checkpoint: cannot store a dict key of type {type(key).__name__} "
            f"in {where}"
        )


def _decode(
    value: Any,
    tensors: Mapping[str, np.ndarray[Any, Any]],
    map_location: Device | None,
    where: str,
) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors, map_location, where) for v in value]
    if not isinstance(value, dict):
        return value
    if "$tensor" in value:
        key = value["$tensor"]
        if key not in tensors:
            raise CheckpointError(f"{where}: tensor {key!r} is missing")
        device = map_location or get_device(str(value.get("device", "cpu")))
        t = at.tensor(tensors[key], device=device)
        return t.requires_grad_(True) if value.get("requires_grad") else t
    if "$ndarray" in value:
        key = value["$ndarray"]
        if key not in tensors:
            raise CheckpointError(f"{where}: array {key!r} is missing")
        return tensors[key].copy()
    if "$tuple" in value:
        return tuple(_decode(v, tensors, map_location, where) for v in value["$tuple"])
    if "$dict" in value:
        return {
            _decode(k, tensors, map_location, where): _decode(
                v, tensors, map_location, where
            )
            for k, v in value["$dict"]
        }
    return {k: _decode(v, tensors, map_location, where) for k, v in value.items()}


def _load_tensors(data: bytes, where: str) -> dict[str, np.ndarray[Any, Any]]:
    try:
        items = safetensors.deserialize(data)  # type: ignore[no-untyped-call]  # the Rust binding has no hints
    except Exception as e:  # the reader raises SafetensorError and others
        raise CheckpointError(f"{where} is not a readable safetensors file: {e}") from e
    out = {}
    for name, info in items:
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise CheckpointError(f"{where}: tensor {name!r} has dtype {info['dtype']}")
        flat = np.frombuffer(info["data"], dtype=dtype.newbyteorder("<"))
        out[name] = flat.astype(dtype, copy=True).reshape(info["shape"])
    return out


# -------------------------------------------------------------- save and load
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode_state(state: Mapping[str, Any]) -> dict[str, bytes]:
    """File name -> contents, the manifest excepted."""
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a mapping, got {type(state).__name__}")
    files: dict[str, bytes] = {}
    entries: dict[str, Any] = {}
    for name, value in state.items():
        if (
            not isinstance(name, str)
            or not _ENTRY_NAME.match(name)
            or name in _RESERVED
        ):
            raise ValueError(
                f"checkpoint entry names must be words of letters, digits, '_' and "
                f"'-' other than {sorted(_RESERVED)}, got {name!r}"
            )
        encoder = _Encoder(name)
        entries[name] = encoder.encode(value, [])
        if encoder.tensors:
            try:
                files[f"{name}.safetensors"] = safetensors.numpy.save(encoder.tensors)
            except Exception as e:  # dtypes safetensors cannot hold
                raise TypeError(f"checkpoint: cannot store entry {name!r}: {e}") from e
    document = {"format": FORMAT, "version": VERSION, "entries": entries}
    files[STATE] = json.dumps(document, indent=1).encode()
    return files


def save_checkpoint(path: str | os.PathLike[str], state: Mapping[str, Any]) -> Path:
    """Write `state` as the checkpoint directory `path`, atomically; an existing
    checkpoint there is replaced. Returns the path."""
    final = Path(path)
    files = _encode_state(state)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "files": {
            name: {"bytes": len(data), "sha256": _sha256(data)}
            for name, data in files.items()
        },
    }
    tmp = final.with_name(final.name + ".tmp")
    final.parent.mkdir(parents=True, exist_ok=True)
    if tmp.exists():
        shutil.rmtree(tmp)  # left by a write that did not finish
    tmp.mkdir()
    for name, data in files.items():
        _write_synced(tmp / name, data)
    _write_synced(tmp / MANIFEST, json.dumps(manifest, indent=1).encode())
    fsync_directory(tmp)
    old = final.with_name(f".{final.name}.replaced")
    if final.exists():
        if old.exists():
            shutil.rmtree(old)
        os.rename(final, old)
    os.rename(tmp, final)
    fsync_directory(final.parent)
    if old.exists():
        shutil.rmtree(old)
    return final


def _read_verified(path: Path) -> dict[str, bytes]:
    """The checkpoint's files (manifest excepted) after checking them all."""
    if path.is_file():
        torch_file = torch_file_message(path)  # a file of torch.save: say so
        raise CheckpointError(
            f"checkpoint {path} is a file, not an actnet checkpoint folder"
            + (f": {torch_file}" if torch_file else "")
        )
    if not path.is_dir():
        raise CheckpointError(f"checkpoint {path} does not exist (or is not a folder)")
    try:
        manifest = json.loads((path / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise CheckpointError(
            f"checkpoint {path} is incomplete: it has no {MANIFEST} (its write was "
            "interrupted, or it is not an actnet checkpoint)"
        ) from None
    except ValueError as e:
        raise CheckpointError(f"checkpoint {path}: {MANIFEST} is corrupted: {e}") from e
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
    ):
        raise CheckpointError(
            f"checkpoint {path}: {MANIFEST} is not an actnet manifest"
        )
    if manifest.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {manifest.get('version')!r}; "
            f"this actnet reads version {VERSION}"
        )
    files = {}
    for name, expected in manifest["files"].items():
        try:
            data = (path / name).read_bytes()
        except FileNotFoundError:
            raise CheckpointError(f"checkpoint {path} is missing {name}") from None
        if len(data) != expected.get("bytes"):
            raise CheckpointError(
                f"checkpoint {path} is corrupted: {name} has {len(data)} bytes, "
                f"the manifest says {expected.get('bytes')}"
            )
        if _sha256(data) != expected.get("sha256"):
            raise CheckpointError(
                f"checkpoint {path} is corrupted: the sha256 of {name} does not "
                "match its manifest"
            )
        files[name] = data
    if STATE not in files:
        raise CheckpointError(f"checkpoint {path}: the manifest lists no {STATE}")
    return files


def verify_checkpoint(path: str | os.PathLike[str]) -> None:
    """Raise CheckpointError unless `path` is a complete, intact checkpoint."""
    _read_verified(Path(path))


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | Device | None = None
) -> dict[str, Any]:
    """The state saved at `path` (after checking every file against the manifest).
    Tensors come back on the device they were saved from, or on `map_location`."""
    where = Path(path)
    files = _read_verified(where)
    device = None if map_location is None else get_device(map_location)
    try:
        document = json.loads(files[STATE])
    except ValueError as e:
        raise CheckpointError(f"checkpoint {where}: {STATE} is corrupted: {e}") from e
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {where}: {STATE} is not an actnet state")
    state = {}
    for name, value in document["entries"].items():
        blob = files.get(f"{name}.safetensors")
        tensors = {} if blob is None else _load_tensors(blob, f"{where}/{name}")
        state[name] = _decode(value, tensors, device, f"checkpoint {where}, {name}")
    return state


# ------------------------------------------------------------------- manager
class CheckpointManager:
    """Numbered checkpoints `step-000123/` in one directory, the newest `keep`
    of them kept (None: all).

    >>> manager = CheckpointManager("run/checkpoints")
    >>> manager.save(10, {"model": model.state_dict()})
    PosixPath('run/checkpoints/step-000010')
    >>> manager.latest()                 # the newest intact one, or None
    PosixPath('run/checkpoints/step-000010')
    """

    def __init__(self, directory: str | os.PathLike[str], keep: int | None = 2) -> None:
        if keep is not None and (type(keep) is not int or keep < 1):
            raise ValueError(f"keep must be a positive int or None, got {keep!r}")
        self.directory = Path(directory)
        self.keep = keep

    def path_for(self, step: int) -> Path:
        if type(step) is not int or step < 0:
            raise ValueError(f"step must be a non-negative int, got {step!r}")
        return self.directory / f"step-{step:06d}"

    def save(self, step: int, state: Mapping[str, Any]) -> Path:
        """Write checkpoint `step`, then drop the oldest beyond `keep`."""
        path = save_checkpoint(self.path_for(step), state)
        self._prune(path)
        return path

    def checkpoints(self) -> list[Path]:
        """The finished checkpoints (those with a manifest), oldest first; their
        files are not checked here."""
        if not self.directory.is_dir():
            return []
        found = []
        for child in self.directory.iterdir():
            match = _STEP_DIR.match(child.name)
            if match and (child / MANIFEST).is_file():
                found.append((int(match.group(1)), child))
        return [p for _, p in sorted(found)]

    def latest(self) -> Path | None:
        """The newest checkpoint that passes every check; newer ones that fail are
        skipped with a CheckpointWarning. None when there is none."""
        for path in reversed(self.checkpoints()):
            try:
                verify_checkpoint(path)
            except CheckpointError as e:
                warnings.warn(
                    f"skipping checkpoint {path}: {e}", CheckpointWarning, stacklevel=2
                )
                continue
            return path
        return None

    def _prune(self, just_saved: Path) -> None:
        for child in self.directory.iterdir():
            name = child.name
            if (name.endswith(".tmp") and _STEP_DIR.match(name[:-4])) or (
                name.startswith(".") and name.endswith(".replaced")
            ):
                shutil.rmtree(child, ignore_errors=True)  # an interrupted write
        if self.keep is None:
            return
        complete = self.checkpoints()
        for path in complete[: max(0, len(complete) - self.keep)]:
            if path != just_saved:
                shutil.rmtree(path, ignore_errors=True)

    def __repr__(self) -> str:
        return f"CheckpointManager({str(self.directory)!r}, keep={self.keep})"
