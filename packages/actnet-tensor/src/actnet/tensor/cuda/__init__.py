"""`torch.cuda`'s place for code ported by its imports: whether actnet's CUDA
device (CuPy, the extra `actnet-device[cuda]`) can be used, how many GPUs, and
`torch.cuda.amp` (`autocast` and `GradScaler`, deprecated there in favour of
`torch.amp`'s; without CUDA they warn and do nothing, as torch's do).

    import actnet.tensor as torch
    device = "cuda" if torch.cuda.is_available() else "cpu"
"""

from __future__ import annotations

from actnet.tensor._cuda_devices import device_count, is_available
from actnet.tensor._random import manual_seed as _manual_seed
from actnet.tensor.cuda import amp

__all__ = [
    "amp",
    "device_count",
    "is_available",
    "is_bf16_supported",
    "manual_seed",
    "manual_seed_all",
]


def manual_seed(seed: int) -> None:
    """`torch.cuda.manual_seed`: every actnet device draws from the one default
    generator (actnet.tensor.manual_seed), which this seeds, with or without a
    GPU (PyTorch's defers the seed until CUDA starts)."""
    _manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """`torch.cuda.manual_seed_all`: as manual_seed (one generator for all)."""
    _manual_seed(seed)


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether CUDA computes in bfloat16: False, as torch's answer without a GPU
    (actnet's CUDA device, CuPy, has no bfloat16 arithmetic). nanoGPT asks it to
    choose float16 and a GradScaler.

    >>> is_bf16_supported()
    False
    """
    return False
