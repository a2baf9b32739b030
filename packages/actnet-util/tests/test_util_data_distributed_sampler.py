"""DistributedSampler of actnet.util.data. The oracle is PyTorch's
``torch.utils.data.DistributedSampler``, rewritten below in its own words (no
actnet-util test imports torch), and, for a shuffled order, the generator the
order is defined by: Generator(seed).fold_in(epoch).permutation(n)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actnet.device import Generator
from actnet.tensor import distributed
from actnet.util.data import BatchSampler, DataLoader, DistributedSampler


def _perm(seed: int, epoch: int, n: int) -> list[int]:
    buf = Generator(seed).fold_in(epoch).permutation(n)
    values: list[int] = buf.device.to_host(buf).tolist()
    return values


def _torch_num_samples(n: int, num_replicas: int, drop_last: bool) -> int:
    """torch.utils.data.DistributedSampler.__init__'s num_samples."""
    if drop_last and n % num_replicas != 0:
        return math.ceil((n - num_replicas) / num_replicas)
    return math.ceil(n / num_replicas)


def _torch_share(
    indices: list[int], num_replicas: int, rank: int, drop_last: bool
) -> list[int]:
    """torch.utils.data.DistributedSampler.__iter__ after the order is drawn."""
    indices = list(indices)
    num_samples = _torch_num_samples(len(indices), num_replicas, drop_last)
    total_size = num_samples * num_replicas
    if not drop_last:
        padding_size = total_size - len(indices)
        if padding_size <= len(indices):
            indices += indices[:padding_size]
        else:
            indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
    else:
        indices = indices[:total_size]
    assert len(indices) == total_size
    indices = indices[rank:total_size:num_replicas]
    assert len(indices) == num_samples
    return indices


def _shares(
    n: int, num_replicas: int, *, shuffle: bool, drop_last: bool, seed: int, epoch: int
) -> list[list[int]]:
    shares = []
    for rank in range(num_replicas):
        s = DistributedSampler(
            range(n),
            num_replicas,
            rank,
            shuffle=shuffle,
            seed=seed,
            drop_last=drop_last,
        )
        s.set_epoch(epoch)
        shares.append(list(s))
    return shares


sizes = st.integers(0, 60)
replicas = st.integers(1, 5)
seeds = st.integers(0, 2**64 - 1)
epochs = st.lists(st.integers(0, 1000), min_size=1, max_size=3)


@settings(max_examples=150, deadline=None)
@given(sizes, replicas, st.booleans(), st.booleans(), seeds, epochs)
def test_lengths_are_torchs_and_the_shares_cover_the_dataset(
    n: int,
    num_replicas: int,
    shuffle: bool,
    drop_last: bool,
    seed: int,
    epoch_list: list[int],
) -> None:
    expected_len = _torch_num_samples(n, num_replicas, drop_last)
    for epoch in epoch_list:
        shares = _shares(
            n,
            num_replicas,
            shuffle=shuffle,
            drop_last=drop_last,
            seed=seed,
            epoch=epoch,
        )
        for rank, share in enumerate(shares):
            s = DistributedSampler(
                range(n), num_replicas, rank, shuffle=shuffle, drop_last=drop_last
            )
            assert len(s) == s.num_samples == expected_len == len(share)
            assert s.total_size == expected_len * num_replicas
            assert all(0 <= i < n for i in share)
        union = set().union(*shares)
        if drop_last:
            assert len(union) == expected_len * num_replicas
        else:
            assert union == set(range(n))


@settings(max_examples=150, deadline=None)
@given(sizes, replicas, st.booleans(), seeds, st.integers(0, 1000))
def test_without_shuffle_the_shares_are_torchs(
    n: int, num_replicas: int, drop_last: bool, seed: int, epoch: int
) -> None:
    shares = _shares(
        n, num_replicas, shuffle=False, drop_last=drop_last, seed=seed, epoch=epoch
    )
    for rank, share in enumerate(shares):
        assert share == _torch_share(list(range(n)), num_replicas, rank, drop_last)


@settings(max_examples=150, deadline=None)
@given(sizes, replicas, st.booleans(), seeds, epochs)
def test_with_shuffle_every_rank_slices_the_same_permutation(
    n: int, num_replicas: int, drop_last: bool, seed: int, epoch_list: list[int]
) -> None:
    for epoch in epoch_list:
        shares = _shares(
            n, num_replicas, shuffle=True, drop_last=drop_last, seed=seed, epoch=epoch
        )
        perm = _perm(seed, epoch, n) if n else []
        for rank, share in enumerate(shares):
            # torch's padding and slicing, applied to the one permutation.
            assert share == _torch_share(perm, num_replicas, rank, drop_last)
        if drop_last or n % num_replicas == 0:
            flat = [i for share in shares for i in share]
            assert len(flat) == len(set(flat))  # pairwise disjoint


def test_shares_of_a_small_example() -> None:
    shares = _shares(7, 3, shuffle=False, drop_last=False, seed=0, epoch=0)
    assert shares == [[0, 3, 6], [1, 4, 0], [2, 5, 1]]
    shares = _shares(7, 3, shuffle=False, drop_last=True, seed=0, epoch=0)
    assert shares == [[0, 3], [1, 4], [2, 5]]
    # Fewer items than replicas: the padding repeats the list more than once.
    shares = _shares(2, 5, shuffle=False, drop_last=False, seed=0, epoch=0)
    assert shares == [[0], [1], [0], [1], [0]]
    assert _shares(2, 5, shuffle=False, drop_last=True, seed=0, epoch=0) == [[]] * 5
    assert _shares(0, 3, shuffle=True, drop_last=False, seed=0, epoch=0) == [[]] * 3


def test_set_epoch_changes_the_order_and_the_same_epoch_gives_the_same() -> None:
    s = DistributedSampler(range(40), num_replicas=2, rank=1, seed=5)
    assert s.epoch == 0
    first = list(s)
    assert list(s) == first  # PyTorch's rule: no set_epoch, the same order
    s.set_epoch(1)
    assert s.epoch == 1
    second = list(s)
    assert second != first
    assert sorted(second) == sorted(_perm(5, 1, 40)[1::2])
    s.set_epoch(0)
    assert list(s) == first
    other = DistributedSampler(range(40), num_replicas=2, rank=1, seed=6)
    assert list(other) != first  # the seed matters too


def test_accepts_numpy_ints_and_keeps_torchs_attributes() -> None:
    s = DistributedSampler(
        range(10), num_replicas=np.int64(4), rank=np.int32(3), seed=np.uint64(2)
    )
    assert (s.num_replicas, s.rank, s.seed) == (4, 3, 2)
    assert type(s.num_replicas) is int and type(s.rank) is int
    assert (s.shuffle, s.drop_last, s.epoch) == (True, False, 0)
    assert (s.num_samples, s.total_size) == (3, 12)


def test_a_dataloader_sets_the_epoch_and_batches_the_share() -> None:
    data = np.arange(10.0)
    s = DistributedSampler(data, num_replicas=2, rank=0, seed=3)
    loader = DataLoader(data, batch_size=2, sampler=s)
    epoch0 = [float(x) for batch in loader for x in batch.numpy()]
    epoch1 = [float(x) for batch in loader for x in batch.numpy()]
    assert epoch0 == [float(i) for i in _perm(3, 0, 10)[0::2]]
    assert epoch1 == [float(i) for i in _perm(3, 1, 10)[0::2]]
    b = BatchSampler(s, batch_size=4, drop_last=False)
    b.set_epoch(0)
    assert list(b) == [_perm(3, 0, 10)[0:8:2], _perm(3, 0, 10)[8:10:2]]


def test_num_replicas_and_rank_come_from_the_process_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A stand-in for an initialized group of 3 processes, this one rank 2 (a
    # real group needs mpiexec: actnet-tensor's tests_mpi).
    monkeypatch.setattr(distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed, "get_world_size", lambda: 3)
    monkeypatch.setattr(distributed, "get_rank", lambda: 2)
    s = DistributedSampler(range(7), shuffle=False)
    assert (s.num_replicas, s.rank) == (3, 2)
    assert list(s) == [2, 5, 1]
    s = DistributedSampler(range(7), rank=0, shuffle=False)  # given wins
    assert (s.num_replicas, s.rank) == (3, 0)
    s = DistributedSampler(range(7), num_replicas=4, shuffle=False)
    assert (s.num_replicas, s.rank) == (4, 2)
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(7), num_replicas=2)


def test_without_a_process_group_num_replicas_and_rank_are_needed() -> None:
    assert not distributed.is_initialized()
    with pytest.raises(ValueError, match="no process group is initialized"):
        DistributedSampler(range(7))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "give num_replicas and rank"),
        ({"num_replicas": 2}, ValueError, "give num_replicas and rank"),
        ({"rank": 0}, ValueError, "give num_replicas and rank"),
        ({"num_replicas": 0, "rank": 0}, ValueError, "num_replicas=0"),
        ({"num_replicas": -1, "rank": 0}, ValueError, "num_replicas=-1"),
        ({"num_replicas": 2.0, "rank": 0}, TypeError, "num_replicas should be an int"),
        ({"num_replicas": True, "rank": 0}, TypeError, "num_replicas"),
        (
            {"num_replicas": 2, "rank": 2},
            ValueError,
            r"Invalid rank 2, rank should be in the interval \[0, 1\]",
        ),
        ({"num_replicas": 2, "rank": -1}, ValueError, "Invalid rank -1"),
        ({"num_replicas": 2, "rank": "0"}, TypeError, "rank should be an int"),
        ({"num_replicas": 2, "rank": 0, "shuffle": 1}, TypeError, "shuffle=1"),
        ({"num_replicas": 2, "rank": 0, "drop_last": None}, TypeError, "drop_last"),
        ({"num_replicas": 2, "rank": 0, "seed": 1.5}, TypeError, "seed"),
        ({"num_replicas": 2, "rank": 0, "seed": -1}, ValueError, "seed"),
        ({"num_replicas": 2, "rank": 0, "seed": 2**64}, ValueError, "seed"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        DistributedSampler(range(4), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("epoch", [-1, 1.0, True, "1"])
def test_bad_epoch(epoch: object) -> None:
    s = DistributedSampler(range(4), num_replicas=2, rank=0)
    with pytest.raises(ValueError, match="epoch"):
        s.set_epoch(epoch)  # type: ignore[arg-type]


@pytest.mark.parametrize("drop_last", [False, True])
def test_a_dataset_whose_length_changed(drop_last: bool) -> None:
    data = list(range(6))
    s = DistributedSampler(data, num_replicas=4, rank=0, drop_last=drop_last)
    if drop_last:
        data.pop()  # 5 items still fill total_size 4; 3 do not
        assert len(list(s)) == len(s)
        del data[3:]
    else:
        data.extend([6, 7, 8])  # 9 items over total_size 8
    with pytest.raises(RuntimeError, match="length must not change"):
        list(s)
