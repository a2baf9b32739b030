"""`compile`: captured steps. Record a step once, plan its memory, replay it.

    @at.compile
    def train_step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for x, y in loader:
        loss = train_step(x, y)  # call 1 eager, call 2 recorded, then replayed

Per signature (the shapes, dtypes and devices of the Tensor arguments, the other
arguments by value): call 1 runs eagerly (it makes the optimizer's state and the
gradients); call 2 runs eagerly while the device records its kernel calls
(`Device.capture`); later calls copy the arguments into the recording's inputs
and replay it. What the step reads or writes that outlives it (parameters,
gradients, optimizer state, running statistics) is updated where it is; the
buffers made and freed inside it live at planned offsets of one arena block
(`memory_plan`). The result is fresh after every call: copies of the recorded
outputs, detached.

Python code inside the step runs while recording only. What changes from step
to step is taken again by every replay: random numbers (the generator's counter
moves as in eager steps) and the optimizers' updates (a host step: their step
counts and a scheduler's learning rate are read each time). A read of device
data on the host inside the step (`.item()`, `float()`, printing) raises
`CaptureError` naming it. Rebinding state the recording uses (`param.data = ...`,
`load_state_dict` with new tensors, a new optimizer once the old one is gone)
makes the next call record again.
"""

from __future__ import annotations

import functools
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, Generic, ParamSpec, TypeVar, overload

from actnet.device import CaptureError, Device, MemoryPlan, Program, get_device
from actnet.tensor import _tensor_base
from actnet.tensor._copy_on_write import writable_buffer
from actnet.tensor._grad_mode import no_grad
from actnet.tensor._selective import Policy, selective_checkpoint
from actnet.tensor._tensor import Tensor

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_CACHE_SIZE: Final = 8

__all__ = ["CaptureError", "CompiledFunction", "compile"]


class _Entry:
    """One signature's recording."""

    __slots__ = ("calls", "grads", "inputs", "outputs", "program", "template")

    def __init__(self) -> None:
        self.calls = 0
        self.program: Program | None = None
        self.inputs: list[Tensor] = []  # the recording's own copies of the arguments
        self.outputs: list[Tensor] = []  # the recorded result's tensors
        self.template: Any = None  # the result, its tensors as indices into outputs
        # (tensor, its .grad) set by the recording, which each replay sets again:
        # the recording's gradients are its own (another signature's step may
        # set the attribute to its own, or to None, in between).
        self.grads: list[tuple[weakref.ref[Tensor], Tensor | None]] = []


class CompiledFunction(Generic[P, R]):
    """A step function under `compile` (see the module's docstring)."""

    def __init__(
        self,
        fn: Callable[P, R],
        cache_size: int = DEFAULT_CACHE_SIZE,
        policy: Policy | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"compile takes a function, got {type(fn).__name__}")
        if type(cache_size) is not int or cache_size < 1:
            raise ValueError(f"cache_size must be an int >= 1, got {cache_size!r}")
        if policy is not None and not callable(policy):
            raise TypeError(f"compile: policy must be callable, got {policy!r}")
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._policy = policy
        self._cache_size = cache_size
        self._entries: OrderedDict[Any, _Entry] = OrderedDict()
        self._last: _Entry | None = None
        self.recordings = 0  # how many times a call recorded
        self.replays = 0  # how many calls replayed a recording

    @property
    def memory_plan(self) -> MemoryPlan | None:
        """The transient memory of the last recording (None before one)."""
        last = self._last
        return (
            None if last is None or last.program is None else last.program.memory_plan
        )

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key = _signature(args, kwargs)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
            while len(self._entries) > self._cache_size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        entry.calls += 1
        if entry.calls == 1:
            return self._run(args, kwargs)
        if entry.program is not None and entry.program.valid():
            result = self._replay(entry, args, kwargs)
            if result is not _STALE:
                return result  # type: ignore[no-any-return]  # the recorded result's shape
        return self._record(entry, args, kwargs)

    def _run(self, args: Any, kwargs: Any) -> R:
        """The step itself, under the selective checkpoint policy if any."""
        if self._policy is None:
            return self._fn(*args, **kwargs)
        with selective_checkpoint(self._policy):
            return self._fn(*args, **kwargs)

    # ---------------------------------------------------------------- record
    def _record(self, entry: _Entry, args: Any, kwargs: Any) -> R:
        leaves: list[Tensor] = []
        _leaves((args, kwargs), leaves)
        device = _device_of(leaves)
        entry.program = None
        with no_grad():
            inputs = [t.detach().clone() for t in leaves]
        own_args, own_kwargs = _substitute((args, kwargs), iter(inputs))
        outputs: list[Tensor] = []
        writes: list[Tensor] = []
        _tensor_base.grad_writes = writes  # type: ignore[assignment]  # Tensors
        try:
            with device.capture() as cap:
                result = self._run(own_args, own_kwargs)
                template = _template(result, outputs)
                # The result's graph (and what it saved) goes before the recording
                # ends: only what outlives the step is state.
                del result, own_args, own_kwargs
        finally:
            _tensor_base.grad_writes = None
        written = {id(t): t for t in writes}.values()
        entry.grads = [(weakref.ref(t), t.grad) for t in written]
        entry.program = cap.program
        entry.inputs = inputs
        entry.outputs = outputs
        entry.template = template
        self._last = entry
        self.recordings += 1
        return _fresh(template, outputs)  # type: ignore[no-any-return]  # as recorded

    # ---------------------------------------------------------------- replay
    def _replay(self, entry: _Entry, args: Any, kwargs: Any) -> Any:
        leaves: list[Tensor] = []
        _leaves((args, kwargs), leaves)
        program = entry.program
        assert program is not None
        with no_grad():
            for own, given in zip(entry.inputs, leaves, strict=True):
                before = id(own.array.buffer)  # not a reference: it would share it
                buf = writable_buffer(own)
                if id(buf) != before:  # the input was shared, and moved: stale
                    return _STALE
                buf.device.copy(given.array.buffer, out=buf)
        for ref, grad in entry.grads:  # before: the host steps read them
            t = ref()
            if t is not None:
                t.grad = grad
        program.replay()
        self._last = entry
        self.replays += 1
        return _fresh(entry.template, entry.outputs)


_STALE: Final = object()


@overload
def compile(  # torch.compile's name, as the porting rule asks
    fn: Callable[P, R],
    *,
    cache_size: int = DEFAULT_CACHE_SIZE,
    policy: Policy | None = None,
) -> CompiledFunction[P, R]: ...
@overload
def compile(
    fn: None = None,
    *,
    cache_size: int = DEFAULT_CACHE_SIZE,
    policy: Policy | None = None,
) -> Callable[[Callable[P, R]], CompiledFunction[P, R]]: ...
def compile(
    fn: Callable[P, R] | None = None,
    *,
    cache_size: int = DEFAULT_CACHE_SIZE,
    policy: Policy | None = None,
) -> Any:
    """A captured step: `compile(fn)` or `@compile` (see the module's docstring).
    `cache_size` bounds the recordings kept, one per signature (least recently
    used first out). `policy` (`actnet.tensor.checkpoint.dots_saveable`, say)
    runs the step under `selective_checkpoint(policy)`: the recording then holds
    the recomputations, and `memory_plan` the shorter lifetimes."""
    if fn is None:
        return functools.partial(CompiledFunction, cache_size=cache_size, policy=policy)
    return CompiledFunction(fn, cache_size, policy)


# ------------------------------------------------------------- the arguments
def _signature(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return (
        tuple(_key(a, f"argument {i}") for i, a in enumerate(args)),
        tuple((k, _key(kwargs[k], f"argument {k!r}")) for k in sorted(kwargs)),
    )


def _key(value: Any, name: str) -> Any:
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise ValueError(
                f"compile: {name} requires grad; a captured step takes data "
                "(tensors without grad) as arguments, and reaches parameters "
                "through the model it uses"
            )
        return (Tensor, value.shape, value.dtype, value.device.name)
    t = type(value)
    if t is list or t is tuple:
        return (t, tuple(_key(v, f"{name}[{i}]") for i, v in enumerate(value)))
    if t is dict:
        return (t, tuple((k, _key(v, f"{name}[{k!r}]")) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"compile: {name} is a {t.__name__}, neither a Tensor nor hashable "
            "(arguments other than tensors are part of the signature, by value)"
        ) from None
    return (t, value)


def _map(value: Any, leaf: type, fn: Callable[[Any], Any]) -> Any:
    """`value` with each leaf of type `leaf` (inside lists, tuples and dicts)
    replaced by fn(leaf)."""
    if isinstance(value, leaf):
        return fn(value)
    t = type(value)
    if t is list or t is tuple:
        return t(_map(v, leaf, fn) for v in value)
    if t is dict:
        return {k: _map(v, leaf, fn) for k, v in value.items()}
    return value


def _leaves(value: Any, out: list[Tensor]) -> None:
    _map(value, Tensor, out.append)


def _substitute(value: Any, tensors: Any) -> Any:
    """`value` with each Tensor leaf replaced by the next of `tensors`."""
    return _map(value, Tensor, lambda _: next(tensors))


def _device_of(leaves: list[Tensor]) -> Device:
    devices = {t.device for t in leaves}
    if len(devices) > 1:
        names = sorted(d.name for d in devices)
        raise ValueError(f"compile: the arguments are on several devices ({names})")
    return devices.pop() if devices else get_device("cpu")


# ----------------------------------------------------------------- the result
class _Out:
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _template(value: Any, outputs: list[Tensor]) -> Any:
    """`value` with each Tensor leaf replaced by its index in `outputs`."""

    def keep(t: Tensor) -> _Out:
        outputs.append(t.detach())  # the graph and what it saved can go
        return _Out(len(outputs) - 1)

    return _map(value, Tensor, keep)


def _fresh(template: Any, outputs: list[Tensor]) -> Any:
    """The result again, its tensors detached copies of the recorded outputs."""
    with no_grad():
        return _map(template, _Out, lambda o: outputs[o.index].detach().clone())
