"""`DistributedDataParallel`: each process trains a replica of the model on its
share of every batch, and the replicas' gradients are averaged, so that N
processes take the steps one process would take on the whole batch.

    dist.init_process_group("mpi")              # under mpiexec -n N
    model = DistributedDataParallel(net)        # net's weights: rank 0's
    loss_fn(model(x_share), y_share).backward() # gradients averaged over ranks
    opt.step()                                  # the same step on every rank

As PyTorch's:
- the parameters and buffers are broadcast from rank 0 when it is made;
- the gradients are averaged in buckets of about `bucket_cap_mb` MiB, the
  parameters taken in the reverse order of their registration (the order
  backward reaches them): a bucket's all-reduce starts, without blocking, as soon
  as backward has accumulated the gradients of all its parameters
  (`register_post_accumulate_grad_hook`), each gradient divided by the world
  size on its way into the bucket, and backward ends by waiting for every bucket
  (`actnet.tensor.queue_callback`); the averaged gradients are then views of
  their buckets (`gradient_as_bucket_view`: nothing is copied back);
- `no_sync()`: backwards inside it only accumulate, and the next one outside
  averages what was accumulated (gradient accumulation);
- every parameter that requires grad must get a gradient in every synced backward
  (RuntimeError otherwise; `find_unused_parameters` is not built);
- `.module` is the wrapped model, and the state dict's keys start with `module.`.

Inside a captured step (`actnet.tensor.compile`) the reduction runs as the
device's host step at the end of backward, so every replay averages again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import actnet.tensor as at
import actnet.tensor.distributed as dist
from actnet.device import Buffer
from actnet.device.collectives import Work
from actnet.ndarray import from_buffer
from actnet.nn._module import Module
from actnet.tensor import Tensor

__all__ = ["DistributedDataParallel"]

_MIB = 1 << 20


class _Bucket:
    """Parameters whose gradients are averaged together, in one flat buffer."""

    def __init__(self, params: list[Tensor]) -> None:
        self.params = params
        self.ready = 0  # parameters whose gradient this backward has accumulated
        self.flat: Buffer | None = None
        self.work: Work | None = None


class DistributedDataParallel(Module):
    """See the module's docstring."""

    def __init__(self, module: Module, bucket_cap_mb: float = 25) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
        if isinstance(bucket_cap_mb, bool) or not isinstance(
            bucket_cap_mb, int | float
        ):
            raise TypeError(f"bucket_cap_mb must be a number, got {bucket_cap_mb!r}")
        if bucket_cap_mb <= 0:
            raise ValueError(f"bucket_cap_mb must be > 0, got {bucket_cap_mb}")
        dist.group()  # RuntimeError without a process group, as PyTorch's
        self.module = module
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t, src=0)
        self._sync = True
        self._buckets: list[_Bucket] = []
        self._bucket_of: dict[int, _Bucket] = {}
        params = [p for p in module.parameters() if p.requires_grad]
        cap = int(bucket_cap_mb * _MIB)
        current: list[Tensor] = []
        size = 0
        for p in reversed(params):
            nbytes = p.numel() * p.dtype.itemsize
            if current and (size + nbytes > cap or p.dtype != current[0].dtype):
                self._add_bucket(current)
                current, size = [], 0
            current.append(p)
            size += nbytes
        if current:
            self._add_bucket(current)
        for p in params:
            p.register_post_accumulate_grad_hook(self._accumulated)
        self._launched: list[_Bucket] = []

    def _add_bucket(self, params: list[Tensor]) -> None:
        bucket = _Bucket(params)
        self._buckets.append(bucket)
        for p in params:
            self._bucket_of[id(p)] = bucket

    @property
    def bucket_sizes(self) -> list[int]:
        """The number of parameters of each bucket, in the order they reduce."""
        return [len(b.params) for b in self._buckets]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        # A new backward will follow: forget what one that raised left counted.
        for b in self._buckets:
            b.ready = 0
        self._launched = []
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backwards inside only accumulate their gradients locally."""
        before, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = before

    # ------------------------------------------------------------- reduction
    def _accumulated(self, p: Tensor) -> None:
        if not self._sync:
            return
        if not self._launched and not any(b.ready for b in self._buckets):
            at.queue_callback(self._finish)  # the first gradient of this backward
        bucket = self._bucket_of[id(p)]
        bucket.ready += 1
        if bucket.ready == len(bucket.params):
            self._launched.append(bucket)
            if not p.device.capturing:  # a capture reduces in _finish's host step
                self._launch(bucket)

    def _launch(self, bucket: _Bucket) -> None:
        first = bucket.params[0]
        dev = first.device
        n = sum(q.numel() for q in bucket.params)
        flat = dev.alloc((n,), first.dtype, info=("gradient", "ddp bucket"))
        # Divided by the world size on the way in (as PyTorch's default hook
        # does): the sum the all-reduce makes is then the average, without a
        # pass of its own over the bucket.
        share = 1.0 / dist.get_world_size()
        offset = 0
        for q in bucket.params:
            assert q.grad is not None
            k = q.numel()
            dev.multiply(
                q.grad.array.buffer,
                share,
                out=flat[offset : offset + k].reshape(q.shape),
            )
            offset += k
        bucket.flat = flat
        bucket.work = dist.group().all_reduce(flat, "sum", async_op=True)

    def _finish(self) -> None:
        launched, self._launched = self._launched, []
        missing = [b for b in self._buckets if b.ready < len(b.params)]
        for b in self._buckets:
            b.ready = 0
        if missing:
            raise RuntimeError(
                "DistributedDataParallel: some parameters that require grad got no "
                "gradient in this backward, so their bucket cannot be reduced (the "
                "other ranks would wait for it); give every parameter a gradient "
                "(find_unused_parameters is not built)"
            )
        device = launched[0].params[0].device
        if device.capturing:  # every replay reduces again, after backward
            device.host_step(lambda: self._reduce(launched, launch=True))
        else:
            self._reduce(launched, launch=False)

    def _reduce(self, buckets: list[_Bucket], *, launch: bool) -> None:
        """Wait for the buckets' averages and make them the gradients: eagerly,
        each gradient becomes a view of its bucket (PyTorch's
        gradient_as_bucket_view: no copy back); inside a captured step's host
        step they are copied into the recorded gradients, which the replay's
        kernels read where they are."""
        if launch:
            for b in buckets:
                self._launch(b)
        with at.no_grad():
            for b in buckets:
                assert b.work is not None and b.flat is not None
                b.work.wait()
                dev, offset = b.flat.device, 0
                for q in b.params:
                    assert q.grad is not None
                    k = q.numel()
                    part = b.flat[offset : offset + k].reshape(q.shape)
                    if launch:
                        dev.copy(part, out=at.writable_buffer(q.grad))
                    else:
                        q.grad = at.as_tensor(from_buffer(part))
                    offset += k
                b.flat = b.work = None
