"""`torch.distributed`'s place (the porting rule): a default process group and
collectives on Tensors, in place, with torch's names.

    import actnet.tensor.distributed as dist
    dist.init_process_group(backend="mpi")   # under `mpiexec -n 2 python ...`
    t = at.full((4,), float(dist.get_rank()))
    dist.all_reduce(t, op=dist.ReduceOp.SUM)  # t is 0 + 1 on both ranks
    dist.destroy_process_group()

The transport is actnet-device's (`actnet.device.collectives`: MPI through
mpi4py, `pip install "actnet-device[mpi]"`). A collective writes the tensor's
own buffer when nothing else holds it (copy-on-write otherwise, as the in-place
methods), outside autograd, and returns None, or a work handle with `wait()` when
`async_op=True`. Functions other than `init_process_group` and `is_initialized`
raise RuntimeError without a group, as torch's do.
"""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Final

from actnet.device.collectives import MPIGroup, ProcessGroup, Work
from actnet.tensor._grad_mode import no_grad
from actnet.tensor._tensor import Tensor
from actnet.tensor._views import writable_buffer

__all__ = [
    "ReduceOp",
    "Work",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "is_initialized",
]

BACKENDS: Final = ("mpi",)


class ReduceOp(Enum):
    """torch.distributed.ReduceOp's members that the transports have."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"


# The default process group, while there is one (a list: no global statement).
_default: list[ProcessGroup] = []


def init_process_group(
    backend: str = "mpi", timeout: datetime.timedelta | None = None
) -> None:
    """Join the default process group: every process started by `mpiexec`.
    `timeout` (torch's default: 30 minutes) bounds how long a collective waits
    for the others: then it raises TimeoutError instead of hanging. An uncaught
    exception in one process ends them all (after its traceback is printed)."""
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"timeout must be a datetime.timedelta, got {timeout!r}")
    if backend not in BACKENDS:
        raise ValueError(
            f"init_process_group: backend must be one of {BACKENDS}, got {backend!r}"
        )
    if _default:
        raise RuntimeError(
            "init_process_group: the default process group is already initialized "
            "(destroy_process_group() first)"
        )
    seconds = 1800.0 if timeout is None else timeout.total_seconds()
    _default.append(MPIGroup(timeout=seconds))


def is_initialized() -> bool:
    return bool(_default)


def group() -> ProcessGroup:
    """The default process group (RuntimeError without one)."""
    if not _default:
        raise RuntimeError(
            "Default process group has not been initialized, please make sure to "
            "call init_process_group."
        )
    return _default[0]


def destroy_process_group() -> None:
    group()
    _default.clear()


def get_rank() -> int:
    return group().rank


def get_world_size() -> int:
    return group().size


def barrier() -> None:
    group().barrier()


def _op(op: ReduceOp | str) -> str:
    if isinstance(op, ReduceOp):
        return op.value
    raise TypeError(f"op must be a ReduceOp (SUM, AVG, MAX), got {op!r}")


def _tensor(t: object, name: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a Tensor, got {type(t).__name__}")
    return t


def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, async_op: bool = False
) -> Work | None:
    """tensor = op over the ranks of their `tensor`, in place."""
    g, kind = group(), _op(op)
    with no_grad():
        buf = writable_buffer(_tensor(tensor, "tensor"))
    return g.all_reduce(buf, kind, async_op=async_op)


def broadcast(tensor: Tensor, src: int = 0, async_op: bool = False) -> Work | None:
    """tensor = rank `src`'s tensor, in place, on every rank."""
    g = group()
    with no_grad():
        buf = writable_buffer(_tensor(tensor, "tensor"))
    return g.broadcast(buf, src, async_op=async_op)


def all_gather(
    tensor_list: list[Tensor], tensor: Tensor, async_op: bool = False
) -> Work | None:
    """tensor_list[r] = rank r's `tensor` (a list of world_size tensors of its
    shape and dtype, written in place)."""
    g = group()
    t = _tensor(tensor, "tensor")
    if not isinstance(tensor_list, list) or len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list must be a list of {g.size} tensors")
    for i, item in enumerate(tensor_list):
        if _tensor(item, f"tensor_list[{i}]").shape != t.shape or item.dtype != t.dtype:
            raise ValueError(
                f"all_gather: tensor_list[{i}] is {item.shape} of {item.dtype}, "
                f"tensor is {t.shape} of {t.dtype}"
            )
    src = t.array.buffer
    dev = src.device
    gathered = dev.alloc((g.size, *t.shape), t.dtype)
    if not src.native.flags.c_contiguous:
        src = dev.copy(src)
    work = g.all_gather(src, gathered, async_op=True)
    assert work is not None

    def scatter_out() -> None:
        with no_grad():
            for r, item in enumerate(tensor_list):
                dev.copy(gathered[r], out=writable_buffer(item))

    handle = work.then(scatter_out)
    if async_op:
        return handle
    handle.wait()
    return None
