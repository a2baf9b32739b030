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

import dataclasses
import functools
import math
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, Generic, ParamSpec, TypeVar, overload

from actnet.device import CaptureError, Device, MemoryPlan, Program, get_device
from actnet.tensor import _tensor_base
from actnet.tensor._grad_mode import no_grad
from actnet.tensor._selective import Policy, Site, selective_checkpoint
from actnet.tensor._tensor import Tensor
from actnet.tensor._views import writable_buffer

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_CACHE_SIZE: Final = 8
# Recordings a memory budget's search may make for one signature before it
# settles (each adds at least the bytes the last plan was over by).
BUDGET_SEARCHES: Final = 8

__all__ = [
    "CaptureError",
    "CompiledFunction",
    "MemoryBudgetError",
    "Recomputed",
    "StepMemoryPlan",
    "compile",
]


class MemoryBudgetError(ValueError):
    """A memory budget below what recomputing saved tensors reaches for a step:
    `smallest_bytes` is the smallest that works (the plan with every saved
    tensor that can be recomputed recomputed)."""

    def __init__(self, budget_bytes: int, smallest_bytes: int, unconstrained: int):
        self.budget_bytes = budget_bytes
        self.smallest_bytes = smallest_bytes
        self.unconstrained_bytes = unconstrained
        super().__init__(
            f"compile: memory_budget of {budget_bytes} bytes is below what "
            f"recomputing saved tensors reaches for this step: the smallest that "
            f"works is {smallest_bytes} bytes ({smallest_bytes / unconstrained:.1%} "
            f"of the unconstrained plan's {unconstrained}); this call's step ran, "
            "and later calls with these argument shapes are refused"
        )


@dataclasses.dataclass(frozen=True)
class Recomputed:
    """A tensor that backward makes again (by a policy or a memory budget):
    a saved one not kept, or one it is made from."""

    function: str  # the Function that made it
    nbytes: int
    seconds: float  # its forward, as measured when recorded: the cost per step


@dataclasses.dataclass(frozen=True)
class StepMemoryPlan(MemoryPlan):
    """A compiled step's `memory_plan`: the device's plan of its transient
    memory, and what backward recomputes in it (by a policy or to fit the
    memory budget; the sum of their `seconds` is the cost per step) and the
    budget in bytes (a fraction resolved against the unconstrained plan; None
    without one)."""

    recomputed: tuple[Recomputed, ...] = ()
    budget_bytes: int | None = None


class _Entry:
    """One signature's recording."""

    __slots__ = (
        "budget_bytes", "calls", "drop", "grads", "inputs", "outputs", "program",
        "recomputed", "searches", "settled", "template", "unconstrained",
        "unreachable",
    )  # fmt: skip

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
        # A memory budget's search: the site numbers dropped, whether the last
        # recording fits, the unconstrained plan's peak, what is recomputed.
        self.drop: frozenset[int] = frozenset()
        self.settled = True
        self.searches = 0
        self.unconstrained: int | None = None
        self.budget_bytes: int | None = None
        self.recomputed: tuple[Recomputed, ...] = ()
        self.unreachable: MemoryBudgetError | None = None


class CompiledFunction(Generic[P, R]):
    """A step function under `compile` (see the module's docstring)."""

    def __init__(
        self,
        fn: Callable[P, R],
        cache_size: int = DEFAULT_CACHE_SIZE,
        policy: Policy | None = None,
        memory_budget: float | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"compile takes a function, got {type(fn).__name__}")
        _check_budget(memory_budget)
        if type(cache_size) is not int or cache_size < 1:
            raise ValueError(f"cache_size must be an int >= 1, got {cache_size!r}")
        if policy is not None and not callable(policy):
            raise TypeError(f"compile: policy must be callable, got {policy!r}")
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._policy = policy
        self._budget = memory_budget
        self._cache_size = cache_size
        self._entries: OrderedDict[Any, _Entry] = OrderedDict()
        self._last: _Entry | None = None
        self.recordings = 0  # how many times a call recorded
        self.replays = 0  # how many calls replayed a recording

    @property
    def memory_plan(self) -> StepMemoryPlan | None:
        """The transient memory of the last recording (None before one): the
        device's plan, with what backward recomputes and the budget."""
        last = self._last
        if last is None or last.program is None:
            return None
        plan = last.program.memory_plan
        return StepMemoryPlan(
            **{f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)},
            recomputed=last.recomputed,
            budget_bytes=last.budget_bytes,
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
        if entry.unreachable is not None:
            raise entry.unreachable
        if entry.calls == 1:
            return self._run(args, kwargs)
        if entry.program is not None and entry.program.valid() and entry.settled:
            result = self._replay(entry, args, kwargs)
            if result is not _STALE:
                return result  # type: ignore[no-any-return]  # the recorded result's shape
        return self._record(entry, args, kwargs)

    def _run(
        self,
        args: Any,
        kwargs: Any,
        drop: frozenset[int] = frozenset(),
        sites: list[Site] | None = None,
    ) -> R:
        """The step itself, under the selective checkpoint policy if any, with
        the outputs numbered in `drop` recomputed, and every output's Site
        appended to `sites` when given."""
        policy = self._policy
        if policy is None and sites is None:
            return self._fn(*args, **kwargs)

        def keep(function: Any, number: int) -> bool:
            return (policy is None or policy(function)) and number not in drop

        with selective_checkpoint.choosing(keep, sites):
            return self._fn(*args, **kwargs)

    def _fit(self, entry: _Entry, sites: list[Site]) -> None:
        """After a recording under a memory budget: settle when its plan fits,
        else choose more saved tensors to recompute at the next call (DTR's
        heuristic: the cheapest to recompute per byte held and per stretch it
        is held first), or refuse when none is left."""
        assert entry.program is not None
        budget = self._budget
        peak = entry.program.memory_plan.peak_bytes
        if not entry.drop:
            entry.unconstrained = peak
        assert budget is not None and entry.unconstrained is not None
        limit = (
            budget
            if isinstance(budget, int)
            else math.ceil(budget * entry.unconstrained)
        )
        entry.budget_bytes = limit
        if peak <= limit:
            entry.settled = True
            return
        chosen: set[int] = set()
        if entry.searches < BUDGET_SEARCHES:
            candidates = _candidates(sites, entry.drop)
            chosen = _choose(sites, candidates, entry.drop, peak - limit)
        if not chosen:
            entry.unreachable = MemoryBudgetError(limit, peak, entry.unconstrained)
            raise entry.unreachable
        entry.drop = entry.drop | chosen
        entry.settled = False
        entry.searches += 1

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
        sites: list[Site] | None = (
            None if self._budget is None and self._policy is None else []
        )
        _tensor_base.grad_writes = writes  # type: ignore[assignment]  # Tensors
        try:
            with device.capture() as cap:
                result = self._run(own_args, own_kwargs, entry.drop, sites)
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
        if sites is not None:
            entry.recomputed = tuple(
                Recomputed(s.function, s.nbytes, s.seconds)
                for s in sites
                if s.recomputed
            )
        if sites is not None and self._budget is not None:
            self._fit(entry, sites)
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


def _held(sites: list[Site]) -> set[int]:
    """The outputs that backward holds: those saved, and what a saved view
    shows (its memory is the other's)."""
    by_number = {s.number: s for s in sites}
    held: set[int] = set()
    todo = [s.number for s in sites if s.saved]
    while todo:
        number = todo.pop()
        if number in held:
            continue
        held.add(number)
        site = by_number[number]
        if site.view:
            todo.extend(site.inputs)
    return held


def _candidates(sites: list[Site], drop: frozenset[int]) -> list[Site]:
    """Held outputs that could be recomputed and are not yet (views go with
    what they show)."""
    held = _held(sites)
    return [
        s
        for s in sites
        if s.number in held and s.recomputable and not s.view and s.number not in drop
    ]


def _choose(
    sites: list[Site], candidates: list[Site], drop: frozenset[int], excess: int
) -> set[int]:
    """Held outputs to recompute from now on, freeing at least `excess` bytes,
    one at a time by DTR's heuristic: least recompute time per byte freed and
    per stretch held (later outputs are held for less: backward takes them
    first). The time counts the dropped outputs it must be made from; the
    bytes freed do not count arguments its recipe would keep that nothing else
    holds. Views of a chosen output go with it (a view kept would keep its
    memory)."""
    by_number = {s.number: s for s in sites}
    views: dict[int, list[int]] = {}
    for s in sites:
        if s.view:
            for i in s.inputs:
                views.setdefault(i, []).append(s.number)
    held = _held(sites)
    dropped = set(drop)
    end = max(s.number for s in sites) + 1

    def cost(number: int, seen: set[int]) -> float:
        """Its time, and that of the dropped outputs it is made from."""
        site = by_number[number]
        total = site.seconds
        for i in site.inputs:
            if i in dropped and i not in seen:
                seen.add(i)
                total += cost(i, seen)
        return total

    def freed(site: Site) -> int:
        pinned = sum(
            by_number[i].nbytes
            for i in site.inputs
            if i not in held and i not in dropped and not by_number[i].view
        )
        return site.nbytes - pinned

    def score(site: Site) -> float:
        return cost(site.number, set()) / (freed(site) * (end - site.number))

    chosen: set[int] = set()
    total = 0
    left = [s for s in candidates if freed(s) > 0]
    while left and (total < excess or not chosen):
        best = min(left, key=score)
        left.remove(best)
        total += freed(best)
        todo = [best.number]
        while todo:  # the output and its views, and theirs
            number = todo.pop()
            if number not in dropped:
                dropped.add(number)
                chosen.add(number)
            todo.extend(views.get(number, ()))
        left = [s for s in left if freed(s) > 0]
    return chosen


@overload
def compile(  # torch.compile's name, as the porting rule asks
    fn: Callable[P, R],
    *,
    cache_size: int = DEFAULT_CACHE_SIZE,
    policy: Policy | None = None,
    memory_budget: float | None = None,
) -> CompiledFunction[P, R]: ...
@overload
def compile(
    fn: None = None,
    *,
    cache_size: int = DEFAULT_CACHE_SIZE,
    policy: Policy | None = None,
    memory_budget: float | None = None,
) -> Callable[[Callable[P, R]], CompiledFunction[P, R]]: ...
def compile(
    fn: Callable[P, R] | None = None,
    *,
    cache_size: int = DEFAULT_CACHE_SIZE,
    policy: Policy | None = None,
    memory_budget: float | None = None,
) -> Any:
    """A captured step: `compile(fn)` or `@compile` (see the module's docstring).
    `cache_size` bounds the recordings kept, one per signature (least recently
    used first out). `policy` (`actnet.tensor.checkpoint.dots_saveable`, say)
    runs the step under `selective_checkpoint(policy)`: the recording then holds
    the recomputations, and `memory_plan` the shorter lifetimes.

    `memory_budget` bounds the planned transient memory (`memory_plan`'s
    `peak_bytes`): bytes, or a fraction (0, 1] of the plan the step has without
    one. Call 2 records as usual; while its plan is over the budget, each next
    call records again with more saved tensors recomputed in backward instead
    of kept (chosen by DTR's heuristic: least recompute time per byte and per
    stretch held), until a recording fits; then calls replay it.
    `memory_plan.recomputed` lists what it recomputes and what each costs. A
    budget below what recomputing every saved tensor that can be reaches raises
    MemoryBudgetError (a ValueError) naming the smallest that works (the call
    that finds out has run its step; later calls with those shapes are
    refused).

    >>> step = at.compile(train_step, memory_budget=0.5)
    """
    _check_budget(memory_budget)
    if fn is None:
        return functools.partial(
            CompiledFunction,
            cache_size=cache_size,
            policy=policy,
            memory_budget=memory_budget,
        )
    return CompiledFunction(fn, cache_size, policy, memory_budget)


def _check_budget(budget: object) -> None:
    if budget is None:
        return
    if type(budget) is int:
        if budget < 0:
            raise ValueError(f"compile: memory_budget must be >= 0 bytes, got {budget}")
        return
    if type(budget) is float:
        if not 0.0 < budget <= 1.0:
            raise ValueError(
                "compile: memory_budget as a fraction of the unconstrained plan "
                f"must be in (0, 1], got {budget}"
            )
        return
    raise TypeError(
        "compile: memory_budget must be bytes (an int) or a fraction (a float), "
        f"got {type(budget).__name__}"
    )


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
