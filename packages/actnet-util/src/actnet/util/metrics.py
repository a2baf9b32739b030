"""Classification metrics: accuracy, top-k accuracy and the confusion matrix.

Each comes twice, in the spirit of torchmetrics: a function over one batch, and an
accumulator (`update` per batch, `compute` at the end, `reset`, and a JSON-able
`state_dict` so that a checkpoint taken mid-epoch resumes the running values).
Inputs are Tensors, NDArrays or NumPy arrays; `output` is either scores of shape
(N, C) (logits or probabilities: the prediction is the first index of the largest
score, as `argmax`) or predicted classes of shape (N,); `target` holds class
indices of shape (N,).

    >>> import numpy as np
    >>> logits = np.array([[0.1, 2.0, 0.3], [1.0, 0.2, 0.1]])
    >>> accuracy(logits, np.array([1, 2]))
    0.5
    >>> top_k_accuracy(logits, np.array([1, 2]), k=2)
    0.5
    >>> confusion_matrix(logits, np.array([1, 2]), num_classes=3).tolist()
    [[0, 0, 0], [0, 1, 0], [1, 0, 0]]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from actnet.tensor import Tensor

__all__ = [
    "Accuracy",
    "ConfusionMatrix",
    "Metric",
    "TopKAccuracy",
    "accuracy",
    "confusion_matrix",
    "get_metric",
    "top_k_accuracy",
]

_TOP_K_NAME = re.compile(r"^top(\d+)_accuracy$")


def _host(value: Any, name: str) -> np.ndarray[Any, Any]:
    """`value` as a host NumPy array (Tensors are detached first)."""
    if isinstance(value, Tensor):
        value = value.detach()
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"{name} must be a Tensor or an array, got {type(value).__name__}"
        ) from e


def _targets(target: Any, n: int | None) -> np.ndarray[Any, Any]:
    t = _host(target, "target")
    if t.ndim != 1:
        raise ValueError(f"target must be 1-D class indices, got shape {t.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"target must hold integer class indices, got {t.dtype}")
    if n is not None and t.shape[0] != n:
        raise ValueError(
            f"output and target disagree on the batch size: {n} and {t.shape[0]}"
        )
    if t.size and t.min() < 0:
        raise ValueError(f"target holds a negative class index, {int(t.min())}")
    return t


def _scores(output: Any) -> np.ndarray[Any, Any]:
    s = _host(output, "output")
    if s.ndim != 2:
        raise ValueError(f"output must be scores of shape (N, C), got {s.shape}")
    if s.shape[1] == 0:
        raise ValueError("output must have at least one class (C >= 1)")
    return s


def _predictions(output: Any) -> np.ndarray[Any, Any]:
    """Predicted classes from scores (N, C) or classes (N,)."""
    out = _host(output, "output")
    if out.ndim == 2:
        if out.shape[1] == 0:
            raise ValueError("output must have at least one class (C >= 1)")
        pred: np.ndarray[Any, Any] = out.argmax(axis=1)
        return pred
    if out.ndim == 1:
        if out.dtype.kind not in "iu":
            raise TypeError(
                f"1-D output must hold integer class predictions, got {out.dtype}"
            )
        return out
    raise ValueError(
        f"output must be scores (N, C) or class predictions (N,), got {out.shape}"
    )


def _correct_top_k(output: Any, target: Any, k: int) -> tuple[int, int]:
    """(number of rows whose target is among the k best scores, rows)."""
    if type(k) is not int or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    s = _scores(output)
    t = _targets(target, s.shape[0])
    n, c = s.shape
    if k > c:
        raise ValueError(f"k = {k} is larger than the number of classes, {c}")
    if t.size and t.max() >= c:
        raise ValueError(f"target holds class {int(t.max())}, output has {c} classes")
    rows = np.arange(n)
    mine = s[rows, t][:, None]
    # The target's rank when ties go to the lower index, as argmax and a stable
    # descending sort decide them.
    better = (s > mine).sum(axis=1)
    tied_before = ((s == mine) & (np.arange(c)[None, :] < t[:, None])).sum(axis=1)
    return int(((better + tied_before) < k).sum()), n


def accuracy(output: Any, target: Any) -> float:
    """The fraction of rows whose predicted class is the target (nan when empty)."""
    pred = _predictions(output)
    t = _targets(target, pred.shape[0])
    if t.size == 0:
        return float("nan")
    return float(np.count_nonzero(pred == t) / t.size)


def top_k_accuracy(output: Any, target: Any, k: int = 5) -> float:
    """The fraction of rows whose target is among the k largest scores; ties go to
    the lower class index (so k=1 agrees with `accuracy`)."""
    correct, n = _correct_top_k(output, target, k)
    return float(correct / n) if n else float("nan")


def confusion_matrix(
    output: Any, target: Any, num_classes: int | None = None
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Counts (num_classes, num_classes): row = true class, column = predicted class
    (scikit-learn's convention). num_classes defaults to C of scores (N, C), or to
    one more than the largest class seen."""
    pred = _predictions(output)
    t = _targets(target, pred.shape[0])
    if num_classes is None:
        out = _host(output, "output")
        if out.ndim == 2:
            num_classes = out.shape[1]
        else:
            num_classes = int(max(pred.max(initial=-1), t.max(initial=-1))) + 1
    if type(num_classes) is not int or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if (pred.size and (pred.min() < 0 or pred.max() >= num_classes)) or (
        t.size and t.max() >= num_classes
    ):
        raise ValueError(
            f"a class index is outside [0, {num_classes}) (num_classes={num_classes})"
        )
    flat = t.astype(np.int64) * num_classes + pred.astype(np.int64)
    counts = np.bincount(flat, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


class Metric:
    """A running metric over batches: `update(output, target)` per batch, then
    `compute()`. `name` is its key in the training logs ("accuracy" and, for
    validation, "val_accuracy")."""

    name: str = "metric"

    def update(self, output: Any, target: Any) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The running values, JSON-able (a checkpoint stores them)."""
        raise NotImplementedError

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _CountingMetric(Metric):
    """A metric that is (correct rows) / (rows)."""

    def __init__(self) -> None:
        self.correct = 0
        self.total = 0

    def compute(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def state_dict(self) -> dict[str, Any]:
        return {"correct": self.correct, "total": self.total}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        correct, total = state.get("correct"), state.get("total")
        if type(correct) is not int or type(total) is not int:
            raise ValueError(
                f"{type(self).__name__} state needs int 'correct' and 'total', "
                f"got {dict(state)!r}"
            )
        self.correct, self.total = correct, total


class Accuracy(_CountingMetric):
    """Running accuracy.

    >>> m = Accuracy()
    >>> m.update(np.array([[0.0, 1.0]]), np.array([1]))
    >>> m.update(np.array([[0.0, 1.0]]), np.array([0]))
    >>> m.compute()
    0.5
    """

    name = "accuracy"

    def update(self, output: Any, target: Any) -> None:
        pred = _predictions(output)
        t = _targets(target, pred.shape[0])
        self.correct += int(np.count_nonzero(pred == t))
        self.total += int(t.size)


class TopKAccuracy(_CountingMetric):
    """Running top-k accuracy; its log key is "top{k}_accuracy"."""

    def __init__(self, k: int = 5) -> None:
        if type(k) is not int or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        super().__init__()
        self.k = k
        self.name = f"top{k}_accuracy"

    def update(self, output: Any, target: Any) -> None:
        correct, n = _correct_top_k(output, target, self.k)
        self.correct += correct
        self.total += n

    def __repr__(self) -> str:
        return f"TopKAccuracy(k={self.k})"


class ConfusionMatrix:
    """A running confusion matrix (row = true class, column = predicted).

    >>> cm = ConfusionMatrix(2)
    >>> cm.update(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1, 1]))
    >>> cm.compute().tolist()
    [[0, 0], [1, 1]]
    """

    def __init__(self, num_classes: int) -> None:
        if type(num_classes) is not int or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        self.num_classes = num_classes
        self.counts = np.zeros((num_classes, num_classes), np.int64)

    def update(self, output: Any, target: Any) -> None:
        self.counts += confusion_matrix(output, target, self.num_classes)

    def compute(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        return self.counts.copy()

    def reset(self) -> None:
        self.counts[...] = 0

    def state_dict(self) -> dict[str, Any]:
        return {"num_classes": self.num_classes, "counts": self.counts.tolist()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        counts = np.asarray(state.get("counts"), dtype=np.int64)
        if state.get("num_classes") != self.num_classes or counts.shape != (
            self.num_classes,
            self.num_classes,
        ):
            raise ValueError(
                f"ConfusionMatrix state is for {state.get('num_classes')!r} classes "
                f"with counts of shape {counts.shape}; this one has "
                f"{self.num_classes} classes"
            )
        self.counts = counts

    def __repr__(self) -> str:
        return f"ConfusionMatrix(num_classes={self.num_classes})"


def get_metric(metric: str | Metric) -> Metric:
    """A Metric from its log name ("accuracy", "top5_accuracy") or itself."""
    if isinstance(metric, Metric):
        return metric
    if metric == "accuracy":
        return Accuracy()
    if isinstance(metric, str):
        match = _TOP_K_NAME.match(metric)
        if match:
            return TopKAccuracy(int(match.group(1)))
    raise ValueError(
        f"unknown metric {metric!r}: expected 'accuracy', 'top<k>_accuracy' "
        "or a Metric instance"
    )
