"""actnet-device: one runtime API for compute devices: the NumPy (CPU) reference
backend and a CuPy (CUDA) backend, buffers in arenas managed by actnet-mem, a
counter-based random number generator, and a conformance kit.

This release is a placeholder that reserves the name and the place in the
layer chain; the layer itself arrives with its issue.
"""

from actnet.device._version import __version__

__all__ = ["__version__"]
