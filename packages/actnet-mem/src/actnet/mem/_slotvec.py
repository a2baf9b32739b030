"""SlotVec: a dense container addressed by generation-checked handles."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Generic, NamedTuple, TypeVar, cast

T = TypeVar("T")

_owner_ids = itertools.count()


class StaleHandleError(KeyError):
    """A handle whose slot was freed (and maybe reused), or that belongs to another
    SlotVec. Subclasses `KeyError`, so `except KeyError` code keeps working."""

    def __str__(self) -> str:
        # KeyError.__str__ shows repr(arg); the message is meant to be read as text.
        return str(self.args[0]) if self.args else ""


class Handle(NamedTuple):
    """An immutable, hashable reference to one slot of one SlotVec.

    `generation` counts how many times the slot was freed before this handle was
    issued, so a handle kept past `remove` never aliases the slot's next value.
    """

    slot: int
    generation: int
    owner: int


class SlotVec(Generic[T]):
    """Values stored densely in slots; freed slots are reused.

    Not thread-safe: callers that share one SlotVec between threads hold a lock.

    >>> sv = SlotVec[str]()
    >>> h = sv.insert("a")
    >>> sv[h]
    'a'
    >>> sv.remove(h)
    'a'
    >>> h in sv
    False
    """

    __slots__ = ("_free", "_generations", "_id", "_len", "_mutations", "_values")

    def __init__(self) -> None:
        self._id = next(_owner_ids)
        self._values: list[T | None] = []
        self._generations: list[int] = []  # odd: slot is free, even: slot is occupied
        self._free: list[int] = []  # indices of free slots, reused last-in first-out
        self._len = 0
        self._mutations = 0  # lets iteration detect insert/remove under its feet

    def insert(self, value: T) -> Handle:
        """Store `value` in a free slot (or a new one) and return its handle."""
        if self._free:
            index = self._free.pop()
            generation = self._generations[index] + 1
            self._generations[index] = generation
            self._values[index] = value
        else:
            index = len(self._values)
            generation = 0
            self._values.append(value)
            self._generations.append(generation)
        self._len += 1
        self._mutations += 1
        return Handle(index, generation, self._id)

    def remove(self, handle: Handle) -> T:
        """Free the slot of `handle` and return the value it held."""
        index = self._check(handle)
        value = self._values[index]
        self._values[index] = None
        self._generations[index] += 1
        self._free.append(index)
        self._len -= 1
        self._mutations += 1
        return cast(T, value)  # an occupied slot holds a T (which may itself be None)

    def __getitem__(self, handle: Handle) -> T:
        return cast(T, self._values[self._check(handle)])

    def __setitem__(self, handle: Handle, value: T) -> None:
        self._values[self._check(handle)] = value

    def __contains__(self, handle: object) -> bool:
        return (
            type(handle) is Handle
            and handle.owner == self._id
            and 0 <= handle.slot < len(self._values)
            and self._generations[handle.slot] == handle.generation
        )

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[tuple[Handle, T]]:
        """(handle, value) pairs in slot order, so `dict(sv)` maps handles to values."""
        mutations = self._mutations
        for index, generation in enumerate(self._generations):
            if mutations != self._mutations:
                raise RuntimeError("SlotVec changed size during iteration")
            if generation % 2 == 0:
                yield Handle(index, generation, self._id), cast(T, self._values[index])
        if mutations != self._mutations:
            raise RuntimeError("SlotVec changed size during iteration")

    def clear(self) -> None:
        """Remove every value; handles issued before stay stale forever."""
        for handle, _ in list(self):
            self.remove(handle)

    def __repr__(self) -> str:
        return f"SlotVec({len(self)} values, {len(self._values)} slots)"

    def _check(self, handle: Handle) -> int:
        if type(handle) is not Handle:
            raise TypeError(
                f"handle must be a Handle returned by SlotVec.insert, "
                f"got {type(handle).__name__}"
            )
        if handle.owner != self._id:
            raise StaleHandleError(f"{handle} belongs to another SlotVec")
        index = handle.slot
        if not 0 <= index < len(self._values):
            raise StaleHandleError(f"{handle} points past the end of this SlotVec")
        if self._generations[index] != handle.generation:
            raise StaleHandleError(f"{handle} is stale: its value was removed")
        return index
