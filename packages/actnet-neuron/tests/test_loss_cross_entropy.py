from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def class_shape(ndim: int, classes: int) -> tuple[int, ...]:
    return (classes,) if ndim == 1 else (1, classes, *(1,) * (ndim - 2))


def expected_indices(x, t, w=None, ignore_index=-100, reduction="mean", eps=0.0):
    """PyTorch's cross_entropy of class indices, in NumPy."""
    single = x.ndim == 1
    if single:
        x, t = x[None], np.asarray(t)[None]
    classes = x.shape[1]
    logp = log_softmax(x, 1)
    w = np.ones(classes) if w is None else w
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    picked = np.take_along_axis(logp, safe[:, None], 1)[:, 0]
    nll = -w[safe] * picked * valid
    smooth = -(logp * w.reshape(class_shape(x.ndim, classes))).sum(1) * valid
    loss = (1 - eps) * nll + eps / classes * smooth
    if reduction == "none":
        return loss[0] if single else loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w[safe] * valid).sum()


def expected_probabilities(x, t, w=None, reduction="mean", eps=0.0):
    axis = 0 if x.ndim == 1 else 1
    classes = x.shape[axis]
    t = t * (1 - eps) + eps / classes
    if w is not None:
        t = t * w.reshape(class_shape(x.ndim, classes))
    loss = -(t * log_softmax(x, axis)).sum(axis)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / loss.size


def targets(rng, shape, classes, ignored=(), ignore_index=-100):
    t = rng.integers(0, classes, shape)
    for i in ignored:
        t.flat[i] = ignore_index
    return t


CASES = [
    Case(
        "2-d, mean",
        lambda rng: [rng.standard_normal((6, 5)), targets(rng, 6, 5)],
        lambda F, x, t: F.cross_entropy(x, t),
        lambda x, t: expected_indices(x, t),
    ),
    Case(
        "ignored targets, sum",
        lambda rng: [rng.standard_normal((6, 5)), targets(rng, 6, 5, ignored=(1, 4))],
        lambda F, x, t: F.cross_entropy(x, t, reduction="sum"),
        lambda x, t: expected_indices(x, t, reduction="sum"),
    ),
    Case(
        "weight and ignore_index=2, mean",
        lambda rng: [
            rng.standard_normal((7, 4)),
            targets(rng, 7, 4, ignored=(0, 3), ignore_index=2),
            rng.random(4) + 0.5,
        ],
        lambda F, x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=2),
        lambda x, t, w: expected_indices(x, t, w, ignore_index=2),
    ),
    Case(
        "label smoothing, weight, ignored, mean",
        lambda rng: [
            rng.standard_normal((6, 5)),
            targets(rng, 6, 5, ignored=(2,)),
            rng.random(5) + 0.5,
        ],
        lambda F, x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2),
        lambda x, t, w: expected_indices(x, t, w, eps=0.2),
    ),
    Case(
        "label smoothing, none",
        lambda rng: [rng.standard_normal((5, 3)), targets(rng, 5, 3, ignored=(0,))],
        lambda F, x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.3),
        lambda x, t: expected_indices(x, t, reduction="none", eps=0.3),
    ),
    Case(
        "(N, C, d1, d2), weight, smoothing, none",
        lambda rng: [
            rng.standard_normal((2, 3, 2, 3)),
            targets(rng, (2, 2, 3), 3, ignored=(1,)),
            rng.random(3) + 0.5,
        ],
        lambda F, x, t, w: F.cross_entropy(
            x, t, weight=w, reduction="none", label_smoothing=0.1
        ),
        lambda x, t, w: expected_indices(x, t, w, reduction="none", eps=0.1),
    ),
    Case(
        "(N, C, d1), mean",
        lambda rng: [rng.standard_normal((3, 4, 5)), targets(rng, (3, 5), 4)],
        lambda F, x, t: F.cross_entropy(x, t),
        lambda x, t: expected_indices(x, t),
    ),
    Case(
        "one sample (C,), smoothing",
        lambda rng: [rng.standard_normal(5), np.array(3)],
        lambda F, x, t: F.cross_entropy(x, t, label_smoothing=0.1),
        lambda x, t: expected_indices(x, t, eps=0.1),
    ),
    Case(
        "one sample (C,), none",
        lambda rng: [rng.standard_normal(5), np.array(1)],
        lambda F, x, t: F.cross_entropy(x, t, reduction="none"),
        lambda x, t: expected_indices(x, t, reduction="none"),
    ),
    Case(
        "logits as a transposed view",
        lambda rng: [10 * rng.standard_normal((4, 6)), targets(rng, 6, 4)],
        lambda F, x, t: F.cross_entropy(x.T, t),
        lambda x, t: expected_indices(x.T, t),
    ),
    Case(
        "probabilities, weight, smoothing, mean",
        lambda rng: [
            rng.standard_normal((5, 4)),
            rng.dirichlet(np.ones(4), 5),
            rng.random(4) + 0.5,
        ],
        lambda F, x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2),
        lambda x, t, w: expected_probabilities(x, t, w, eps=0.2),
        differentiable=(0, 1),
    ),
    Case(
        "probabilities (N, C, d1), none",
        lambda rng: [rng.standard_normal((2, 3, 4)), rng.random((2, 3, 4))],
        lambda F, x, t: F.cross_entropy(x, t, reduction="none"),
        lambda x, t: expected_probabilities(x, t, reduction="none"),
        differentiable=(0, 1),
    ),
    Case(
        "probabilities (C,), sum",
        lambda rng: [rng.standard_normal(4), rng.random(4)],
        lambda F, x, t: F.cross_entropy(x, t, reduction="sum"),
        lambda x, t: expected_probabilities(x, t, reduction="sum"),
        differentiable=(0, 1),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_cross_entropy(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_cross_entropy_float32(case: Case) -> None:
    check_float32(case, F)


def test_cross_entropy_is_stable_for_large_logits() -> None:
    x = at.tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
    loss = F.cross_entropy(x, at.tensor([1]))
    loss.backward()
    assert float(loss) == pytest.approx(1000.0)
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0, 0.0]], atol=1e-6)


def test_cross_entropy_every_target_ignored() -> None:
    x = at.tensor(np.ones((2, 3)), requires_grad=True)
    loss = F.cross_entropy(x, at.tensor([-100, -100]))
    assert np.isnan(float(loss))  # 0 / 0, as in PyTorch
    loss.backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_cross_entropy_no_gradient_for_weight() -> None:
    w = at.ones(3, requires_grad=True)
    loss = F.cross_entropy(at.randn(2, 3), at.tensor([0, 2]), weight=w)
    with pytest.raises(RuntimeError, match="derivative for 'weight'"):
        loss.backward()


def test_cross_entropy_legacy_reduction_arguments() -> None:
    x, t = at.randn(3, 4), at.tensor([0, 1, 2])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        legacy = F.cross_entropy(x, t, size_average=False)
    np.testing.assert_allclose(legacy.numpy(), F.cross_entropy(x, t, reduction="sum"))


def test_cross_entropy_refuses_bad_arguments() -> None:
    x = at.randn(3, 4)
    with pytest.raises(TypeError, match="cross_entropy: input must be a Tensor"):
        F.cross_entropy(np.ones((3, 4)), at.tensor([0, 1, 2]))  # type: ignore[arg-type]
    with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):
        F.cross_entropy(x, at.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.cross_entropy(x, at.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match="target of shape"):
        F.cross_entropy(x, at.tensor([0, 1]))
    with pytest.raises(ValueError, match="target of class probabilities"):
        F.cross_entropy(x, at.rand(3, 5))
    with pytest.raises(ValueError, match="weight must have shape"):
        F.cross_entropy(x, at.tensor([0, 1, 2]), weight=at.ones(3))
    with pytest.raises(TypeError, match="weight has dtype"):
        F.cross_entropy(x, at.tensor([0, 1, 2]), weight=at.ones(4, dtype=at.float64))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, at.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, at.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        F.cross_entropy(x, at.tensor([0, 1, 2]), ignore_index=1.0)  # type: ignore[arg-type]
