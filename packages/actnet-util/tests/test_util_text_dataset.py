"""TextDataset and split_tokens of actnet.util.text: windows against NumPy
slicing, batches through the DataLoader, split sizes, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actnet.tensor as at
from actnet.util.data import DataLoader, default_collate
from actnet.util.text import TextDataset, split_tokens


def _windows(
    tokens: np.ndarray[Any, Any], context: int, stride: int
) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    """The oracle: every start that leaves room for the shifted window."""
    starts = range(0, len(tokens) - context, stride)
    return [(tokens[s : s + context], tokens[s + 1 : s + context + 1]) for s in starts]


@settings(deadline=None, max_examples=60)
@given(
    n=st.integers(2, 50),
    context=st.integers(1, 49),
    stride=st.integers(1, 8),
    seed=st.integers(0, 1000),
)
def test_windows_equal_numpy_slicing(
    n: int, context: int, stride: int, seed: int
) -> None:
    context = min(context, n - 1)
    tokens = np.random.default_rng(seed).integers(0, 512, n)
    ds = TextDataset(tokens, context, stride=stride)
    expected = _windows(tokens, context, stride)
    assert len(ds) == len(expected)
    for i, (x, y) in enumerate(expected):
        got_x, got_y = ds[i]
        assert got_x.numpy().dtype == np.int64
        np.testing.assert_array_equal(got_x.numpy(), x)
        np.testing.assert_array_equal(got_y.numpy(), y)
        np.testing.assert_array_equal(ds[i - len(ds)][0].numpy(), x)
    indices = [len(ds) - 1, 0, -1, len(ds) // 2]
    batch_x, batch_y = ds.get_batch(indices)
    assert batch_x.shape == batch_y.shape == (4, context)
    np.testing.assert_array_equal(batch_x.numpy(), [expected[i][0] for i in indices])
    np.testing.assert_array_equal(batch_y.numpy(), [expected[i][1] for i in indices])


def test_the_default_stride_is_every_position() -> None:
    ds = TextDataset(list(range(10)), 3)
    assert len(ds) == 7
    assert ds[6][0].tolist() == [6, 7, 8]
    assert ds[6][1].tolist() == [7, 8, 9]
    blocks = TextDataset(list(range(10)), 3, stride=3)
    assert len(blocks) == 3
    assert [blocks[i][0].tolist() for i in range(3)] == [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
    ]
    assert repr(blocks) == "TextDataset(tokens=10, context=3, stride=3)"


def test_dataloader_batches() -> None:
    tokens = np.random.default_rng(0).integers(0, 512, 300)
    ds = TextDataset(tokens, 16)
    loader = DataLoader(ds, batch_size=8, shuffle=True, seed=3, drop_last=True)
    by_sample = DataLoader(
        ds,
        batch_size=8,
        shuffle=True,
        seed=3,
        drop_last=True,
        collate_fn=default_collate,
    )
    starts = {tuple(tokens[s : s + 16]) for s in range(len(ds))}
    batches = 0
    for (x, y), (x2, y2) in zip(loader, by_sample, strict=True):
        assert isinstance(x, at.Tensor)
        assert x.numpy().dtype == np.int64
        assert x.shape == y.shape == (8, 16)
        np.testing.assert_array_equal(x.numpy(), x2.numpy())
        np.testing.assert_array_equal(y.numpy(), y2.numpy())
        np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
        assert all(tuple(row) in starts for row in x.numpy())
        batches += 1
    assert batches == len(ds) // 8


def test_tokens_are_copied_and_read_only() -> None:
    tokens = np.arange(20)
    ds = TextDataset(tokens, 4)
    tokens[:] = 0
    assert ds[1][0].tolist() == [1, 2, 3, 4]
    assert not ds.tokens.flags.writeable
    assert TextDataset(at.tensor(list(range(20))), 4)[1][1].tolist() == [2, 3, 4, 5]
    assert TextDataset(np.arange(20, dtype=np.uint16), 4).tokens.dtype == np.int64


def test_dataset_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="no window of context 4"):
        TextDataset([1, 2, 3, 4], 4)
    with pytest.raises(ValueError, match="context must be positive"):
        TextDataset([1, 2, 3], 0)
    with pytest.raises(TypeError, match="context must be an int"):
        TextDataset([1, 2, 3], 2.0)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(ValueError, match="stride must be positive"):
        TextDataset([1, 2, 3], 1, stride=0)
    with pytest.raises(TypeError, match="tokens must be integers"):
        TextDataset([1.0, 2.0, 3.0], 1)  # type: ignore[list-item]  # the error under test
    with pytest.raises(TypeError, match="tokens must be a 1-d sequence"):
        TextDataset("abc", 1)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(ValueError, match="one-dimensional"):
        TextDataset(np.zeros((3, 3), np.int64), 1)
    with pytest.raises(ValueError, match="non-negative"):
        TextDataset([1, -2, 3], 1)
    ds = TextDataset(list(range(10)), 3)
    with pytest.raises(IndexError, match="index 7 is out of range"):
        ds[7]
    with pytest.raises(IndexError, match="index -8 is out of range"):
        ds[-8]
    with pytest.raises(IndexError, match="out of range"):
        ds.get_batch([0, 7])


@settings(deadline=None, max_examples=60)
@given(n=st.integers(2, 500), fraction=st.floats(0.01, 0.99))
def test_split_by_position(n: int, fraction: float) -> None:
    tokens = np.arange(n) * 7
    n_train = int(n * fraction)
    if n_train in (0, n):
        with pytest.raises(ValueError, match="leaves an empty part"):
            split_tokens(tokens, fraction)
        return
    train, val = split_tokens(tokens, fraction)
    assert len(train) == n_train
    assert len(val) == n - n_train
    np.testing.assert_array_equal(np.concatenate([train, val]), tokens)
    assert train.dtype == val.dtype == np.int64


def test_split_default_and_errors() -> None:
    train, val = split_tokens(list(range(100)))
    assert (len(train), len(val)) == (90, 10)
    assert val.tolist() == list(range(90, 100))
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_tokens(list(range(10)), 1.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_tokens(list(range(10)), 0)
    with pytest.raises(TypeError, match="train_fraction must be a float"):
        split_tokens(list(range(10)), "0.5")  # type: ignore[arg-type]  # the error under test
