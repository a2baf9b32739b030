"""actnet-nn: stateful modules, initialisers, optimisers, schedulers and safetensors
weights, over actnet-neuron.

This release is a placeholder that reserves the name and the place in the
layer chain; the layer itself arrives with its issue.
"""

from actnet.nn._version import __version__

__all__ = ["__version__"]
