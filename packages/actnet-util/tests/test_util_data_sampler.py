"""Samplers of actnet.util.data. The oracle of a random order is the generator it
is defined by: Generator(seed).fold_in(epoch).permutation(n)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actnet.device import Generator, manual_seed
from actnet.util.data import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
)


def _perm(seed: int, epoch: int, n: int) -> list[int]:
    buf = Generator(seed).fold_in(epoch).permutation(n)
    values: list[int] = buf.device.to_host(buf).tolist()
    return values


def test_sequential_sampler() -> None:
    s = SequentialSampler(range(4))
    assert list(s) == [0, 1, 2, 3]
    assert len(s) == 4


def test_random_sampler_order_is_the_permutation_of_seed_and_epoch() -> None:
    s = RandomSampler(range(9), seed=11)
    assert s.seed == 11
    assert list(s) == _perm(11, 0, 9)
    assert list(s) == _perm(11, 1, 9)  # each iter() moves on one epoch
    s.set_epoch(5)
    assert s.epoch == 5
    assert list(s) == _perm(11, 5, 9)
    assert len(s) == 9


def test_random_sampler_epochs_differ() -> None:
    s = RandomSampler(range(50), seed=0)
    first, second = list(s), list(s)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second


def test_random_sampler_seed_comes_from_the_generator() -> None:
    a = RandomSampler(range(5), generator=Generator(4))
    b = RandomSampler(range(5), generator=Generator(4))
    assert a.seed == b.seed
    manual_seed(9)
    c = RandomSampler(range(5))
    manual_seed(9)
    d = RandomSampler(range(5))
    assert c.seed == d.seed
    # The seed is the generator's next 64 bits.
    bits = Generator(4).random_bits((2,))
    lo, hi = (int(w) for w in bits.device.to_host(bits))
    assert a.seed == lo | hi << 32


def test_random_sampler_with_more_samples_than_the_data() -> None:
    s = RandomSampler(range(4), num_samples=10, seed=2)
    order = list(s)
    assert len(order) == len(s) == 10
    # whole permutations from one generator, then a part of the next
    gen = Generator(2).fold_in(0)
    expected: list[int] = []
    for _ in range(3):
        buf = gen.permutation(4)
        expected += buf.device.to_host(buf).tolist()
    assert order == expected[:10]


def test_random_sampler_with_replacement() -> None:
    s = RandomSampler(range(6), replacement=True, num_samples=200, seed=1)
    draws = list(s)
    assert len(draws) == 200
    assert set(draws) <= set(range(6))
    buf = Generator(1).fold_in(0).randint(0, 6, (200,))
    assert draws == buf.device.to_host(buf).tolist()


def test_random_sampler_with_replacement_draws_lazily_in_chunks() -> None:
    # 2500 draws come a chunk (1024) at a time and equal one draw of 2500;
    # num_samples=int(1e10) (minGPT's "forever") starts at once
    s = RandomSampler(range(7), replacement=True, num_samples=2500, seed=4)
    buf = Generator(4).fold_in(0).randint(0, 7, (2500,))
    assert list(s) == buf.device.to_host(buf).tolist()
    forever = RandomSampler(range(7), replacement=True, num_samples=int(1e10), seed=4)
    assert len(forever) == int(1e10)
    first = list(itertools.islice(iter(forever), 3000))
    assert first[:2500] == buf.device.to_host(buf).tolist()


def test_random_sampler_errors() -> None:
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(ValueError, match="seed must be in"):
        RandomSampler(range(3), seed=-1)
    with pytest.raises(TypeError, match="seed must be an int"):
        RandomSampler(range(3), seed=1.5)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(ValueError, match="epoch must be a non-negative int"):
        RandomSampler(range(3), seed=0).set_epoch(-1)
    with pytest.raises(ValueError, match="empty dataset"):
        list(RandomSampler(range(0), replacement=True, num_samples=2, seed=0))


def test_subset_random_sampler() -> None:
    s = SubsetRandomSampler([10, 20, 30, 40], seed=3)
    perm = _perm(3, 0, 4)
    assert list(s) == [[10, 20, 30, 40][i] for i in perm]
    assert len(s) == 4


def test_batch_sampler_groups_and_drops() -> None:
    assert list(BatchSampler(range(7), 3, drop_last=False)) == [
        [0, 1, 2],
        [3, 4, 5],
        [6],
    ]
    assert list(BatchSampler(range(7), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, drop_last=False)) == 3
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2
    assert len(BatchSampler(range(6), 3, drop_last=False)) == 2


def test_batch_sampler_forwards_set_epoch() -> None:
    inner = RandomSampler(range(5), seed=8)
    batches = BatchSampler(inner, 2, drop_last=False)
    batches.set_epoch(3)
    flat = [i for b in batches for i in b]
    assert flat == _perm(8, 3, 5)
    BatchSampler(range(3), 2, False).set_epoch(1)  # no set_epoch inside: no-op


def test_batch_sampler_errors() -> None:
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), True, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 0)  # type: ignore[arg-type]  # the error under test


@settings(deadline=None, max_examples=40)
@given(
    n=st.integers(0, 60),
    batch_size=st.integers(1, 17),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**64 - 1),
    epoch=st.integers(0, 1000),
)
def test_batches_of_a_random_epoch_cover_each_sample_once(
    n: int, batch_size: int, drop_last: bool, seed: int, epoch: int
) -> None:
    sampler = RandomSampler(range(n), seed=seed)
    sampler.set_epoch(epoch)
    batches = list(BatchSampler(sampler, batch_size, drop_last))
    flat = [i for b in batches for i in b]
    kept = n - n % batch_size if drop_last else n
    assert len(flat) == kept
    assert len(set(flat)) == kept
    assert set(flat) <= set(range(n))
    assert all(len(b) == batch_size for b in batches[:-1])
    assert len(batches) == (n // batch_size if drop_last else -(-n // batch_size))
    np.testing.assert_array_equal(flat, _perm(seed, epoch, n)[:kept])
