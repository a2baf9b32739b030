"""How many CUDA devices actnet can use (CuPy's, the extra
`actnet-device[cuda]`): `actnet.tensor.cuda`'s answers, also asked by autocast
and GradScaler."""

from __future__ import annotations

from actnet.device import get_device


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
