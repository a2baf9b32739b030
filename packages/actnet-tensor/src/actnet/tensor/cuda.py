"""`torch.cuda`'s place for code ported by its imports: whether actnet's CUDA
device (CuPy, the extra `actnet-device[cuda]`) can be used, and how many GPUs.

    import actnet.tensor as torch
    device = "cuda" if torch.cuda.is_available() else "cpu"
"""

from __future__ import annotations

from actnet.device import get_device

__all__ = ["device_count", "is_available"]


def device_count() -> int:
    """The number of CUDA devices actnet can use: 0 without CuPy or a GPU.

    >>> device_count() >= 0
    True
    """
    count = 0
    while True:
        try:
            get_device(f"cuda:{count}")
        except RuntimeError:  # no CuPy, no driver, or no device of that index
            return count
        count += 1


def is_available() -> bool:
    """Whether a CUDA device can be used (`get_device("cuda")` works).

    >>> is_available() in (True, False)
    True
    """
    return device_count() > 0
