from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def expected(x, t, w=None, ignore_index=-100, reduction="mean"):
    """PyTorch's nll_loss, in NumPy."""
    single = x.ndim == 1
    if single:
        x, t = x[None], np.asarray(t)[None]
    w = np.ones(x.shape[1]) if w is None else w
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    picked = np.take_along_axis(x, safe[:, None], 1)[:, 0]
    loss = -w[safe] * picked * valid
    if reduction == "none":
        return loss[0] if single else loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w[safe] * valid).sum()


def targets(rng, shape, classes, ignored=(), ignore_index=-100):
    t = rng.integers(0, classes, shape)
    for i in ignored:
        t.flat[i] = ignore_index
    return t


CASES = [
    Case(
        "2-d, mean",
        lambda rng: [rng.standard_normal((6, 5)), targets(rng, 6, 5)],
        lambda F, x, t: F.nll_loss(x, t),
        lambda x, t: expected(x, t),
    ),
    Case(
        "weight and ignored targets, mean",
        lambda rng: [
            rng.standard_normal((7, 4)),
            targets(rng, 7, 4, ignored=(1, 5)),
            rng.random(4) + 0.5,
        ],
        lambda F, x, t, w: F.nll_loss(x, t, weight=w),
        lambda x, t, w: expected(x, t, w),
    ),
    Case(
        "ignore_index=0, sum",
        lambda rng: [rng.standard_normal((6, 3)), targets(rng, 6, 3)],
        lambda F, x, t: F.nll_loss(x, t, ignore_index=0, reduction="sum"),
        lambda x, t: expected(x, t, ignore_index=0, reduction="sum"),
    ),
    Case(
        "(N, C, d1, d2), weight, none",
        lambda rng: [
            rng.standard_normal((2, 3, 2, 2)),
            targets(rng, (2, 2, 2), 3, ignored=(3,)),
            rng.random(3) + 0.5,
        ],
        lambda F, x, t, w: F.nll_loss(x, t, weight=w, reduction="none"),
        lambda x, t, w: expected(x, t, w, reduction="none"),
    ),
    Case(
        "one sample (C,)",
        lambda rng: [rng.standard_normal(4), np.array(2)],
        lambda F, x, t: F.nll_loss(x, t),
        lambda x, t: expected(x, t),
    ),
    Case(
        "log-probabilities as a transposed view",
        lambda rng: [rng.standard_normal((4, 6)), targets(rng, 6, 4, ignored=(0,))],
        lambda F, x, t: F.nll_loss(x.T, t, reduction="none"),
        lambda x, t: expected(x.T, t, reduction="none"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_nll_loss(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_nll_loss_float32(case: Case) -> None:
    check_float32(case, F)


def test_nll_loss_every_target_ignored() -> None:
    x = at.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.nll_loss(x, at.tensor([-100, -100]))
    assert np.isnan(float(loss))
    loss.backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_nll_loss_refuses_bad_arguments() -> None:
    x = at.randn(3, 4)
    with pytest.raises(TypeError, match="nll_loss: target must have a"):
        F.nll_loss(x, at.rand(3))
    with pytest.raises(IndexError, match="nll_loss: target 7 is out of bounds"):
        F.nll_loss(x, at.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="nll_loss: target of shape"):
        F.nll_loss(x, at.tensor([[0, 1, 2]]))
    with pytest.raises(ValueError, match="nll_loss: input must have a class dim"):
        F.nll_loss(at.tensor(1.0), at.tensor(0))
    with pytest.raises(ValueError, match="nll_loss: reduction"):
        F.nll_loss(x, at.tensor([0, 1, 2]), reduction="batchmean")
