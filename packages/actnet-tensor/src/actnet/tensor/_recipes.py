"""The hooks by which selective checkpointing (`_selective`) learns how each
output was made: a leaf module, so that the operations (`_function`'s apply,
the built-in operations of `_arithmetic` and `_shape`) can call it without an
import cycle.

While no selective block is open in any thread (`in_use == 0`), an operation
pays one integer test. Inside one, `noting()` says whether this operation's
output is to be noted (graph recording on, and not inside another operation's
forward or a recomputation), and `noted(fn, args)` runs a built-in operation
and notes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from actnet.tensor._grad_mode import _state

T = TypeVar("T")

in_use = 0  # selective blocks open, in all threads
# Set by _selective: snapshot(args) before an operation, note(function, args,
# kwargs, outputs, snapshot) after it.
snapshot: Callable[[tuple[Any, ...]], Any] | None = None
note: Callable[..., None] | None = None
_lock = threading.Lock()  # guards in_use


class _Inside(threading.local):
    def __init__(self) -> None:
        self.depth = 0  # > 0 inside an operation's forward


inside = _Inside()


def opened(delta: int) -> None:
    """A selective block opened (+1) or closed (-1), in any thread."""
    global in_use
    with _lock:
        in_use += delta


def noting() -> bool:
    """Whether the operation starting now notes how it makes its output."""
    return inside.depth == 0 and _state.enabled and note is not None


def noted(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    """fn(*args), a built-in operation, with how it made its output noted."""
    assert snapshot is not None and note is not None
    before = snapshot(args)
    inside.depth += 1
    try:
        out = fn(*args)
    finally:
        inside.depth -= 1
    note(fn, args, {}, (out,), before)
    return out
