"""actnet-device: one runtime API over compute devices.

- `get_device("cpu")`, `get_device("cuda:0")`, ...: a `Device` holds `Buffer`s in
  arenas managed by an `actnet.mem.Allocator`, and runs the closed operator set
  (`OPS`) on them.
- The dtype table (actnet's one, which actnet.ndarray uses): the dtypes
  (`float32`, `bfloat16`, ...), their kinds (`SIGNED`, `UNSIGNED`, `INTEGER`,
  `REAL_FLOATING`, `COMPLEX_FLOATING`, `FLOATING`, `NUMERIC`, and `ALL`, every
  dtype a device may hold) and `as_dtype`, which parses one. bfloat16 loads on
  first use (ml_dtypes: 0.6 s): `is_bfloat16(dtype)` asks without loading it,
  `on_bfloat16(complete)` completes a table when it loads.
- `set_num_threads(n)` / `get_num_threads()`: one thread count for BLAS and the
  compiled kernels of the `cpu` device (`reference` runs plain NumPy kernels).
- `Generator`, `manual_seed`: counter-based (Philox4x32-10) random numbers that are
  the same on every device.
- `actnet.device.testing`: the conformance kit a new backend must pass.
"""

from typing import TYPE_CHECKING, Any

from actnet.device import _dtypes
from actnet.device._buffer import Buffer
from actnet.device._capture import Capture
from actnet.device._core import BufferRecord, MemoryStats
from actnet.device._device import Device
from actnet.device._dtypes import (
    COMPLEX_FLOATING,
    FLOATING,
    INTEGER,
    NUMERIC,
    REAL_FLOATING,
    SIGNED,
    UNSIGNED,
    as_dtype,
    bool_,
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    is_bfloat16,
    on_bfloat16,
    uint8,
    uint16,
    uint32,
    uint64,
)
from actnet.device._memory_record import LiveBlock, MemoryRecording, OperatorMemory
from actnet.device._opset import OPS, OpSpec
from actnet.device._program import CaptureError, MemoryPlan, PlannedBuffer, Program
from actnet.device._random import Generator, default_generator, manual_seed
from actnet.device._registry import BACKENDS, get_device
from actnet.device._threads import get_num_threads, set_num_threads
from actnet.device._version import __version__
from actnet.mem import OutOfMemoryError

if TYPE_CHECKING:  # made on first use: see __getattr__
    from actnet.device._dtypes import ALL, bfloat16

__all__ = [
    "ALL",
    "BACKENDS",
    "COMPLEX_FLOATING",
    "FLOATING",
    "INTEGER",
    "NUMERIC",
    "OPS",
    "REAL_FLOATING",
    "SIGNED",
    "UNSIGNED",
    "Buffer",
    "BufferRecord",
    "Capture",
    "CaptureError",
    "Device",
    "Generator",
    "LiveBlock",
    "MemoryPlan",
    "MemoryRecording",
    "MemoryStats",
    "OpSpec",
    "OperatorMemory",
    "OutOfMemoryError",
    "PlannedBuffer",
    "Program",
    "__version__",
    "as_dtype",
    "bfloat16",
    "bool_",
    "complex64",
    "complex128",
    "default_generator",
    "float16",
    "float32",
    "float64",
    "get_device",
    "get_num_threads",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_bfloat16",
    "manual_seed",
    "on_bfloat16",
    "set_num_threads",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
]


def __getattr__(name: str) -> Any:
    """`bfloat16` and `ALL` (which holds it), made when first read: importing
    ml_dtypes costs 0.6 s, which `import actnet.device` does not pay."""
    if name in ("ALL", "bfloat16"):
        return getattr(_dtypes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
