"""Loss layers against NumPy formulas: reductions, class weights (buffers),
ignore_index, label smoothing, legacy size_average/reduce, gradients, repr
and bad arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from nn_layer_helpers import check_module_grads, to_numpy

import actnet.tensor as at
from actnet import nn

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5))
Y = RNG.standard_normal((4, 5))
P = RNG.uniform(0.05, 0.95, (4, 5))
T = RNG.uniform(0.0, 1.0, (4, 5))
W5 = np.array([1.0, 2.0, 0.5, 1.0, 3.0])


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.asarray(loss.mean())
    if reduction == "sum":
        return np.asarray(loss.sum())
    return loss


def _smooth_l1(d: np.ndarray, beta: float) -> np.ndarray:
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d**2 / beta, a - 0.5 * beta)


def _huber(d: np.ndarray, delta: float) -> np.ndarray:
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d**2, delta * (a - 0.5 * delta))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


PAIR_CASES: list[
    tuple[
        str,
        Callable[[str], nn.Module],
        np.ndarray,
        np.ndarray,
        Callable[[np.ndarray, np.ndarray], np.ndarray],
    ]
] = [
    ("MSELoss", lambda r: nn.MSELoss(reduction=r), X, Y, lambda a, b: (a - b) ** 2),
    ("L1Loss", lambda r: nn.L1Loss(reduction=r), X, Y, lambda a, b: np.abs(a - b)),
    (
        "SmoothL1Loss",
        lambda r: nn.SmoothL1Loss(reduction=r, beta=0.5),
        X,
        Y,
        lambda a, b: _smooth_l1(a - b, 0.5),
    ),
    (
        "HuberLoss",
        lambda r: nn.HuberLoss(reduction=r, delta=0.7),
        X,
        Y,
        lambda a, b: _huber(a - b, 0.7),
    ),
    (
        "BCELoss",
        lambda r: nn.BCELoss(reduction=r),
        P,
        T,
        lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)),
    ),
    (
        "BCELoss-weight",
        lambda r: nn.BCELoss(weight=at.tensor(W5), reduction=r),
        P,
        T,
        lambda p, t: -W5 * (t * np.log(p) + (1 - t) * np.log(1 - p)),
    ),
    (
        "BCEWithLogitsLoss",
        lambda r: nn.BCEWithLogitsLoss(reduction=r, pos_weight=at.tensor(W5)),
        X,
        T,
        lambda x, t: (
            -(W5 * t * np.log(_sigmoid(x)) + (1 - t) * np.log(1 - _sigmoid(x)))
        ),
    ),
    (
        "KLDivLoss",
        lambda r: nn.KLDivLoss(reduction=r),
        np.log(P),
        T,
        lambda lp, t: t * (np.log(t) - lp),
    ),
    (
        "KLDivLoss-log-target",
        lambda r: nn.KLDivLoss(reduction=r, log_target=True),
        X,
        Y,
        lambda lp, lt: np.exp(lt) * (lt - lp),
    ),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    ("name", "make", "a", "b", "oracle"), PAIR_CASES, ids=[c[0] for c in PAIR_CASES]
)
def test_pair_loss_matches_numpy(
    name: str,
    make: Callable[[str], nn.Module],
    a: np.ndarray,
    b: np.ndarray,
    oracle: Callable[..., np.ndarray],
    reduction: str,
) -> None:
    loss = make(reduction)
    out = loss(at.tensor(a), at.tensor(b))
    np.testing.assert_allclose(
        to_numpy(out), _reduce(oracle(a, b), reduction), rtol=1e-10, atol=1e-12
    )
    assert loss.reduction == reduction
    check_module_grads(loss, [a, b], wrt=(0,))


def test_kl_div_batchmean_divides_by_batch() -> None:
    out = nn.KLDivLoss(reduction="batchmean")(at.tensor(np.log(P)), at.tensor(T))
    np.testing.assert_allclose(
        to_numpy(out), (T * (np.log(T) - np.log(P))).sum() / 4, rtol=1e-12
    )


def _log_softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def test_cross_entropy_with_weights_ignore_index_and_smoothing() -> None:
    logits = RNG.standard_normal((6, 4))
    target = np.array([0, 3, 1, -100, 2, 3])
    weight = np.array([1.0, 2.0, 0.5, 1.5])
    eps = 0.1
    loss = nn.CrossEntropyLoss(weight=at.tensor(weight), label_smoothing=eps)
    out = loss(at.tensor(logits), at.tensor(target))
    lp = _log_softmax(logits)
    keep = target != -100
    t = np.where(keep, target, 0)
    nll = -lp[np.arange(6), t] * weight[t]
    smooth = (
        -(lp * weight).sum(1) / 4
    )  # PyTorch: the uniform part is weighted per class
    per = (1 - eps) * nll + eps * smooth
    expected = per[keep].sum() / weight[t][keep].sum()
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-10)
    check_module_grads(loss, [logits, target], wrt=(0,))
    assert list(loss.state_dict()) == ["weight"]


def test_cross_entropy_with_probabilities_and_spatial_dims() -> None:
    logits = RNG.standard_normal((2, 3, 4))
    target = RNG.integers(0, 3, (2, 4))
    out = nn.CrossEntropyLoss(reduction="none")(at.tensor(logits), at.tensor(target))
    lp = _log_softmax(logits)
    expected = -np.take_along_axis(lp, target[:, None], axis=1)[:, 0]
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-10)
    probs = np.full((2, 3), 1 / 3)
    out = nn.CrossEntropyLoss()(at.tensor(logits[:, :, 0]), at.tensor(probs))
    np.testing.assert_allclose(
        to_numpy(out),
        -(probs * _log_softmax(logits[:, :, 0])).sum(1).mean(),
        rtol=1e-10,
    )


def test_nll_loss_matches_numpy() -> None:
    lp = _log_softmax(RNG.standard_normal((5, 3)))
    target = np.array([0, 2, 1, 1, 2])
    weight = np.array([0.5, 1.0, 2.0])
    out = nn.NLLLoss(weight=at.tensor(weight), ignore_index=1)(
        at.tensor(lp), at.tensor(target)
    )
    keep = target != 1
    picked = -lp[np.arange(5), target] * weight[target]
    np.testing.assert_allclose(
        to_numpy(out), picked[keep].sum() / weight[target][keep].sum(), rtol=1e-12
    )


def test_legacy_size_average_and_reduce_warn_and_set_reduction() -> None:
    with pytest.warns(UserWarning, match="reduction='sum'"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.CrossEntropyLoss(reduce=False).reduction == "none"


def test_repr_and_buffers() -> None:
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss()"
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    bce = nn.BCEWithLogitsLoss(weight=at.ones(3), pos_weight=at.ones(3))
    assert list(bce.state_dict()) == ["weight", "pos_weight"]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: nn.MSELoss(reduction="avg"), ValueError),
        (lambda: nn.KLDivLoss(reduction="batch"), ValueError),
        (lambda: nn.L1Loss(reduction="batchmean"), ValueError),
        (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), ValueError),
        (lambda: nn.CrossEntropyLoss(weight=[1.0, 2.0]), TypeError),
        (lambda: nn.HuberLoss(delta=0.0), ValueError),
        (lambda: nn.SmoothL1Loss(beta=-1.0), ValueError),
        (lambda: nn.NLLLoss(ignore_index=1.0), TypeError),
    ],
)
def test_bad_arguments(make: Callable[[], Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        make()


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises((ValueError, RuntimeError)):
        nn.CrossEntropyLoss()(at.randn(3, 4), at.tensor([0, 1]))


def test_legacy_arguments_warn_at_the_code_that_builds_the_layer() -> None:
    for make in (
        lambda: nn.L1Loss(reduce=False),  # one __init__ in the chain
        lambda: nn.SmoothL1Loss(reduce=False),  # two
        lambda: nn.CrossEntropyLoss(size_average=True),  # three
    ):
        with pytest.warns(UserWarning, match="size_average and reduce") as record:
            make()
        assert record[0].filename == __file__
