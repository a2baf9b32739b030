"""The (parameter, gradient) pairs of a step, sorted for the device's fused
optimiser updates (`Device.sgd_update`, `Device.adam_update`): one call per
device and dtype updates all of them, each tensor in one pass.

A pair goes to the fused update when its gradient has the parameter's shape,
dtype and device, and the operator takes that dtype; any other pair takes the
optimizer's blocked update (`Optimizer._update_group`), which gives the same
values, so which path a parameter takes never changes the result.
"""

from __future__ import annotations

from typing import Any

from actnet.device import OPS, Buffer, Device
from actnet.ndarray import buffer_of
from actnet.tensor import Tensor

Pairs = list[tuple[Tensor, Tensor]]
# (device, dtype) -> the parameters and their gradients' buffers
Batches = dict[tuple[Device, Any], tuple[list[Tensor], list[Buffer]]]


def fused_batches(op: str, work: Pairs) -> tuple[Batches, Pairs]:
    """The pairs of `work` that `op` takes, by device and dtype (parameters, and
    their gradients' buffers, in `work`'s order), and the others."""
    dtypes = OPS[op].dtypes
    batches: Batches = {}
    rest: Pairs = []
    for p, grad in work:
        buf = buffer_of(p.array)
        g = buffer_of(grad.array)
        dtype = buf.dtype
        if (
            g.dtype == dtype
            and g.shape == buf.shape
            and g.device is buf.device
            and dtype in dtypes
        ):
            key = (buf.device, dtype)
            batch = batches.get(key)
            if batch is None:
                batch = batches[key] = ([], [])
            batch[0].append(p)
            batch[1].append(g)
        else:
            rest.append((p, grad))
    return batches, rest
