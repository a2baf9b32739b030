"""torch's subpackages as attributes of actnet.tensor, for code ported by its imports.

PyTorch code that imports `torch` reaches `torch.nn.init.normal_`,
`torch.optim.AdamW` or `torch.utils.data.DataLoader` through it. Under the
porting rule `torch` is `actnet.tensor`, and those live in the layers above
(actnet.nn, actnet.util), which actnet.tensor cannot import. So each of them
names itself here when it is imported, and actnet.tensor's module `__getattr__`
serves it: `actnet.tensor.nn is actnet.nn` once actnet.nn is imported, as
`torch.nn` is there once torch is. `utils` is made here: `utils.checkpoint` is
actnet.tensor.checkpoint, and `utils.data` is actnet.util.data once imported.

    import actnet.tensor as torch
    import actnet.nn as nn                 # registers "nn" and "optim"
    torch.nn.init.zeros_(nn.Linear(2, 2).bias)
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from actnet.tensor import checkpoint
from actnet.tensor._tensor import Tensor

# what each registered name stands for in PyTorch, and which import provides it
_PROVIDERS = {
    "nn": "torch.nn: import actnet.nn",
    "optim": "torch.optim: import actnet.nn (actnet.nn.optim)",
    "utils.data": "torch.utils.data: import actnet.util.data",
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


# torch's functions (and Tensor methods of the same names) that the layers above
# implement, and which import provides them
_FUNCTION_PROVIDERS = {
    "softmax": "actnet.neuron",
    "log_softmax": "actnet.neuron",
    "relu": "actnet.neuron",
    "relu_": "actnet.neuron",
}
_functions: dict[str, Callable[..., Any]] = {}


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
    if name not in _FUNCTION_PROVIDERS:
        raise ValueError(
            f"register_function: name must be one of {sorted(_FUNCTION_PROVIDERS)}, "
            f"got {name!r}"
        )
    if not callable(function) or not (method is None or callable(method)):
        raise TypeError("register_function: function and method must be callables")
    _functions[name] = function
    if method is not None:
        setattr(Tensor, name, method)


def _utils_attribute(name: str) -> types.ModuleType:
    if name == "data":
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
    function = _functions.get(name)
    if function is not None:
        return function
    if name in _FUNCTION_PROVIDERS:
        raise AttributeError(
            f"module 'actnet.tensor' has no attribute {name!r} yet: "
            f"import {_FUNCTION_PROVIDERS[name]} (or actnet.nn) first (the "
            "porting rule)"
        )
    for path, provider in _PROVIDERS.items():
        if path.partition(".")[0] == name:
            raise AttributeError(
                f"module 'actnet.tensor' has no attribute {name!r} yet: "
                f"{provider} first (the porting rule)"
            )
    raise AttributeError(f"module 'actnet.tensor' has no attribute {name!r}")
