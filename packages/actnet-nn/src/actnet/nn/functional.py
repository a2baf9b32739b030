"""`torch.nn.functional`'s place in the porting rule: actnet.neuron's functions.

PyTorch code imports `torch.nn.functional as F`; on actnet that line becomes
`import actnet.nn.functional as F`, and every name is actnet.neuron's own function
(the same object: one implementation, two paths), so `F.cross_entropy`,
`F.scaled_dot_product_attention`, `F.lstm`, ... behave as documented there.

    import actnet.nn.functional as F
    F.softmax(x, dim=-1) is actnet.neuron.softmax(x, dim=-1)  # the same function
"""

from actnet.neuron import *  # the whole namespace, by design
from actnet.neuron import __all__ as _neuron_all

__all__ = [name for name in _neuron_all if name != "__version__"]
