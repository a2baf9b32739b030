"""dropout2d against PyTorch 2.13 on every rank: which elements share a mask
entry (the masks come from different generators, so their pattern is what is
compared), the warnings word for word, the refusal of 1-D input, and the
identity in eval mode."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import actnet.neuron as F
import actnet.tensor as at
from actnet.device import Generator

SHAPES = [(6, 5), (6, 5, 3), (6, 5, 3, 2), (6, 5, 2, 2, 2)]


def _warnings(fn: object) -> tuple[list[str], object]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()  # type: ignore[operator]  # a lambda
    return [str(w.message) for w in caught], out


def _groups(out: np.ndarray) -> np.ndarray:
    """Whether each (n, c) group of elements is all kept or all dropped."""
    flat = out.reshape(out.shape[0], out.shape[1], -1)
    return np.all(flat == flat[:, :, :1], axis=2)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_mask_groups_and_warnings_match_torch(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    x = np.ones(shape, dtype=np.float32)
    theirs_w, theirs = _warnings(
        lambda: torch.nn.functional.dropout2d(torch.tensor(x), 0.5)
    )
    mine_w, mine = _warnings(
        lambda: F.dropout2d(at.tensor(x), 0.5, generator=Generator(3))
    )
    assert mine_w == theirs_w
    for out in (np.asarray(mine), theirs.numpy()):  # type: ignore[attr-defined]
        assert set(np.unique(out)) <= {0.0, 2.0}
        assert np.all(_groups(out))  # one draw per (n, c), whatever the rank
        assert 0 < np.mean(out == 0) < 1


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_eval_mode_is_the_identity_with_torchs_warnings(shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    theirs_w, theirs = _warnings(
        lambda: torch.nn.functional.dropout2d(torch.tensor(x), 0.5, training=False)
    )
    mine_w, mine = _warnings(lambda: F.dropout2d(at.tensor(x), 0.5, training=False))
    assert mine_w == theirs_w
    np.testing.assert_array_equal(np.asarray(mine), theirs.numpy())  # type: ignore[attr-defined]


def test_one_dim_is_refused_as_torch_refuses_it() -> None:
    with pytest.raises(RuntimeError) as theirs, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.functional.dropout2d(torch.ones(4), 0.5)
    with pytest.raises(RuntimeError) as mine, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F.dropout2d(at.ones(4), 0.5)
    assert str(mine.value) == str(theirs.value)
