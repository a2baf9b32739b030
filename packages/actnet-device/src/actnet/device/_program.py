"""A recording ready to replay (`Program`), what it reports (`MemoryPlan`), and
the host-side calls it makes again at their place (random reservations, host
steps). Made by `_capture.Capture`; see there for what is recorded."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from actnet.device._buffer import Buffer
from actnet.mem import Block

if TYPE_CHECKING:
    from actnet.device._core import DeviceCore
    from actnet.device._random import Generator


class CaptureError(RuntimeError):
    """Something inside a captured stretch of work cannot be replayed."""


@dataclass(frozen=True)
class PlannedBuffer:
    """One transient buffer of a recording, where the replay puts it."""

    offset: int  # bytes from the start of the planned range
    nbytes: int  # the block's size (rounded to the allocator's alignment)
    first_use: int  # index of the first kernel call that touched it
    last_use: int  # index of the last one (inclusive)
    dtype: Any
    shape: tuple[int, ...]
    label: Any  # the buffer's info (Device.memory_snapshot's)


@dataclass(frozen=True)
class MemoryPlan:
    """The transient memory of a recording: every buffer made and freed within it.

    `peak_bytes` is the planned range (what a replay holds for them);
    `lower_bound_bytes` the largest sum of those buffers live at one kernel call
    (no placement can do with less); `buffers` lists them in allocation order.
    """

    peak_bytes: int
    lower_bound_bytes: int
    buffers: tuple[PlannedBuffer, ...]
    kernel_calls: int
    host_steps: int
    state_buffers: int  # blocks the replay reads or writes where they are


class Program:
    """A recording, ready to replay (see the module's docstring)."""

    def __init__(
        self,
        device: DeviceCore,
        calls: list[tuple[Callable[..., Any], list[Any], dict[str, Any] | None]],
        state: list[Block],
        region: Buffer | None,
        memory_plan: MemoryPlan,
        stale: bool = False,
    ) -> None:
        self._device = device
        # A host step rebound state (see `replay`): record again.
        self._stale = stale
        self._calls = calls
        self._state = state
        self._host_steps = [fn for fn, _, _ in calls if isinstance(fn, HostStep)]
        self._region = region  # holds the planned range while the program lives
        self.memory_plan: Final = memory_plan

    def valid(self) -> bool:
        """Whether every state block the program reads or writes is still
        allocated (the same block: a tensor rebound since has a new one), and
        every host step's object is still alive."""
        if self._stale:
            return False
        is_live = self._device.allocator.is_live
        return all(is_live(block) for block in self._state) and all(
            step.alive() for step in self._host_steps
        )

    def replay(self) -> None:
        """Run the recorded kernel calls again (and the host steps, and the
        random reservations, each at its place).

        A replay allocates nothing that outlives it. When it does, a host step
        has rebound state (an optimizer writing a parameter that something else
        shares, say a kept state_dict, copies it first): this replay is right,
        but the recorded kernels would read the old copy from now on, so the
        program is no longer `valid()`."""
        allocator = self._device.allocator
        backend = self._device._backend
        used = allocator.used_bytes()
        token = backend.begin_quiet()
        try:
            for fn, args, kwargs in self._calls:
                if kwargs is None:
                    fn(*args)
                else:
                    fn(*args, **kwargs)
        finally:
            backend.end_quiet(token)
        if allocator.used_bytes() > used:
            self._stale = True


class Reservation:
    """A `Generator.reserve` of the recording, made again by every replay."""

    __slots__ = ("counter", "generator", "key", "n_words", "patches")

    def __init__(
        self, generator: Generator, n_words: int, key: tuple[int, int], counter: int
    ) -> None:
        self.generator = generator
        self.n_words = n_words
        self.key = key
        self.counter = counter
        self.patches: list[tuple[list[Any], int]] = []  # (args, index of key)

    def __call__(self) -> None:
        key, counter = self.generator.reserve(self.n_words)
        for args, i in self.patches:
            args[i] = key
            args[i + 1] = counter


class HostStep:
    """A host step in the program. A bound method is held by a weak reference:
    once its object is gone (an optimizer replaced by a new one), the program is
    no longer valid, and the next call records again."""

    __slots__ = ("fn", "method")

    def __init__(self, fn: Callable[[], None]) -> None:
        self.method: weakref.WeakMethod[Callable[[], None]] | None = None
        self.fn: Callable[[], None] | None = None
        if inspect.ismethod(fn):
            self.method = weakref.WeakMethod(fn)
        else:
            self.fn = fn

    def alive(self) -> bool:
        return self.method is None or self.method() is not None

    def __call__(self) -> None:
        fn = self.fn if self.method is None else self.method()
        if fn is None:
            raise CaptureError(
                "a host step's object is gone (check Program.valid() before replay)"
            )
        fn()
