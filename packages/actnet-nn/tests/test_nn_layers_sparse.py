"""Embedding: lookup against NumPy indexing, gradients (padding row excluded),
max_norm renormalisation, from_pretrained, init, repr and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
from nn_layer_helpers import to_numpy

import actnet.tensor as at
from actnet import nn


def test_embedding_lookup_matches_numpy() -> None:
    emb = nn.Embedding(10, 3)
    idx = np.array([[1, 2, 4, 5], [4, 3, 2, 9]])
    out = emb(at.tensor(idx))
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(to_numpy(out), to_numpy(emb.weight)[idx])


def test_embedding_gradient_accumulates_per_row_and_skips_padding() -> None:
    emb = nn.Embedding(5, 2, padding_idx=1, dtype=at.float64)
    idx = np.array([0, 1, 0, 3, 1])
    upstream = np.arange(10.0).reshape(5, 2)
    (emb(at.tensor(idx)) * at.tensor(upstream)).sum().backward()
    expected = np.zeros((5, 2))
    np.add.at(expected, idx, upstream)
    expected[1] = 0.0  # the padding row gets no gradient
    assert emb.weight.grad is not None
    np.testing.assert_array_equal(to_numpy(emb.weight.grad), expected)


def test_embedding_init_is_standard_normal_with_zero_padding_row() -> None:
    emb = nn.Embedding(1000, 50, padding_idx=-1, dtype=at.float64)
    assert emb.padding_idx == 999
    w = to_numpy(emb.weight)
    np.testing.assert_array_equal(w[999], 0.0)
    rest = w[:999]
    # 49950 N(0, 1) draws: the mean's standard error is 0.0045 and the std's
    # 0.0032, so 0.03 is more than 6 standard errors for both.
    assert abs(rest.mean()) < 0.03
    assert abs(rest.std() - 1) < 0.03


def test_embedding_max_norm_renormalises_looked_up_rows_in_place() -> None:
    weight = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    emb = nn.Embedding.from_pretrained(at.tensor(weight), max_norm=1.0)
    out = emb(at.tensor([0, 1]))
    expected = weight.copy()
    expected[0] *= 1.0 / (5.0 + 1e-7)  # PyTorch's factor max_norm / (norm + 1e-7)
    np.testing.assert_allclose(to_numpy(out), expected[[0, 1]], rtol=1e-12)
    np.testing.assert_allclose(
        to_numpy(emb.weight), expected, rtol=1e-12
    )  # row 2 untouched


def test_from_pretrained_freezes_by_default() -> None:
    table = at.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    assert repr(frozen) == "Embedding(2, 2)"
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad
    np.testing.assert_array_equal(to_numpy(trainable.weight), [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(at.ones(3))


def test_embedding_repr_and_state_dict() -> None:
    emb = nn.Embedding(
        10, 3, padding_idx=2, max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True
    )
    assert repr(emb) == (
        "Embedding(10, 3, padding_idx=2, max_norm=1.5, norm_type=1.0, "
        "scale_grad_by_freq=True)"
    )
    assert list(emb.state_dict()) == ["weight"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"padding_idx": 10}, ValueError),
        ({"padding_idx": -11}, ValueError),
        ({"padding_idx": 1.0}, TypeError),
        ({"sparse": True}, NotImplementedError),
        ({"_weight": at.ones(3, 3)}, ValueError),
    ],
)
def test_embedding_bad_arguments(
    kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        nn.Embedding(10, 3, **kwargs)  # type: ignore[arg-type]  # wrong on purpose


def test_embedding_rejects_out_of_range_and_float_indices() -> None:
    emb = nn.Embedding(4, 2)
    with pytest.raises(IndexError):
        emb(at.tensor([4]))
    with pytest.raises(TypeError):
        emb(at.tensor([1.0]))
