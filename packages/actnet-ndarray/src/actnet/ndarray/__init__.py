"""actnet-ndarray: immutable n-dimensional arrays and an array API standard namespace
over actnet-device.

This release is a placeholder that reserves the name and the place in the
layer chain; the layer itself arrives with its issue.
"""

from actnet.ndarray._version import __version__

__all__ = ["__version__"]
