"""embedding_bag against a NumPy oracle written as a loop over the bags: values
in float64 and float32, gradients by finite differences (weight and
per_sample_weights), the gradient rules that finite differences cannot see
(padding_idx, scale_grad_by_freq, max's ties and NaNs) and the refusals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def bags_oracle(
    indices: np.ndarray,
    weight: np.ndarray,
    offsets: np.ndarray | None = None,
    mode: str = "mean",
    per_sample_weights: np.ndarray | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> np.ndarray:
    """One bag at a time: its rows (padding left out, each scaled by its sample
    weight), then their sum, mean or maximum; zeros for an empty bag."""
    if indices.ndim == 2:
        length = indices.shape[1]
        starts = [b * length for b in range(indices.shape[0])]
        ends = [start + length for start in starts]
    else:
        assert offsets is not None
        starts = list(offsets[:-1] if include_last_offset else offsets)
        last = offsets[-1] if include_last_offset else indices.size
        ends = [*starts[1:], last]
    flat = indices.reshape(-1)
    psw = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    if padding_idx is not None:
        padding_idx %= weight.shape[0]
    out = np.zeros((len(starts), weight.shape[1]))
    for b, (start, end) in enumerate(zip(starts, ends, strict=True)):
        rows = []
        for i in range(start, end):
            if flat[i] == padding_idx:
                continue
            scale = 1.0 if psw is None else psw[i]
            rows.append(weight[flat[i]] * scale)
        if not rows:
            continue
        if mode == "sum":
            out[b] = np.sum(rows, axis=0)
        elif mode == "mean":
            out[b] = np.mean(rows, axis=0)
        else:
            out[b] = np.max(rows, axis=0)
    return out


def _distinct(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A weight whose entries differ by far more than gradcheck's step, so that no
    maximum changes row under the finite differences."""
    return rng.permutation(shape[0] * shape[1]).reshape(shape) / 4.0


I1 = np.array([0, 2, 2, 5, 1, 1, 3, 4])
OFF = np.array([0, 3, 3, 5])  # bags of 3, 0, 2 and 3 indices

CASES = []
for _mode in ("sum", "mean", "max"):
    CASES += [
        Case(
            f"{_mode}: offsets, an empty bag, repeats",
            lambda rng: [I1, _distinct(rng, (6, 3)), OFF],
            lambda F, i, w, o, m=_mode: F.embedding_bag(i, w, o, mode=m),
            lambda i, w, o, m=_mode: bags_oracle(i, w, o, m),
            differentiable=(1,),
        ),
        Case(
            f"{_mode}: 2-d input, fixed-length bags",
            lambda rng: [np.array([[4, 1, 1], [0, 3, 2]]), _distinct(rng, (5, 4))],
            lambda F, i, w, m=_mode: F.embedding_bag(i, w, mode=m),
            lambda i, w, m=_mode: bags_oracle(i, w, mode=m),
            differentiable=(1,),
        ),
        Case(
            f"{_mode}: include_last_offset, int32 indices",
            lambda rng: [
                I1.astype(np.int32),
                _distinct(rng, (6, 2)),
                np.array([0, 2, 2, 8], dtype=np.int32),
            ],
            lambda F, i, w, o, m=_mode: F.embedding_bag(
                i, w, o, mode=m, include_last_offset=True
            ),
            lambda i, w, o, m=_mode: bags_oracle(i, w, o, m, include_last_offset=True),
            differentiable=(1,),
        ),
        Case(
            f"{_mode}: padding_idx left out (a bag of padding only is empty)",
            lambda rng: [I1, _distinct(rng, (6, 3)), np.array([0, 4, 5])],
            lambda F, i, w, o, m=_mode: F.embedding_bag(i, w, o, mode=m, padding_idx=1),
            lambda i, w, o, m=_mode: bags_oracle(i, w, o, m, padding_idx=1),
            differentiable=(),  # its row gets no gradient: not the true derivative
        ),
        Case(
            f"{_mode}: padding_idx, 2-d input",
            lambda rng: [np.array([[2, 2], [0, 2], [1, 3]]), _distinct(rng, (4, 3))],
            lambda F, i, w, m=_mode: F.embedding_bag(i, w, mode=m, padding_idx=-2),
            lambda i, w, m=_mode: bags_oracle(i, w, mode=m, padding_idx=2),
            differentiable=(),
        ),
    ]
CASES += [
    Case(
        "sum: per_sample_weights",
        lambda rng: [I1, rng.standard_normal((6, 3)), OFF, rng.standard_normal(8)],
        lambda F, i, w, o, p: F.embedding_bag(
            i, w, o, mode="sum", per_sample_weights=p
        ),
        lambda i, w, o, p: bags_oracle(i, w, o, "sum", p),
        differentiable=(1, 3),
        double_backward=True,
    ),
    Case(
        "sum: per_sample_weights, 2-d input",
        lambda rng: [
            np.array([[0, 1], [1, 1], [3, 2]]),
            rng.standard_normal((4, 3)),
            rng.standard_normal((3, 2)),
        ],
        lambda F, i, w, p: F.embedding_bag(i, w, mode="sum", per_sample_weights=p),
        lambda i, w, p: bags_oracle(i, w, mode="sum", per_sample_weights=p),
        differentiable=(1, 2),
        double_backward=True,
    ),
    Case(
        "mean: double backward",
        lambda rng: [I1, rng.standard_normal((6, 2)), OFF],
        lambda F, i, w, o: F.embedding_bag(i, w, o),
        lambda i, w, o: bags_oracle(i, w, o),
        differentiable=(1,),
        double_backward=True,
    ),
    Case(
        "empty input: every bag empty",
        lambda rng: [
            np.zeros(0, dtype=np.int64),
            rng.standard_normal((3, 2)),
            np.array([0, 0]),
        ],
        lambda F, i, w, o: F.embedding_bag(i, w, o, mode="sum"),
        lambda i, w, o: bags_oracle(i, w, o, "sum"),
        differentiable=(1,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_embedding_bag(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_embedding_bag_float32(case: Case) -> None:
    check_float32(case, F)


def _grads(
    indices: Any, offsets: Any, weight: np.ndarray, **options: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The output and weight's gradient of sum(out * (1, 2, 3, ...))."""
    w = at.tensor(weight, requires_grad=True)
    out = F.embedding_bag(at.tensor(indices), w, at.tensor(offsets), **options)
    grad = np.arange(1.0, out.numel() + 1).reshape(out.shape)
    (out * at.tensor(grad)).sum().backward()
    assert w.grad is not None
    return out.detach().numpy(), w.grad.numpy()


def test_embedding_bag_padding_idx_gets_no_gradient_nor_count() -> None:
    weight = np.arange(8.0).reshape(4, 2)
    out, grad = _grads([1, 2, 1, 0], [0, 3], weight, mode="mean", padding_idx=1)
    np.testing.assert_array_equal(out, [weight[2], weight[0]])  # means of 1 row
    np.testing.assert_array_equal(grad, [[3, 4], [0, 0], [1, 2], [0, 0]])


def test_embedding_bag_per_sample_weights_gradient_zero_at_padding() -> None:
    w = at.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    p = at.tensor([2.0, 3.0, 4.0], dtype=at.float64, requires_grad=True)
    out = F.embedding_bag(
        at.tensor([0, 1, 2]), w, at.tensor([0]), mode="sum",
        per_sample_weights=p, padding_idx=1,
    )  # fmt: skip
    np.testing.assert_array_equal(out.detach().numpy(), [[0 * 2 + 4 * 4, 2 + 5 * 4]])
    out.sum().backward()
    assert p.grad is not None and w.grad is not None
    np.testing.assert_array_equal(p.grad.numpy(), [1.0, 0.0, 9.0])
    np.testing.assert_array_equal(w.grad.numpy(), [[2, 2], [0, 0], [4, 4]])


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq(mode: str) -> None:
    # row 0 three times, row 2 once, row 1 twice but padding
    indices, offsets = [0, 2, 0, 1, 0, 1], [0, 2]
    _, plain = _grads(indices, offsets, np.ones((3, 2)), mode=mode, padding_idx=1)
    _, scaled = _grads(
        indices, offsets, np.ones((3, 2)), mode=mode, padding_idx=1,
        scale_grad_by_freq=True,
    )  # fmt: skip
    np.testing.assert_allclose(scaled, plain / np.array([[3.0], [1.0], [1.0]]))


def test_embedding_bag_max_gradient_to_first_maximum() -> None:
    weight = np.array([[0.0, 5.0, 1.0], [3.0, 1.0, 1.0], [3.0, 2.0, 1.0]])
    out, grad = _grads([0, 1, 2, 1], [0], weight, mode="max")
    np.testing.assert_array_equal(out, [[3.0, 5.0, 1.0]])
    # ties go to the first: row 1 in column 0 (before row 2), row 0 in column 2
    np.testing.assert_array_equal(grad, [[0, 2, 3], [1, 0, 0], [0, 0, 0]])
    # a repeated row takes a column's gradient once
    out, grad = _grads([1, 1], [0], weight, mode="max")
    np.testing.assert_array_equal(grad, [[0, 0, 0], [1, 2, 3], [0, 0, 0]])


def test_embedding_bag_max_passes_over_later_nans() -> None:
    nan = np.nan
    out, grad = _grads(
        [0, 1, 2], [0], np.array([[0, 5], [nan, 1], [3, nan]]), mode="max"
    )
    np.testing.assert_array_equal(out, [[3.0, 5.0]])
    np.testing.assert_array_equal(grad, [[0, 2], [0, 0], [1, 0]])
    out, grad = _grads([0, 1], [0], np.array([[nan, 5], [1, 1]]), mode="max")
    np.testing.assert_array_equal(out, [[nan, 5.0]])  # first in its bag: kept
    np.testing.assert_array_equal(grad, [[1, 2], [0, 0]])


def test_embedding_bag_empty_bags_and_no_bags() -> None:
    for mode in ("sum", "mean", "max"):
        out, grad = _grads([2, 2], [0, 0, 2], np.ones((3, 2)), mode=mode)
        np.testing.assert_array_equal(out[[0, 2]], 0.0)  # bags 0 and 2 are empty
        # only bag 1's gradient, (3, 4), reaches weight: twice in "sum"
        expected = [[0, 0], [0, 0], [6, 8] if mode == "sum" else [3, 4]]
        np.testing.assert_array_equal(grad, expected)
    w = at.randn(3, 2)
    assert F.embedding_bag(
        at.tensor([0, 1]), w, at.tensor([], dtype=at.int64)
    ).shape == (0, 2)
    out = F.embedding_bag(
        at.tensor([0, 1]), w, at.tensor([0]), include_last_offset=True
    )
    assert out.shape == (0, 2)
    out = F.embedding_bag(at.zeros(2, 0, dtype=at.int64), w)  # torch: step error
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 2)))


def test_embedding_bag_include_last_offset_closes_the_last_bag() -> None:
    # indices after the last offset are in no bag (torch documents the last
    # offset as input's length; its CPU kernels disagree on what follows it)
    weight = np.arange(8.0).reshape(4, 2)
    for mode in ("sum", "mean", "max"):
        out, grad = _grads(
            [0, 1, 2, 3], [0, 1, 2], weight, mode=mode, include_last_offset=True
        )
        np.testing.assert_array_equal(out, [weight[0], weight[1]])
        np.testing.assert_array_equal(grad, [[1, 2], [3, 4], [0, 0], [0, 0]])


def test_embedding_bag_dtype_follows_weight() -> None:
    for dtype in (at.float16, at.bfloat16, at.float32):
        for mode in ("sum", "mean", "max"):
            w = at.randn(3, 2).to(dtype)
            out = F.embedding_bag(at.tensor([0, 1, 2]), w, at.tensor([0, 1]), mode=mode)
            assert out.dtype == dtype


REFUSALS = [
    ({"input": at.tensor([0.0])}, TypeError, "input must have a"),
    ({"weight": at.ones(3)}, ValueError, "weight has to be a 2D Tensor"),
    ({"weight": at.ones(3, 2, dtype=at.int64)}, TypeError, "weight must have a"),
    ({"offsets": None}, ValueError, "offsets has to be a 1D Tensor but got None"),
    ({"offsets": at.tensor([[0]])}, ValueError, "offsets has to be a 1D Tensor"),
    ({"offsets": at.tensor([0.0])}, TypeError, "offsets must have a"),
    ({"input": at.tensor([[0, 1]])}, ValueError, "if input is 2D, then offsets"),
    ({"input": at.tensor([[[0]]]), "offsets": None}, ValueError, "1D or 2D"),
    ({"mode": "min"}, ValueError, "mode has to be one of sum, mean or max"),
    ({"mode": "max", "scale_grad_by_freq": True}, ValueError, "max mode does not"),
    ({"max_norm": 1.0, "norm_type": "2"}, TypeError, "norm_type must be a number"),
    ({"sparse": True}, NotImplementedError, "sparse=True is not supported"),
    ({"per_sample_weights": at.ones(2, dtype=at.float64)}, NotImplementedError,
     "only supported for mode='sum'"),
    ({"mode": "sum", "per_sample_weights": at.ones(3, dtype=at.float64)},
     ValueError, "must have the same shape as the input"),
    ({"mode": "sum", "per_sample_weights": at.ones(2)}, TypeError,
     "per_sample_weights must have weight's dtype"),
    ({"padding_idx": 4}, ValueError, "padding_idx must be within"),
    ({"padding_idx": -5}, ValueError, "padding_idx must be within"),
    ({"input": at.tensor([0, 4])}, IndexError, "index 4 in input is out of range"),
    ({"input": at.tensor([-1, 0])}, IndexError, "index -1 in input"),
    ({"offsets": at.tensor([1])}, ValueError, r"offsets\[0\] has to be 0"),
    ({"offsets": at.tensor([0, 2, 1])}, ValueError, "offsets must not decrease"),
    ({"offsets": at.tensor([0, 3])}, ValueError, r"offsets\[-1\] can not be greater"),
    ({"offsets": at.tensor([], dtype=at.int64), "include_last_offset": True},
     ValueError, "number of offset should be at least 1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "error", "text"), REFUSALS, ids=[text for _, _, text in REFUSALS]
)
def test_embedding_bag_refusals(
    change: dict[str, Any], error: type[Exception], text: str
) -> None:
    arguments: dict[str, Any] = {
        "input": at.tensor([0, 1]),
        "weight": at.ones(4, 3, dtype=at.float64),
        "offsets": at.tensor([0]),
    }
    arguments.update(change)
    with pytest.raises(error, match=f"embedding_bag: .*{text}"):
        F.embedding_bag(**arguments)
