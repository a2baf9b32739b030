"""actnet-util: data loading, the training loop, checkpoints, plots, demos and the
`actnet` command, over actnet-nn.

This release is a placeholder that reserves the name and the place in the
layer chain; the layer itself arrives with its issue.
"""

from actnet.util._version import __version__

__all__ = ["__version__"]
