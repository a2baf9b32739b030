from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at


def reduce(loss, reduction):
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


CASES = [
    Case(
        "mean",
        lambda rng: [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))],
        lambda F, x, t: F.mse_loss(x, t),
        lambda x, t: ((x - t) ** 2).mean(),
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "sum",
        lambda rng: [rng.standard_normal(5), rng.standard_normal(5)],
        lambda F, x, t: F.mse_loss(x, t, reduction="sum"),
        lambda x, t: ((x - t) ** 2).sum(),
        double_backward=True,
    ),
    Case(
        "none, 3-d",
        lambda rng: [rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 2))],
        lambda F, x, t: F.mse_loss(x, t, reduction="none"),
        lambda x, t: (x - t) ** 2,
        differentiable=(0, 1),
    ),
    Case(
        "transposed views",
        lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal((3, 4))],
        lambda F, x, t: F.mse_loss(x.T, t),
        lambda x, t: ((x.T - t) ** 2).mean(),
        differentiable=(0, 1),
    ),
    Case(
        "weight, mean over the summed weight",
        lambda rng: [
            rng.standard_normal((3, 4)),
            rng.standard_normal((3, 4)),
            rng.random((3, 4)),
        ],
        lambda F, x, t, w: F.mse_loss(x, t, weight=w),
        lambda x, t, w: ((x - t) ** 2 * w).sum() / w.sum(),
        differentiable=(0, 1, 2),
    ),
    Case(
        "weight, none",
        lambda rng: [rng.standard_normal(6), rng.standard_normal(6), rng.random(6)],
        lambda F, x, t, w: F.mse_loss(x, t, reduction="none", weight=w),
        lambda x, t, w: (x - t) ** 2 * w,
        differentiable=(0, 2),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_mse_loss(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_mse_loss_float32(case: Case) -> None:
    check_float32(case, F)


def test_mse_loss_broadcasts_with_a_warning() -> None:
    x = at.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    t = at.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.warns(UserWarning, match="target size"):
        loss = F.mse_loss(x, t, reduction="sum")
    loss.backward()
    expected = np.arange(6.0).reshape(2, 3) - [1.0, 2.0, 3.0]
    assert float(loss) == pytest.approx((expected**2).sum())
    assert t.grad is not None
    np.testing.assert_allclose(t.grad.numpy(), -2 * expected.sum(0))


def test_mse_loss_promotes_dtypes() -> None:
    loss = F.mse_loss(at.ones(3), at.zeros(3, dtype=at.float64))
    assert loss.dtype == at.float64


def test_mse_loss_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError, match="mse_loss: target must be a Tensor"):
        F.mse_loss(at.ones(2), [1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="mse_loss: target must have a floating"):
        F.mse_loss(at.ones(2), at.tensor([1, 2]))
    with pytest.raises(ValueError, match="mse_loss: target of shape"):
        F.mse_loss(at.ones(2), at.ones(3))
    with pytest.raises(ValueError, match="mse_loss: weight of shape"):
        F.mse_loss(at.ones(2, 3), at.ones(2, 3), weight=at.ones(3))
    with pytest.raises(ValueError, match="mse_loss: reduction"):
        F.mse_loss(at.ones(2), at.ones(2), reduction="batchmean")


def test_legacy_reduction_maps_the_old_arguments_and_warns_at_the_caller() -> None:
    assert F.legacy_reduction("op", "sum") == "sum"  # nothing legacy: as given
    for size_average, reduce, want in [
        (None, False, "none"),
        (False, None, "sum"),
        (True, True, "mean"),
        (False, False, "none"),
    ]:
        with pytest.warns(UserWarning, match=f"reduction='{want}'") as record:
            got = F.legacy_reduction("op", "mean", size_average, reduce, stacklevel=1)
        assert got == want
        assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="size_average and reduce") as record:
        F.mse_loss(at.ones(2), at.zeros(2), size_average=False)
    assert record[0].filename == __file__
