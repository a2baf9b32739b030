"""actnet-mem: the memory-management toolkit of actnet (standard library only).

- `SlotVec`: a dense container addressed by generation-checked handles.
- `Allocator`: the memory shadow, best-fit offsets in segments it never touches.
- `TGraph`: the book-keeping of a Tomasulo-style issue queue.
- `plan`: offline placement of blocks with known lifetimes in one arena.
- traces: synthetic allocation traces and `replay`, to measure an allocator.
"""

from actnet.mem._allocator import (
    DEFAULT_ALIGNMENT,
    DEFAULT_SEGMENT_SIZE,
    Allocator,
    AllocatorStats,
    Block,
    InvalidBlockError,
    OutOfMemoryError,
    SegmentInfo,
)
from actnet.mem._plan import Plan, plan
from actnet.mem._slotvec import Handle, SlotVec, StaleHandleError
from actnet.mem._tgraph import TGraph
from actnet.mem._trace import (
    MarkStats,
    ReplayStats,
    TraceEvent,
    mixed_size_trace,
    replay,
    training_step_trace,
)
from actnet.mem._version import __version__

__all__ = [
    "DEFAULT_ALIGNMENT",
    "DEFAULT_SEGMENT_SIZE",
    "Allocator",
    "AllocatorStats",
    "Block",
    "Handle",
    "InvalidBlockError",
    "MarkStats",
    "OutOfMemoryError",
    "Plan",
    "ReplayStats",
    "SegmentInfo",
    "SlotVec",
    "StaleHandleError",
    "TGraph",
    "TraceEvent",
    "__version__",
    "mixed_size_trace",
    "plan",
    "replay",
    "training_step_trace",
]
