"""Utilities over modules and their parameters (PyTorch's `torch.nn.utils`), and
the atomic file writes that actnet's savers share.

Clip the gradients between backward and the optimizer's step:

    import actnet.nn as nn
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()
"""

from actnet.nn.utils._atomic_write import fsync_directory, write_atomic
from actnet.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from actnet.nn.utils.convert_parameters import (
    parameters_to_vector,
    vector_to_parameters,
)

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "fsync_directory",
    "parameters_to_vector",
    "vector_to_parameters",
    "write_atomic",
]
