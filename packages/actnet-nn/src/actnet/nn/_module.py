"""Module and Parameter: state by attribute, PyTorch's vocabulary and key names."""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, ParamSpec, Protocol, Self, TypeVar, cast

import numpy as np

import actnet.tensor as at
from actnet.device import BACKENDS, Device, get_device
from actnet.ndarray import NDArray, buffer_of
from actnet.tensor import Function, FunctionCtx, RemovableHandle, Tensor

P = ParamSpec("P")
R_co = TypeVar("R_co", covariant=True)

# What a forward (pre-)hook may be: PyTorch's hook signatures, with or without kwargs.
ForwardPreHook = Callable[..., Any]
ForwardHook = Callable[..., Any]
BackwardHook = Callable[
    [Any, tuple[Tensor | None, ...], tuple[Tensor | None, ...]],
    tuple[Tensor | None, ...] | None,
]
BackwardPreHook = Callable[[Any, tuple[Tensor | None, ...]], Any]


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned to an attribute.

    >>> w = Parameter(at.randn(3, 4))      # requires_grad=True
    """

    __slots__ = ()

    def __new__(
        cls, data: Tensor | NDArray | None = None, requires_grad: bool = True
    ) -> Self:
        if data is None:
            values = at.empty(0).data
        elif isinstance(data, Tensor):
            values = data.data
        elif isinstance(data, NDArray):
            values = data
        else:
            raise TypeError(
                f"Parameter expects a Tensor or an NDArray, got {type(data).__name__}"
            )
        p = at.as_tensor(values).as_subclass(cls)
        _label(values, ("parameter", "Parameter"))
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self) -> tuple[Any, ...]:
        host = np.asarray(self.detach())
        return (_restore_parameter, (host, self.device.name, self.requires_grad))


def _restore_parameter(
    host: np.ndarray[Any, Any], device: str, requires_grad: bool
) -> Parameter:
    return Parameter(at.tensor(host, device=device), requires_grad)


def _label(data: NDArray, info: tuple[str, str]) -> None:
    buf = buffer_of(data)
    if buf.base is None:
        buf.info = info


class _Forward(Protocol[P, R_co]):
    def forward(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` returns (PyTorch's `_IncompatibleKeys`)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _forward_unimplemented(self: Module, *args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(
        f'Module [{type(self).__name__}] is missing the required "forward" function'
    )


class Module:
    """Base class of every layer and model.

    Subclasses call `super().__init__()` first, assign Parameters, buffers
    (`register_buffer`) and submodules as attributes, and define `forward`;
    `model(x)` calls it (and the forward hooks) and has forward's type under mypy.

    >>> class Net(Module):
    ...     def __init__(self) -> None:
    ...         super().__init__()
    ...         self.fc = Linear(4, 2)
    ...     def forward(self, x: Tensor) -> Tensor:
    ...         return self.fc(x)
    >>> list(Net().state_dict())
    ['fc.weight', 'fc.bias']
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _modules: dict[str, Module | None]
    _forward_pre_hooks: OrderedDict[int, ForwardPreHook]
    _forward_pre_hooks_with_kwargs: set[int]
    _forward_hooks: OrderedDict[int, ForwardHook]
    _forward_hooks_with_kwargs: set[int]
    _backward_hooks: OrderedDict[int, BackwardHook]
    _backward_pre_hooks: OrderedDict[int, BackwardPreHook]

    # A subclass defines forward; this default makes `module(x)` on a plain Module
    # type-check (as Any) and fail at run time with PyTorch's message.
    forward: Callable[..., Any] = _forward_unimplemented

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        _init_hooks(self)

    def __call__(self: _Forward[P, R_co], *args: P.args, **kwargs: P.kwargs) -> R_co:
        module = cast(Module, self)
        if not (
            module._forward_pre_hooks
            or module._forward_hooks
            or module._backward_hooks
            or module._backward_pre_hooks
        ):
            return self.forward(*args, **kwargs)
        return cast(R_co, module._call_with_hooks(args, dict(kwargs)))

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of "
                            f"(new_args, new_kwargs), but got {result}."
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        tracker = None
        if (self._backward_hooks or self._backward_pre_hooks) and at.is_grad_enabled():
            tracker = _BackwardHookState(self, len(args))
            args = tracker.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if tracker is not None:
            output = tracker.wrap_outputs(output)
        return output

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(
        self, hook: ForwardPreHook, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """hook(module, args) -> None or new args (a tuple, or one value), run
        before forward; with_kwargs: hook(module, args, kwargs) -> None or
        (args, kwargs). `handle.remove()` unregisters it."""
        return _add_hook(
            self._forward_pre_hooks,
            self._forward_pre_hooks_with_kwargs,
            hook,
            prepend,
            with_kwargs,
        )

    def register_forward_hook(
        self, hook: ForwardHook, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """hook(module, args, output) -> None or a new output, run after forward;
        with_kwargs: hook(module, args, kwargs, output)."""
        return _add_hook(
            self._forward_hooks,
            self._forward_hooks_with_kwargs,
            hook,
            prepend,
            with_kwargs,
        )

    def register_full_backward_pre_hook(
        self, hook: BackwardPreHook, prepend: bool = False
    ) -> RemovableHandle:
        """hook(module, grad_output) -> None or new grad_output, called when the
        gradients of the module's outputs are known, before the input gradients
        are computed."""
        return _add_hook(self._backward_pre_hooks, set(), hook, prepend, False)

    def register_full_backward_hook(
        self, hook: BackwardHook, prepend: bool = False
    ) -> RemovableHandle:
        """hook(module, grad_input, grad_output) -> None or new grad_input, called
        when the gradients of the module's positional inputs are computed.
        grad_input has one entry per positional argument (None for non-Tensors
        and for Tensors that need no gradient); grad_output one per output Tensor.
        """
        return _add_hook(self._backward_hooks, set(), hook, prepend, False)

    # ------------------------------------------------------------ registration
    def _check_init(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, as a bias=False layer does)."""
        self._check_init("parameters")
        _check_name(name, "parameter", self, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(actnet.nn.Parameter or None required)"
            )
        if param is not None:
            _label(param.data, ("parameter", f"{type(self).__name__}.{name}"))
        self._parameters[name] = param

    def register_buffer(
        self, name: str, tensor: Tensor | None, persistent: bool = True
    ) -> None:
        """Add a buffer: state that is not a parameter (BatchNorm's running mean).
        A non-persistent buffer is left out of `state_dict`."""
        self._check_init("buffers")
        _check_name(name, "buffer", self, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(Tensor or None required)"
            )
        if tensor is not None:
            _label(tensor.data, ("buffer", f"{type(self).__name__}.{name}"))
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module (or None) under `name`."""
        self._check_init("child modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, "module", self, self._modules)
        self._modules[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias of `add_module`."""
        self.add_module(name, module)

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._check_init("parameters")
            _forget(self, name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(actnet.nn.Parameter or None expected)"
                )
            self.register_parameter(name, None)
        elif isinstance(value, Module):
            self._check_init("child modules")
            _forget(self, name, keep="_modules")
            self._modules[name] = value
        elif self.__dict__.get("_modules") is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(Module or None expected)"
                )
            self._modules[name] = None
        elif self.__dict__.get("_buffers") is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: parameters, buffers, submodules.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            values = d.get(store)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(
            f"'{type(self).__name__}' object has no attribute '{name}'"
        )

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        # Pickles of modules made before the hooks existed lack their tables.
        for name, value in _hook_tables().items():
            self.__dict__.setdefault(name, value)
        self.__dict__.setdefault("_non_persistent_buffers", set())

    # --------------------------------------------------------------- traversal
    def named_modules(
        self,
        memo: set[Module] | None = None,
        prefix: str = "",
        remove_duplicate: bool = True,
    ) -> Iterator[tuple[str, Module]]:
        """(name, module) for self and every submodule, depth first, in the order
        they were registered; a module reached twice is given once (unless
        remove_duplicate is False)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[Module] = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules: Iterator[tuple[str, Module]] | list[tuple[str, Module]] = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs; a parameter shared by two submodules is
        given once, under its first name (unless remove_duplicate is False)."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path ("" is self): `get_submodule("net.0")`."""
        if target == "":
            return self
        module: Module = self
        for item in target.split("."):
            child = module._modules.get(item)
            if child is None:
                raise AttributeError(
                    f"{module._get_name()} has no attribute `{item}`"
                    if item not in module._modules
                    else f"`{item}` is None in {module._get_name()}"
                )
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path: `get_parameter("net.0.weight")`."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        param = module._parameters.get(name)
        if param is None:
            raise AttributeError(
                f"{module._get_name()} has no parameter `{name}`"
                if name not in module._parameters
                else f"parameter `{name}` of {module._get_name()} is None"
            )
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path: `get_buffer("bn.running_mean")`."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        buffer = module._buffers.get(name)
        if buffer is None:
            raise AttributeError(
                f"{module._get_name()} has no buffer `{name}`"
                if name not in module._buffers
                else f"buffer `{name}` of {module._get_name()} is None"
            )
        return buffer

    # ------------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Self:
        """Set training mode on self and every submodule (Dropout, BatchNorm)."""
        if not isinstance(mode, bool):
            # PyTorch's exception type, kept for code that catches it.
            raise ValueError("training mode is expected to be boolean")  # noqa: TRY004
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Self:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (or zero it, if set_to_none is False)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_().zero_()

    def apply(self, fn: Callable[[Module], None]) -> Self:
        """fn(module) for every submodule, children first, then self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------- devices and dtypes
    def to(self, *args: Any, **kwargs: Any) -> Self:
        """`to(device)`, `to(dtype)`, `to(device, dtype)` or `to(tensor)`: move
        parameters and buffers in place (the Parameter objects stay the same, so
        an optimizer keeps them). A dtype applies to floating tensors only.

        >>> model.to("cpu", "float64")
        """
        device, dtype = _parse_to(args, kwargs)
        for t in itertools.chain(self.parameters(), self.buffers()):
            _move(t, device, dtype if t.dtype.kind in "fcV" else None)
        return self

    def cpu(self) -> Self:
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Self:
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Self:
        return self.to("float32")

    def double(self) -> Self:
        return self.to("float64")

    def half(self) -> Self:
        return self.to("float16")

    def bfloat16(self) -> Self:
        return self.to("bfloat16")

    def type(self, dst_type: Any) -> Self:
        """Cast every parameter and buffer (floating or not) to `dst_type`."""
        dtype = _float_dtype(dst_type, any_kind=True)
        for t in itertools.chain(self.parameters(), self.buffers()):
            _move(t, None, dtype)
        return self

    # ------------------------------------------------------------- state dicts
    def state_dict(
        self,
        *,
        destination: dict[str, Tensor] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> dict[str, Tensor]:
        """Parameters and persistent buffers by PyTorch's dotted key names, in
        registration order, each module's own before its children's. Values are
        detached (they share data with the module until it is next updated)."""
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
                    target.data = value.to(target.device).data
                else:
                    target.copy_(value.to(target.device, target.dtype))
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """Extra information shown in the module's repr (layers override it)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + repr(module).replace("\n", "\n  ")
            for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if len(extra_lines) == 1 and not child_lines:
            text += extra_lines[0]
        elif lines:
            text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self) -> list[str]:
        keys = set(super().__dir__())
        for store in (self._parameters, self._buffers, self._modules):
            keys.update(store)
        return sorted(keys)


def _hook_tables() -> dict[str, Any]:
    return {
        "_forward_pre_hooks": OrderedDict(),
        "_forward_pre_hooks_with_kwargs": set(),
        "_forward_hooks": OrderedDict(),
        "_forward_hooks_with_kwargs": set(),
        "_backward_hooks": OrderedDict(),
        "_backward_pre_hooks": OrderedDict(),
    }


def _init_hooks(module: Module) -> None:
    for name, value in _hook_tables().items():
        object.__setattr__(module, name, value)


def _add_hook(
    hooks: OrderedDict[int, Callable[..., Any]],
    with_kwargs_ids: set[int],
    hook: Callable[..., Any],
    prepend: bool,
    with_kwargs: bool,
) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    # The Tensor hooks' handle: removing it pops the hook from `hooks`.
    handle = RemovableHandle(cast("dict[int, Any]", hooks), hook)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    if with_kwargs:
        with_kwargs_ids.add(handle.id)
    return handle


def _check_name(
    name: str, what: str, module: Module, own: Mapping[str, object]
) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string. Got {type(name).__name__}")
    if not name:
        raise KeyError(f'{what} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{what} name can\'t contain ".", got: {name}')
    if name in own:
        return  # re-registering replaces, as in PyTorch
    if hasattr(module, name):
        raise KeyError(f"attribute '{name}' already exists")


def _forget(module: Module, name: str, keep: str) -> None:
    """Remove `name` from the other registries and the plain attributes: it is being
    assigned into `keep`, where it keeps its place (PyTorch's order)."""
    for store in ("_parameters", "_buffers", "_modules"):
        if store == keep:
            continue
        values = module.__dict__.get(store)
        if values is not None and name in values:
            del values[name]
    module.__dict__.get("_non_persistent_buffers", set()).discard(name)
    if name in module.__dict__:
        object.__delattr__(module, name)


def _unexpected_keys(
    module: Module, state_dict: Mapping[str, Any], prefix: str
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


def _float_dtype(value: Any, any_kind: bool = False) -> np.dtype[Any]:
    """A dtype from an actnet/NumPy dtype or its name; for `to`, floating only."""
    aliases = {"float": "float32", "double": "float64", "half": "float16"}
    if isinstance(value, str):
        value = aliases.get(value.removeprefix("torch."), value)
    try:
        dtype: np.dtype[Any] = np.dtype(value)
    except TypeError as exc:
        raise TypeError(f"not a data type of actnet: {value!r}") from exc
    if not any_kind and dtype.kind not in "fcV":
        raise TypeError(
            "nn.Module.to only accepts floating point or complex dtypes, but got "
            f"desired dtype={dtype}"
        )
    return dtype


def _parse_to(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Device | None, np.dtype[Any] | None]:
    bad = set(kwargs) - {"device", "dtype", "non_blocking", "memory_format"}
    if bad:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(bad)}")
    device: Device | None = None
    dtype: np.dtype[Any] | None = None
    if kwargs.get("device") is not None:
        device = get_device(kwargs["device"])
    if kwargs.get("dtype") is not None:
        dtype = _float_dtype(kwargs["dtype"])
    for arg in args:
        if isinstance(arg, Device) or (
            isinstance(arg, str) and arg.partition(":")[0] in BACKENDS
        ):
            device = get_device(arg)
        elif isinstance(arg, Tensor):
            device, dtype = arg.device, _float_dtype(arg.dtype)
        elif isinstance(arg, bool):
            continue  # to(device, dtype, non_blocking) positionally
        else:
            dtype = _float_dtype(arg)
    return device, dtype


def _move(t: Tensor, device: Device | None, dtype: np.dtype[Any] | None) -> None:
    """Rebind t's data (and its grad's) to `device` and `dtype`, in place."""
    if (device is None or device == t.device) and (dtype is None or dtype == t.dtype):
        return
    with at.no_grad():
        moved = t.detach().to(*(x for x in (device, dtype) if x is not None))
    t.data = moved.data
    _label(t.data, ("parameter" if isinstance(t, Parameter) else "buffer", "to"))
    if t.grad is not None:
        t.grad = t.grad.to(moved.device, moved.dtype)


class _BackwardHookState:
    """One call's full backward hooks (PyTorch's BackwardHook): identity Functions
    around the inputs and outputs catch their gradients as backward passes."""

    def __init__(self, module: Module, n_args: int) -> None:
        self.module = module
        self.n_args = n_args
        self.input_positions: list[int] = []
        self.grad_output: tuple[Tensor | None, ...] | None = None

    def wrap_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        self.input_positions = [
            i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad
        ]
        if not self.input_positions:
            return args
        tensors = [args[i] for i in self.input_positions]
        wrapped = _HookIdentity.apply(self, "input", *tensors)
        out = list(args)
        for i, t in zip(self.input_positions, wrapped, strict=True):
            out[i] = t
        return tuple(out)

    def wrap_outputs(self, output: Any) -> Any:
        single = isinstance(output, Tensor)
        items = [output] if single else output
        if not isinstance(items, tuple | list):
            return output
        positions = [
            i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad
        ]
        if not positions:
            return output
        wrapped = _HookIdentity.apply(self, "output", *(items[i] for i in positions))
        out = list(items)
        for i, t in zip(positions, wrapped, strict=True):
            out[i] = t
        return out[0] if single else type(items)(out)

    def outputs_done(self, grads: tuple[Tensor | None, ...]) -> tuple[Any, ...]:
        """The gradients of the outputs arrived: pre-hooks may replace them."""
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = _check_grads(result, len(grads), "grad_output")
        self.grad_output = grads
        if not self.input_positions:
            # No input needs a gradient: the hooks run now, with None for each
            # (PyTorch warns the same way).
            if self.module._backward_hooks:
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with "
                    "respect to module outputs since no inputs require gradients.",
                    UserWarning,
                    stacklevel=2,
                )
            self.call_hooks((None,) * self.n_args)
        return grads

    def inputs_done(self, grads: tuple[Tensor | None, ...]) -> tuple[Any, ...]:
        grad_input: list[Tensor | None] = [None] * self.n_args
        for i, g in zip(self.input_positions, grads, strict=True):
            grad_input[i] = g
        new = self.call_hooks(tuple(grad_input))
        return tuple(new[i] for i in self.input_positions)

    def call_hooks(
        self, grad_input: tuple[Tensor | None, ...]
    ) -> tuple[Tensor | None, ...]:
        grad_output = self.grad_output if self.grad_output is not None else ()
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, grad_output)
            if result is not None:
                grad_input = _check_grads(result, len(grad_input), "grad_input")
        return grad_input


class _HookIdentity(Function):
    @staticmethod
    def forward(
        ctx: FunctionCtx, state: _BackwardHookState, role: str, *tensors: Tensor
    ) -> tuple[Tensor, ...]:
        ctx.state = state  # type: ignore[attr-defined]  # FunctionCtx takes any attribute
        ctx.role = role  # type: ignore[attr-defined]  # FunctionCtx takes any attribute
        return tensors

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> tuple[Tensor | None, ...]:
        state: _BackwardHookState = ctx.state  # type: ignore[attr-defined]  # set in forward
        if ctx.role == "output":  # type: ignore[attr-defined]  # set in forward
            new = state.outputs_done(grads)
        else:
            new = state.inputs_done(grads)
        return (None, None, *new)


def _check_grads(result: Any, n: int, what: str) -> tuple[Tensor | None, ...]:
    if not isinstance(result, tuple | list) or len(result) != n:
        got = len(result) if isinstance(result, tuple | list) else type(result).__name__
        raise RuntimeError(
            f"Backward hook returned an invalid number of {what}, got {got}, but "
            f"expected {n}"
        )
    for g in result:
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(
                f"a backward hook must return Tensors or None in {what}, "
                f"got {type(g).__name__}"
            )
    return tuple(result)
