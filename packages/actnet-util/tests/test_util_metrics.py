"""actnet.util.metrics against hand-computed answers and plain NumPy loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

import actnet.tensor as at
from actnet.util.metrics import (
    Accuracy,
    ConfusionMatrix,
    TopKAccuracy,
    accuracy,
    confusion_matrix,
    get_metric,
    top_k_accuracy,
)


def _top_k_loop(scores: np.ndarray, target: np.ndarray, k: int) -> float:
    """Rank by a stable descending sort, row by row."""
    hits = 0
    for row, t in zip(scores, target, strict=True):
        order = sorted(range(len(row)), key=lambda c: (-row[c], c))
        hits += t in order[:k]
    return hits / len(target)


def test_accuracy_known_answer() -> None:
    logits = np.array([[0.1, 2.0, 0.3], [1.0, 0.2, 0.1], [0.0, 0.0, 5.0]])
    assert accuracy(logits, np.array([1, 2, 2])) == pytest.approx(2 / 3)


def test_accuracy_takes_tensors_and_class_predictions() -> None:
    out = at.tensor([[0.0, 1.0], [3.0, 1.0]], requires_grad=True)
    assert accuracy(out, at.tensor([1, 1])) == 0.5
    assert accuracy(np.array([0, 1, 1]), np.array([0, 1, 0])) == pytest.approx(2 / 3)


def test_accuracy_empty_is_nan() -> None:
    assert math.isnan(accuracy(np.zeros((0, 3)), np.zeros(0, np.int64)))


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_matches_a_loop(k: int) -> None:
    rng = np.random.default_rng(k)
    # small integers make ties frequent: ties go to the lower class index
    scores = rng.integers(0, 4, (200, 6)).astype(np.float32)
    target = rng.integers(0, 6, 200)
    assert top_k_accuracy(scores, target, k) == pytest.approx(
        _top_k_loop(scores, target, k)
    )


def test_top_1_is_accuracy() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 3, (100, 4)).astype(np.float64)
    target = rng.integers(0, 4, 100)
    assert top_k_accuracy(scores, target, 1) == accuracy(scores, target)


def test_confusion_matrix_matches_a_loop() -> None:
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((300, 5))
    target = rng.integers(0, 5, 300)
    expected = np.zeros((5, 5), np.int64)
    for row, t in zip(scores, target, strict=True):
        expected[t, int(np.argmax(row))] += 1
    np.testing.assert_array_equal(confusion_matrix(scores, target), expected)
    assert confusion_matrix(scores, target).sum() == 300


def test_confusion_matrix_num_classes_from_predictions() -> None:
    cm = confusion_matrix(np.array([0, 2]), np.array([1, 2]))
    assert cm.tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 1]]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: accuracy(np.zeros((2, 3)), np.zeros(3, np.int64)), "batch size"),
        (lambda: accuracy(np.zeros((2, 3)), np.zeros(2)), "integer class"),
        (lambda: accuracy(np.zeros((2, 3, 1)), np.zeros(2, np.int64)), "output"),
        (lambda: accuracy(np.zeros((1, 3)), np.array([-1])), "negative"),
        (lambda: top_k_accuracy(np.zeros((1, 3)), np.array([0]), 4), "larger"),
        (lambda: top_k_accuracy(np.zeros((1, 3)), np.array([0]), 0), "k must"),
        (lambda: top_k_accuracy(np.zeros((1, 3)), np.array([3]), 1), "class 3"),
        (lambda: confusion_matrix(np.array([0, 5]), np.array([0, 1]), 3), "outside"),
        (lambda: accuracy(object(), np.array([0])), "output must"),
    ],
)
def test_bad_input_is_refused(call: object, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call()  # type: ignore[operator]  # the lambdas above


def test_running_metrics_equal_the_whole_batch() -> None:
    rng = np.random.default_rng(2)
    scores = rng.standard_normal((97, 7))
    target = rng.integers(0, 7, 97)
    acc, top3, cm = Accuracy(), TopKAccuracy(3), ConfusionMatrix(7)
    for lo in range(0, 97, 10):
        for m in (acc, top3, cm):
            m.update(scores[lo : lo + 10], target[lo : lo + 10])
    assert acc.compute() == pytest.approx(accuracy(scores, target))
    assert top3.compute() == pytest.approx(top_k_accuracy(scores, target, 3))
    np.testing.assert_array_equal(cm.compute(), confusion_matrix(scores, target, 7))
    assert top3.name == "top3_accuracy"


def test_running_state_round_trips_and_resets() -> None:
    acc = Accuracy()
    acc.update(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1, 1]))
    other = Accuracy()
    other.load_state_dict(acc.state_dict())
    assert other.compute() == 0.5
    acc.reset()
    assert math.isnan(acc.compute())
    cm = ConfusionMatrix(2)
    cm.update(np.array([1, 0]), np.array([1, 1]))
    cm2 = ConfusionMatrix(2)
    cm2.load_state_dict(cm.state_dict())
    assert cm2.compute().tolist() == [[0, 0], [1, 1]]
    with pytest.raises(ValueError, match="classes"):
        ConfusionMatrix(3).load_state_dict(cm.state_dict())
    with pytest.raises(ValueError, match="correct"):
        Accuracy().load_state_dict({"correct": 1.5, "total": 2})


def test_get_metric() -> None:
    assert isinstance(get_metric("accuracy"), Accuracy)
    top = get_metric("top5_accuracy")
    assert isinstance(top, TopKAccuracy)
    assert top.k == 5
    acc = Accuracy()
    assert get_metric(acc) is acc
    with pytest.raises(ValueError, match="unknown metric"):
        get_metric("f1")
