"""`torch.nn.parallel`'s place: data parallelism across processes."""

from actnet.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
