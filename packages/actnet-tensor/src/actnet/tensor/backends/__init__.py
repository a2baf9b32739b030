"""`torch.backends`' place for code ported by its imports: the switches of
PyTorch's GPU libraries, as torch reports them on a machine without them.
actnet's CPU kernels read none of them; scripts set them (`cudnn.benchmark =
True`) and ask them (`mps.is_available()`), and both work.

    import actnet.tensor as torch
    torch.backends.cudnn.benchmark = True    # a switch, kept
    use_mps = torch.backends.mps.is_available()  # False
"""

from __future__ import annotations

from actnet.tensor.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
