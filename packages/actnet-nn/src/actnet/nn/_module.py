"""Module: parameters, buffers and submodules by attribute, PyTorch's vocabulary.

The Module core: registration (by attribute or `register_*`), traversal, modes,
moving between devices and dtypes, and repr. Its hooks are `ModuleHooks`
(_hooks.py), its state dict `ModuleStateDict` (_state_dict.py).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ParamSpec, Protocol, Self, TypeVar, cast

from actnet.device import OutOfMemoryError
from actnet.nn._device_dtype import float_dtype, move, parse_to
from actnet.nn._hooks import ModuleHooks, hook_tables, init_hooks
from actnet.nn._labels import label
from actnet.nn._parameter import (
    Parameter,
    _restore_parameter,  # noqa: F401  # pickles from actnet-nn 0.1 name it here
)
from actnet.nn._state_dict import ModuleStateDict
from actnet.tensor import Tensor

P = ParamSpec("P")
R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T", bound=Tensor)


class _Forward(Protocol[P, R_co]):
    def forward(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


def _forward_unimplemented(self: Module, *args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(
        f'Module [{type(self).__name__}] is missing the required "forward" function'
    )


def _name_module(exc: OutOfMemoryError, module: Module) -> None:
    """Name, in a note of `exc` and as its `module` attribute, the innermost module
    that was running, by its path (`blocks.2.attn`): each Module call the error
    passes through on its way out writes the path from itself down, so the
    outermost call leaves the whole path ("" for the model itself)."""
    seen = vars(exc)
    inner = seen.get("_actnet_module")
    if inner is None:  # the innermost module: a note to fill in
        seen["_actnet_module"] = inner = module
        exc.add_note("")
        seen["_actnet_note"] = len(exc.__notes__) - 1
    path = "" if inner is module else None
    if path is None:
        path = next((name for name, m in module.named_modules() if m is inner), None)
        if path is None:  # called by a module it does not belong to
            return
    exc.module = path
    where = f"the module {path}" if path else "the model"
    exc.__notes__[seen["_actnet_note"]] = f"inside {where} ({type(inner).__name__})"


class Module(ModuleHooks, ModuleStateDict):
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

    # A subclass defines forward; this default makes `module(x)` on a plain Module
    # type-check (as Any) and fail at run time with PyTorch's message.
    forward: Callable[..., Any] = _forward_unimplemented

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        init_hooks(self)

    def __call__(self: _Forward[P, R_co], *args: P.args, **kwargs: P.kwargs) -> R_co:
        module = cast(Module, self)
        try:
            if not (
                module._forward_pre_hooks
                or module._forward_hooks
                or module._backward_hooks
                or module._backward_pre_hooks
            ):
                return self.forward(*args, **kwargs)
            return cast(R_co, module._call_with_hooks(args, dict(kwargs)))
        except OutOfMemoryError as exc:
            _name_module(exc, module)
            raise

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
            label(param.array, ("parameter", f"{type(self).__name__}.{name}"))
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
            label(tensor.array, ("buffer", f"{type(self).__name__}.{name}"))
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
        for name, value in hook_tables().items():
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
        module, name = self._owner(target)
        return _member(module, module._parameters, name, "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path: `get_buffer("bn.running_mean")`."""
        module, name = self._owner(target)
        return _member(module, module._buffers, name, "buffer")

    def _owner(self, target: str) -> tuple[Module, str]:
        """The submodule that holds the last name of a dotted path, and the name."""
        module_path, _, name = target.rpartition(".")
        return self.get_submodule(module_path), name

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
        device, dtype = parse_to(args, kwargs)
        for t in itertools.chain(self.parameters(), self.buffers()):
            move(t, device, dtype if t.dtype.kind in "fcV" else None)
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
        """Cast the floating parameters and buffers to bfloat16 (the layers then
        take bfloat16 input and compute as PyTorch's CPU does: in float32, each
        result rounded to bfloat16). For mixed precision training keep the
        parameters float32 and run the forward under `actnet.tensor.autocast`.

        >>> model.bfloat16()(x.bfloat16()).dtype
        dtype(bfloat16)
        """
        return self.to("bfloat16")

    def type(self, dst_type: Any) -> Self:
        """Cast every parameter and buffer (floating or not) to `dst_type`."""
        dtype = float_dtype(dst_type, any_kind=True)
        for t in itertools.chain(self.parameters(), self.buffers()):
            move(t, None, dtype)
        return self

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


def _member(module: Module, store: Mapping[str, T | None], name: str, what: str) -> T:
    """store[name], where store is the module's parameters or buffers; PyTorch's
    AttributeError when it is missing or None."""
    value = store.get(name)
    if value is None:
        raise AttributeError(
            f"{module._get_name()} has no {what} `{name}`"
            if name not in store
            else f"{what} `{name}` of {module._get_name()} is None"
        )
    return value
