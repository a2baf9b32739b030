"""`torch.backends.cudnn`: cuDNN's switches, kept as PyTorch keeps them (module
attributes a script may set), with PyTorch's defaults. actnet has no cuDNN:
`is_available()` is False and `version()` None, as torch says without it; the
switches change nothing in actnet's kernels.

>>> import actnet.tensor as torch
>>> torch.backends.cudnn.benchmark = True
>>> torch.backends.cudnn.is_available()
False
"""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """Whether cuDNN can be used: never in actnet (its CUDA device is CuPy's)."""
    return False


def version() -> int | None:
    """cuDNN's version: None, as torch's answer without cuDNN."""
    return None
