"""DataLoader of actnet.util.data: batching, seeded shuffling, worker threads,
resumable position. Oracles: NumPy indexing of the data by the order the
sampler's generator defines, and hand counts."""

from __future__ import annotations

import gc
import json
import threading
import time
import traceback
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actnet.ndarray as xp
import actnet.tensor as at
import actnet.util.data
from actnet.device import Generator, get_device, manual_seed
from actnet.util.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
)

Array = np.ndarray[Any, Any]


def _data(n: int) -> tuple[Array, Array]:
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2) / 7
    y = np.arange(n, dtype=np.int64)
    return x, y


def _perm(seed: int, epoch: int, n: int) -> list[int]:
    buf = Generator(seed).fold_in(epoch).permutation(n)
    values: list[int] = buf.device.to_host(buf).tolist()
    return values


def _host(batches: Any) -> list[list[Array]]:
    return [[np.asarray(t) for t in b] for b in batches]


def _assert_same(a: list[list[Array]], b: list[list[Array]]) -> None:
    assert len(a) == len(b)
    for ba, bb in zip(a, b, strict=True):
        for ta, tb in zip(ba, bb, strict=True):
            assert ta.dtype == tb.dtype
            np.testing.assert_array_equal(ta, tb)


class _PerSample(Dataset[tuple[Array, Array]]):
    """The same samples as a TensorDataset, without get_batch (the slow path)."""

    def __init__(self, x: Array, y: Array) -> None:
        self.x, self.y = x, y

    def __getitem__(self, index: int) -> tuple[Array, Array]:
        return self.x[index], self.y[index]

    def __len__(self) -> int:
        return len(self.y)


class _Failing(Dataset[int]):
    def __init__(self, n: int, bad: int) -> None:
        self.n, self.bad = n, bad

    def __getitem__(self, index: int) -> int:
        if index == self.bad:
            raise KeyError(f"sample {index} is broken")
        return index

    def __len__(self) -> int:
        return self.n


@pytest.fixture
def no_thread_leak() -> Any:
    before = threading.active_count()
    yield
    gc.collect()
    assert threading.active_count() == before


# ------------------------------------------------------------ batching
def test_batches_in_order_with_shapes_and_dtypes() -> None:
    x, y = _data(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [tuple(b[0].shape) for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert isinstance(batches[0], list)
    assert isinstance(batches[0][0], at.Tensor)
    assert batches[0][0].dtype == np.float32
    assert batches[0][1].dtype == np.int64
    np.testing.assert_array_equal(batches[2][0].numpy(), x[8:])
    np.testing.assert_array_equal(batches[1][1].numpy(), y[4:8])


@pytest.mark.parametrize(
    ("n", "batch_size", "drop_last", "expected"),
    [(10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3), (2, 5, True, 0)],
)
def test_len_and_drop_last(
    n: int, batch_size: int, drop_last: bool, expected: int
) -> None:
    loader = DataLoader(
        TensorDataset(*_data(n)), batch_size=batch_size, drop_last=drop_last
    )
    batches = list(loader)
    assert len(loader) == len(batches) == expected
    assert all(b[0].shape[0] == batch_size for b in batches[: n // batch_size])


def test_batch_size_none_yields_converted_samples() -> None:
    x, y = _data(3)
    loader = DataLoader(TensorDataset(x, y), batch_size=None)
    samples = list(loader)
    assert len(loader) == 3
    assert tuple(samples[1][0].shape) == (2,)
    np.testing.assert_array_equal(samples[1][0].numpy(), x[1])
    assert samples[2][1].item() == 2


def test_custom_collate_fn_and_batch_sampler() -> None:
    x, y = _data(6)
    batches = [[5, 0], [1], [2, 3, 4]]
    loader = DataLoader(
        TensorDataset(x, y),
        batch_sampler=batches,
        collate_fn=lambda samples: [int(s[1]) for s in samples],
    )
    assert list(loader) == [[5, 0], [1], [2, 3, 4]]
    assert len(loader) == 3


def test_getitems_protocol_is_used_with_a_custom_collate() -> None:
    sub = Subset(_PerSample(*_data(5)), [4, 3, 2, 1, 0])
    loader = DataLoader(sub, batch_size=2, collate_fn=lambda s: [int(v[1]) for v in s])
    assert list(loader) == [[4, 3], [2, 1], [0]]


def test_the_gathering_fast_path_equals_the_per_sample_path() -> None:
    x, y = _data(23)
    both: list[tuple[Any, Any]] = [
        (x, y),
        (at.tensor(x), at.tensor(y)),
        (xp.asarray(x), xp.asarray(y)),
    ]
    for columns in both:
        fast = DataLoader(TensorDataset(*columns), batch_size=5, shuffle=True, seed=4)
        slow = DataLoader(_PerSample(x, y), batch_size=5, shuffle=True, seed=4)
        _assert_same(_host(fast), _host(slow))
        sub = Subset(TensorDataset(*columns), list(range(22, -1, -2)))
        sub_slow = Subset(_PerSample(x, y), list(range(22, -1, -2)))
        _assert_same(
            _host(DataLoader(sub, batch_size=4)),
            _host(DataLoader(sub_slow, batch_size=4)),
        )


def test_device_places_the_batches() -> None:
    cpu = get_device("cpu")
    loader = DataLoader(TensorDataset(*_data(4)), batch_size=2, device="cpu")
    assert loader.device is cpu
    for xb, yb in loader:
        assert xb.device is cpu and yb.device is cpu


# ------------------------------------------------------------ shuffling
def test_shuffled_batches_follow_the_epoch_permutation() -> None:
    x, y = _data(11)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=21)
    assert loader.seed == 21
    for epoch in range(3):
        order = _perm(21, epoch, 11)
        got = [int(v) for _, yb in loader for v in yb.numpy()]
        assert got == [int(y[i]) for i in order]


def test_epochs_differ_and_seeds_repeat() -> None:
    ds = TensorDataset(*_data(40))
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=1)
    b = DataLoader(ds, batch_size=8, shuffle=True, seed=1)
    first, second = _host(a), _host(a)
    _assert_same(first, _host(b))
    assert not all(
        np.array_equal(p[1], q[1]) for p, q in zip(first, second, strict=True)
    )


def test_seed_is_drawn_from_the_generator_or_manual_seed() -> None:
    ds = TensorDataset(*_data(30))
    a = DataLoader(ds, batch_size=8, shuffle=True, generator=Generator(5))
    b = DataLoader(ds, batch_size=8, shuffle=True, generator=Generator(5))
    assert a.seed == b.seed
    manual_seed(12)
    c = DataLoader(ds, batch_size=8, shuffle=True)
    manual_seed(12)
    d = DataLoader(ds, batch_size=8, shuffle=True)
    assert c.seed == d.seed
    _assert_same(_host(c), _host(d))
    assert DataLoader(ds).seed is None


def test_set_epoch() -> None:
    ds = TensorDataset(*_data(13))
    loader = DataLoader(ds, batch_size=5, shuffle=True, seed=3)
    loader.set_epoch(7)
    got = [int(v) for _, yb in loader for v in yb.numpy()]
    assert got == _perm(3, 7, 13)
    assert loader.state_dict() == {"seed": 3, "epoch": 8, "batches_yielded": 0}


@settings(deadline=None, max_examples=25)
@given(
    n=st.integers(0, 40),
    batch_size=st.integers(1, 9),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**64 - 1),
    num_workers=st.sampled_from([1, 2, 3]),
)
def test_every_sample_once_and_the_same_batches_with_any_num_workers(
    n: int, batch_size: int, drop_last: bool, seed: int, num_workers: int
) -> None:
    x, y = _data(n)
    ds = TensorDataset(x, y)

    def run(workers: int) -> list[list[Array]]:
        loader = DataLoader(
            ds,
            batch_size=batch_size,
            shuffle=True,
            drop_last=drop_last,
            seed=seed,
            num_workers=workers,
        )
        return [b for _ in range(2) for b in _host(loader)]  # epochs 0 and 1

    serial = run(0)
    _assert_same(run(num_workers), serial)
    per_epoch = len(serial) // 2
    kept = n - n % batch_size if drop_last else n
    for epoch in range(2):
        labels = [
            int(v)
            for b in serial[epoch * per_epoch : (epoch + 1) * per_epoch]
            for v in b[1]
        ]
        assert labels == _perm(seed, epoch, n)[:kept]
        assert len(set(labels)) == kept


# ------------------------------------------------------------ resuming
@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("k", [0, 1, 3, 4])
def test_resume_mid_epoch_gives_the_remaining_batches_bitwise(
    num_workers: int, k: int
) -> None:
    x, y = _data(19)
    ds = TensorDataset(x, y)
    reference = DataLoader(ds, batch_size=5, shuffle=True, seed=99)
    list(reference)  # epoch 0
    epoch1 = _host(reference)

    first = DataLoader(ds, batch_size=5, shuffle=True, seed=99, num_workers=num_workers)
    list(first)
    it = iter(first)
    head = [next(it) for _ in range(k)]
    state = json.loads(json.dumps(first.state_dict()))  # JSON round trip
    assert state == {"seed": 99, "epoch": 1, "batches_yielded": k}
    del it

    # A new loader, with another seed: the state's seed wins.
    resumed = DataLoader(
        ds, batch_size=5, shuffle=True, seed=1, num_workers=num_workers
    )
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    tail = _host(resumed)
    _assert_same(_host(head) + tail, epoch1)
    assert resumed.state_dict() == {"seed": 99, "epoch": 2, "batches_yielded": 0}
    # the epoch after the resumed one is the uninterrupted run's next epoch
    _assert_same(_host(resumed), _host(reference))


def test_state_of_a_sequential_loader() -> None:
    x, y = _data(7)
    loader = DataLoader(TensorDataset(x, y), batch_size=3)
    assert loader.state_dict() == {"seed": None, "epoch": 0, "batches_yielded": 0}
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    assert state == {"seed": None, "epoch": 0, "batches_yielded": 1}
    again = DataLoader(TensorDataset(x, y), batch_size=3)
    again.load_state_dict(state)
    labels = [int(v) for _, yb in again for v in yb.numpy()]
    assert labels == [3, 4, 5, 6]


def test_a_new_iter_starts_the_next_epoch() -> None:
    loader = DataLoader(TensorDataset(*_data(10)), batch_size=3, shuffle=True, seed=0)
    it = iter(loader)
    next(it)
    assert loader.state_dict()["epoch"] == 0
    it2 = iter(loader)  # abandons epoch 0
    assert loader.state_dict() == {"seed": 0, "epoch": 1, "batches_yielded": 0}
    next(it)  # the old iterator no longer moves the position
    assert loader.state_dict()["batches_yielded"] == 0
    next(it2)
    assert loader.state_dict() == {"seed": 0, "epoch": 1, "batches_yielded": 1}


def test_load_state_dict_errors() -> None:
    shuffled = DataLoader(TensorDataset(*_data(4)), shuffle=True, seed=0)
    plain = DataLoader(TensorDataset(*_data(4)))
    with pytest.raises(ValueError, match="keys 'seed', 'epoch'"):
        shuffled.load_state_dict({"epoch": 0})
    with pytest.raises(ValueError, match="does not shuffle"):
        plain.load_state_dict({"seed": 3, "epoch": 0, "batches_yielded": 0})
    with pytest.raises(ValueError, match="but this DataLoader shuffles"):
        shuffled.load_state_dict({"seed": None, "epoch": 0, "batches_yielded": 0})
    with pytest.raises(ValueError, match="batches_yielded"):
        plain.load_state_dict({"seed": None, "epoch": 0, "batches_yielded": -1})
    with pytest.raises(ValueError, match="epoch"):
        plain.set_epoch(-2)


# ------------------------------------------------------------ workers
def test_workers_stop_at_the_end_of_an_epoch(no_thread_leak: None) -> None:
    before = threading.active_count()
    loader = DataLoader(TensorDataset(*_data(20)), batch_size=3, num_workers=3)
    it = iter(loader)
    next(it)
    assert threading.active_count() == before + 3
    rest = list(it)
    assert len(rest) == 6
    assert threading.active_count() == before


def test_an_abandoned_iterator_stops_its_workers(no_thread_leak: None) -> None:
    before = threading.active_count()
    loader = DataLoader(
        TensorDataset(*_data(50)), batch_size=2, num_workers=2, prefetch_factor=3
    )
    for i, _ in enumerate(loader):
        if i == 2:
            break
    gc.collect()
    assert threading.active_count() == before
    it = iter(loader)
    next(it)
    it.close()  # type: ignore[attr-defined]  # the iterator's own method
    assert threading.active_count() == before


def test_a_worker_exception_is_raised_with_its_traceback(no_thread_leak: None) -> None:
    loader = DataLoader(_Failing(12, bad=7), batch_size=2, num_workers=2)
    got: list[Any] = []
    with pytest.raises(KeyError, match="sample 7 is broken") as info:
        for batch in loader:
            got.append(batch.tolist())
    assert got == [[0, 1], [2, 3], [4, 5]]  # the batches before, in order
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "__getitem__" in frames  # the worker's own frames are kept
    notes = getattr(info.value, "__notes__", [])
    assert any("DataLoader worker" in n and "batch 3" in n for n in notes)
    # the position stays before the failed batch
    assert loader.state_dict()["batches_yielded"] == 3


def test_an_exception_without_workers_propagates() -> None:
    loader = DataLoader(_Failing(4, bad=2), batch_size=1)
    with pytest.raises(KeyError, match="sample 2"):
        list(loader)


def test_worker_init_fn_runs_in_each_worker(no_thread_leak: None) -> None:
    seen: list[tuple[int, str]] = []
    lock = threading.Lock()

    def init(worker_id: int) -> None:
        with lock:
            seen.append((worker_id, threading.current_thread().name))

    loader = DataLoader(
        TensorDataset(*_data(6)), batch_size=2, num_workers=3, worker_init_fn=init
    )
    assert len(list(loader)) == 3
    assert sorted(w for w, _ in seen) == [0, 1, 2]
    assert all(name != threading.current_thread().name for _, name in seen)


def test_a_failing_worker_init_fn_is_raised(no_thread_leak: None) -> None:
    def init(worker_id: int) -> None:
        raise RuntimeError("no init")

    loader = DataLoader(
        TensorDataset(*_data(6)), batch_size=2, num_workers=2, worker_init_fn=init
    )
    with pytest.raises(RuntimeError, match="no init"):
        list(loader)


class _Slow(Dataset[int]):
    def __getitem__(self, index: int) -> int:
        time.sleep(0.5)
        return index

    def __len__(self) -> int:
        return 2


def test_timeout(no_thread_leak: None) -> None:
    loader = DataLoader(_Slow(), batch_size=1, num_workers=1, timeout=0.05)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.05 seconds"):
        next(iter(loader))


def test_prefetch_is_bounded() -> None:
    fetched: list[int] = []
    lock = threading.Lock()

    class Counting(Dataset[int]):
        def __getitem__(self, index: int) -> int:
            with lock:
                fetched.append(index)
            return index

        def __len__(self) -> int:
            return 100

    loader = DataLoader(Counting(), batch_size=1, num_workers=2, prefetch_factor=3)
    it = iter(loader)
    assert next(it).tolist() == [0]
    time.sleep(0.2)
    with lock:
        assert len(fetched) <= 2 * 3 + 1  # the window, refilled once
    it.close()  # type: ignore[attr-defined]  # the iterator's own method


# ------------------------------------------------------------ arguments
def test_argument_errors() -> None:
    ds = TensorDataset(*_data(4))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(
        ValueError, match="sampler option is mutually exclusive with shuffle"
    ):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(
        ValueError, match="prefetch_factor option could only be specified"
    ):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="prefetch_factor should be a positive int"):
        DataLoader(ds, num_workers=1, prefetch_factor=0)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(ds, timeout=-1)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        DataLoader(ds, drop_last=1)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(TypeError, match="map-style dataset"):
        DataLoader(object())  # type: ignore[arg-type]  # the error under test
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader(ds, collate_fn=3)  # type: ignore[arg-type]  # the error under test


def test_a_sampler_given_by_the_user() -> None:
    x, y = _data(9)
    sampler = RandomSampler(range(9), seed=17)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, sampler=sampler)
    assert loader.seed == 17
    labels = [int(v) for _, yb in loader for v in yb.numpy()]
    assert labels == _perm(17, 0, 9)
    batch_sampler = BatchSampler(RandomSampler(range(9), seed=2), 4, drop_last=True)
    loader = DataLoader(TensorDataset(x, y), batch_sampler=batch_sampler)
    assert loader.seed == 2 and len(loader) == 2
    labels = [int(v) for _, yb in loader for v in yb.numpy()]
    assert labels == _perm(2, 0, 9)[:8]


def test_pin_memory_and_persistent_workers_leave_the_batches_as_they_are(
    no_thread_leak: None,
) -> None:
    # PyTorch's arguments (minGPT's trainer passes pin_memory=True): the same
    # batches as without them
    x, y = _data(10)
    plain = _host(DataLoader(TensorDataset(x, y), batch_size=3))
    pinned = DataLoader(TensorDataset(x, y), batch_size=3, pin_memory=True)
    assert pinned.pin_memory is True
    _assert_same(_host(pinned), plain)
    persistent = DataLoader(
        TensorDataset(x, y), batch_size=3, num_workers=2, persistent_workers=True
    )
    assert persistent.persistent_workers is True
    for _ in range(2):  # two epochs
        _assert_same(_host(persistent), plain)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers"):
        DataLoader(TensorDataset(x, y), persistent_workers=True)
    with pytest.raises(TypeError, match="pin_memory must be a bool"):
        DataLoader(TensorDataset(x, y), pin_memory=1)  # type: ignore[arg-type]  # under test


def test_torch_utils_data_is_this_module() -> None:
    assert at.utils.data is actnet.util.data  # torch.utils.data in ported code
