"""`DataLoader`: batches of a map-style dataset, seeded shuffling, background
prefetch in threads, and a position that checkpoints can save and restore.

Epochs. A loader counts epochs from 0. Each ``iter(loader)`` (each ``for`` loop
over it) runs the next epoch, with a new order when shuffling; the order of
epoch ``e`` is a pure function of (seed, ``e``), so the same seed gives the same
batches in every run and with any `num_workers`. ``set_epoch(e)`` makes the next
``iter()`` run epoch ``e`` from its start.

Resuming. ``state_dict()`` is ``{"seed", "epoch", "batches_yielded"}``: the epoch
of the latest ``iter()`` and how many of its batches were handed out (once that
iterator is exhausted, the next epoch and 0). ``load_state_dict(state)`` makes
the next ``iter()`` run that epoch from the batch after them. So a checkpoint
taken after k batches resumes, in a new process, with batch k + 1 of the same
epoch, bit for bit as if never interrupted.

>>> import numpy as np
>>> from actnet.util.data import DataLoader, TensorDataset
>>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> loader = DataLoader(ds, batch_size=2, shuffle=True, seed=0)
>>> len(loader)
3
>>> [tuple(x.shape) for x, y in loader]
[(2, 2), (2, 2), (1, 2)]
>>> state = loader.state_dict()       # {'seed': 0, 'epoch': 1, ...}
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from actnet.device import Device, Generator, get_device
from actnet.util.data._collate import default_collate, default_convert, to_device
from actnet.util.data._workers import WorkerPool
from actnet.util.data.dataset import Dataset, _batch_getter
from actnet.util.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _check_seed,
    _seeded_sampler,
)

__all__ = ["DataLoader"]

T_co = TypeVar("T_co", covariant=True)

_STATE_KEYS = frozenset({"seed", "epoch", "batches_yielded"})


def _check_nonnegative_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return value


class DataLoader(Generic[T_co]):
    """Batches of `dataset`, as PyTorch's ``torch.utils.data.DataLoader``.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch; None yields single samples (converted by
            `default_convert`, or `collate_fn`) without a batch dimension.
        shuffle: a new random order each epoch (see the module docstring).
        sampler: the order of indices (excludes `shuffle`).
        batch_sampler: yields whole lists of indices (excludes `batch_size`,
            `shuffle`, `sampler` and `drop_last`).
        num_workers: threads that build batches in the background (0: built in
            the calling thread when asked for). Batches come out in order.
        collate_fn: makes a batch from a list of samples (default:
            `default_collate`, which gives actnet Tensors).
        pin_memory: accepted for PyTorch's signature; the batches are what
            they would be without it (actnet's host arrays are not
            page-locked, as torch's are not without an accelerator).
        drop_last: drop the last, incomplete batch.
        timeout: seconds to wait for a worker's batch before a RuntimeError
            (0: forever).
        worker_init_fn: called with the worker id in each worker thread.
        persistent_workers: accepted for PyTorch's signature (it needs
            `num_workers` > 0, as there); the worker threads are started
            anew for each epoch either way, with the same batches.
        prefetch_factor: batches each worker builds ahead (default 2 with
            workers; must be None without).
        generator: where the shuffling seed is drawn from when `seed` is None
            (default: actnet.device's default generator).
        seed: the shuffling seed (used only with ``shuffle=True``).
        device: where the batches' tensors are placed (default: where the
            dataset and collate_fn put them, cpu for NumPy data).

    The workers are threads: they overlap the building of batches with the
    training step wherever the work releases the GIL (NumPy copies and
    gathers do). The dataset is read from several threads at once.
    """

    dataset: Dataset[T_co]

    def __init__(
        self,
        dataset: Dataset[T_co],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler[Any] | Sequence[int] | None = None,
        batch_sampler: Sampler[Sequence[int]] | Sequence[Sequence[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        *,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        generator: Generator | None = None,
        seed: int | None = None,
        device: Device | str | None = None,
    ) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                "DataLoader needs a map-style dataset (with __getitem__ and "
                f"__len__), got {type(dataset).__name__}"
            )
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or batch_size <= 0
        ):
            raise ValueError(
                "batch_size should be a positive integer value or None, but got "
                f"batch_size={batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(  # noqa: TRY004  # PyTorch's error
                f"drop_last should be a boolean value, but got drop_last={drop_last!r}"
            )
        if isinstance(num_workers, bool) or not isinstance(num_workers, int):
            raise TypeError(f"num_workers must be an int, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; "
                "use num_workers=0 to disable background workers."
            )
        if not isinstance(pin_memory, bool):
            raise TypeError(f"pin_memory must be a bool, got {pin_memory!r}")
        if not isinstance(persistent_workers, bool):
            raise TypeError(
                f"persistent_workers must be a bool, got {persistent_workers!r}"
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if not isinstance(timeout, int | float) or not timeout >= 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified with workers: "
                "let num_workers > 0, or set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and (
            isinstance(prefetch_factor, bool)
            or not isinstance(prefetch_factor, int)
            or prefetch_factor <= 0
        ):
            raise ValueError(
                "prefetch_factor should be a positive int, got "
                f"prefetch_factor={prefetch_factor!r}"
            )
        if shuffle not in (None, True, False):
            raise ValueError(
                f"shuffle should be a boolean value, but got shuffle={shuffle!r}"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {collate_fn!r}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn must be callable, got {worker_init_fn!r}")

        if sampler is None:
            if shuffle:
                sampler = RandomSampler(dataset, generator=generator, seed=seed)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.persistent_workers = persistent_workers
        self.generator = generator
        self.device = None if device is None else get_device(device)
        # The position: the epoch and the first batch the next iter() runs, and
        # the progress of the latest iterator (the one numbered _latest).
        self._next_epoch = 0
        self._next_skip = 0
        self._position = (0, 0)
        self._latest = 0

    # ------------------------------------------------------------ properties
    @property
    def seed(self) -> int | None:
        """The shuffling seed (None when the order is not random)."""
        seeded = _seeded_sampler(self._index_sampler)
        return None if seeded is None else seeded.seed

    @property
    def _index_sampler(self) -> Any:
        return self.sampler if self.batch_sampler is None else self.batch_sampler

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    def __len__(self) -> int:
        return len(self._index_sampler)

    # ------------------------------------------------------------ position
    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` run `epoch` from its first batch."""
        epoch = _check_nonnegative_int(epoch, "epoch")
        self._next_epoch, self._next_skip = epoch, 0
        self._position = (epoch, 0)

    def state_dict(self) -> dict[str, int | None]:
        """Where the loader stands: ``{"seed", "epoch", "batches_yielded"}``
        (plain ints; seed None when not shuffling). JSON-able."""
        epoch, done = self._position
        return {"seed": self.seed, "epoch": epoch, "batches_yielded": done}

    def load_state_dict(self, state_dict: Mapping[str, int | None]) -> None:
        """Make the next ``iter()`` continue where `state_dict` was taken."""
        if not isinstance(state_dict, Mapping) or set(state_dict) != _STATE_KEYS:
            raise ValueError(
                "state_dict must be a mapping with keys 'seed', 'epoch' and "
                f"'batches_yielded', got {state_dict!r}"
            )
        epoch = _check_nonnegative_int(state_dict["epoch"], "state_dict['epoch']")
        done = _check_nonnegative_int(
            state_dict["batches_yielded"], "state_dict['batches_yielded']"
        )
        seed = state_dict["seed"]
        seeded = _seeded_sampler(self._index_sampler)
        if (seed is None) != (seeded is None):
            raise ValueError(
                f"state_dict has seed {seed!r}, but this DataLoader "
                + ("shuffles" if seeded is not None else "does not shuffle")
            )
        if seeded is not None and seed is not None:
            seeded.seed = _check_seed(seed)
        self._next_epoch, self._next_skip = epoch, done
        self._position = (epoch, done)

    # ------------------------------------------------------------ iteration
    def __iter__(self) -> Iterator[Any]:
        epoch, skip = self._next_epoch, self._next_skip
        self._next_epoch, self._next_skip = epoch + 1, 0
        self._latest += 1
        self._position = (epoch, skip)
        set_epoch = getattr(self._index_sampler, "set_epoch", None)
        if set_epoch is not None:
            set_epoch(epoch)
        tasks = itertools.islice(iter(self._index_sampler), skip, None)
        return _DataLoaderIter(self, self._latest, epoch, skip, tasks)

    def _advance(self, number: int, epoch: int, done: int) -> None:
        """Called by iterator `number` as it hands out batches."""
        if number == self._latest:
            self._position = (epoch, done)

    def _fetcher(self) -> Callable[[Any], Any]:
        """task -> batch: a task is a list of indices (or one index without
        automatic batching)."""
        dataset = self.dataset
        device = self.device
        fetch: Callable[[Any], Any]
        if not self._auto_collation:
            convert = default_convert if self.collate_fn is None else self.collate_fn

            def fetch_one(index: Any) -> Any:
                return convert(dataset[index])

            fetch = fetch_one
        elif self.collate_fn is None and (get_batch := _batch_getter(dataset)):
            gather = get_batch

            def fetch_gathered(indices: Any) -> Any:
                return default_convert(gather(indices))

            fetch = fetch_gathered
        else:
            collate = default_collate if self.collate_fn is None else self.collate_fn
            getitems = getattr(dataset, "__getitems__", None)

            def fetch_samples(indices: Any) -> Any:
                if getitems is not None:
                    return collate(getitems(list(indices)))
                return collate([dataset[i] for i in indices])

            fetch = fetch_samples
        if device is None:
            return fetch

        def fetch_to_device(task: Any) -> Any:
            return to_device(fetch(task), device)

        return fetch_to_device

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={self.dataset!r}, batch_size={self.batch_size}, "
            f"num_workers={self.num_workers}, seed={self.seed})"
        )


class _DataLoaderIter:
    """One epoch of a DataLoader: batches built in this thread when asked for,
    or by worker threads ahead of time (at most prefetch_factor * num_workers)."""

    def __init__(
        self,
        loader: DataLoader[Any],
        number: int,
        epoch: int,
        skip: int,
        tasks: Iterator[Any],
    ) -> None:
        self._loader = loader
        self._number = number
        self._epoch = epoch
        self._done = skip  # batches of the epoch handed out
        self._tasks = tasks
        self._fetch = loader._fetcher()
        self._length = len(loader)
        self._pool: WorkerPool | None = None
        self._submitted = skip  # tasks given to the workers (numbered by batch)
        self._finished = False
        if loader.num_workers > 0:
            self._pool = WorkerPool(
                self._fetch, loader.num_workers, loader.worker_init_fn
            )
            depth = loader.num_workers * (loader.prefetch_factor or 2)
            for _ in range(depth):
                if not self._submit():
                    break

    def _submit(self) -> bool:
        """Give the next task to the workers; False when there is none."""
        assert self._pool is not None
        task = next(self._tasks, None)
        if task is None:
            return False
        self._pool.submit(self._submitted, task)
        self._submitted += 1
        return True

    def __iter__(self) -> _DataLoaderIter:
        return self

    def __len__(self) -> int:
        return self._length

    def __next__(self) -> Any:
        if self._finished:
            raise StopIteration
        try:
            batch = self._next_batch()
        except StopIteration:
            self._finish()
            self._loader._advance(self._number, self._epoch + 1, 0)
            raise
        except BaseException:
            self._finish()
            raise
        self._done += 1
        self._loader._advance(self._number, self._epoch, self._done)
        return batch

    def _next_batch(self) -> Any:
        if self._pool is None:
            task = next(self._tasks)  # StopIteration ends the epoch
            return self._fetch(task)
        if self._done == self._submitted:
            raise StopIteration
        timeout = self._loader.timeout or None
        batch = self._pool.result(self._done, timeout)
        self._submit()
        return batch

    def _finish(self) -> None:
        self._finished = True
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def close(self) -> None:
        """Stop the worker threads now (an abandoned iterator does this when it
        is garbage collected)."""
        self._finish()

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown()
