"""`TextDataset`: (context, next tokens) windows over a token array, and
`split_tokens`, the train/validation split by position.

Sample *i* is the window starting at ``i * stride``: ``x = tokens[s : s +
context]`` and ``y = tokens[s + 1 : s + context + 1]``, the same tokens shifted
by one, so ``y[t]`` is the token that follows ``x[: t + 1]``. The default stride
is 1, a window at every position, as minGPT's ``CharDataset`` does: with
``DataLoader(..., shuffle=True)`` each batch holds windows at random offsets, as
nanoGPT's ``get_batch`` draws them. ``stride=context`` gives non-overlapping
windows, which suit a validation pass that sees each token once.

>>> train, val = split_tokens(np.arange(100), 0.9)
>>> ds = TextDataset(train, context=4)
>>> len(ds), len(val)
(86, 10)
>>> ds[2]
(tensor([2, 3, 4, 5]), tensor([3, 4, 5, 6]))
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

import actnet.tensor as at
from actnet.ndarray import NDArray
from actnet.util.data import Dataset
from actnet.util.data.dataset import _index_array

__all__ = ["TextDataset", "split_tokens"]

Tokens = Sequence[int] | np.ndarray[Any, Any] | at.Tensor | NDArray


def _token_array(tokens: object) -> np.ndarray[Any, Any]:
    """`tokens` as a read-only 1-d int64 NumPy copy."""
    if isinstance(tokens, at.Tensor):
        tokens = tokens.array
    if isinstance(tokens, str | bytes):
        raise TypeError(
            f"tokens must be a 1-d sequence of ints, got {type(tokens).__name__}"
        )
    array = np.asarray(tokens)
    if array.size == 0:
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"tokens must be integers, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"tokens must be one-dimensional, got shape {array.shape}")
    if array.size and array.min() < 0:
        raise ValueError(f"tokens must be non-negative ids, got {array.min()}")
    out = np.array(
        array, dtype=np.int64
    )  # a copy: later edits to `tokens` don't leak in
    out.flags.writeable = False
    return out


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return int(value)


class TextDataset(Dataset[tuple[at.Tensor, at.Tensor]]):
    """Windows of `context` tokens and the same tokens shifted by one.

    Args:
        tokens: a 1-d sequence of token ids (a list, NumPy array or Tensor;
            copied as int64).
        context: tokens per window.
        stride: positions between the starts of consecutive windows (default 1:
            every position; `context` gives non-overlapping windows).

    A sample is a pair of int64 Tensors of shape (context,). There are
    ``(len(tokens) - context - 1) // stride + 1`` samples; fewer than
    ``context + 1`` tokens is a ValueError. ``get_batch`` gathers a whole batch
    with one index, which the DataLoader uses.
    """

    tokens: np.ndarray[Any, Any]
    context: int
    stride: int

    def __init__(self, tokens: Tokens, context: int, *, stride: int = 1) -> None:
        self.tokens = _token_array(tokens)
        self.context = _positive_int(context, "context")
        self.stride = _positive_int(stride, "stride")
        if len(self.tokens) <= self.context:
            raise ValueError(
                f"tokens: {len(self.tokens)} tokens make no window of context "
                f"{self.context} (at least {self.context + 1} are needed)"
            )
        self._length = (len(self.tokens) - self.context - 1) // self.stride + 1
        self._offsets = np.arange(self.context, dtype=np.int64)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> tuple[at.Tensor, at.Tensor]:
        i = operator.index(index)
        if not -self._length <= i < self._length:
            raise IndexError(
                f"index {i} is out of range for a dataset of size {self._length}"
            )
        start = (i % self._length) * self.stride
        end = start + self.context
        return (
            at.tensor(self.tokens[start:end]),
            at.tensor(self.tokens[start + 1 : end + 1]),
        )

    def get_batch(self, indices: Sequence[int]) -> tuple[at.Tensor, at.Tensor]:
        """The windows at `indices`, stacked: two int64 Tensors of shape
        (len(indices), context)."""
        starts = _index_array(indices, self._length) * self.stride
        positions = starts[:, None] + self._offsets
        return at.tensor(self.tokens[positions]), at.tensor(self.tokens[positions + 1])

    def __repr__(self) -> str:
        return (
            f"TextDataset(tokens={len(self.tokens)}, context={self.context}, "
            f"stride={self.stride})"
        )


def split_tokens(
    tokens: Tokens, train_fraction: float = 0.9
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Split a token sequence by position, nanoGPT's way: the first
    ``int(len(tokens) * train_fraction)`` tokens for training, the rest (the
    tail) for validation. Returns two read-only int64 arrays; a part that would
    be empty is a ValueError.

    >>> split_tokens([5, 6, 7, 8, 9], 0.6)
    (array([5, 6, 7]), array([8, 9]))
    """
    array = _token_array(tokens)
    if isinstance(train_fraction, bool) or not isinstance(
        train_fraction, int | float | np.floating
    ):
        raise TypeError(f"train_fraction must be a float, got {train_fraction!r}")
    if not 0 < train_fraction < 1:
        raise ValueError(
            f"train_fraction must be between 0 and 1 (exclusive), got {train_fraction}"
        )
    n_train = int(len(array) * train_fraction)
    if n_train == 0 or n_train == len(array):
        raise ValueError(
            f"tokens: splitting {len(array)} tokens at {train_fraction} leaves "
            "an empty part"
        )
    return array[:n_train], array[n_train:]
