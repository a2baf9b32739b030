"""plan() against oracles written plainly here: a brute-force lower bound, an
independent best-fit greedy, and the exact optimum of small cases."""

from __future__ import annotations

import ast
import dataclasses
import itertools
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actnet.mem import Allocator, Plan, plan

Blocks = list[tuple[int, int, int]]


# ----------------------------------------------------------------------- oracles
def aligned(nbytes: int, alignment: int) -> int:
    """Allocator's rounding, written out: up to a multiple, 0 bytes get one unit."""
    if nbytes == 0:
        return alignment
    units = (nbytes + alignment - 1) // alignment
    return units * alignment


def live_together(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return a[1] <= b[2] and b[1] <= a[2]


def brute_lower_bound(blocks: Blocks, alignment: int) -> int:
    """The largest sum of aligned sizes live at one step, step by step."""
    if not blocks:
        return 0
    best = 0
    for step in range(min(b[1] for b in blocks), max(b[2] for b in blocks) + 1):
        live = sum(
            aligned(n, alignment) for n, first, last in blocks if first <= step <= last
        )
        best = max(best, live)
    return best


def check_valid(blocks: Blocks, result: Plan, alignment: int) -> None:
    """No two blocks live together share a byte; offsets aligned; peak exact."""
    assert len(result.offsets) == len(blocks)
    sizes = [aligned(n, alignment) for n, _, _ in blocks]
    for offset in result.offsets:
        assert offset >= 0
        assert offset % alignment == 0
    for i, j in itertools.combinations(range(len(blocks)), 2):
        if live_together(blocks[i], blocks[j]):
            apart = (
                result.offsets[i] + sizes[i] <= result.offsets[j]
                or result.offsets[j] + sizes[j] <= result.offsets[i]
            )
            assert apart, (i, j, blocks[i], blocks[j], result.offsets)
    ends = [offset + size for offset, size in zip(result.offsets, sizes, strict=True)]
    assert result.peak_bytes == max(ends, default=0)
    assert result.lower_bound_bytes == brute_lower_bound(blocks, alignment)
    assert result.peak_bytes >= result.lower_bound_bytes


def greedy_best_fit(blocks: Blocks, order: Sequence[int], alignment: int) -> list[int]:
    """The greedy the issue names, written independently: each block, in `order`,
    takes the smallest gap between the placed blocks live with it that holds it
    (the lowest of equal gaps), else the top of them. Returns the offsets."""
    offsets: dict[int, int] = {}
    for b in order:
        size = aligned(blocks[b][0], alignment)
        spans = sorted(
            (offsets[c], offsets[c] + aligned(blocks[c][0], alignment))
            for c in offsets
            if live_together(blocks[b], blocks[c])
        )
        top = 0
        fits: list[tuple[int, int]] = []  # (gap, offset) of every gap that holds it
        for start, end in spans:
            if start - top >= size:
                fits.append((start - top, top))
            top = max(top, end)
        offsets[b] = min(fits)[1] if fits else top
    return [offsets[b] for b in range(len(blocks))]


def peak_of(blocks: Blocks, offsets: list[int], alignment: int) -> int:
    ends = [o + aligned(b[0], alignment) for o, b in zip(offsets, blocks, strict=True)]
    return max(ends, default=0)


def size_order(blocks: Blocks, alignment: int) -> list[int]:
    """Largest aligned size first, then by first use, then as given."""
    sizes = [aligned(n, alignment) for n, _, _ in blocks]
    return sorted(range(len(blocks)), key=lambda b: (-sizes[b], blocks[b][1]))


def lifetime_order(blocks: Blocks, alignment: int) -> list[int]:
    """By first use, then largest aligned size first, then as given."""
    sizes = [aligned(n, alignment) for n, _, _ in blocks]
    return sorted(range(len(blocks)), key=lambda b: (blocks[b][1], -sizes[b]))


def optimum(blocks: Blocks, alignment: int) -> int:
    """The smallest possible peak, by brute force over every order of a "lowest
    offset that fits" placement.

    This is exact, not only a bound: take an optimal placement and place the
    blocks first-fit in the order of their optimal offsets. By induction each
    block lands at or below its optimal offset: every block already placed that
    is live with it lies wholly below its optimal offset in the optimum, and
    first-fit put that block no higher, so the optimal offset is free for it.
    """
    sizes = [aligned(n, alignment) for n, _, _ in blocks]
    best = sum(sizes)
    for order in itertools.permutations(range(len(blocks))):
        placed: list[tuple[int, int]] = []  # (block, offset)
        top = 0
        for b in order:
            offset = 0
            spans = sorted(
                (o, o + sizes[c])
                for c, o in placed
                if live_together(blocks[b], blocks[c])
            )
            for start, end in spans:
                if start - offset >= sizes[b]:
                    break
                offset = max(offset, end)
            placed.append((b, offset))
            top = max(top, offset + sizes[b])
            if top >= best:
                break  # this order cannot beat the best one found
        best = min(best, top)
    return best


# ------------------------------------------------------------------- strategies
@st.composite
def block_lists(draw: st.DrawFn, max_blocks: int = 40) -> Blocks:
    n = draw(st.integers(0, max_blocks))
    horizon = draw(st.integers(0, 40))
    blocks = []
    for _ in range(n):
        nbytes = draw(st.one_of(st.integers(0, 600), st.integers(0, 20_000)))
        first = draw(st.integers(-3, horizon))  # step indices may be negative
        last = draw(st.integers(first, first + draw(st.integers(0, 20))))
        blocks.append((nbytes, first, last))
    return blocks


alignments = st.sampled_from([1, 8, 64, 256, 4096])


# ---------------------------------------------------------------- random checks
@given(block_lists(), alignments)
def test_a_plan_is_valid_and_its_bound_is_exact(blocks: Blocks, alignment: int) -> None:
    result = plan(blocks, alignment=alignment)
    check_valid(blocks, result, alignment)


@given(block_lists(), alignments)
def test_never_worse_than_either_greedy(blocks: Blocks, alignment: int) -> None:
    result = plan(blocks, alignment=alignment)
    for order in (size_order(blocks, alignment), lifetime_order(blocks, alignment)):
        greedy = greedy_best_fit(blocks, order, alignment)
        assert result.peak_bytes <= peak_of(blocks, greedy, alignment)


@given(block_lists(max_blocks=7), st.sampled_from([1, 256]))
def test_small_cases_between_the_optimum_and_the_greedy(
    blocks: Blocks, alignment: int
) -> None:
    """The exact optimum <= the plan <= the best-fit greedy in size order."""
    result = plan(blocks, alignment=alignment)
    check_valid(blocks, result, alignment)
    greedy = greedy_best_fit(blocks, size_order(blocks, alignment), alignment)
    assert optimum(blocks, alignment) <= result.peak_bytes
    assert result.peak_bytes <= peak_of(blocks, greedy, alignment)


def test_small_cases_reach_the_optimum_nearly_always() -> None:
    """Of 300 random cases of 3 to 7 blocks (seeded), the planner finds the optimum
    in at least 98 % and misses it by at most a fifth (measured: 299 of 300, the miss
    by 16 %; the better greedy alone finds 290)."""
    rng = random.Random(2026)
    hits = greedy_hits = 0
    cases = 300
    for _ in range(cases):
        blocks = []
        for _ in range(rng.randint(3, 7)):
            first = rng.randint(0, 8)
            blocks.append((rng.randint(1, 8), first, first + rng.randint(0, 5)))
        best = optimum(blocks, 1)
        result = plan(blocks, alignment=1)
        greedy = min(
            peak_of(blocks, greedy_best_fit(blocks, order, 1), 1)
            for order in (size_order(blocks, 1), lifetime_order(blocks, 1))
        )
        hits += result.peak_bytes == best
        greedy_hits += greedy == best
        assert best <= result.peak_bytes <= min(greedy, best * 1.2)
    assert hits >= 0.98 * cases
    assert hits >= greedy_hits


@given(st.integers(0, 100_000), alignments)
def test_sizes_round_as_the_allocator_rounds(nbytes: int, alignment: int) -> None:
    result = plan([(nbytes, 0, 0)], alignment=alignment)
    assert result.peak_bytes == Allocator(alignment=alignment).malloc(nbytes).size


# ----------------------------------------------------------------- known answers
def test_disjoint_lifetimes_share_offset_zero() -> None:
    blocks = [(1000, 0, 0), (3000, 1, 2), (200, 3, 5), (0, 6, 6)]
    result = plan(blocks)
    assert result.offsets == (0, 0, 0, 0)
    assert result.peak_bytes == result.lower_bound_bytes == 3072


def test_blocks_all_live_together_stack_to_their_sum() -> None:
    blocks = [(1000, 0, 9), (300, 2, 5), (5000, 4, 4), (0, 3, 7), (256, 1, 4)]
    result = plan(blocks)
    sizes = [aligned(n, 256) for n, _, _ in blocks]
    assert result.peak_bytes == result.lower_bound_bytes == sum(sizes)
    spans = sorted(
        (offset, offset + size)
        for offset, size in zip(result.offsets, sizes, strict=True)
    )
    assert spans[0][0] == 0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # no hole


def test_the_empty_plan() -> None:
    assert plan([]) == Plan(offsets=(), peak_bytes=0, lower_bound_bytes=0)


def test_zero_byte_blocks_get_one_unit_each() -> None:
    result = plan([(0, 0, 1), (0, 1, 2)], alignment=256)
    assert sorted(result.offsets) == [0, 256]
    assert result.peak_bytes == 512


# Size order keeps the two 4-byte blocks that never meet at one offset, which
# leaves the 3-byte block, live with both, only the top: 11. Lifetime order puts
# the 3 under the second 4: 8, the lower bound.
SIZE_ORDER_LOSES: Blocks = [(4, 0, 0), (4, 0, 2), (4, 4, 4), (3, 2, 4)]
# Lifetime order stacks the two 3-byte blocks first and the 4 no longer fits the
# 3-byte hole the first one leaves: 10. Size order places the 4 first: 7.
LIFETIME_ORDER_LOSES: Blocks = [(4, 1, 2), (3, 0, 0), (3, 0, 2)]


@pytest.mark.parametrize(
    ("blocks", "better", "worse", "peaks"),
    [
        (SIZE_ORDER_LOSES, lifetime_order, size_order, (8, 11)),
        (LIFETIME_ORDER_LOSES, size_order, lifetime_order, (7, 10)),
    ],
    ids=["lifetime order wins", "size order wins"],
)
def test_the_better_greedy_is_kept(
    blocks: Blocks,
    better: Callable[[Blocks, int], list[int]],
    worse: Callable[[Blocks, int], list[int]],
    peaks: tuple[int, int],
) -> None:
    good = greedy_best_fit(blocks, better(blocks, 1), 1)
    bad = greedy_best_fit(blocks, worse(blocks, 1), 1)
    assert (peak_of(blocks, good, 1), peak_of(blocks, bad, 1)) == peaks
    result = plan(blocks, alignment=1)
    assert result.offsets == tuple(good)
    assert result.peak_bytes == result.lower_bound_bytes == peaks[0]


# Found among random cases: the lifetimes form a chain (each block is live only
# with its neighbours in the list). Size order gives 12, lifetime order 13; the
# optimum, and the lower bound, is 9 (the 4 above the 5, the 6 above the 3).
CASE_FOR_SEARCH: Blocks = [(5, 2, 2), (4, 0, 3), (3, 3, 4), (6, 4, 7)]


def test_the_local_search_beats_both_greedies() -> None:
    blocks = CASE_FOR_SEARCH
    greedy = [
        peak_of(blocks, greedy_best_fit(blocks, order, 1), 1)
        for order in (size_order(blocks, 1), lifetime_order(blocks, 1))
    ]
    assert greedy == [12, 13]
    result = plan(blocks, alignment=1)
    check_valid(blocks, result, 1)
    assert result.peak_bytes == optimum(blocks, 1) == result.lower_bound_bytes == 9


def test_the_same_blocks_give_the_same_plan() -> None:
    rng = random.Random(7)
    blocks = []
    for _ in range(300):
        first = rng.randint(0, 200)
        blocks.append((rng.randint(0, 1 << 16), first, first + rng.randint(0, 30)))
    first_plan = plan(blocks)
    assert plan(iter(blocks)) == first_plan
    assert plan([list(b) for b in blocks]) == first_plan
    check_valid(blocks, first_plan, 256)


def test_plan_is_frozen() -> None:
    result = plan([(1, 0, 0)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.peak_bytes = 0  # type: ignore[misc]
    assert not hasattr(result, "__dict__")  # slots


# -------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("blocks", "alignment", "error", "message"),
    [
        ([], 0, ValueError, r"alignment must be a positive power of two, got 0"),
        ([], -256, ValueError, r"alignment must be a positive power of two"),
        ([], 96, ValueError, r"alignment must be a positive power of two, got 96"),
        ([], 256.0, TypeError, r"alignment must be an int, got float"),
        ([], True, TypeError, r"alignment must be an int, got bool"),
        (5, 256, TypeError, r"blocks must be an iterable of \(nbytes, first_use"),
        ([(1, 0, 0), 7], 256, TypeError, r"blocks\[1\] must be a \(nbytes, .*int"),
        ([(1, 0)], 256, ValueError, r"blocks\[0\] must be a .* triple, got 2 items"),
        ([(1, 0, 0, 0)], 256, ValueError, r"blocks\[0\] .* triple, got 4 items"),
        ([(1.0, 0, 0)], 256, TypeError, r"blocks\[0\]: nbytes must be an int"),
        (
            [(True, 0, 0)],
            256,
            TypeError,
            r"blocks\[0\]: nbytes must be an int, got bool",
        ),
        ([(1, 0, 0), (-1, 0, 0)], 256, ValueError, r"blocks\[1\]: nbytes must be >= 0"),
        (
            [(1, "0", 1)],
            256,
            TypeError,
            r"blocks\[0\]: first_use must be an int, got str",
        ),
        ([(1, 0, None)], 256, TypeError, r"blocks\[0\]: last_use must be an int"),
        (
            [(1, 0, 0), (1, 0, 0), (8, 3, 2)],
            256,
            ValueError,
            r"blocks\[2\]: first_use must be <= last_use, got first_use=3, last_use=2",
        ),
    ],
)
def test_bad_input_names_the_argument(
    blocks: object, alignment: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        plan(blocks, alignment=alignment)  # type: ignore[arg-type]


def test_the_planner_uses_only_the_standard_library() -> None:
    source = Path(sys.modules[plan.__module__].__file__ or "").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("actnet.mem"), name
