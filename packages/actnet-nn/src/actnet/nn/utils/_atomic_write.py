"""Files that are never half-written: `write_atomic` and `fsync_directory`.

Used by `save_safetensors` here and by actnet-util's checkpoints, History and
plots, so that every file actnet writes is replaced the same way.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the old file or the new one,
    never a part, and the new one is on disk when this returns.

    The bytes go to a temporary file in the same directory (so the rename stays
    on one file system), are flushed and fsynced; the file is renamed over
    `path` (`os.replace`, atomic) and the directory fsynced (the rename itself
    is durable). On any failure, KeyboardInterrupt included, the temporary file
    is removed and `path` is as it was. A new file gets the mode `open()` would
    give it; a replaced one keeps its mode.

    >>> write_atomic("run/history.json", json.dumps(history).encode())
    """
    target = Path(path)
    folder = target.parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            # mkstemp's file is private (0600); give it the mode open() would.
            os.fchmod(f.fileno(), _file_mode(target))
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_directory(folder)


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Make a rename into directory `path`, or a new entry in it, durable. POSIX
    only (elsewhere a directory cannot be opened, and this does nothing); an
    error of the file system is raised, not hidden."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_mode(path: Path) -> int:
    """The mode of the file at `path`, or the one open() gives a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
