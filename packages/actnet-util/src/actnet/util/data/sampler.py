"""Samplers: the order in which a `DataLoader` visits a dataset.

Random order comes from actnet's counter-based generator, and is a pure function
of a seed and an epoch: the order of epoch ``e`` is drawn from
``Generator(seed).fold_in(e)``. So the same seed gives the same order in every
run, on every device and with any number of loader workers, and a loader can
resume in the middle of an epoch. ``set_epoch(e)`` picks the epoch of the next
``iter()``; without it each ``iter()`` moves on to the next epoch, so successive
passes differ, as with PyTorch's samplers. `DistributedSampler` keeps PyTorch's
rule instead: its order changes only with ``set_epoch`` (the `DataLoader` calls
it before each epoch), so every rank draws the same permutation.

>>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]
>>> s = RandomSampler(range(4), seed=7)
>>> sorted(s) == [0, 1, 2, 3]
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from actnet.device import Generator, default_generator
from actnet.tensor import distributed

__all__ = [
    "BatchSampler",
    "DistributedSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
]

T_co = TypeVar("T_co", covariant=True)

_MASK64 = 2**64 - 1


class Sampler(Generic[T_co]):
    """Base class: subclasses yield indices (or lists of them) from ``__iter__``,
    and usually define ``__len__``."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


def _check_epoch(epoch: object) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
    return epoch


def _draw_seed(generator: Generator | None) -> int:
    """A 64-bit seed drawn from `generator` (default: actnet.device's default
    generator, so `actnet.device.manual_seed` makes it reproducible)."""
    gen = default_generator if generator is None else generator
    if not isinstance(gen, Generator):
        raise TypeError(
            "generator must be an actnet.device.Generator, "
            f"got {type(generator).__name__}"
        )
    bits = gen.random_bits((2,))
    lo, hi = (int(w) for w in bits.device.to_host(bits))
    return lo | hi << 32


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= int(seed) <= _MASK64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return int(seed)


class _EpochRandom:
    """The seed and epoch of a random sampler, and the generator of an epoch."""

    def __init__(self, generator: Generator | None, seed: int | None) -> None:
        self._seed = _draw_seed(generator) if seed is None else _check_seed(seed)
        self._epoch = 0  # the epoch of the next __iter__

    @property
    def seed(self) -> int:
        """The seed every epoch's order derives from."""
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        self._seed = _check_seed(value)

    @property
    def epoch(self) -> int:
        """The epoch the next ``iter()`` draws its order for."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` give the order of `epoch`."""
        self._epoch = _check_epoch(epoch)

    def _next_generator(self) -> Generator:
        """The generator of the current epoch; later iter()s move to the next."""
        gen = Generator(self._seed).fold_in(self._epoch)
        self._epoch += 1
        return gen


# Draws with replacement come in chunks of this many, so that a sampler of
# num_samples=int(1e10) (minGPT's "forever") holds one chunk, not 80 GB; the
# values are those of one draw of all of them (the generator is counter-based).
_CHUNK = 1024


def _draws(gen: Generator, n: int, count: int) -> Iterator[int]:
    """`count` integers in [0, n) from `gen`, drawn a chunk at a time."""
    while count > 0:
        size = min(count, _CHUNK)
        buf = gen.randint(0, n, (size,))
        values: list[int] = buf.device.to_host(buf).tolist()
        yield from values
        count -= size


def _permutation(gen: Generator, n: int) -> list[int]:
    perm = gen.permutation(n)
    values: list[int] = perm.device.to_host(perm).tolist()
    return values


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_EpochRandom, Sampler[int]):
    """The indices of `data_source` in random order: each once per pass, or with
    `replacement` `num_samples` independent draws.

    The order of epoch ``e`` is a function of (`seed`, ``e``) alone. Without a
    `seed`, one is drawn once, here, from `generator` (default: actnet.device's
    default generator).

    >>> s = RandomSampler(range(5), seed=3)
    >>> first, second = list(s), list(s)     # epochs 0 and 1
    >>> s.set_epoch(0); list(s) == first
    True
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
        *,
        seed: int | None = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(
                "replacement should be a boolean value, but got "
                f"replacement={replacement}"
            )
        if num_samples is not None and (
            isinstance(num_samples, bool)
            or not isinstance(num_samples, int)
            or num_samples <= 0
        ):
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={num_samples}"
            )
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        super().__init__(generator, seed)

    @property
    def num_samples(self) -> int:
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        gen = self._next_generator()
        if self.replacement:
            if n == 0:
                raise ValueError("cannot sample with replacement from an empty dataset")
            return _draws(gen, n, self.num_samples)
        if n == 0:
            return iter([])
        # More samples than the dataset holds: whole permutations, then part of one.
        order: list[int] = []
        while len(order) < self.num_samples:
            order += _permutation(gen, n)
        return iter(order[: self.num_samples])

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_EpochRandom, Sampler[int]):
    """The given `indices` in random order (a new order each epoch)."""

    def __init__(
        self,
        indices: Sequence[int],
        generator: Generator | None = None,
        *,
        seed: int | None = None,
    ) -> None:
        self.indices = indices
        super().__init__(generator, seed)

    def __iter__(self) -> Iterator[int]:
        perm = _permutation(self._next_generator(), len(self.indices))
        return iter([self.indices[i] for i in perm])

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of `sampler` into lists of `batch_size`; the last one
    is shorter, or dropped with `drop_last`.

    >>> list(BatchSampler(range(7), 3, drop_last=True))
    [[0, 1, 2], [3, 4, 5]]
    """

    def __init__(
        self,
        sampler: Sampler[int] | Iterable[int],
        batch_size: int,
        drop_last: bool,
    ) -> None:
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or batch_size <= 0
        ):
            raise ValueError(
                "batch_size should be a positive integer value, but got "
                f"batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(  # noqa: TRY004  # PyTorch's error
                f"drop_last should be a boolean value, but got drop_last={drop_last}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def set_epoch(self, epoch: int) -> None:
        """Passed on to the sampler, where it has ``set_epoch``."""
        set_epoch = getattr(self.sampler, "set_epoch", None)
        if set_epoch is not None:
            set_epoch(_check_epoch(epoch))

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        size = self.batch_size
        for index in self.sampler:
            batch.append(index)
            if len(batch) == size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]  # a sampler with __len__
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size


def _check_index(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} should be an int, but got {type(value).__name__}")
    return int(value)


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} should be a boolean value, but got {name}={value!r}")
    return value


class DistributedSampler(Sampler[int]):
    """The share of `dataset` of one of `num_replicas` processes (replicas): rank
    `rank` gets ``indices[rank:total_size:num_replicas]``, as with PyTorch's
    ``torch.utils.data.DistributedSampler``, so the ranks' shares are disjoint
    and together cover the dataset.

    ``indices`` is ``0, ..., len(dataset) - 1``, or with `shuffle` the
    permutation of (`seed`, epoch): ``Generator(seed).fold_in(epoch)``, the same
    on every rank (the order differs from PyTorch's, which comes from torch's
    generator). To be evenly divisible among the replicas, ``indices`` is padded
    by repeating it from its start, or with `drop_last` its tail is dropped.
    Each rank gets ``len(self) == num_samples`` indices.

    The order changes only with ``set_epoch``, as in PyTorch (call it before each
    epoch; a `DataLoader` does). `num_samples` comes from the dataset's length
    here, so that length must not change (RuntimeError where PyTorch asserts).

    `num_replicas` and `rank` default to the world size and rank of the default
    process group (``actnet.tensor.distributed``); without one, give them.

    >>> [list(DistributedSampler(range(5), 2, r, shuffle=False)) for r in (0, 1)]
    [[0, 2, 4], [1, 3, 0]]
    >>> s = DistributedSampler(range(10), num_replicas=3, rank=0, seed=1)
    >>> s.set_epoch(2); list(s) == list(s)
    True
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            if not distributed.is_initialized():
                raise ValueError(
                    "DistributedSampler: give num_replicas and rank "
                    "(no process group is initialized)"
                )
            if num_replicas is None:
                num_replicas = distributed.get_world_size()
            if rank is None:
                rank = distributed.get_rank()
        num_replicas = _check_index(num_replicas, "num_replicas")
        if num_replicas < 1:
            raise ValueError(
                "num_replicas should be a positive integer value, but got "
                f"num_replicas={num_replicas}"
            )
        rank = _check_index(rank, "rank")
        if not 0 <= rank < num_replicas:
            raise ValueError(  # PyTorch's message
                f"Invalid rank {rank}, rank should be in the interval "
                f"[0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = _check_bool(shuffle, "shuffle")
        self.seed = _check_seed(seed)
        self.drop_last = _check_bool(drop_last, "drop_last")
        self.epoch = 0
        n = len(dataset)
        # PyTorch's ceil((n - r) / r) with drop_last and ceil(n / r) without,
        # in integers: with drop_last both cases of n % r are n // r.
        if drop_last:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Make the following ``iter()``s give the order of `epoch`; every rank
        must set the same epoch."""
        self.epoch = _check_epoch(epoch)

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        self._check_length(n)
        if self.shuffle and n > 0:
            order = _permutation(Generator(self.seed).fold_in(self.epoch), n)
        else:
            order = list(range(n))
        # Position i of the padded (or cut) list of total_size is order[i % n]:
        # PyTorch's padding repeats the list from its start. total_size <= n
        # with drop_last, and total_size == 0 when n == 0.
        positions = range(self.rank, self.total_size, self.num_replicas)
        return iter([order[i % n] for i in positions])

    def _check_length(self, n: int) -> None:
        """PyTorch's check that the dataset still fills total_size: padding needs
        0 < n <= total_size, cutting n >= total_size."""
        if self.drop_last:
            fits = n >= self.total_size
        else:
            fits = n <= self.total_size and (n > 0 or self.total_size == 0)
        if not fits:
            raise RuntimeError(
                f"the dataset now has {n} items, which cannot make total_size "
                f"{self.total_size}: the dataset's length must not change after "
                "the DistributedSampler is made"
            )

    def __len__(self) -> int:
        return self.num_samples


def _seeded_sampler(sampler: Any) -> _EpochRandom | None:
    """The seeded random sampler inside `sampler` (itself, or the sampler of a
    BatchSampler), or None."""
    if isinstance(sampler, BatchSampler):
        sampler = sampler.sampler
    return sampler if isinstance(sampler, _EpochRandom) else None
