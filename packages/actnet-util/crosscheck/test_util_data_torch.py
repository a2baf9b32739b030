"""actnet.util.data against torch.utils.data 2.13.0: the same collate results
(values and dtypes), batch counts and shapes, split lengths and argument errors;
and StandardScaler against scikit-learn's, where it is installed."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import actnet.tensor as at
from actnet.device import Generator
from actnet.util import data as ad

Pair = namedtuple("Pair", ["a", "b"])


def _same(ours: Any, theirs: Any) -> None:
    """Our collated structure equals torch's: Tensors by value and dtype name,
    containers by type and contents."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, at.Tensor)
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and ours.keys() == theirs.keys()
        for k in theirs:
            _same(ours[k], theirs[k])
    elif isinstance(theirs, list | tuple):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs, strict=True):
            _same(o, t)
    else:
        assert ours == theirs


SAMPLES: dict[str, list[Any]] = {
    "floats": [1.0, 2.5, -3.0],
    "ints": [1, 2, 3],
    "bools": [True, False],
    "numpy float32 arrays": [np.full((2, 3), i, np.float32) for i in range(3)],
    "numpy int16 arrays": [np.arange(4, dtype=np.int16) * i for i in range(2)],
    "numpy scalars": [np.float32(1.5), np.float32(-2.0)],
    "numpy int scalars": [np.int64(3), np.int64(4)],
    "strings": ["a", "b"],
    "tuples": [(np.zeros(2), 0, 1.0), (np.ones(2), 1, 2.0)],
    "lists": [[1, 2.0], [3, 4.0]],
    "dicts": [{"x": np.arange(3.0), "y": 1}, {"x": np.arange(3.0) + 1, "y": 0}],
    "namedtuples": [Pair(1, np.float64(2.0)), Pair(3, np.float64(4.0))],
    "nested": [{"p": (1, [2.0, "s"])}, {"p": (3, [4.0, "t"])}],
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_matches_torch(name: str) -> None:
    batch = SAMPLES[name]
    _same(ad.default_collate(batch), tud.default_collate(batch))


@pytest.mark.parametrize("name", ["numpy float32 arrays", "tuples", "dicts"])
def test_default_convert_matches_torch(name: str) -> None:
    sample = SAMPLES[name][0]
    theirs = tud.default_convert(sample)  # type: ignore[no-untyped-call]  # torch's own
    _same(ad.default_convert(sample), theirs)


def test_collate_of_tensors_matches_torch() -> None:
    rows = [np.arange(6, dtype=np.float64).reshape(2, 3) * i for i in range(4)]
    ours = ad.default_collate([at.tensor(r) for r in rows])
    theirs = tud.default_collate([torch.tensor(r) for r in rows])
    _same(ours, theirs)


@pytest.mark.parametrize("n", [0, 1, 7, 64, 65])
@pytest.mark.parametrize(
    ("batch_size", "drop_last"),
    [
        (1, False),
        (3, False),
        (64, False),
        (1, True),
        (3, True),
        (64, True),
        (None, False),
    ],
)
def test_batch_counts_and_shapes_match_torch(
    n: int, batch_size: int | None, drop_last: bool
) -> None:
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n)
    ours = ad.DataLoader(
        ad.TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last
    )
    theirs = tud.DataLoader(
        tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    got, expected = list(ours), list(theirs)
    assert len(got) == len(expected)
    for o, t in zip(got, expected, strict=True):
        _same(o, t)


def test_numpy_dataset_batches_match_torch() -> None:
    class Rows(ad.Dataset[Any]):
        def __getitem__(self, i: int) -> Any:
            return {"x": np.full(2, i, np.float32), "label": i % 3, "w": 0.5 * i}

        def __len__(self) -> int:
            return 10

    ours = list(ad.DataLoader(Rows(), batch_size=4, num_workers=2))
    theirs = list(tud.DataLoader(Rows(), batch_size=4))  # type: ignore[arg-type]  # any map-style dataset
    for o, t in zip(ours, theirs, strict=True):
        _same(o, t)


@pytest.mark.parametrize(
    ("n", "batch_size", "drop_last"), [(10, 3, False), (10, 3, True), (9, 9, True)]
)
def test_batch_sampler_matches_torch(n: int, batch_size: int, drop_last: bool) -> None:
    ours = ad.BatchSampler(ad.SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)


@pytest.mark.parametrize(
    ("n", "lengths"),
    [
        (10, [3, 7]),
        (11, [0.5, 0.3, 0.2]),
        (10, [1 / 3, 1 / 3, 1 / 3]),
        (7, [0.25, 0.25, 0.25, 0.25]),
        (100, [0.8, 0.1, 0.1]),
        (1437, [0.8, 0.2]),
    ],
)
def test_random_split_lengths_match_torch(n: int, lengths: list[float]) -> None:
    ours = ad.random_split(ad.TensorDataset(np.arange(n)), lengths, Generator(0))
    theirs = tud.random_split(
        tud.TensorDataset(torch.arange(n)), lengths, torch.Generator().manual_seed(0)
    )
    assert [len(s) for s in ours] == [len(s) for s in theirs]


def test_random_split_errors_match_torch() -> None:
    for lengths in ([2, 2], [1.5, -0.5]):
        with pytest.raises(ValueError) as theirs:
            tud.random_split(tud.TensorDataset(torch.arange(5)), lengths)
        with pytest.raises(ValueError) as ours:
            ad.random_split(ad.TensorDataset(np.arange(5)), lengths)
        assert str(ours.value).startswith(str(theirs.value).split("!")[0])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"shuffle": True, "sampler": [0, 1]},
        {"batch_size": 2, "batch_sampler": [[0]]},
        {"batch_size": None, "drop_last": True},
        {"num_workers": -1},
        {"prefetch_factor": 2},
        {"timeout": -1},
    ],
)
def test_argument_errors_match_torch(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # torch's type, not its text
        tud.DataLoader(tud.TensorDataset(torch.arange(4)), **kwargs)
    with pytest.raises(ValueError):  # the same type as torch
        ad.DataLoader(ad.TensorDataset(np.arange(4)), **kwargs)


def test_shuffled_epochs_are_permutations_like_torch() -> None:
    n, bs = 23, 5
    ours = ad.DataLoader(ad.TensorDataset(np.arange(n)), batch_size=bs, shuffle=True)
    theirs = tud.DataLoader(
        tud.TensorDataset(torch.arange(n)), batch_size=bs, shuffle=True
    )
    for _ in range(2):
        a = [int(v) for (b,) in ours for v in b.numpy()]
        t = [int(v) for (b,) in theirs for v in b.numpy()]
        assert sorted(a) == sorted(t) == list(range(n))


# ------------------------------------------------------------ scikit-learn
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_standard_scaler_matches_sklearn_bitwise(
    dtype: Any, with_mean: bool, with_std: bool
) -> None:
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5)) * [1, 1e-3, 0, 1e6, 2] + [5, 1e6, 3, 0, -1]
    x = x.astype(dtype)
    ours = ad.StandardScaler(with_mean=with_mean, with_std=with_std).fit(x)
    theirs = preprocessing.StandardScaler(with_mean=with_mean, with_std=with_std)
    theirs.fit(x)
    for name in ("mean_", "var_", "scale_"):
        o, t = getattr(ours, name), getattr(theirs, name)
        if t is None:
            assert o is None
        else:
            np.testing.assert_array_equal(o, t)
    assert ours.n_samples_seen_ == theirs.n_samples_seen_
    z = ours.transform(x)
    np.testing.assert_array_equal(z, theirs.transform(x))
    np.testing.assert_array_equal(
        ours.inverse_transform(z), theirs.inverse_transform(z)
    )


def test_standard_scaler_partial_fit_and_nans_match_sklearn() -> None:
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 3)) * 7 + 2
    x[[3, 40, 41], 1] = np.nan
    ours, theirs = ad.StandardScaler(), preprocessing.StandardScaler()
    for chunk in np.array_split(x, 4):
        ours.partial_fit(chunk)
        theirs.partial_fit(chunk)
    np.testing.assert_array_equal(ours.mean_, theirs.mean_)
    np.testing.assert_array_equal(ours.var_, theirs.var_)
    np.testing.assert_array_equal(ours.n_samples_seen_, theirs.n_samples_seen_)
    np.testing.assert_array_equal(ours.transform(x), theirs.transform(x))
