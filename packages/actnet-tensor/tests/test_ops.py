"""The differentiable primitives: values against NumPy, gradients against finite
differences (gradcheck, float64), second derivatives by gradgradcheck."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at

RNG = np.random.default_rng(0)


def rand(*shape: int, positive: bool = False) -> at.Tensor:
    values = RNG.standard_normal(shape)
    if positive:
        values = np.abs(values) + 0.5
    return at.tensor(values, requires_grad=True)


def arr(t: at.Tensor) -> np.ndarray[Any, Any]:
    return np.asarray(t.detach())


CASES: list[
    tuple[
        str,
        Callable[..., at.Tensor],
        Callable[[], tuple[at.Tensor, ...]],
        Callable[..., Any],
    ]
] = [
    ("add broadcast", lambda a, b: a + b, lambda: (rand(3, 4), rand(4)), np.add),
    ("sub", lambda a, b: a - b, lambda: (rand(2, 3), rand(2, 1)), np.subtract),
    ("rsub", lambda a: 2.0 - a, lambda: (rand(3),), lambda a: 2.0 - a),
    ("mul", lambda a, b: a * b, lambda: (rand(3, 1), rand(1, 4)), np.multiply),
    (
        "div",
        lambda a, b: a / b,
        lambda: (rand(3, 4), rand(4, positive=True)),
        np.divide,
    ),
    ("rdiv", lambda a: 3.0 / a, lambda: (rand(3, positive=True),), lambda a: 3.0 / a),
    ("pow scalar", lambda a: a**3, lambda: (rand(4),), lambda a: a**3),
    (
        "pow tensor",
        lambda a, b: a**b,
        lambda: (rand(4, positive=True), rand(4)),
        np.power,
    ),
    ("rpow", lambda a: 2.0**a, lambda: (rand(4),), lambda a: 2.0**a),
    ("neg", lambda a: -a, lambda: (rand(2, 2),), np.negative),
    ("exp", lambda a: a.exp(), lambda: (rand(3),), np.exp),
    ("log", lambda a: a.log(), lambda: (rand(3, positive=True),), np.log),
    ("sqrt", lambda a: a.sqrt(), lambda: (rand(3, positive=True),), np.sqrt),
    ("abs", lambda a: a.abs(), lambda: (rand(5),), np.abs),
    (
        "clamp",
        lambda a: a.clamp(-0.5, 0.5),
        lambda: (rand(6),),
        lambda a: np.clip(a, -0.5, 0.5),
    ),
    ("matmul 2d", lambda a, b: a @ b, lambda: (rand(2, 3), rand(3, 4)), np.matmul),
    (
        "matmul batched",
        lambda a, b: a @ b,
        lambda: (rand(2, 2, 3), rand(3, 2)),
        np.matmul,
    ),
    ("matmul vec-mat", lambda a, b: a @ b, lambda: (rand(3), rand(3, 2)), np.matmul),
    ("matmul mat-vec", lambda a, b: a @ b, lambda: (rand(2, 3), rand(3)), np.matmul),
    ("matmul vec-vec", lambda a, b: a @ b, lambda: (rand(3), rand(3)), np.matmul),
    ("sum all", lambda a: a.sum(), lambda: (rand(2, 3),), np.sum),
    ("sum dim", lambda a: a.sum(1), lambda: (rand(2, 3),), lambda a: a.sum(1)),
    (
        "sum keepdim",
        lambda a: a.sum((0, 2), keepdim=True),
        lambda: (rand(2, 3, 2),),
        lambda a: a.sum((0, 2), keepdims=True),
    ),
    ("mean", lambda a: a.mean(0), lambda: (rand(4, 3),), lambda a: a.mean(0)),
    ("max all", lambda a: a.max(), lambda: (rand(3, 3),), np.max),
    ("max dim", lambda a: a.max(1).values, lambda: (rand(3, 4),), lambda a: a.max(1)),
    (
        "min dim keepdim",
        lambda a: a.min(0, keepdim=True).values,
        lambda: (rand(3, 4),),
        lambda a: a.min(0, keepdims=True),
    ),
    (
        "reshape",
        lambda a: a.reshape(3, 2) * 1.0,
        lambda: (rand(2, 3),),
        lambda a: a.reshape(3, 2),
    ),
    ("view", lambda a: a.view(-1), lambda: (rand(2, 3),), lambda a: a.reshape(-1)),
    (
        "transpose",
        lambda a: a.transpose(0, 2),
        lambda: (rand(2, 3, 4),),
        lambda a: a.swapaxes(0, 2),
    ),
    (
        "permute",
        lambda a: a.permute(2, 0, 1),
        lambda: (rand(2, 3, 4),),
        lambda a: a.transpose(2, 0, 1),
    ),
    ("T", lambda a: a.T, lambda: (rand(2, 3),), lambda a: a.T),
    (
        "expand",
        lambda a: a.expand(3, 4),
        lambda: (rand(1, 4),),
        lambda a: np.broadcast_to(a, (3, 4)),
    ),
    ("index basic", lambda a: a[1:, ::2], lambda: (rand(3, 4),), lambda a: a[1:, ::2]),
    (
        "index int array",
        lambda a: a[at.tensor([0, 2, 0])],
        lambda: (rand(3, 2),),
        lambda a: a[[0, 2, 0]],
    ),
    (
        "gather",
        lambda a: a.gather(1, at.tensor([[0, 0], [1, 0]])),
        lambda: (rand(2, 3),),
        lambda a: np.take_along_axis(a, np.array([[0, 0], [1, 0]]), 1),
    ),
    (
        "where",
        lambda a, b: at.where(a > 0, a, b),
        lambda: (rand(5), rand(5)),
        lambda a, b: np.where(a > 0, a, b),
    ),
    (
        "cat",
        lambda a, b: at.cat([a, b], 1),
        lambda: (rand(2, 1), rand(2, 3)),
        lambda a, b: np.concatenate([a, b], 1),
    ),
    (
        "stack",
        lambda a, b: at.stack([a, b], 0),
        lambda: (rand(2, 3), rand(2, 3)),
        lambda a, b: np.stack([a, b], 0),
    ),
    ("clone", lambda a: a.clone(), lambda: (rand(3),), lambda a: a.copy()),
]


@pytest.mark.parametrize(
    ("name", "fn", "make", "oracle"), CASES, ids=[c[0] for c in CASES]
)
def test_values_and_gradients(name: str, fn: Any, make: Any, oracle: Any) -> None:
    inputs = make()
    out = fn(*inputs)
    np.testing.assert_allclose(arr(out), oracle(*(arr(i) for i in inputs)), rtol=1e-12)
    assert at.gradcheck(fn, inputs)


@pytest.mark.parametrize(
    ("name", "fn", "make"),
    [
        (c[0], c[1], c[2])
        for c in CASES
        if c[0]
        in {
            "mul",
            "div",
            "pow scalar",
            "exp",
            "log",
            "matmul 2d",
            "sum dim",
            "sqrt",
            "expand",
        }
    ],
)
def test_second_derivatives(name: str, fn: Any, make: Any) -> None:
    assert at.gradgradcheck(fn, make())


def test_gradcheck_catches_a_wrong_backward() -> None:
    class Wrong(at.Function):
        @staticmethod
        def forward(ctx: Any, x: at.Tensor) -> at.Tensor:
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx: Any, g: at.Tensor) -> at.Tensor:
            (x,) = ctx.saved_tensors
            return g * x  # should be 2x

    with pytest.raises(at.GradcheckError, match="Jacobian mismatch"):
        at.gradcheck(Wrong.apply, (rand(3),))


def test_gradcheck_wants_float64() -> None:
    with pytest.raises(ValueError, match="float64"):
        at.gradcheck(lambda a: a * 2, (at.randn(3, requires_grad=True),))


def test_max_of_ties_shares_the_gradient() -> None:
    x = at.tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(arr(x.grad), [0.0, 0.5, 0.5])  # type: ignore[arg-type]


def test_comparisons_are_not_differentiable() -> None:
    x = rand(3)
    m = x > 0
    assert m.dtype == at.bool and not m.requires_grad


def test_pytorch_promotion() -> None:
    i = at.tensor([1, 2, 3])
    assert (i * 0.5).dtype == at.float32
    assert (i + 1).dtype == at.int64
    assert (i / 2).dtype == at.float32
    assert (at.tensor([True]) + 1).dtype == at.int64
    assert (at.tensor([1.0], dtype="float64") + at.tensor([1.0])).dtype == at.float64
    assert (i + at.tensor([1.0])).dtype == at.float32


def test_sum_of_bools_counts_in_int64() -> None:
    mask = np.array([[True, False, True], [True, True, False]])
    t = at.tensor(mask)
    assert t.sum().dtype == at.int64 and t.sum().item() == 4
    np.testing.assert_array_equal(np.asarray(t.sum(0)), mask.sum(0))


@pytest.mark.parametrize("dim", [0, -1])
def test_reductions_of_a_0d_tensor_over_dim_0_or_minus_1(dim: int) -> None:
    x = at.tensor(np.float64(3.0), requires_grad=True)
    for y in (x.sum(dim), x.mean(dim), x.max(dim).values, x.min(dim, keepdim=True)[0]):
        assert y.shape == () and y.item() == 3.0
        (g,) = at.grad(y, x)
        assert g.item() == 1.0
    assert x.argmax(dim).item() == 0 and x.max(dim).indices.item() == 0
    with pytest.raises(IndexError, match="dimension out of range"):
        x.sum(1)


def test_add_and_mul_gradients_through_promotion_scalars_and_non_leaves() -> None:
    # the operators' fast paths (same dtype, leaves) and their general ones
    a = at.tensor([1.0, 2.0], requires_grad=True)  # float32
    b = at.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    c = a * 2.0  # a scalar operand, and a non-leaf below
    y = ((c + b) * (c * b) + c * c).sum()
    assert y.dtype == at.float64
    y.backward()
    an, bn = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    # y = sum((2a + b) * 2ab + 4a^2)
    da = 2 * (2 * an * bn) + (2 * an + bn) * 2 * bn + 8 * an
    db = 2 * an * bn + (2 * an + bn) * 2 * an
    assert a.grad is not None and b.grad is not None
    assert a.grad.dtype == at.float32 and b.grad.dtype == at.float64
    np.testing.assert_allclose(a.grad.numpy(), da, rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), db, rtol=1e-12)
