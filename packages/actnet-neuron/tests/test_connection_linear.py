from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_float32

import actnet.neuron as F
import actnet.tensor as at

CASES = [
    Case(
        "2-d input, bias",
        lambda rng: [
            rng.standard_normal((4, 3)),
            rng.standard_normal((5, 3)),
            rng.standard_normal(5),
        ],
        lambda F, x, w, b: F.linear(x, w, b),
        lambda x, w, b: x @ w.T + b,
        differentiable=(0, 1, 2),
        double_backward=True,
    ),
    Case(
        "batch dims (2, 3), no bias",
        lambda rng: [rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4))],
        lambda F, x, w: F.linear(x, w),
        lambda x, w: x @ w.T,
        differentiable=(0, 1),
        double_backward=True,
    ),
    Case(
        "1-d input",
        lambda rng: [
            rng.standard_normal(3),
            rng.standard_normal((2, 3)),
            rng.standard_normal(2),
        ],
        lambda F, x, w, b: F.linear(x, w, b),
        lambda x, w, b: w @ x + b,
        differentiable=(0, 1, 2),
    ),
    Case(
        "weight as a transposed view, strided input",
        lambda rng: [
            rng.standard_normal((3, 8)),
            rng.standard_normal((4, 5)),
            rng.standard_normal(5),
        ],
        lambda F, x, w, b: F.linear(x[:, ::2], w.T, b),
        lambda x, w, b: x[:, ::2] @ w + b,
        differentiable=(0, 1, 2),
    ),
    Case(
        "output transposed (a non-contiguous gradient arrives), batch dims",
        lambda rng: [
            rng.standard_normal((2, 3, 4)),
            rng.standard_normal((5, 4)),
            rng.standard_normal(5),
        ],
        lambda F, x, w, b: F.linear(x, w, b).mT,
        lambda x, w, b: np.swapaxes(x @ w.T + b, -1, -2),
    ),
    Case(
        "only the bias differentiable (a frozen weight)",
        lambda rng: [
            rng.standard_normal((2, 3)),
            rng.standard_normal((4, 3)),
            rng.standard_normal(4),
        ],
        lambda F, x, w, b: F.linear(x, w, b),
        lambda x, w, b: x @ w.T + b,
        differentiable=(2,),
        double_backward=True,
    ),
    Case(
        "only the weight differentiable",
        lambda rng: [rng.standard_normal((2, 2, 3)), rng.standard_normal((4, 3))],
        lambda F, x, w: F.linear(x, w),
        lambda x, w: x @ w.T,
        differentiable=(1,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_linear(case: Case) -> None:
    check(case, F)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_linear_float32(case: Case) -> None:
    check_float32(case, F)


def test_linear_keeps_only_what_backward_needs() -> None:
    x = at.randn(2, 3)
    w = at.randn(4, 3, requires_grad=True)
    y = F.linear(x, w)
    (saved_x, saved_w) = y.grad_fn.ctx.saved_tensors  # type: ignore[union-attr]
    assert saved_x is x and saved_w is None  # W's gradient needs x, not W


def test_linear_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="linear: input of shape"):
        F.linear(at.randn(2, 4), at.randn(5, 3))
    with pytest.raises(ValueError, match="linear: weight must be 2-d"):
        F.linear(at.randn(2, 3), at.randn(3))
    with pytest.raises(TypeError, match="linear: weight has dtype"):
        F.linear(at.randn(2, 3), at.randn(4, 3, dtype=at.float64))
    with pytest.raises(ValueError, match="linear: bias must be"):
        F.linear(at.randn(2, 3), at.randn(4, 3), at.randn(3))
    with pytest.raises(TypeError, match="linear: input must have a"):
        F.linear(at.tensor([[1, 2, 3]]), at.randn(4, 3))
    with pytest.raises(TypeError, match="linear: bias must be a Tensor"):
        F.linear(at.randn(2, 3), at.randn(4, 3), np.ones(4))  # type: ignore[arg-type]
