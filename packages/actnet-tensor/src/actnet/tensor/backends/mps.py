"""`torch.backends.mps`: Apple's Metal device, which actnet has not (its devices
are `cpu`, `reference` and CuPy's `cuda`).

>>> import actnet.tensor as torch
>>> torch.backends.mps.is_available()
False
"""

from __future__ import annotations


def is_available() -> bool:
    """Whether an MPS device can be used: never in actnet."""
    return False


def is_built() -> bool:
    """Whether this build supports MPS: no."""
    return False
