"""`torch.serialization`'s place: `save`, `load` and the allowlist of
`load(..., weights_only=True)`.

    import actnet.tensor as at
    at.save({"epoch": 3, "model": model.state_dict()}, "checkpoint.pt")
    checkpoint = at.load("checkpoint.pt")  # weights_only=True: no code runs

    with at.serialization.safe_globals([RunConfig]):  # a class of yours
        checkpoint = at.load("run.pt")

The files are actnet's own format, not torch's zip archive: torch.load cannot
read them, and `load` refuses a file torch.save wrote, saying how to convert it
(actnet.tensor._serialization describes the format).
"""

from __future__ import annotations

from actnet.tensor._serialization import FileLike, MapLocation, load, save
from actnet.tensor._weights_only import (
    SafeGlobal,
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)

__all__ = [
    "FileLike",
    "MapLocation",
    "SafeGlobal",
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "load",
    "safe_globals",
    "save",
]
