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
    - aliases of t that show the very same NDArray (`t.data`, `t.detach()`,
      kept or not) hold it too, but they are to see t's change anyway (the
      in-place method's `changed` gives them t's values and versions): they
      are counted as t's own, so that `p.data.add_(...)` writes into p's
      buffer as PyTorch's does.
    - then its Buffer by actnet.ndarray's rule (`sole_buffer`).
    """
    data = t.array
    holders = 3
    info = t._alias
    if info is not None:
        for member in info.storage.live():
            if member is not t and member.array is data:
                holders += 1
    if _getrefcount(data) != holders:
        return None
    return sole_array_buffer(data)
