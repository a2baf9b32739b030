"""The memory shadow: an allocator of offsets in segments it never touches.

The allocator only does arithmetic on (segment, offset, size). The memory itself
(a NumPy byte arena, one CUDA allocation, a file, nothing at all) belongs to
whoever passes the `grow` and `release` callbacks. Words and policies follow
CuPy's `cupy/cuda/memory.pyx`: `malloc`/`free`/`free_all_blocks`,
`used_bytes`/`free_bytes`/`total_bytes`, `set_limit`, one `_round_size`; on out
of memory, release empty segments, retry once, then raise.

Empty segments are kept for later requests, as CuPy's pool keeps them, while a
new segment leaves the arena within twice the most bytes it has had in use
(never reset, unlike `peak_bytes`); past that bound they are released before a
new segment is taken, so a run whose request sizes drift does not keep
reserving segments shaped for its earlier requests. A training step asks for
the same sizes every step: releasing its empty segments and mapping new ones
cost fresh pages, and their page faults, every step (40-90 ms of an LSTM
language model's 120 ms step on a virtual machine).

Placement is best fit over exact-size free lists: every size is a multiple of
the alignment, so each distinct free size is its own size class, and the
smallest class that fits (found by bisection over the sorted non-empty classes)
gives the best fit. A chunk larger than the request is split; a freed block is
coalesced with both free neighbours.

Coalescing is deferred, as glibc's tcache and fastbins defer it: `free` puts the
block on a list of recently freed blocks of its size, and a `malloc` of exactly
that size takes it back (a perfect fit, and the common case of a training loop,
which asks for the same sizes every step). Any other `malloc` first merges the
deferred blocks of its size or larger with their free neighbours and takes the
best fit; the smaller ones keep waiting for their own sizes (merging them too made
one miss in a step cascade: every later request of that step missed), unless no
free chunk holds the request, when they are merged as well. Every read of the
free-space structure (`largest_free_block`, `stats`, `segments`,
`free_all_blocks`) merges them all. A new segment is never taken while deferred
blocks exist, and every statistic is exact at every moment. A malloc+free pair
costs about a third of what eager coalescing costs in CPython.

Internally each segment gets a base address in one virtual address space, with
a gap of one alignment unit between segments, so free chunks are keyed by plain
integers and never coalesce across segments.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, insort
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Final, NoReturn, Self

DEFAULT_ALIGNMENT: Final = 256
DEFAULT_SEGMENT_SIZE: Final = 2 << 20  # 2 MiB, PyTorch's segment size for small blocks


class OutOfMemoryError(MemoryError):
    """The limit was reached or `grow` refused, even after releasing empty segments.

    Every attribute is an exact byte count (`limit` is None when there is none).
    The layers above may say where it happened: `operator` (the device operator
    that was allocating) and `module` (the path of the module it ran in), each
    None until set, and each also said in a note of the exception.
    """

    operator: str | None = None
    module: str | None = None

    def __init__(
        self,
        *,
        requested: int,
        rounded: int,
        used: int,
        reserved: int,
        limit: int | None,
        largest_free_block: int,
        where: str | None = None,
        reason: str = "",
    ) -> None:
        self.requested = requested
        self.rounded = rounded
        self.used = used
        self.reserved = reserved
        self.free = reserved - used
        self.limit = limit
        self.largest_free_block = largest_free_block
        self.where = where
        limit_text = "no limit" if limit is None else f"limit {limit} bytes"
        prefix = f"{where}: " if where else ""
        suffix = f" ({reason})" if reason else ""
        super().__init__(
            f"{prefix}out of memory: cannot allocate {requested} bytes "
            f"(rounded to {rounded}); used {used} bytes, reserved {reserved} bytes, "
            f"free {self.free} bytes, {limit_text}, "
            f"largest free block {largest_free_block} bytes{suffix}"
        )


class InvalidBlockError(ValueError):
    """`free` was given a block that is not live in this allocator: a double free,
    a block of another allocator, or a block of a segment that was released."""


class _Segment:
    """One segment's record. Its fields are written only under the owner's lock."""

    __slots__ = ("base", "id", "owner", "released", "size")

    def __init__(self, id: Hashable, base: int, size: int, owner: Allocator) -> None:
        self.id = id
        self.base = base  # address of offset 0 in the allocator's virtual space
        self.size = size
        self.owner = owner
        self.released = False


class Block(tuple[Hashable, int, int, Any, _Segment]):
    """A live allocation: `segment`, `offset`, `size` (rounded, ≥ the request), `info`.

    Immutable, and hashable by identity: a later block at the same offset is a
    different block, which is what lets `free` recognise a double free.
    Blocks come only from `Allocator.malloc`.
    """

    __slots__ = ()
    __hash__ = object.__hash__
    __eq__ = object.__eq__  # identity, not tuple equality
    __ne__ = object.__ne__

    def __new__(cls, *args: object) -> Self:
        raise TypeError("Block cannot be created directly; use Allocator.malloc")

    # C-level getters (operator.itemgetter): a Block's fields are read on every
    # device allocation.
    segment = property(itemgetter(0), doc="The id of the segment the block lies in.")
    offset = property(itemgetter(1), doc="The byte offset of the block in its segment.")
    size = property(itemgetter(2), doc="The bytes reserved (the request, rounded up).")
    info = property(itemgetter(3), doc="The caller's value given to malloc.")

    def __copy__(self) -> Block:
        return self  # immutable, and its identity is what it means

    def __deepcopy__(self, memo: dict[int, Any]) -> Block:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a Block is part of its allocator's state and cannot be pickled"
        )

    def __repr__(self) -> str:
        return (
            f"Block(segment={self[0]!r}, offset={self[1]}, size={self[2]}, "
            f"info={self[3]!r})"
        )


# A miss leaves the deferred blocks of smaller sizes waiting only while at most
# this many sizes wait (a training step asks for a few tens of sizes; a workload
# of many distinct sizes would otherwise pay a scan of them on every miss).
_SIZES_KEPT: Final = 32


@dataclass(frozen=True)
class AllocatorStats:
    """A consistent snapshot of an allocator's numbers, all in bytes or counts."""

    used_bytes: int  # sum of the live blocks' sizes
    free_bytes: int  # total_bytes - used_bytes
    total_bytes: int  # reserved: the sum of all segments' sizes
    peak_bytes: int  # peak of used_bytes since creation or reset_peak()
    peak_total_bytes: int  # peak of total_bytes since creation or reset_peak()
    largest_free_block: int
    limit: int | None
    segments: int
    live_blocks: int
    free_blocks: int  # free chunks (maximal runs of free bytes)
    fragmentation: float  # 1 - largest_free_block / free_bytes (0.0 when nothing free)


@dataclass(frozen=True)
class SegmentInfo:
    """One segment as `Allocator.segments()` describes it."""

    segment: Hashable
    size: int
    used_bytes: int
    live_blocks: int
    largest_free_block: int


class _Refused(Exception):
    """Internal: a new segment could not be obtained (limit, or `grow` raised)."""

    def __init__(self, reason: str, cause: BaseException | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


def _check_size(name: str, value: object, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        expected = "an int or None" if allow_none else "an int"
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


class Allocator:
    """Best-fit allocator of aligned offsets in growable segments.

    >>> a = Allocator(alignment=256, segment_size=4096)
    >>> b = a.malloc(100, info="weights")
    >>> (b.segment, b.offset, b.size, a.used_bytes(), a.total_bytes())
    (0, 0, 256, 256, 4096)
    >>> a.free(b)
    >>> a.used_bytes()
    0

    `grow(nbytes) -> segment_id` is called for a new segment of exactly `nbytes`
    (at least the request, at least `segment_size` unless the limit forbids); the
    id is any hashable value, unique among live segments; the callback raises to
    refuse. Without `grow`, segments get the ids 0, 1, 2, ...
    `release(segment_id)` is called when an empty segment is given back.

    Thread-safe: one lock guards every mutable field (all the `_`-prefixed
    attributes assigned in `__init__` except the constants `_alignment`,
    `_mask`, `_segment_size`, `_grow`, `_release` and `_name`).
    """

    def __init__(
        self,
        *,
        alignment: int = DEFAULT_ALIGNMENT,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
        grow: Callable[[int], Hashable] | None = None,
        release: Callable[[Any], object] | None = None,
        limit: int | None = None,
        name: str | None = None,
    ) -> None:
        _check_size("alignment", alignment)
        if alignment == 0 or alignment & (alignment - 1):
            raise ValueError(f"alignment must be a power of two, got {alignment}")
        _check_size("segment_size", segment_size)
        if segment_size == 0:
            raise ValueError("segment_size must be > 0, got 0")
        _check_size("limit", limit, allow_none=True)
        if grow is not None and not callable(grow):
            raise TypeError(f"grow must be callable or None, got {type(grow).__name__}")
        if release is not None and not callable(release):
            raise TypeError(
                f"release must be callable or None, got {type(release).__name__}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {type(name).__name__}")
        # Constants (read without the lock).
        self._alignment = alignment
        self._mask = alignment - 1
        self._unmask = ~self._mask
        self._segment_size = -(-segment_size // alignment) * alignment
        self._grow = grow
        self._release = release
        self._name = name
        # Everything below is guarded by _lock.
        self._lock = threading.Lock()
        self._limit = limit
        self._segments: dict[Hashable, _Segment] = {}
        self._next_base = 0
        self._next_virtual_id = 0
        self._bins: dict[int, dict[int, _Segment]] = {}  # size -> {address: segment}
        self._sizes: list[int] = []  # sorted sizes of the non-empty bins
        self._free_start: dict[int, int] = {}  # free chunk start address -> size
        self._free_end: dict[int, int] = {}  # free chunk end address -> start address
        self._live: set[Block] = set()
        self._recent: dict[int, list[Block]] = {}  # freed, not yet merged, by size
        self._used = 0
        self._peak = 0
        self._high_water = 0  # the most used bytes before the last reset_peak
        self._reserved = 0
        self._peak_reserved = 0

    # ------------------------------------------------------------------ public API
    @property
    def alignment(self) -> int:
        return self._alignment

    @property
    def segment_size(self) -> int:
        return self._segment_size

    @property
    def name(self) -> str | None:
        return self._name

    def malloc(self, nbytes: int, info: Any = None) -> Block:
        """Reserve at least `nbytes` (0 included) and return the block.

        Raises `OutOfMemoryError` when no segment has room and a new one cannot
        be had, after releasing empty segments and retrying once.
        """
        if type(nbytes) is not int:
            _check_size("nbytes", nbytes)
        if nbytes <= 0:
            if nbytes < 0:
                raise ValueError(f"nbytes must be >= 0, got {nbytes}")
            size = self._alignment  # even 0 bytes get a distinct block
        else:
            size = (nbytes + self._mask) & self._unmask
        self._lock.acquire()  # not `with`: twice as fast in CPython 3.11
        try:
            recent = self._recent.get(size)
            if recent:
                old = recent.pop()  # a recently freed block of exactly this size
                block = _new_tuple(Block, (old[0], old[1], size, info, old[4]))
            else:
                if self._recent:  # its size and larger; all when many sizes wait
                    self._merge_recent(size if len(self._recent) <= _SIZES_KEPT else 0)
                block = self._best_fit(size, nbytes, info)
            self._live.add(block)
            used = self._used + size
            self._used = used
            if used > self._peak:  # noqa: PLR1730  # a max() call costs more
                self._peak = used
            return block
        finally:
            self._lock.release()

    def free(self, block: Block) -> None:
        """Give `block` back; it is coalesced with its free neighbours.

        A double free, a foreign block or a block of a released segment raises
        `InvalidBlockError` and changes nothing.
        """
        if type(block) is not Block:
            raise TypeError(
                f"block must be a Block returned by Allocator.malloc, "
                f"got {type(block).__name__}"
            )
        self._lock.acquire()  # not `with`: twice as fast in CPython 3.11
        try:
            try:
                self._live.remove(block)
            except KeyError:
                self._raise_invalid(block)
            size = block[2]
            self._used -= size
            recent = self._recent.get(size)
            if recent is None:
                self._recent[size] = [block]
            else:
                recent.append(block)
        finally:
            self._lock.release()

    def used_bytes(self) -> int:
        return self._used

    def free_bytes(self) -> int:
        with self._lock:
            return self._reserved - self._used

    def total_bytes(self) -> int:
        return self._reserved

    def peak_bytes(self) -> int:
        return self._peak

    def peak_total_bytes(self) -> int:
        return self._peak_reserved

    def reset_peak(self) -> None:
        """Restart both peaks from the current used and reserved bytes."""
        with self._lock:
            self._high_water = max(self._high_water, self._peak)
            self._peak = self._used
            self._peak_reserved = self._reserved

    def largest_free_block(self) -> int:
        with self._lock:
            self._merge_recent()
            return self._sizes[-1] if self._sizes else 0

    @property
    def limit(self) -> int | None:
        return self._limit

    def set_limit(self, nbytes: int | None) -> None:
        """Cap the reserved bytes (None: no cap). A cap below the reserved bytes
        first releases the empty segments (as `free_all_blocks`); when the
        segments that hold live blocks still reserve more, it raises ValueError
        saying how much they hold, and the old cap stays: a limit is never
        below what is reserved."""
        _check_size("nbytes", nbytes, allow_none=True)
        with self._lock:
            if nbytes is not None and nbytes < self._reserved:
                self._release_empty_segments()
                if nbytes < self._reserved:
                    raise ValueError(
                        f"{self._name + ': ' if self._name else ''}cannot limit the "
                        f"reserved bytes to {nbytes}: segments holding live blocks "
                        f"reserve {self._reserved} bytes ({self._used} bytes in "
                        "use); free buffers first, or set a limit of at least "
                        f"{self._reserved}"
                    )
            self._limit = nbytes

    def free_all_blocks(self) -> int:
        """Release every segment that holds no live block; return the bytes released."""
        with self._lock:
            return self._release_empty_segments()

    def is_live(self, block: Block) -> bool:
        """Whether `block` is live: returned by this allocator's `malloc` and not
        freed since (a block of a released segment, or another allocator's, is not).
        A program that keeps blocks it did not allocate (a recording of a step)
        checks them with this before it uses their memory again."""
        return block in self._live  # a set of identities: atomic under the GIL

    def blocks(self) -> list[Block]:
        """The live blocks, in address order (segment by segment)."""
        with self._lock:
            return sorted(self._live, key=_block_address)

    def segments(self) -> list[SegmentInfo]:
        """Every reserved segment with its usage, in the order they were obtained."""
        with self._lock:
            self._merge_recent()
            used: dict[int, int] = {}
            count: dict[int, int] = {}
            for block in self._live:
                base = block[4].base
                used[base] = used.get(base, 0) + block[2]
                count[base] = count.get(base, 0) + 1
            largest: dict[int, int] = {}
            for size, chunks in self._bins.items():
                for seg in chunks.values():
                    if size > largest.get(seg.base, 0):
                        largest[seg.base] = size
            return [
                SegmentInfo(
                    segment=seg.id,
                    size=seg.size,
                    used_bytes=used.get(seg.base, 0),
                    live_blocks=count.get(seg.base, 0),
                    largest_free_block=largest.get(seg.base, 0),
                )
                for seg in self._segments.values()
            ]

    def stats(self) -> AllocatorStats:
        with self._lock:
            self._merge_recent()
            free = self._reserved - self._used
            largest = self._sizes[-1] if self._sizes else 0
            return AllocatorStats(
                used_bytes=self._used,
                free_bytes=free,
                total_bytes=self._reserved,
                peak_bytes=self._peak,
                peak_total_bytes=self._peak_reserved,
                largest_free_block=largest,
                limit=self._limit,
                segments=len(self._segments),
                live_blocks=len(self._live),
                free_blocks=len(self._free_start),
                fragmentation=1.0 - largest / free if free else 0.0,
            )

    def __repr__(self) -> str:
        name = f"{self._name!r}, " if self._name else ""
        return (
            f"Allocator({name}used={self._used}, reserved={self._reserved}, "
            f"segments={len(self._segments)}, live_blocks={len(self._live)})"
        )

    # ------------------------------------------------------------------ internals
    def _best_fit(self, size: int, requested: int, info: Any) -> Block:
        """Take the smallest free chunk that holds `size` and split off the rest;
        when none does, merge the deferred blocks still waiting and look again,
        then grow."""
        sizes = self._sizes
        i = bisect_left(sizes, size)
        if i == len(sizes) and self._recent:  # the smaller deferred blocks too
            self._merge_recent()
            i = bisect_left(sizes, size)
        if i == len(sizes):
            self._add_segment_or_raise(size, requested)
            i = bisect_left(sizes, size)
        chunk_size = sizes[i]
        chunks = self._bins[chunk_size]
        address, seg = chunks.popitem()  # the most recently freed of that size
        if not chunks:
            del self._bins[chunk_size]
            del sizes[i]
        del self._free_start[address]
        del self._free_end[address + chunk_size]
        if chunk_size > size:
            self._insert_free(address + size, chunk_size - size, seg)
        return tuple.__new__(Block, (seg.id, address - seg.base, size, info, seg))

    def _merge_recent(self, least: int = 0) -> None:
        """Coalesce the deferred blocks of `least` bytes or more (all by default)
        with their free neighbours."""
        recent = self._recent
        for size, blocks in list(recent.items()):
            if size >= least or not blocks:  # emptied lists go too
                del recent[size]
                for block in blocks:
                    seg = block[4]
                    self._coalesce(seg.base + block[1], block[2], seg)

    def _coalesce(self, address: int, size: int, seg: _Segment) -> None:
        """Free [address, address + size), merged with the free chunks on both sides."""
        left = self._free_end.get(address)
        if left is not None:
            self._remove_free(left, address - left)
            size += address - left
            address = left
        right_size = self._free_start.get(address + size)
        if right_size is not None:
            self._remove_free(address + size, right_size)
            size += right_size
        self._insert_free(address, size, seg)

    def _insert_free(self, address: int, size: int, seg: _Segment) -> None:
        self._free_start[address] = size
        self._free_end[address + size] = address
        chunks = self._bins.get(size)
        if chunks is None:
            self._bins[size] = {address: seg}
            insort(self._sizes, size)
        else:
            chunks[address] = seg

    def _remove_free(self, address: int, size: int) -> None:
        chunks = self._bins[size]
        del chunks[address]
        if not chunks:
            del self._bins[size]
            del self._sizes[bisect_left(self._sizes, size)]
        del self._free_start[address]
        del self._free_end[address + size]

    def _add_segment_or_raise(self, size: int, requested: int) -> None:
        # Keep the empty segments while the new one leaves the arena within
        # twice the most bytes in use (the module's docstring says why)
        most = max(self._high_water, self._peak, self._used + size)
        if self._reserved + max(self._segment_size, size) > 2 * most:
            self._release_empty_segments()
        try:
            self._add_segment(size)
            return
        except _Refused:
            self._release_empty_segments()
        try:
            self._add_segment(size)
        except _Refused as refused:
            raise OutOfMemoryError(
                requested=requested,
                rounded=size,
                used=self._used,
                reserved=self._reserved,
                limit=self._limit,
                largest_free_block=self._sizes[-1] if self._sizes else 0,
                where=self._name,
                reason=refused.reason,
            ) from refused.cause

    def _add_segment(self, size: int) -> None:
        seg_size = max(self._segment_size, size)
        if self._limit is not None:
            room = (self._limit - self._reserved) & ~self._mask
            if room < size:
                raise _Refused(f"the limit leaves room for {max(room, 0)} more bytes")
            seg_size = min(seg_size, room)
        if self._grow is None:
            seg_id: Hashable = self._next_virtual_id
            self._next_virtual_id += 1
        else:
            try:
                seg_id = self._grow(seg_size)
            except Exception as exc:  # the callback refuses by raising anything
                raise _Refused(f"grow({seg_size}) raised {exc!r}", exc) from exc
            if seg_id in self._segments:
                raise RuntimeError(
                    f"grow({seg_size}) returned segment id {seg_id!r}, "
                    f"which is already in use"
                )
        seg = _Segment(seg_id, self._next_base, seg_size, self)
        self._next_base += seg_size + self._alignment
        self._segments[seg_id] = seg
        self._reserved += seg_size
        self._peak_reserved = max(self._peak_reserved, self._reserved)
        self._insert_free(seg.base, seg_size, seg)

    def _release_empty_segments(self) -> int:
        self._merge_recent()
        released = 0
        for seg in list(self._segments.values()):
            if self._free_start.get(seg.base) != seg.size:
                continue
            if self._release is not None:
                self._release(seg.id)  # if it raises, the segment stays ours
            self._remove_free(seg.base, seg.size)
            del self._segments[seg.id]
            seg.released = True
            self._reserved -= seg.size
            released += seg.size
        return released

    def _raise_invalid(self, block: Block) -> NoReturn:
        seg = block[4]
        if seg.owner is not self:
            raise InvalidBlockError(f"{block!r} was not allocated by this allocator")
        if seg.released:
            raise InvalidBlockError(
                f"{block!r} belongs to segment {seg.id!r}, which was released"
            )
        raise InvalidBlockError(f"double free: {block!r} was already freed")


_new_tuple = tuple.__new__


def _block_address(block: Block) -> int:
    return block[4].base + block[1]
