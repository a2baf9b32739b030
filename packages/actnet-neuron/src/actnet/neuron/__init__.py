"""actnet-neuron: stateless differentiable functions with `torch.nn.functional`
signatures, over actnet-tensor.

This release is a placeholder that reserves the name and the place in the
layer chain; the layer itself arrives with its issue.
"""

from actnet.neuron._version import __version__

__all__ = ["__version__"]
