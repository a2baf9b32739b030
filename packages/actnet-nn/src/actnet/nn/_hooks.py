"""Module's hooks: forward pre-hooks, forward hooks and full backward (pre-)hooks,
their tables, and the call of a module that has some.

`ModuleHooks` is the part of `Module` that holds them; `Module.__call__` goes
through `_call_with_hooks` only when a table is not empty.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

import actnet.tensor as at
from actnet.tensor import Function, FunctionCtx, RemovableHandle, Tensor

# What a forward (pre-)hook may be: PyTorch's hook signatures, with or without kwargs.
ForwardPreHook = Callable[..., Any]
ForwardHook = Callable[..., Any]
BackwardHook = Callable[
    [Any, tuple[Tensor | None, ...], tuple[Tensor | None, ...]],
    tuple[Tensor | None, ...] | None,
]
BackwardPreHook = Callable[[Any, tuple[Tensor | None, ...]], Any]


class ModuleHooks:
    """The hook tables of a Module and the methods that fill them (PyTorch's
    names and signatures). Each `register_*` returns a handle whose `remove()`
    unregisters the hook."""

    _forward_pre_hooks: OrderedDict[int, ForwardPreHook]
    _forward_pre_hooks_with_kwargs: set[int]
    _forward_hooks: OrderedDict[int, ForwardHook]
    _forward_hooks_with_kwargs: set[int]
    _backward_hooks: OrderedDict[int, BackwardHook]
    _backward_pre_hooks: OrderedDict[int, BackwardPreHook]
    forward: Callable[..., Any]

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


def hook_tables() -> dict[str, Any]:
    """A module's empty hook tables, by attribute name."""
    return {
        "_forward_pre_hooks": OrderedDict(),
        "_forward_pre_hooks_with_kwargs": set(),
        "_forward_hooks": OrderedDict(),
        "_forward_hooks_with_kwargs": set(),
        "_backward_hooks": OrderedDict(),
        "_backward_pre_hooks": OrderedDict(),
    }


def init_hooks(module: ModuleHooks) -> None:
    for name, value in hook_tables().items():
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


class _BackwardHookState:
    """One call's full backward hooks (PyTorch's BackwardHook): identity Functions
    around the inputs and outputs catch their gradients as backward passes."""

    def __init__(self, module: ModuleHooks, n_args: int) -> None:
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
