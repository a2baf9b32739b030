"""`torch.cpu`'s place for code ported by its imports: `torch.cpu.amp`.

import actnet.tensor as torch
with torch.cpu.amp.autocast():  # deprecated: torch.autocast("cpu")
    ...
"""

from __future__ import annotations

from actnet.tensor.cpu import amp

__all__ = ["amp"]
