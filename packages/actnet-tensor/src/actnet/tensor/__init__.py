"""actnet-tensor: `Tensor` with `.grad`, hooks and the autograd engine, over actnet-
ndarray.

This release is a placeholder that reserves the name and the place in the
layer chain; the layer itself arrives with its issue.
"""

from actnet.tensor._version import __version__

__all__ = ["__version__"]
