"""The Allocator against a reference model that recomputes everything from scratch.

The model knows only the live blocks, the segments, and which freed blocks still
wait to be merged (the allocator defers coalescing: a malloc of exactly a freed
block's size takes it back; any other malloc, and any read of the free-space
structure, merges them all first). From that it derives the maximal free gaps, so
it checks placement (the deferred block, or the best fit taken from the start of
a gap), coalescing (a gap the allocator failed to merge would show up as a wrong
choice, a wrong largest free block or a wrong free-chunk count), growth (a new
segment only when no gap fits, sized as the limit allows) and every statistic.
"""

from __future__ import annotations

import copy
import itertools
import pickle
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from actnet.mem import Allocator, Block, InvalidBlockError, OutOfMemoryError


@dataclass(frozen=True)
class Gap:
    segment: int
    offset: int
    size: int


class AllocatorMachine(RuleBasedStateMachine):
    counter: Any = None  # the session's operation counter, set by the test

    def __init__(self) -> None:
        super().__init__()
        self.allocator: Allocator | None = None

    @initialize(
        alignment=st.sampled_from([1, 16, 256]),
        segment_size=st.sampled_from([256, 4096, 10_000]),
        limit=st.one_of(st.none(), st.integers(0, 60_000)),
    )
    def create(self, alignment: int, segment_size: int, limit: int | None) -> None:
        self.alignment = alignment
        self.segment_size = -(-segment_size // alignment) * alignment
        self.refuse_growth = False
        self.grow_calls: list[int] = []
        self.release_calls: list[int] = []
        self.next_id = 0  # segment ids start at 0: a falsy id must work
        self.allocator = Allocator(
            alignment=alignment,
            segment_size=segment_size,
            grow=self._grow,
            release=self.release_calls.append,
            limit=limit,
        )
        self.limit = limit
        self.segments: dict[int, int] = {}  # id -> size, in creation order
        self.live: dict[Block, tuple[int, int, int, Any]] = {}
        self.freed: list[Block] = []
        self.recent: dict[int, list[tuple[int, int]]] = {}  # size -> (segment, offset)
        self.peak = 0
        self.most = 0  # the most used bytes ever (reset_peak leaves it)
        self.peak_total = 0
        self.other = Allocator(alignment=alignment)
        self.foreign = self.other.malloc(10)

    def _grow(self, nbytes: int) -> int:
        self.grow_calls.append(nbytes)
        if self.refuse_growth:
            raise MemoryError("the test refuses this segment")
        self.next_id += 1
        return self.next_id - 1

    def _count(self) -> None:
        if self.counter is not None:
            self.counter.count += 1

    # ------------------------------------------------------------ model helpers
    def round(self, nbytes: int) -> int:
        a = self.alignment
        return max(a, -(-nbytes // a) * a)

    def used(self) -> int:
        return sum(size for _, _, size, _ in self.live.values())

    def reserved(self) -> int:
        return sum(self.segments.values())

    def gaps(self, waiting: bool = False) -> list[Gap]:
        """The free chunks; with `waiting`, deferred blocks count as occupied."""
        by_segment: dict[int, list[tuple[int, int]]] = {s: [] for s in self.segments}
        for seg, off, size, _ in self.live.values():
            by_segment[seg].append((off, size))
        if waiting:
            for size, places in self.recent.items():
                for seg, off in places:
                    by_segment[seg].append((off, size))
        gaps = []
        for seg, blocks in by_segment.items():
            cursor = 0
            for off, size in sorted(blocks):
                if off > cursor:
                    gaps.append(Gap(seg, cursor, off - cursor))
                cursor = off + size
            if cursor < self.segments[seg]:
                gaps.append(Gap(seg, cursor, self.segments[seg] - cursor))
        return gaps

    def empty_segments(self) -> list[int]:
        busy = {seg for seg, _, _, _ in self.live.values()}
        return [s for s in self.segments if s not in busy]

    def new_segment_size(self, rounded: int, reserved: int) -> int | None:
        size = max(self.segment_size, rounded)
        if self.limit is not None:
            room = (self.limit - reserved) // self.alignment * self.alignment
            if room < rounded:
                return None
            size = min(size, room)
        return size

    def snapshot(self) -> tuple[Any, ...]:
        assert self.allocator is not None
        self.recent.clear()  # reading the free-space structure merges them
        stats = self.allocator.stats()
        return (self.allocator.blocks(), self.allocator.segments(), stats)

    # ------------------------------------------------------------------- rules
    @rule(
        nbytes=st.one_of(
            st.integers(0, 300), st.integers(0, 5_000), st.integers(0, 25_000)
        ),
        info=st.sampled_from([None, "weights", ("act", 3)]),
    )
    def malloc(self, nbytes: int, info: Any) -> None:
        assert self.allocator is not None
        self._count()
        rounded = self.round(nbytes)
        waiting = self.recent.get(rounded)
        if waiting:
            segment, offset = waiting.pop()
            block = self.allocator.malloc(nbytes, info)
            assert (block.segment, block.offset, block.size) == (
                segment,
                offset,
                rounded,
            )
            self.live[block] = (block.segment, block.offset, block.size, info)
            self.peak = max(self.peak, self.used())
            self.most = max(self.most, self.used())
            return
        # A miss merges the deferred blocks of its size or larger; the smaller ones
        # keep waiting (occupied for the best fit) unless nothing else fits.
        for size in [s for s in self.recent if s >= rounded]:
            del self.recent[size]
        fitting = [g for g in self.gaps(waiting=True) if g.size >= rounded]
        if not fitting and self.recent:
            self.recent.clear()
            fitting = [g for g in self.gaps() if g.size >= rounded]
        grow_calls_before = len(self.grow_calls)
        release_calls_before = len(self.release_calls)
        expected_release: list[int] = []
        new_size: int | None = None
        if not fitting:
            # Empty segments are given back before a new one is taken when it
            # would make the arena reserve more than twice the most bytes ever
            # in use; else only when the new one is refused (then it retries).
            most = max(self.most, self.used() + rounded)
            eager = self.reserved() + max(self.segment_size, rounded) > 2 * most
            for release in (eager, True):
                expected_release = self.empty_segments() if release else []
                freed = sum(self.segments[s] for s in expected_release)
                new_size = self.new_segment_size(rounded, self.reserved() - freed)
                if self.refuse_growth:
                    new_size = None
                if new_size is not None:
                    break
        try:
            block = self.allocator.malloc(nbytes, info)
        except OutOfMemoryError as exc:
            assert not fitting and new_size is None
            assert self.release_calls[release_calls_before:] == expected_release
            for s in expected_release:
                del self.segments[s]
            used, reserved = self.used(), self.reserved()
            largest = max((g.size for g in self.gaps()), default=0)
            assert (exc.requested, exc.rounded) == (nbytes, rounded)
            assert (exc.used, exc.reserved, exc.free) == (
                used,
                reserved,
                reserved - used,
            )
            assert (exc.limit, exc.largest_free_block) == (self.limit, largest)
            message = str(exc)
            for number in (nbytes, used, reserved, reserved - used, largest):
                assert f"{number} bytes" in message
            assert "largest free block" in message
            return
        assert block.size == rounded and block.info is info
        if fitting:
            best = min(g.size for g in fitting)
            assert Gap(block.segment, block.offset, best) in fitting
            assert len(self.grow_calls) == grow_calls_before
        else:
            assert new_size is not None
            assert self.grow_calls[-1] == new_size
            assert self.release_calls[release_calls_before:] == expected_release
            for s in expected_release:
                del self.segments[s]
            assert block.segment not in self.segments
            assert block.offset == 0
            self.segments[block.segment] = new_size
        self.live[block] = (block.segment, block.offset, block.size, info)
        self.peak = max(self.peak, self.used())
        self.most = max(self.most, self.used())
        self.peak_total = max(self.peak_total, self.reserved())

    @precondition(lambda self: self.allocator is not None and self.live)
    @rule(data=st.data())
    def free(self, data: st.DataObject) -> None:
        assert self.allocator is not None
        self._count()
        block = data.draw(st.sampled_from(sorted(self.live, key=lambda b: b.offset)))
        self.allocator.free(block)
        del self.live[block]
        self.freed.append(block)
        self.recent.setdefault(block.size, []).append((block.segment, block.offset))

    @precondition(lambda self: self.allocator is not None and self.freed)
    @rule(data=st.data())
    def double_free_changes_nothing(self, data: st.DataObject) -> None:
        assert self.allocator is not None
        self._count()
        block = data.draw(st.sampled_from(self.freed))
        before = self.snapshot()
        message = "released" if block.segment not in self.segments else "double free"
        with pytest.raises(InvalidBlockError, match=message):
            self.allocator.free(block)
        assert self.snapshot() == before

    @precondition(lambda self: self.allocator is not None)
    @rule()
    def foreign_free_changes_nothing(self) -> None:
        assert self.allocator is not None
        self._count()
        before = self.snapshot()
        with pytest.raises(InvalidBlockError, match="not allocated by this allocator"):
            self.allocator.free(self.foreign)
        with pytest.raises(TypeError, match="block must be a Block"):
            self.allocator.free((0, 0, 256, None))  # type: ignore[arg-type]  # on purpose
        assert self.snapshot() == before

    @precondition(lambda self: self.allocator is not None)
    @rule()
    def free_all_blocks(self) -> None:
        assert self.allocator is not None
        self._count()
        empty = self.empty_segments()
        calls = len(self.release_calls)
        self.recent.clear()
        released = self.allocator.free_all_blocks()
        assert released == sum(self.segments[s] for s in empty)
        assert self.release_calls[calls:] == empty
        for s in empty:
            del self.segments[s]

    @precondition(lambda self: self.allocator is not None)
    @rule(limit=st.one_of(st.none(), st.integers(0, 80_000)))
    def set_limit(self, limit: int | None) -> None:
        """Below the reserved bytes, the empty segments go first; refused (the
        old limit kept) when the others still reserve more."""
        assert self.allocator is not None
        self._count()
        if limit is not None and limit < self.reserved():
            self.free_all_blocks()  # the model of releasing the empty segments
        if limit is not None and limit < self.reserved():
            with pytest.raises(ValueError, match="segments holding live blocks"):
                self.allocator.set_limit(limit)
            assert self.allocator.limit == self.limit
            return
        self.allocator.set_limit(limit)
        self.limit = limit

    @precondition(lambda self: self.allocator is not None)
    @rule(refuse=st.booleans())
    def toggle_growth(self, refuse: bool) -> None:
        self._count()
        self.refuse_growth = refuse

    @precondition(lambda self: self.allocator is not None)
    @rule()
    def reset_peak(self) -> None:
        assert self.allocator is not None
        self._count()
        self.allocator.reset_peak()
        self.peak = self.used()
        self.peak_total = self.reserved()

    @precondition(lambda self: self.allocator is not None)
    @rule()
    def free_everything_leaves_one_free_block_per_segment(self) -> None:
        assert self.allocator is not None
        self._count()
        for block in list(self.live):
            self.allocator.free(block)
            self.freed.append(block)
        self.live.clear()
        self.recent.clear()
        for info in self.allocator.segments():
            assert info.used_bytes == 0 and info.live_blocks == 0
            assert info.largest_free_block == info.size
        assert self.allocator.stats().free_blocks == len(self.segments)

    # -------------------------------------------------------------- invariants
    @invariant()
    def counters_equal_the_model(self) -> None:
        """What can be read without merging the deferred blocks, after every step."""
        if self.allocator is None:
            return
        a = self.allocator
        used, reserved = self.used(), self.reserved()
        assert a.used_bytes() == used
        assert a.total_bytes() == reserved
        assert a.free_bytes() == reserved - used
        assert a.peak_bytes() == self.peak
        assert a.peak_total_bytes() == self.peak_total
        assert a.limit == self.limit

    @precondition(lambda self: self.allocator is not None)
    @rule()
    def statistics_equal_the_model(self) -> None:
        """Reading the free-space structure (which merges deferred blocks first)."""
        assert self.allocator is not None
        self._count()
        a = self.allocator
        self.recent.clear()
        used, reserved = self.used(), self.reserved()
        gaps = self.gaps()
        largest = max((g.size for g in gaps), default=0)
        stats = a.stats()
        assert stats.used_bytes == used
        assert stats.total_bytes == reserved
        assert stats.free_bytes == reserved - used
        assert stats.peak_bytes == self.peak
        assert stats.peak_total_bytes == self.peak_total
        assert (a.largest_free_block(), stats.largest_free_block) == (largest, largest)
        assert (stats.segments, stats.live_blocks) == (
            len(self.segments),
            len(self.live),
        )
        assert stats.free_blocks == len(gaps)
        assert stats.limit == self.limit
        listed = a.segments()
        assert [(s.segment, s.size) for s in listed] == list(self.segments.items())
        for s in listed:
            mine = [v for v in self.live.values() if v[0] == s.segment]
            assert s.used_bytes == sum(v[2] for v in mine)
            assert s.live_blocks == len(mine)
            seg_gaps = [g.size for g in gaps if g.segment == s.segment]
            assert s.largest_free_block == max(seg_gaps, default=0)

    @invariant()
    def is_live_is_true_for_the_live_blocks_alone(self) -> None:
        if self.allocator is None:
            return
        a = self.allocator
        assert all(a.is_live(b) for b in self.live)
        assert not any(a.is_live(b) for b in self.freed)
        assert not a.is_live(self.foreign)

    @invariant()
    def blocks_are_aligned_disjoint_and_inside_their_segment(self) -> None:
        if self.allocator is None:
            return
        blocks = self.allocator.blocks()
        assert {b: (b.segment, b.offset, b.size, b.info) for b in blocks} == self.live
        by_segment: dict[Any, list[Block]] = {}
        for b in blocks:
            assert b.offset % self.alignment == 0
            assert b.size % self.alignment == 0
            by_segment.setdefault(b.segment, []).append(b)
        for seg, seg_blocks in by_segment.items():
            seg_blocks.sort(key=lambda b: b.offset)
            for left, right in itertools.pairwise(seg_blocks):
                assert left.offset + left.size <= right.offset
            last = seg_blocks[-1]
            assert last.offset + last.size <= self.segments[seg]


def test_allocator_state_machine(operations: object) -> None:
    AllocatorMachine.counter = operations
    run_state_machine_as_test(
        AllocatorMachine,
        settings=settings(max_examples=600, stateful_step_count=150),
    )


def test_blocks_are_not_copied_or_constructed() -> None:
    a = Allocator()
    b = a.malloc(1)
    with pytest.raises(TypeError, match=r"Allocator\.malloc"):
        Block(0, 0, 256, None)
    assert copy.copy(b) is b
    assert copy.deepcopy([b])[0] is b
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(b)
