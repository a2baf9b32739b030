"""Module's state dict: its parameters and persistent buffers by PyTorch's dotted
key names, and loading them back (PyTorch's checks and error texts).

`ModuleStateDict` is the part of `Module` that reads and writes them; the
registries it reads are Module's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

import actnet.tensor as at
from actnet.ndarray import NDArray
from actnet.nn._parameter import Parameter
from actnet.tensor import Tensor


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` returns (PyTorch's `_IncompatibleKeys`)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class ModuleStateDict:
    """`state_dict` and `load_state_dict` over Module's registries."""

    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    # Module's children (a Mapping: covariant, so Module may say dict of Module).
    _modules: Mapping[str, ModuleStateDict | None]

    def state_dict(
        self,
        *,
        destination: dict[str, Tensor] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> dict[str, Tensor]:
        """Parameters and persistent buffers by PyTorch's dotted key names, in
        registration order, each module's own before its children's. Values are
        detached aliases, as PyTorch's: they show the module's values as an
        optimizer updates them (`clone()` them to keep a snapshot)."""
        out: dict[str, Tensor] = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=out, prefix=f"{prefix}{name}.", keep_vars=keep_vars
                )
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers (cast to their
        dtype and device). With strict, a missing or unexpected key is an error;
        a shape mismatch always is. Nothing is loaded when there is an error.
        `assign=True` takes the given values (their dtype) instead of copying."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"Expected state_dict to be dict-like, got {type(state_dict)}."
            )
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = _unexpected_keys(self, state_dict, "")
        errors = []
        values: dict[str, Tensor] = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            raw = state_dict[key]
            if not isinstance(raw, Tensor | NDArray | np.ndarray):
                errors.append(
                    f'While copying the parameter named "{key}", expected Tensor or '
                    f"Tensor-like object from checkpoint but received {type(raw)}"
                )
                continue
            value = _as_tensor(raw)
            if value.shape != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{value.shape} from checkpoint, the shape in current model is "
                    f"{target.shape}."
                )
                continue
            values[key] = value
        if strict:
            if unexpected:
                keys = ", ".join(f'"{k}"' for k in unexpected)
                errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing:
                keys = ", ".join(f'"{k}"' for k in missing)
                errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with at.no_grad():
            for key, value in values.items():
                target = own[key]
                if assign:
                    target.data = value.to(target.device).array
                else:
                    target.copy_(value.to(target.device, target.dtype))
        return IncompatibleKeys(missing, unexpected)


def _unexpected_keys(
    module: ModuleStateDict, state_dict: Mapping[str, Any], prefix: str
) -> list[str]:
    """Keys under `prefix` that no parameter, buffer or child claims, module by
    module in PyTorch's order (a module's own before its children's)."""
    own = {
        *(k for k, v in module._parameters.items() if v is not None),
        *(
            k
            for k, v in module._buffers.items()
            if v is not None and k not in module._non_persistent_buffers
        ),
    }
    found = []
    for key in state_dict:
        if not isinstance(key, str) or not key.startswith(prefix):
            continue
        # PyTorch's rule: a dotted rest must start with a child's name, a plain
        # one must be a parameter or persistent buffer of this module.
        head, dot, _ = key[len(prefix) :].partition(".")
        if (head not in module._modules) if dot else (head not in own):
            found.append(key)
    for name, child in module._modules.items():
        if child is not None:
            found += _unexpected_keys(child, state_dict, f"{prefix}{name}.")
    return found


def _as_tensor(value: Tensor | NDArray | np.ndarray[Any, Any]) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, NDArray):
        return at.as_tensor(value)
    return at.tensor(value)
