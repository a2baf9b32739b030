"""torch's subpackages as attributes of actnet.tensor, for code ported by its imports.

PyTorch code that imports `torch` reaches `torch.nn.init.normal_`,
`torch.optim.AdamW` or `torch.utils.data.DataLoader` through it. Under the
porting rule `torch` is `actnet.tensor`, and those live in the layers above
(actnet.nn, actnet.util), which actnet.tensor cannot import. So each of them
names itself here when it is imported, and actnet.tensor's module `__getattr__`
serves it: `actnet.tensor.nn is actnet.nn` once actnet.nn is imported. `utils`
is made here: `utils.checkpoint` is actnet.tensor.checkpoint, and `utils.data`
is actnet.util.data once imported. torch's functions that are actnet.neuron's
operations (`torch.softmax`, and the Tensor methods `x.softmax(-1)`,
`x.relu()`) are registered the same way, by actnet.neuron.

PyTorch code that only does `import torch` finds `torch.nn` there, and ported
code must too: a registered name asked for before its provider was imported
imports the provider by name when it is installed (`_registry.import_provider`:
`torch.nn` imports actnet.nn, `x.softmax` actnet.neuron).

    import actnet.tensor as torch
    torch.nn.init.zeros_(torch.nn.Linear(2, 2).bias)   # imports actnet.nn
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from actnet.tensor import _registry, checkpoint
from actnet.tensor._registry import FUNCTION_PROVIDERS, import_provider

# what each registered name stands for in PyTorch, and which import provides it
_PROVIDERS = {
    "nn": "torch.nn: import actnet.nn",
    "optim": "torch.optim: import actnet.nn (actnet.nn.optim)",
    "utils.data": "torch.utils.data: import actnet.util.data",
}
# ... and the module that registers it when imported
_PROVIDER_MODULES = {
    "nn": "actnet.nn",
    "optim": "actnet.nn",
    "utils.data": "actnet.util.data",
}


# actnet.tensor's attributes by registration; `utils` always holds checkpoint
_utils = types.ModuleType(
    "actnet.tensor.utils",
    "torch.utils's place: `checkpoint` (actnet.tensor.checkpoint) and `data` "
    "(actnet.util.data, once imported).",
)
setattr(_utils, "checkpoint", checkpoint)  # noqa: B010 (a module made here)
_registered: dict[str, types.ModuleType] = {"utils": _utils}


def register_namespace(path: str, module: types.ModuleType) -> None:
    """Make `module` reachable as ``actnet.tensor.<path>``, where PyTorch code
    finds `torch.<path>` (`"nn"`, `"optim"`, `"utils.data"`); what actnet.nn and
    actnet.util.data call when they are imported.

    >>> import actnet.tensor as at, actnet.nn
    >>> at.nn is actnet.nn
    True
    """
    if path not in _PROVIDERS:
        raise ValueError(
            f"register_namespace: path must be one of {sorted(_PROVIDERS)}, "
            f"got {path!r}"
        )
    if not isinstance(module, types.ModuleType):
        raise TypeError(
            f"register_namespace: module must be a module, got {type(module).__name__}"
        )
    head, _, rest = path.partition(".")
    if rest:
        setattr(_registered[head], rest, module)
    else:
        _registered[head] = module


def register_function(
    name: str, function: Callable[..., Any], method: Callable[..., Any] | None
) -> None:
    """Make `function` reachable as ``actnet.tensor.<name>`` (`torch.softmax`,
    `torch.relu`, ...), and `method` (when given) as ``Tensor.<name>``
    (`x.softmax(-1)`): what actnet.neuron, which implements them above this
    layer, calls when it is imported.

    >>> import actnet.tensor as at, actnet.neuron
    >>> at.softmax(at.zeros(2), 0), at.zeros(2).relu()
    (tensor([0.5, 0.5]), tensor([0., 0.]))
    """
    if name not in FUNCTION_PROVIDERS:
        raise ValueError(
            f"register_function: name must be one of {sorted(FUNCTION_PROVIDERS)}, "
            f"got {name!r}"
        )
    if not callable(function) or not (method is None or callable(method)):
        raise TypeError("register_function: function and method must be callables")
    _registry.functions[name] = function
    if method is not None:
        _registry.methods[name] = method


def _utils_attribute(name: str) -> types.ModuleType:
    if name == "data":
        if import_provider(_PROVIDER_MODULES["utils.data"]):
            module: types.ModuleType | None = getattr(_utils, "data", None)
            if module is not None:
                return module
        raise AttributeError(
            "module 'actnet.tensor.utils' has no attribute 'data' yet: "
            f"{_PROVIDERS['utils.data']} first (the porting rule)"
        )
    raise AttributeError(f"module 'actnet.tensor.utils' has no attribute {name!r}")


# PEP 562: a module's __getattr__ is looked up in its namespace
setattr(_utils, "__getattr__", _utils_attribute)  # noqa: B010


def lookup(name: str) -> types.ModuleType | Callable[..., Any]:
    """actnet.tensor's attribute `name` when it is a registered namespace or
    function; else the AttributeError Python raises, saying which import
    provides it when it is one of torch's subpackages or functions."""
    module = _registered.get(name)
    if module is not None:
        return module
    function = _registry.functions.get(name)
    if function is not None:
        return function
    provider = _PROVIDER_MODULES.get(name) or FUNCTION_PROVIDERS.get(name)
    if provider is not None and import_provider(provider):
        found = _registered.get(name) or _registry.functions.get(name)
        if found is not None:
            return found
    if name in FUNCTION_PROVIDERS:
        raise AttributeError(
            f"module 'actnet.tensor' has no attribute {name!r} yet: "
            f"import {FUNCTION_PROVIDERS[name]} (or actnet.nn) first (the "
            "porting rule)"
        )
    for path, provider in _PROVIDERS.items():
        if path.partition(".")[0] == name:
            raise AttributeError(
                f"module 'actnet.tensor' has no attribute {name!r} yet: "
                f"{provider} first (the porting rule)"
            )
    raise AttributeError(f"module 'actnet.tensor' has no attribute {name!r}")
