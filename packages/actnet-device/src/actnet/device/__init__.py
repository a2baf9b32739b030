"""actnet-device: one runtime API over compute devices.

- `get_device("cpu")`, `get_device("cuda:0")`, ...: a `Device` holds `Buffer`s in
  arenas managed by an `actnet.mem.Allocator`, and runs the closed operator set
  (`OPS`) on them.
- `Generator`, `manual_seed`: counter-based (Philox4x32-10) random numbers that are
  the same on every device.
- `actnet.device.testing`: the conformance kit a new backend must pass.
"""

from actnet.device._buffer import Buffer
from actnet.device._device import BufferRecord, Device, MemoryStats
from actnet.device._dtypes import as_dtype
from actnet.device._opset import OPS, OpSpec
from actnet.device._random import Generator, default_generator, manual_seed
from actnet.device._registry import BACKENDS, get_device
from actnet.device._version import __version__
from actnet.mem import OutOfMemoryError

__all__ = [
    "BACKENDS",
    "OPS",
    "Buffer",
    "BufferRecord",
    "Device",
    "Generator",
    "MemoryStats",
    "OpSpec",
    "OutOfMemoryError",
    "__version__",
    "as_dtype",
    "default_generator",
    "get_device",
    "manual_seed",
]
