from __future__ import annotations

import itertools
import random
import sys
import threading
from collections.abc import Iterator

import pytest

from actnet.mem import Allocator, Block, InvalidBlockError, OutOfMemoryError


def test_docstring_example_numbers() -> None:
    a = Allocator(alignment=256, segment_size=4096)
    b = a.malloc(100, info="weights")
    assert (b.segment, b.offset, b.size, b.info) == (0, 0, 256, "weights")
    assert (a.used_bytes(), a.free_bytes(), a.total_bytes()) == (256, 3840, 4096)
    a.free(b)
    assert a.used_bytes() == 0


def test_zero_bytes_get_distinct_blocks() -> None:
    a = Allocator(alignment=64)
    x, y = a.malloc(0), a.malloc(0)
    assert x.size == y.size == 64
    assert x.offset != y.offset


def test_coalescing_with_both_neighbours_restores_one_chunk() -> None:
    a = Allocator(alignment=16, segment_size=160)
    blocks = [a.malloc(16) for _ in range(10)]
    assert a.stats().free_blocks == 0
    for i in (1, 3, 2):  # 2 joins its left (1) and right (3) free neighbours
        a.free(blocks[i])
    assert a.stats().free_blocks == 1
    assert a.largest_free_block() == 48
    again = a.malloc(48)
    assert again.offset == 16  # the merged chunk, not a new segment
    assert a.stats().segments == 1


def test_best_fit_prefers_the_smallest_chunk_that_fits() -> None:
    a = Allocator(alignment=16, segment_size=1024)
    small, sep1, big, sep2 = a.malloc(32), a.malloc(16), a.malloc(128), a.malloc(16)
    a.free(big)
    a.free(small)
    assert a.malloc(32).offset == small.offset
    assert a.malloc(100).offset == big.offset
    del sep1, sep2


def test_large_request_gets_its_own_segment() -> None:
    sizes: list[int] = []
    a = Allocator(
        alignment=256, segment_size=1024, grow=lambda n: sizes.append(n) or len(sizes)
    )
    b = a.malloc(5000)
    assert sizes == [5120]
    assert (b.segment, b.size) == (1, 5120)


def test_grow_and_release_callbacks() -> None:
    arenas: dict[str, int] = {}
    released: list[str] = []

    def grow(nbytes: int) -> str:
        key = f"arena{len(arenas)}"
        arenas[key] = nbytes
        return key

    a = Allocator(segment_size=4096, grow=grow, release=released.append)
    b = a.malloc(10)
    assert b.segment == "arena0" and arenas == {"arena0": 4096}
    assert a.free_all_blocks() == 0  # the segment is in use
    a.free(b)
    assert a.free_all_blocks() == 4096
    assert released == ["arena0"] and a.total_bytes() == 0


def test_duplicate_segment_id_from_grow_is_an_error() -> None:
    a = Allocator(segment_size=256, grow=lambda n: "same")
    a.malloc(256)
    with pytest.raises(RuntimeError, match="already in use"):
        a.malloc(256)
    assert a.stats().segments == 1


def test_limit_sizes_the_new_segment_to_fit_under_it() -> None:
    a = Allocator(alignment=256, segment_size=1 << 20, limit=3000)
    b = a.malloc(1000)
    assert a.total_bytes() == 2816  # 3000 rounded down to the alignment
    with pytest.raises(OutOfMemoryError):
        a.malloc(2000)
    a.free(b)


def test_out_of_memory_message_has_the_exact_numbers() -> None:
    a = Allocator(alignment=256, segment_size=1024, limit=2048, name="cpu:0")
    keep = a.malloc(1000)
    with pytest.raises(OutOfMemoryError) as info:
        a.malloc(1500)
    exc = info.value
    assert isinstance(exc, MemoryError)
    assert (exc.requested, exc.rounded, exc.used, exc.reserved) == (
        1500,
        1536,
        1024,
        1024,
    )
    assert (exc.free, exc.limit, exc.largest_free_block) == (0, 2048, 0)
    assert str(exc).startswith("cpu:0: out of memory: cannot allocate 1500 bytes")
    assert "limit 2048 bytes" in str(exc)
    assert "largest free block 0 bytes" in str(exc)
    a.free(keep)


def _recording() -> tuple[Allocator, list[int], list[int]]:
    """An allocator (alignment 256, segments of 1024) with the sizes it asked
    `grow` for and the segment ids it released, in order (ids from 1)."""
    calls: list[int] = []
    released: list[int] = []

    def grow(nbytes: int) -> int:
        calls.append(nbytes)
        return len(calls)

    a = Allocator(alignment=256, segment_size=1024, grow=grow, release=released.append)
    return a, calls, released


def test_out_of_memory_releases_empty_segments_and_retries_once() -> None:
    a, calls, released = _recording()
    a.free(a.malloc(1024))  # one empty segment of 1024 bytes stays reserved
    a.set_limit(2048)
    b = a.malloc(2048)  # only fits once the empty segment is given back
    assert released == [1] and calls == [1024, 2048]
    assert a.total_bytes() == 2048
    a.free(b)


def test_a_repeated_step_keeps_its_empty_segments() -> None:
    """A step's requests that need a new segment keep the empty ones for the
    next step (within twice the most bytes in use): the second step maps and
    releases nothing. Releasing them before each new segment made every step
    map fresh memory (and fault on every page)."""
    a, calls, released = _recording()

    def step() -> None:
        a.free(a.malloc(1024))  # its segment is empty when the next needs more
        big = a.malloc(2048)
        small = a.malloc(1024)
        a.free(big)
        a.free(small)

    step()
    assert calls == [1024, 2048] and released == []
    step()
    assert calls == [1024, 2048] and released == []
    assert a.total_bytes() == 3072
    # drifting sizes: most in use is 3072, so a new segment goes beyond twice
    # that only at the second of these; then the empty ones go first
    a.free(a.malloc(2560))
    assert calls[-1] == 2560 and released == []
    a.free(a.malloc(2816))  # 5632 + 2816 > 2 * 3072
    assert released == [1, 2, 3] and calls[-1] == 2816
    assert a.total_bytes() == 2816


def test_refusing_grow_is_out_of_memory_with_the_cause() -> None:
    def grow(nbytes: int) -> int:
        raise MemoryError("device full")

    a = Allocator(grow=grow)
    with pytest.raises(OutOfMemoryError, match="device full") as info:
        a.malloc(10)
    assert isinstance(info.value.__cause__, MemoryError)
    assert a.total_bytes() == 0 and a.stats().live_blocks == 0


def test_release_callback_failure_keeps_the_segment() -> None:
    def release(segment: object) -> None:
        raise OSError("cannot unmap")

    a = Allocator(release=release)
    a.free(a.malloc(10))
    with pytest.raises(OSError, match="cannot unmap"):
        a.free_all_blocks()
    assert a.stats().segments == 1
    a.malloc(10)  # still usable


def test_blocks_carry_info_and_are_listed_in_address_order() -> None:
    a = Allocator(alignment=16, segment_size=64)
    names = [f"t{i}" for i in range(6)]
    blocks = [a.malloc(16, info=name) for name in names]
    assert [b.info for b in a.blocks()] == names
    assert a.blocks() == blocks
    assert repr(blocks[0]) == "Block(segment=0, offset=0, size=16, info='t0')"


def test_blocks_are_immutable_and_hash_by_identity() -> None:
    a = Allocator()
    b = a.malloc(8)
    with pytest.raises(AttributeError):
        b.size = 4  # type: ignore[misc]  # immutability is what is tested
    a.free(b)
    c = a.malloc(8)  # same segment, offset and size as b
    assert (c.segment, c.offset, c.size) == (b.segment, b.offset, b.size)
    assert c != b and len({b, c}) == 2
    with pytest.raises(InvalidBlockError, match="double free"):
        a.free(b)
    a.free(c)


def test_stats_fragmentation_and_counts() -> None:
    a = Allocator(alignment=16, segment_size=160)
    blocks = [a.malloc(16) for _ in range(10)]
    for b in blocks[::2]:
        a.free(b)
    s = a.stats()
    assert (s.free_bytes, s.largest_free_block, s.free_blocks) == (80, 16, 5)
    assert s.fragmentation == pytest.approx(1 - 16 / 80)
    assert s.live_blocks == 5


def test_reset_peak() -> None:
    a = Allocator(alignment=16)
    b = a.malloc(1000)
    a.free(b)
    assert a.peak_bytes() == 1008
    a.reset_peak()
    assert a.peak_bytes() == 0
    assert a.peak_total_bytes() == a.total_bytes()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"alignment": 3}, ValueError, "power of two"),
        ({"alignment": 0}, ValueError, "power of two"),
        ({"alignment": 2.0}, TypeError, "alignment must be an int"),
        ({"segment_size": 0}, ValueError, "segment_size must be > 0"),
        ({"segment_size": True}, TypeError, "segment_size must be an int"),
        ({"limit": -1}, ValueError, "limit must be >= 0"),
        ({"limit": "1GB"}, TypeError, "limit must be an int or None"),
        ({"grow": 5}, TypeError, "grow must be callable"),
        ({"release": 5}, TypeError, "release must be callable"),
        ({"name": 5}, TypeError, "name must be a str"),
    ],
)
def test_constructor_validates(
    kwargs: dict[str, object], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        Allocator(**kwargs)  # type: ignore[arg-type]  # bad arguments on purpose


@pytest.mark.parametrize(
    ("nbytes", "error", "match"),
    [
        (-1, ValueError, "nbytes must be >= 0"),
        (1.5, TypeError, "nbytes must be an int"),
        (True, TypeError, "nbytes must be an int"),
    ],
)
def test_malloc_validates(nbytes: object, error: type, match: str) -> None:
    a = Allocator()
    with pytest.raises(error, match=match):
        a.malloc(nbytes)  # type: ignore[arg-type]  # bad arguments on purpose
    assert a.stats().live_blocks == 0 and a.total_bytes() == 0


def test_set_limit_validates() -> None:
    a = Allocator()
    with pytest.raises(ValueError, match="nbytes must be >= 0"):
        a.set_limit(-5)
    assert a.limit is None


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave threads as often as CPython allows
    yield
    sys.setswitchinterval(interval)


def test_four_threads_hammering_lose_nothing(fast_thread_switching: None) -> None:
    a = Allocator(alignment=64, segment_size=64 * 1024)
    per_thread = 5_000
    errors: list[Exception] = []
    all_blocks: list[list[Block]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def hammer(index: int) -> None:
        try:
            rng = random.Random(index)
            live: list[Block] = []
            start.wait()
            for _ in range(per_thread):
                if live and rng.random() < 0.45:
                    a.free(live.pop(rng.randrange(len(live))))
                else:
                    live.append(a.malloc(rng.randint(0, 5000), info=index))
            all_blocks[index] = live
        except Exception as exc:  # noqa: BLE001  # the main thread reports it
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    survivors = [b for blocks in all_blocks for b in blocks]
    assert a.used_bytes() == sum(b.size for b in survivors)
    assert sorted(a.blocks(), key=id) == sorted(survivors, key=id)
    by_segment: dict[object, list[Block]] = {}
    for b in survivors:
        by_segment.setdefault(b.segment, []).append(b)
    for blocks in by_segment.values():
        blocks.sort(key=lambda b: b.offset)
        for left, right in itertools.pairwise(blocks):
            assert left.offset + left.size <= right.offset
    for b in survivors:
        a.free(b)
    stats = a.stats()
    assert stats.used_bytes == 0 and stats.live_blocks == 0
    assert stats.free_blocks == stats.segments
    for seg in a.segments():
        assert seg.largest_free_block == seg.size
