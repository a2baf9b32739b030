"""Copy-on-write: when a tensor may write into its own device buffer.

A tensor updates its values in place (the in-place methods, gradient
accumulation, the optimizers of the layers above) only when nothing but the
tensor can see its buffer; otherwise it computes new values and rebinds `.array`.
actnet.ndarray decides for an array's buffer (`sole_buffer`: no other array, view
or export holds it); a tensor also shares its NDArray itself (saved for backward,
a detached tensor, `.data`), and whoever holds that NDArray sees its values, so
this module adds that count. Writing into `t.array` directly (`t.array[0] = 1`)
is, as torch's `t.data` writes, not seen by autograd.
"""

from __future__ import annotations

import sys

from actnet.device import Buffer
from actnet.ndarray import sole_buffer as sole_array_buffer
from actnet.tensor._tensor_base import TensorBase

_getrefcount = sys.getrefcount


def sole_buffer(t: TensorBase) -> Buffer | None:
    """t's buffer when t alone holds it (so writing into it changes nothing anyone
    else sees), else None.

    The reference counts, in CPython (tests/test_copy_on_write.py checks each
    case, so a CPython that counts these idioms differently fails there):
    - the NDArray is held by `t.array`, by the local `data` and by getrefcount's
      argument: 3 when nothing else holds it. Anything else that holds it (a
      `t.data` someone kept, a detached tensor, a saved-for-backward value, a
      gradient shared with another tensor) adds one.
    - then its Buffer by actnet.ndarray's rule (`sole_buffer`).
    """
    data = t.array
    if _getrefcount(data) != 3:
        return None
    return sole_array_buffer(data)
