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
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from actnet.device import Generator, default_generator
from actnet.ndarray import NDArray
from actnet.tensor import _function, _recipes
from actnet.tensor._grad_mode import no_grad
from actnet.tensor._saved import saved_tensors_hooks
from actnet.tensor._tensor import Tensor
from actnet.tensor._tensor_base import _make

# An operation: the Function class that made a tensor, or the built-in operation
# (`actnet.tensor`'s add, reshape, view, permute) that did.
Op = Callable[..., Any]
Policy = Callable[[Op], bool]
T = TypeVar("T")


def dots_saveable(function: Op) -> bool:
    """Keep the outputs of contractions (matmuls, convolutions, attention:
    Functions with `contracts = True`), recompute everything else (JAX's
    `jax.checkpoint_policies.dots_saveable`)."""
    return bool(getattr(function, "contracts", False))


def nothing_saveable(function: Op) -> bool:
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
        "kwargs", "nr", "shape", "site", "versions",
    )  # fmt: skip

    def __init__(
        self,
        function: Op,
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
        self.site: Site | None = None  # when sites are asked for

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
        if self.site is not None:
            self.site.recomputed = True
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
        function = self.function
        with no_grad():
            if isinstance(function, type) and issubclass(function, _function.Function):
                ctx = _function.FunctionCtx(tuple(False for _ in args))
                result = function.forward(ctx, *args, **self.kwargs)
            else:  # a built-in operation
                result = function(*args, **self.kwargs)
        outputs = result if isinstance(result, tuple) else (result,)
        out: Tensor = outputs[self.nr]
        if out.shape != self.shape or out.dtype != self.dtype:
            raise CheckpointError(
                f"recomputing {name} gave {out.dtype} {tuple(out.shape)}, its first "
                f"run {self.dtype} {tuple(self.shape)}: its forward must depend on "
                "its arguments only"
            )
        return out.array


@dataclass
class Site:
    """One output an operation made inside a selective block, numbered in the
    order made (the same in every run of the same step): what a memory budget
    chooses among."""

    number: int
    function: str
    nbytes: int  # the output's bytes
    seconds: float  # its operation, as measured when made
    recomputable: bool  # not random, no argument changed in place
    inputs: tuple[int, ...]  # the sites among its tensor arguments
    view: bool  # it shares its memory with an argument
    saved: bool = False  # a node saved it for backward
    dropped: bool = False  # ...and keeps it as its recipe
    recomputed: bool = False  # backward made it again


Keep = Callable[[Op, int], bool]  # (operation, site number) -> keep?


class _Context:
    """One selective block: the outputs made in it that are not kept, each with
    its _Dropped; and, when asked, every output's Site."""

    def __init__(self, keep: Keep, sites: list[Site] | None = None) -> None:
        self.keep = keep
        self.sites = sites
        self.count = 0  # outputs numbered so far
        # id(output) -> (weak output, its _Dropped); an entry goes when its
        # output does (a dead tensor's id may be reused).
        self.dropped: dict[int, tuple[weakref.ref[Tensor], _Dropped]] = {}
        # the same for every output's Site, when sites are asked for
        self.site_of: dict[int, tuple[weakref.ref[Tensor], Site]] = {}

    def _lookup(self, tensor: Tensor) -> _Dropped | None:
        return _held_for(self.dropped, tensor)

    def _site(self, tensor: Tensor) -> Site | None:
        return _held_for(self.site_of, tensor)

    def note(
        self,
        function: Op,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        outputs: tuple[Any, ...],
        before: tuple[Any, ...],
    ) -> None:
        """Function.apply made `outputs`; `before` is what `_snapshot` took."""
        versions, rng, start = before
        seconds = time.perf_counter() - start
        made = [
            out
            for out in outputs
            if isinstance(out, Tensor) and not any(out is a for a in args)
        ]
        first = self.count
        self.count += len(made)
        tensors = [a for a in args if isinstance(a, Tensor)]
        recomputable = not (
            rng != default_generator.get_state()  # random: others would be drawn
            or any(isinstance(a, Generator) for a in (*args, *kwargs.values()))
            or any(t._version != v for t, v in zip(tensors, versions, strict=True))
        )  # (the last: an argument changed in place)
        if self.sites is not None:
            sources = tuple(
                site.number for site in map(self._site, tensors) if site is not None
            )
            for i, out in enumerate(made):
                nbytes = out.numel() * out.element_size()
                view = any(_shares(out, t) for t in tensors)
                site = Site(first + i, function.__name__, nbytes, seconds,
                            recomputable, sources, view)  # fmt: skip
                self.sites.append(site)
                key = id(out)
                ref = weakref.ref(out, functools.partial(self._forget_site, key))
                self.site_of[key] = (ref, site)
        if not recomputable:
            return
        inputs: list[Any] | None = None
        for i, out in enumerate(made):
            if self.keep(function, first + i):
                continue
            if inputs is None:
                inputs = [
                    (self._lookup(a) or a) if isinstance(a, Tensor) else a for a in args
                ]
            nr = next(j for j, o in enumerate(outputs) if o is out)
            made_again = _Dropped(function, inputs, kwargs, nr, out)
            made_again.site = self._site(out)
            key = id(out)
            ref = weakref.ref(out, functools.partial(self._forget, key))
            self.dropped[key] = (ref, made_again)

    def _forget(self, key: int, ref: weakref.ref[Tensor]) -> None:
        """An output is gone: its entry goes (unless the id is another's now)."""
        entry = self.dropped.get(key)
        if entry is not None and entry[0] is ref:
            del self.dropped[key]

    def _forget_site(self, key: int, ref: weakref.ref[Tensor]) -> None:
        entry = self.site_of.get(key)
        if entry is not None and entry[0] is ref:
            del self.site_of[key]

    def pack(self, tensor: Tensor) -> Any:
        dropped = self._lookup(tensor)
        site = self._site(tensor)
        if site is not None:
            site.saved = True
            site.dropped = dropped is not None
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


def _held_for(
    table: dict[int, tuple[weakref.ref[Tensor], T]], tensor: Tensor
) -> T | None:
    """What an id-keyed table of weak references holds for `tensor` (an entry
    of a dead tensor whose id is reused is not its)."""
    entry = table.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]


def _shares(a: Tensor, b: Tensor) -> bool:
    """Whether two tensors' values lie in the same memory (one views the other,
    or both view a third)."""
    x, y = a.array.buffer, b.array.buffer
    bx, by = x.base, y.base
    return (x if bx is None else bx) is (y if by is None else by)


class _Active(threading.local):
    def __init__(self) -> None:
        self.contexts: list[_Context] = []


_active = _Active()


def _snapshot(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """What `note` compares after the forward: the tensor arguments' versions,
    the default generator's state, and the time."""
    versions = tuple(a._version for a in args if isinstance(a, Tensor))
    return versions, default_generator.get_state(), time.perf_counter()


def _note(
    function: Op,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    outputs: tuple[Any, ...],
    before: tuple[Any, ...],
) -> None:
    if _active.contexts:
        _active.contexts[-1].note(function, args, kwargs, outputs, before)


_recipes.snapshot = _snapshot
_recipes.note = _note


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
        self._context = _Context(lambda function, _: policy(function))
        self._hooks = saved_tensors_hooks(self._context.pack, self._context.unpack)

    @classmethod
    def choosing(cls, keep: Keep, sites: list[Site] | None = None) -> Self:
        """A block that keeps what `keep(function, site number)` says, and
        appends every output's Site to `sites` when given (what a memory
        budget's search uses)."""
        block = cls(nothing_saveable)
        block._context = _Context(keep, sites)
        block._hooks = saved_tensors_hooks(block._context.pack, block._context.unpack)
        return block

    def __enter__(self) -> None:
        self._hooks.__enter__()
        _active.contexts.append(self._context)
        _recipes.opened(+1)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _recipes.opened(-1)
        _active.contexts.pop()
        context = self._context
        context.dropped.clear()
        context.site_of.clear()
        self._hooks.__exit__(exc_type, exc, tb)
