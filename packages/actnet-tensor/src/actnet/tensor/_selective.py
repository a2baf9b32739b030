"""Selective recomputation: keep what a policy saves, recompute the rest in backward.

Inside `selective_checkpoint(policy)`, each `Function.apply` notes how it made its
outputs (a *recipe*: the Function, its arguments, which output). When an
operation then saves such an output for backward and `policy(function)` says not
to keep it, the node keeps the recipe instead, with the recipe's own tensor
arguments kept the same way: a tensor the policy saves (or one with no recipe:
a leaf, a built-in operation's result, a tensor made before the block) is kept
as its values; one it does not is kept as its recipe in turn. Backward then
recomputes the output by running the Function's forward again (under no_grad)
on those arguments, once however many nodes saved it.

This is JAX's `jax.checkpoint(policy=...)` and PyTorch's selective activation
checkpointing, op by op: with `dots_saveable`, the outputs of matmuls,
convolutions and attention are kept and the elementwise operations, norms and
views after them are recomputed from those.

Not recomputed (kept as they are): an output of an operation that drew random
numbers (it would draw others) or changed an argument in place, or whose
arguments were already gone when it was saved.

    with selective_checkpoint(dots_saveable):
        loss = F.cross_entropy(model(x), y)   # gelu's and norms' outputs dropped
    loss.backward()                           # ...and recomputed here
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from actnet.device import Generator, default_generator
from actnet.ndarray import NDArray
from actnet.tensor import _function
from actnet.tensor._grad_mode import no_grad
from actnet.tensor._saved import saved_tensors_hooks
from actnet.tensor._tensor import Tensor
from actnet.tensor._tensor_base import _make

if TYPE_CHECKING:
    from actnet.tensor._function import Function

Policy = Callable[[type["Function"]], bool]


def dots_saveable(function: type[Function]) -> bool:
    """Keep the outputs of contractions (matmuls, convolutions, attention:
    Functions with `contracts = True`), recompute everything else (JAX's
    `jax.checkpoint_policies.dots_saveable`)."""
    return bool(getattr(function, "contracts", False))


def nothing_saveable(function: type[Function]) -> bool:
    """Recompute every output that can be recomputed."""
    return False


class CheckpointError(RuntimeError):
    """A recomputation gave something other than what the first run made
    (PyTorch raises its CheckpointError for this too)."""


class _Dropped:
    """How Function.apply made one output that the policy does not keep, ready
    to make it again: the Function, its arguments (a tensor the policy keeps as
    the Tensor, with its version, checked as a saved tensor's is; one it does
    not as its own _Dropped), which output. Made when the output is, while its
    arguments are surely alive. `holders` counts what will take the value (the
    nodes that saved the output, and the _Dropped made from it that were saved
    in turn); the value made again is kept until they all have."""

    __slots__ = (
        "__weakref__", "args", "cached", "dtype", "function", "holders",
        "kwargs", "nr", "shape", "versions",
    )  # fmt: skip

    def __init__(
        self,
        function: type[Function],
        args: list[Any],
        kwargs: dict[str, Any],
        nr: int,
        out: Tensor,
    ) -> None:
        self.function = function
        self.args = args
        self.versions = [a._version if isinstance(a, Tensor) else 0 for a in args]
        self.kwargs = kwargs
        self.nr = nr
        self.shape = out.shape
        self.dtype = out.dtype
        self.holders = 0
        self.cached: NDArray | None = None

    def hold(self) -> None:
        """One more holder; the first one makes this a holder of the _Dropped
        its arguments are (its recomputation will take them)."""
        self.holders += 1
        if self.holders == 1:
            for a in self.args:
                if type(a) is _Dropped:
                    a.hold()

    def take(self) -> NDArray:
        value = self.cached
        if value is None:
            value = self._recompute()
        self.holders -= 1
        self.cached = value if self.holders > 0 else None
        return value

    def _recompute(self) -> NDArray:
        name = self.function.__name__
        for a, version in zip(self.args, self.versions, strict=True):
            if isinstance(a, Tensor) and a._version != version:
                raise RuntimeError(
                    "one of the tensors needed for gradient computation has been "
                    f"modified by an in-place operation: an argument of {name}, kept "
                    f"to recompute its output, saved at version {version}, is now "
                    f"at version {a._version}"
                )
        args = [
            _make(a.take()) if type(a) is _Dropped
            else a.detach() if isinstance(a, Tensor)
            else a
            for a in self.args
        ]  # fmt: skip
        ctx = _function.FunctionCtx(tuple(False for _ in args))
        with no_grad():
            result = self.function.forward(ctx, *args, **self.kwargs)
        outputs = result if isinstance(result, tuple) else (result,)
        out: Tensor = outputs[self.nr]
        if out.shape != self.shape or out.dtype != self.dtype:
            raise CheckpointError(
                f"recomputing {name} gave {out.dtype} {tuple(out.shape)}, its first "
                f"run {self.dtype} {tuple(self.shape)}: its forward must depend on "
                "its arguments only"
            )
        return out.array


class _Context:
    """One selective_checkpoint block: the outputs made in it that the policy
    does not keep, each with its _Dropped."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # id(output) -> (weak output, its _Dropped); an entry goes when its
        # output does (a dead tensor's id may be reused).
        self.dropped: dict[int, tuple[weakref.ref[Tensor], _Dropped]] = {}

    def _lookup(self, tensor: Tensor) -> _Dropped | None:
        entry = self.dropped.get(id(tensor))
        if entry is None or entry[0]() is not tensor:
            return None
        return entry[1]

    def note(
        self,
        function: type[Function],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        outputs: tuple[Any, ...],
        before: tuple[Any, ...],
    ) -> None:
        """Function.apply made `outputs`; `before` is what `_snapshot` took."""
        if self.policy(function):
            return  # kept
        versions, rng = before
        if rng != default_generator.get_state() or any(
            isinstance(a, Generator) for a in (*args, *kwargs.values())
        ):
            return  # random: a recomputation would draw other numbers
        tensors = [a for a in args if isinstance(a, Tensor)]
        if any(t._version != v for t, v in zip(tensors, versions, strict=True)):
            return  # changed an argument in place
        inputs = [(self._lookup(a) or a) if isinstance(a, Tensor) else a for a in args]
        for nr, out in enumerate(outputs):
            if isinstance(out, Tensor) and not any(out is a for a in args):
                made = _Dropped(function, inputs, kwargs, nr, out)
                key = id(out)
                ref = weakref.ref(out, functools.partial(self._forget, key))
                self.dropped[key] = (ref, made)

    def _forget(self, key: int, ref: weakref.ref[Tensor]) -> None:
        """An output is gone: its entry goes (unless the id is another's now)."""
        entry = self.dropped.get(key)
        if entry is not None and entry[0] is ref:
            del self.dropped[key]

    def pack(self, tensor: Tensor) -> Any:
        dropped = self._lookup(tensor)
        if dropped is None:
            return tensor
        dropped.hold()
        return dropped

    @staticmethod
    def unpack(packed: Any) -> Tensor:
        if type(packed) is _Dropped:
            return _make(packed.take())
        tensor: Tensor = packed
        return tensor


class _Active(threading.local):
    def __init__(self) -> None:
        self.contexts: list[_Context] = []


_active = _Active()


def _snapshot(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """What `note` compares after the forward: the tensor arguments' versions
    and the default generator's state."""
    versions = tuple(a._version for a in args if isinstance(a, Tensor))
    return versions, default_generator.get_state()


def _note(
    function: type[Function],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    outputs: tuple[Any, ...],
    before: tuple[Any, ...],
) -> None:
    if _active.contexts:
        _active.contexts[-1].note(function, args, kwargs, outputs, before)


_function.recipe_snapshot = _snapshot
_function.recipe_note = _note


class selective_checkpoint:
    """Within this block (in this thread), tensors saved for backward that
    `policy(function)` does not keep are recomputed in backward from the
    operations that made them (see the module doc). `policy` takes the
    Function class that made the tensor and returns True to keep it:
    `dots_saveable`, `nothing_saveable`, or your own.

    >>> with selective_checkpoint(dots_saveable):
    ...     loss = model(x).sum()
    >>> loss.backward()
    """

    def __init__(self, policy: Policy) -> None:
        if not callable(policy):
            raise TypeError(
                f"selective_checkpoint: policy must be callable, got {policy!r}"
            )
        self._context = _Context(policy)
        self._hooks = saved_tensors_hooks(self._context.pack, self._context.unpack)

    def __enter__(self) -> None:
        self._hooks.__enter__()
        _active.contexts.append(self._context)
        _function.recipes_opened(+1)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _function.recipes_opened(-1)
        _active.contexts.pop()
        context = self._context
        context.dropped.clear()
        self._hooks.__exit__(exc_type, exc, tb)
