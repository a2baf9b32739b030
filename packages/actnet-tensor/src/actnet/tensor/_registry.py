"""What the layers above register with actnet.tensor, and how it is found.

torch's functions that are actnet.neuron's operations (`torch.softmax`,
`torch.relu`, ...) and the Tensor methods of the same names are registered here
by actnet.neuron when it is imported (`_namespaces.register_function`), the
way actnet.nn and actnet.util.data register torch.nn, torch.optim and
torch.utils.data. PyTorch code that only does `import torch` finds them all the
same: a registered name asked for before its provider was imported imports the
provider by name when it is installed, as PyTorch loads its own submodules.
actnet.tensor never needs them: without them installed (actnet-tensor alone),
the AttributeError names the distribution to import.
"""

from __future__ import annotations

import importlib
import importlib.util
import types
from collections.abc import Callable
from typing import Any

# torch's functions (and Tensor methods of the same names) that the layers above
# implement, and the module that registers them when imported
FUNCTION_PROVIDERS = {
    "softmax": "actnet.neuron",
    "log_softmax": "actnet.neuron",
    "relu": "actnet.neuron",
    "relu_": "actnet.neuron",
}
functions: dict[str, Callable[..., Any]] = {}
methods: dict[str, Callable[..., Any]] = {}


def import_provider(module: str) -> bool:
    """Import `module` (a layer above, which registers its names) when it is
    installed; whether it was."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        found = False
    if found:
        importlib.import_module(module)
    return found


def method(obj: object, name: str) -> Any:
    """Tensor's `__getattr__` (asked only for attributes a Tensor lacks): the
    registered method `name` bound to obj, its provider imported first when
    installed; else the AttributeError Python raises."""
    function = methods.get(name)
    if function is None:
        provider = FUNCTION_PROVIDERS.get(name)
        if provider is not None and import_provider(provider):
            function = methods.get(name)
    if function is None:
        raise AttributeError(f"'{type(obj).__name__}' object has no attribute {name!r}")
    return types.MethodType(function, obj)
