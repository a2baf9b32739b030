"""EmbeddingBag: bags against a NumPy oracle (every mode, offsets and 2-d input,
include_last_offset, per_sample_weights, padding_idx), gradients by central
differences, max_norm, from_pretrained, init, repr, state dict and bad
arguments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import to_numpy

import actnet.tensor as at
from actnet import nn


def bags_oracle(
    table: np.ndarray,
    indices: np.ndarray,
    offsets: np.ndarray | None,
    mode: str,
    psw: np.ndarray | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> np.ndarray:
    """Cut input into bags, leave padding out, reduce each (zeros when empty)."""
    if indices.ndim == 2:
        cuts = [indices.shape[1] * b for b in range(indices.shape[0])]
        bags = [indices[b] for b in range(indices.shape[0])]
        weights = [None if psw is None else psw[b] for b in range(indices.shape[0])]
    else:
        assert offsets is not None
        cuts = list(offsets[:-1] if include_last_offset else offsets)
        ends = [*cuts[1:], offsets[-1] if include_last_offset else len(indices)]
        bags = [indices[s:e] for s, e in zip(cuts, ends, strict=True)]
        weights = [
            None if psw is None else psw[s:e] for s, e in zip(cuts, ends, strict=True)
        ]
    out = np.zeros((len(cuts), table.shape[1]))
    for b, (bag, w) in enumerate(zip(bags, weights, strict=True)):
        keep = (
            bag != padding_idx if padding_idx is not None else np.ones(len(bag), bool)
        )
        rows = table[bag[keep]]
        if w is not None:
            rows = rows * w[keep][:, None]
        if len(rows):
            out[b] = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode](rows, axis=0)
    return out


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize(
    ("indices", "offsets", "options"),
    [
        (np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 3, 6]), {}),
        (
            np.array([1, 2, 4, 5, 4, 3, 2, 9]),
            np.array([0, 2, 8]),
            {"include_last_offset": True},
        ),
        (  # the last two indices in no bag
            np.array([1, 2, 4, 5, 4, 3, 2, 9]),
            np.array([0, 2, 6]),
            {"include_last_offset": True},
        ),
        (np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 1, 4]), {"padding_idx": 4}),
        (np.array([[1, 2, 4], [5, 5, 9], [0, 0, 0]]), None, {"padding_idx": 0}),
        (np.array([[1, 2], [4, 4]]), None, {}),
    ],
    ids=str,
)
def test_embedding_bag_matches_numpy(
    mode: str, indices: np.ndarray, offsets: np.ndarray | None, options: dict[str, Any]
) -> None:
    bag = nn.EmbeddingBag(10, 3, mode=mode, dtype=at.float64, **options)
    out = bag(at.tensor(indices), None if offsets is None else at.tensor(offsets))
    table = to_numpy(bag.weight)
    padding = bag.padding_idx
    expected = bags_oracle(
        table, indices, offsets, mode, None,
        options.get("include_last_offset", False), padding,
    )  # fmt: skip
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-12)


def test_embedding_bag_per_sample_weights_matches_numpy() -> None:
    bag = nn.EmbeddingBag(6, 2, mode="sum", padding_idx=5, dtype=at.float64)
    indices = np.array([0, 5, 2, 2, 1])
    psw = np.array([0.5, 2.0, -1.0, 3.0, 4.0])
    out = bag(at.tensor(indices), at.tensor([0, 2]), at.tensor(psw))
    expected = bags_oracle(to_numpy(bag.weight), indices, np.array([0, 2]), "sum",
                           psw, padding_idx=5)  # fmt: skip
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-12)


def _numeric_grad(f: Any, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradients_match_central_differences(mode: str) -> None:
    rng = np.random.default_rng(0)
    table = rng.permutation(15).reshape(5, 3) / 4.0  # distinct: no max changes row
    indices, offsets = np.array([0, 3, 3, 1, 4, 2]), np.array([0, 2, 2, 5])
    psw = rng.standard_normal(6) if mode == "sum" else None
    upstream = rng.standard_normal((4, 3))

    def loss(t: np.ndarray, p: np.ndarray | None = psw) -> float:
        return float(np.sum(bags_oracle(t, indices, offsets, mode, p) * upstream))

    bag = nn.EmbeddingBag.from_pretrained(at.tensor(table), freeze=False, mode=mode)
    p = None if psw is None else at.tensor(psw, requires_grad=True)
    out = bag(at.tensor(indices), at.tensor(offsets), p)
    (out * at.tensor(upstream)).sum().backward()
    assert bag.weight.grad is not None
    np.testing.assert_allclose(
        to_numpy(bag.weight.grad), _numeric_grad(loss, table), atol=1e-7
    )
    if p is not None and psw is not None:
        assert p.grad is not None
        expected = _numeric_grad(lambda q: loss(table, q), psw)
        np.testing.assert_allclose(to_numpy(p.grad), expected, atol=1e-7)


def test_embedding_bag_padding_row_gets_no_gradient() -> None:
    bag = nn.EmbeddingBag(4, 2, mode="sum", padding_idx=1, dtype=at.float64)
    bag(at.tensor([[1, 0], [1, 1], [2, 0]])).sum().backward()
    assert bag.weight.grad is not None
    np.testing.assert_array_equal(
        to_numpy(bag.weight.grad), [[2, 2], [0, 0], [1, 1], [0, 0]]
    )


def test_embedding_bag_init_is_standard_normal_with_zero_padding_row() -> None:
    bag = nn.EmbeddingBag(1000, 50, padding_idx=-1, dtype=at.float64)
    assert bag.padding_idx == 999
    w = to_numpy(bag.weight)
    np.testing.assert_array_equal(w[999], 0.0)
    # 49950 N(0, 1) draws: 0.03 is more than 6 standard errors for mean and std
    assert abs(w[:999].mean()) < 0.03
    assert abs(w[:999].std() - 1) < 0.03
    assert bag.weight.requires_grad


def test_embedding_bag_max_norm_renormalises_looked_up_rows_in_place() -> None:
    weight = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    bag = nn.EmbeddingBag.from_pretrained(at.tensor(weight), max_norm=1.0, mode="sum")
    out = bag(at.tensor([0, 1, 0]), at.tensor([0]))
    expected = weight.copy()
    expected[0] *= 1.0 / (5.0 + 1e-7)  # PyTorch's factor max_norm / (norm + 1e-7)
    np.testing.assert_allclose(to_numpy(out), [2 * expected[0] + expected[1]])
    np.testing.assert_allclose(to_numpy(bag.weight), expected, rtol=1e-12)


def test_embedding_bag_from_pretrained_freezes_by_default() -> None:
    table = at.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.EmbeddingBag.from_pretrained(table)
    assert not frozen.weight.requires_grad
    assert frozen.mode == "mean"
    assert repr(frozen) == "EmbeddingBag(2, 2, mode='mean')"
    trainable = nn.EmbeddingBag.from_pretrained(
        table, freeze=False, padding_idx=0, mode="max", include_last_offset=True
    )
    assert trainable.weight.requires_grad and trainable.include_last_offset
    # the padding row is kept as given
    np.testing.assert_array_equal(to_numpy(trainable.weight), [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.EmbeddingBag.from_pretrained(at.ones(3))


def test_embedding_bag_repr_and_state_dict() -> None:
    bag = nn.EmbeddingBag(
        10, 3, max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True, mode="sum",
        padding_idx=-2,
    )  # fmt: skip
    assert repr(bag) == (
        "EmbeddingBag(10, 3, max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True, "
        "mode='sum', padding_idx=8)"
    )
    assert list(bag.state_dict()) == ["weight"]
    other = nn.EmbeddingBag(10, 3)
    other.load_state_dict(bag.state_dict())
    np.testing.assert_array_equal(to_numpy(other.weight), to_numpy(bag.weight))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"padding_idx": 10}, ValueError),
        ({"padding_idx": -11}, ValueError),
        ({"padding_idx": 1.0}, TypeError),
        ({"mode": "min"}, ValueError),
        ({"sparse": True}, NotImplementedError),
        ({"_weight": at.ones(3, 3)}, ValueError),
    ],
    ids=str,
)
def test_embedding_bag_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        nn.EmbeddingBag(10, 3, **kwargs)


def test_embedding_bag_forward_refusals() -> None:
    bag = nn.EmbeddingBag(4, 2)
    with pytest.raises(IndexError):
        bag(at.tensor([4]), at.tensor([0]))
    with pytest.raises(TypeError):
        bag(at.tensor([1.0]), at.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        bag(at.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        bag(at.tensor([1, 2]), at.tensor([0]), at.ones(2))
