"""Hooks that a capture (`_capture`) installs into the modules below it, kept
here so that those modules need not import it.

`reservation_hook`, when set, is told of every `Generator.reserve`: the
generator, the number of words, and the key and first counter it returned.
`devices` holds every device made (weakly): while one records, the others
refuse kernel calls from the recording thread (the work would not be replayed);
when bfloat16 loads, those made to hold every dtype take it (`_core`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

reservation_hook: Callable[[Any, int, tuple[int, int], int], None] | None = None
devices: weakref.WeakSet[Any] = weakref.WeakSet()
