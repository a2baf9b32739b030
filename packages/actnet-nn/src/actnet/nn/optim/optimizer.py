"""Optimizer: parameter groups, per-parameter state, PyTorch's state_dict layout.

Subclasses (SGD, Adam, AdamW) update parameters and state in place, on device
buffers: a tensor is written into only when nothing else holds its buffer (the
copy-on-write rule of actnet.tensor), otherwise it first gets a private copy. So
once the state exists, a step allocates nothing that outlives it: its scratch
buffers go when it returns. Large contiguous tensors are updated in blocks (see
`blocks`), each element by the same operations in the same order.
"""

from __future__ import annotations

import copy
import math
import sys
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Final, TypeAlias

import numpy as np

from actnet.device import Buffer, Device
from actnet.ndarray import buffer_of
from actnet.tensor import Tensor

ParamsT: TypeAlias = (
    Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]
)
StateDict: TypeAlias = dict[str, Any]

_getrefcount = sys.getrefcount


class _RequiredParameter:
    """The default of an optimization option that every group must set."""

    def __repr__(self) -> str:
        return "<required parameter>"


required: Final = _RequiredParameter()


class Optimizer:
    """Base class of every optimizer (PyTorch's `torch.optim.Optimizer`).

    `params` is an iterable of Tensors, of (name, Tensor) pairs, or of dicts (one
    parameter group each: a "params" entry and options overriding `defaults`).

    >>> opt = SGD([{"params": model.features.parameters()},
    ...            {"params": model.head.parameters(), "lr": 1e-2}], lr=1e-3)
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of "
                "Tensors or dicts, but got Tensor"
            )
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "defaults": self.defaults,
            "state": self.state,
            "param_groups": self.param_groups,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own options) to `param_groups`."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"param_group must be a dict, but got {type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise KeyError("param_group must have a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            items: list[Any] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, "
                "but the ordering of tensors in sets will change between runs. "
                "Please use a list instead."
            )
        else:
            items = list(params)
        tensors = [p[1] if isinstance(p, tuple) else p for p in items]
        names = [p[0] for p in items if isinstance(p, tuple)]
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. "
                    "Some param names are missing"
                )
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        self._check_params(tensors)
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required "
                    f"optimization parameter {name}"
                )
            param_group.setdefault(name, default)
        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "in future, this will cause an error; see "
                "github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with" if "param_names" in param_group else "without"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} names to the optimizer"
                )
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _check_params(self, params: list[Tensor]) -> None:
        """Refuse parameters the update cannot hold (before the group is added)."""

    # ------------------------------------------------------------------- steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (set_to_none=True), or zero them in place."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters once; `closure` re-evaluates and returns the loss."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    # -------------------------------------------------------------- state dict
    def state_dict(self) -> StateDict:
        """The state as PyTorch lays it out: `{"state": {index: {...}},
        "param_groups": [{..., "params": [index, ...]}]}`, parameters numbered in
        the order of the groups. The state's tensors are the live ones (as in
        PyTorch): copy them to keep a snapshot."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {
            (index[id(k)] if isinstance(k, Tensor) else k): v
            for k, v in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Take the state and options of `state_dict` (from `state_dict()` of an
        optimizer with the same group sizes). Tensors of the state are copied
        (cast to each parameter's device, and to its dtype when floating, except
        `step`), so this optimizer never shares state with the dict."""
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"state_dict must be a dict, got {type(state_dict).__name__}"
            )
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise KeyError(f"state_dict has no {key!r} entry")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups"
            )
        if any(
            len(g["params"]) != len(s["params"])
            for g, s in zip(groups, saved_groups, strict=True)
        ):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match "
                "the size of optimizer's group"
            )
        id_map: dict[Any, Tensor] = {}
        for g, s in zip(groups, saved_groups, strict=True):
            id_map.update(zip(s["params"], g["params"], strict=True))
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = {
                    key: _cast(param, value, key) for key, value in v.items()
                }
            else:
                state[k] = v
        for g, s in zip(groups, saved_groups, strict=True):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _cast(param: Tensor, value: Any, key: str | None) -> Any:
    """A copy of a loaded state value, its tensors moved to param's device (and
    cast to its dtype when floating; a "step" keeps its own)."""
    if isinstance(value, Tensor):
        dtype = (
            param.dtype if key != "step" and param.dtype.kind in "fc" else value.dtype
        )
        device = value.device if key == "step" else param.device
        moved = value.detach().to(device, dtype)
        if moved.data is value.data:
            moved = moved.clone()
        label(moved, "state")
        return moved
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_cast(param, v, None) for v in value)
    return value


# ------------------------------------------------------- helpers of the updates
def label(t: Tensor, what: str) -> None:
    """Mark t's memory as optimizer state in the device's memory snapshot."""
    buf = buffer_of(t.data)
    if buf.base is None:
        buf.info = ("optimizer state", what)


# Elements per block of an update: a block of each of its ~7 operands (parameter,
# gradient, state, scratch) stays in a core's L2 cache across the update's passes,
# which all read and write memory: about 15% faster than whole tensors here.
BLOCK: Final = 1 << 16


def blocks(buffers: list[Buffer]) -> list[list[Buffer]]:
    """Same-size buffers as matching blocks of at most BLOCK elements (flat views),
    when all are contiguous and larger than a block; else the buffers whole.
    Elementwise updates give the same values either way."""
    n = buffers[0].size
    if n <= BLOCK or not all(b.is_contiguous for b in buffers):
        return [buffers]
    flat = [b.reshape(-1) for b in buffers]
    return [[f[i : i + BLOCK] for f in flat] for i in range(0, n, BLOCK)]


class Scratch:
    """Temporary buffers of one step: a few flat buffers per (device, dtype), as
    large as the largest block, seen with each block's shape. They go when the
    step drops this object."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._sizes: dict[tuple[Device, np.dtype[Any]], int] = {}
        self._flat: dict[tuple[Device, np.dtype[Any]], list[Buffer]] = {}

    def reserve(self, buf: Buffer, limit: int | None = None) -> None:
        """Make room for buffers of buf's shape (or of `limit` elements, if
        fewer), device and dtype."""
        key = (buf.device, buf.dtype)
        size = buf.size if limit is None else min(buf.size, limit)
        self._sizes[key] = max(self._sizes.get(key, 0), size)

    def views(self, buf: Buffer) -> list[Buffer]:
        """`count` scratch buffers of buf's shape (reserved before: a larger one,
        such as a tensor that cannot be split in blocks, makes them grow)."""
        key = (buf.device, buf.dtype)
        n, shape = buf.size, buf.shape
        flat = self._flat.get(key)
        if flat is None or flat[0].size < n:
            device, dtype = key
            size = max(self._sizes.get(key, 0), n)
            self._sizes[key] = size
            del flat
            self._flat.pop(key, None)  # the smaller ones go first
            flat = [
                device.alloc((size,), dtype, info=("scratch", "optimizer"))
                for _ in range(self.count)
            ]
            self._flat[key] = flat
        return [f[:n].reshape(shape) for f in flat]


def check_number(value: Any, name: str, what: str) -> float:
    """value as a float, after checking it is a real number >= 0 (PyTorch's
    message, "Invalid {what}: {value}", otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if math.isnan(value) or value < 0.0:
        raise ValueError(f"Invalid {what}: {value}")
    return float(value)


def check_float_params(params: list[Tensor], who: str, complex_ok: bool) -> None:
    """Refuse parameters that the update formulas cannot hold."""
    for p in params:
        kind = p.dtype.kind
        if kind != "f" and not (complex_ok and kind == "c"):
            raise TypeError(
                f"{who} optimizes floating-point parameters"
                f"{' (or complex)' if complex_ok else ''}, got one of {p.dtype}"
            )
