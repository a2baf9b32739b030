"""Optimizer: parameter groups, per-parameter state, PyTorch's state_dict layout,
and the step that every optimizer shares.

A step evaluates the closure (with grad), then, without grad, updates each group's
parameters that have a gradient, in place, on device buffers: a tensor is written
into only when nothing else holds its buffer (the copy-on-write rule of
actnet.tensor, `writable_buffer`), otherwise it first gets a private copy. So once
the state exists, a step allocates nothing that outlives it: its scratch buffers go
when it returns. Large contiguous tensors are updated in blocks (see `_blocks.py`),
each element by the same operations in the same order. A subclass supplies only
its update: `_group_options`, `_state_buffers` and `_update_block`.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeAlias

import actnet.tensor as at
from actnet.device import Buffer, Device
from actnet.ndarray import buffer_of
from actnet.nn._labels import label
from actnet.nn.optim._blocks import BLOCK, Scratch, blocks
from actnet.tensor import Tensor

ParamsT: TypeAlias = (
    Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]
)
StateDict: TypeAlias = dict[str, Any]


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
        """One update of every parameter that has a gradient; returns closure()'s
        loss (evaluated first, with the graph recorded) when a closure is given."""
        loss = None
        if closure is not None:
            with at.enable_grad():
                loss = closure()
        device = self._capturing_device()
        if device is None:
            self._update()
        else:  # inside a captured step: every replay runs the update again
            device.host_step(self._update)
        return loss

    def _update(self) -> None:
        with at.no_grad():
            for group in self.param_groups:
                work = [(p, p.grad) for p in group["params"] if p.grad is not None]
                self._update_group(group, work)

    def _capturing_device(self) -> Device | None:
        """The device recording a captured step (`actnet.tensor.compile`) that
        this step is part of, if any (the first parameter of each group tells)."""
        for group in self.param_groups:
            for p in group["params"]:
                device: Device = p.device
                if device.capturing:
                    return device
                break
        return None

    def _update_group(
        self, group: dict[str, Any], work: list[tuple[Tensor, Tensor]]
    ) -> None:
        """Update the (parameter, gradient) pairs of `group`: for each, its buffer,
        its gradient's and its state's (`_state_buffers`), block by block through
        `_update_block`; an update that needs no scratch gets them whole."""
        options, n_scratch = self._group_options(group)
        scratch = Scratch(n_scratch) if n_scratch else None
        if scratch is not None:
            for p, _ in work:
                scratch.reserve(buffer_of(p.array), BLOCK)
        for p, grad in work:
            # Every buffer is made writable before any view of it exists.
            buffers = [at.writable_buffer(p), buffer_of(grad.array)]
            extra = self._state_buffers(p, buffers, options)
            if scratch is None:
                self._update_block(buffers, (), options, extra)
                continue
            for block in blocks(buffers):
                self._update_block(block, scratch.views(block[0]), options, extra)

    # The update, which each optimizer supplies.
    def _group_options(self, group: dict[str, Any]) -> tuple[Any, int]:
        """The group's options as `_update_block` reads them, and how many scratch
        buffers (of a block's shape) it needs; 0: no blocks, whole buffers."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def _state_buffers(self, p: Tensor, buffers: list[Buffer], options: Any) -> Any:
        """Append p's state, as writable buffers of p's shape (made on the first
        step), to `buffers` ([param, grad]); return a value for `_update_block`
        (say, the step's bias correction)."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def _update_block(
        self,
        buffers: list[Buffer],
        scratch: Sequence[Buffer],
        options: Any,
        extra: Any,
    ) -> None:
        """Update one block in place: buffers are [param, grad, *state] (views of
        the same elements), scratch temporaries of their shape."""
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
        if moved.array is value.array:
            moved = moved.clone()
        label_state(moved, "state")
        return moved
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_cast(param, v, None) for v in value)
    return value


# ------------------------------------------------------- helpers of the updates
def label_state(t: Tensor, what: str) -> None:
    """Mark t's memory as optimizer state in the device's memory snapshot."""
    label(t.array, ("optimizer state", what))


def check_number(value: Any, name: str, what: str) -> float:
    """value as a float, after checking it is a real number >= 0 (PyTorch's
    message, "Invalid {what}: {value}", otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if math.isnan(value) or value < 0.0:
        raise ValueError(f"Invalid {what}: {value}")
    return float(value)


def check_implementation(
    foreach: Any, fused: Any, differentiable: Any, capturable: Any = False
) -> None:
    """PyTorch's choices of implementation, taken so that code passing them
    ports (`AdamW(..., fused=use_fused)`, as nanoGPT does): actnet's update is
    one fused device pass per tensor whatever foreach and fused say, and a
    captured step (`actnet.tensor.compile`) replays it whatever capturable
    says; an update autograd can differentiate (differentiable=True) is
    refused."""
    for name, value in (("foreach", foreach), ("fused", fused)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool or None, got {value!r}")
    if not isinstance(capturable, bool):
        raise TypeError(f"capturable must be a bool, got {capturable!r}")
    if differentiable is not False:
        raise NotImplementedError(
            "differentiable=True (an update autograd can follow) is not "
            "supported: actnet's optimizers update under no_grad"
        )
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def check_float_params(params: list[Tensor], who: str, complex_ok: bool) -> None:
    """Refuse parameters that the update formulas cannot hold."""
    for p in params:
        kind = p.dtype.kind
        if kind != "f" and not (complex_ok and kind == "c"):
            raise TypeError(
                f"{who} optimizes floating-point parameters"
                f"{' (or complex)' if complex_ok else ''}, got one of {p.dtype}"
            )
