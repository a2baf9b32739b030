"""The functions code ported from PyTorch calls, batch 2 (issue 13): values
against NumPy, gradients against finite differences (gradcheck, float64) and
second derivatives (gradgradcheck); the in-place methods by the copy-on-write
rules. crosscheck/test_porting_functions_2_torch.py compares with PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.ndarray import buffer_of

RNG = np.random.default_rng(1)


def rand(*shape: int, positive: bool = False, unit: bool = False) -> at.Tensor:
    values = RNG.standard_normal(shape)
    if positive:
        values = np.abs(values) + 0.5
    if unit:
        values = np.tanh(values) * 0.9
    return at.tensor(values, requires_grad=True)


def arr(t: Any) -> np.ndarray[Any, Any]:
    return np.asarray(t.detach() if isinstance(t, at.Tensor) else t)


def _median(a: Any) -> Any:
    flat = np.sort(a.reshape(-1))
    return flat[(flat.size - 1) // 2]


def _with_zeros(a: np.ndarray[Any, Any]) -> at.Tensor:
    a = a.copy()
    a[0, 1] = 0.0
    a[1, 0] = a[1, 2] = 0.0
    return at.tensor(a, requires_grad=True)


CASES: list[tuple[str, Callable[..., Any], Callable[[], tuple[Any, ...]], Any]] = [
    (
        "cumsum",
        lambda a: at.cumsum(a, 1),
        lambda: (rand(3, 4),),
        lambda a: np.cumsum(a, 1),
    ),
    (
        "cumprod",
        lambda a: a.cumprod(0),
        lambda: (rand(3, 4),),
        lambda a: np.cumprod(a, 0),
    ),
    (
        "cumprod zeros",
        lambda a: a.cumprod(1),
        lambda: (_with_zeros(RNG.standard_normal((3, 4))),),
        lambda a: np.cumprod(a, 1),
    ),
    ("prod", at.prod, lambda: (rand(3, 4),), np.prod),
    (
        "prod zeros",
        lambda a: a.prod(1),
        lambda: (_with_zeros(RNG.standard_normal((3, 4))),),
        lambda a: np.prod(a, 1),
    ),
    (
        "logsumexp",
        lambda a: at.logsumexp(a, 1),
        lambda: (rand(3, 4),),
        lambda a: np.log(np.exp(a).sum(1)),
    ),
    ("amax", lambda a: at.amax(a, 0), lambda: (rand(3, 4),), lambda a: a.max(0)),
    ("amin", lambda a: a.amin((0, 1)), lambda: (rand(3, 4),), lambda a: a.min()),
    ("norm", at.norm, lambda: (rand(3, 4),), np.linalg.norm),
    (
        "norm 1",
        lambda a: a.norm(1, dim=1),
        lambda: (rand(3, 4),),
        lambda a: np.abs(a).sum(1),
    ),
    (
        "norm 3",
        lambda a: at.norm(a, 3, 0),
        lambda: (rand(3, 4),),
        lambda a: (np.abs(a) ** 3).sum(0) ** (1 / 3),
    ),
    (
        "var_mean",
        lambda a: at.var_mean(a, 1)[0] * at.var_mean(a, 1)[1],
        lambda: (rand(3, 4),),
        lambda a: np.var(a, 1, ddof=1) * a.mean(1),
    ),
    (
        "std_mean",
        lambda a: sum(at.std_mean(a)),
        lambda: (rand(3, 4),),
        lambda a: np.std(a, ddof=1) + a.mean(),
    ),
    ("median", at.median, lambda: (rand(3, 5),), _median),
    (
        "median dim",
        lambda a: a.median(1).values,
        lambda: (rand(3, 5),),
        lambda a: np.median(a, 1),
    ),
    ("flip", lambda a: at.flip(a, (0,)), lambda: (rand(3, 4),), lambda a: a[::-1]),
    (
        "roll",
        lambda a: a.roll((1, 2), (0, 1)),
        lambda: (rand(3, 4),),
        lambda a: np.roll(a, (1, 2), (0, 1)),
    ),
    (
        "repeat_interleave",
        lambda a: at.repeat_interleave(a, 2, 0),
        lambda: (rand(3, 2),),
        lambda a: np.repeat(a, 2, 0),
    ),
    (
        "index_select",
        lambda a: a.index_select(1, at.tensor([2, 0, 2])),
        lambda: (rand(3, 4),),
        lambda a: a[:, [2, 0, 2]],
    ),
    (
        "narrow",
        lambda a: at.narrow(a, 1, 1, 2),
        lambda: (rand(3, 4),),
        lambda a: a[:, 1:3],
    ),
    ("diag", lambda a: at.diag(a, 1), lambda: (rand(3),), lambda a: np.diag(a, 1)),
    (
        "diagonal",
        lambda a: a.diagonal(-1, 1, 2),
        lambda: (rand(2, 3, 3),),
        lambda a: np.diagonal(a, -1, 1, 2),
    ),
    (
        "repeat",
        lambda a: a.repeat(2, 1, 3),
        lambda: (rand(2, 3),),
        lambda a: np.tile(a, (2, 1, 3)),
    ),
    (
        "masked_select",
        lambda a: a.masked_select(at.tensor([True, False, True])),
        lambda: (rand(2, 3),),
        lambda a: a[:, [0, 2]].reshape(-1),
    ),
    (
        "meshgrid",
        lambda a, b: at.meshgrid(a, b, indexing="xy")[0] * 2,
        lambda: (rand(3), rand(2)),
        lambda a, b: np.meshgrid(a, b)[0] * 2,
    ),
    (
        "hstack",
        lambda a, b: at.hstack([a, b]),
        lambda: (rand(2, 3), rand(2, 1)),
        lambda a, b: np.hstack([a, b]),
    ),
    (
        "vstack",
        lambda a, b: at.vstack([a, b]),
        lambda: (rand(3), rand(2, 3)),
        lambda a, b: np.vstack([a, b]),
    ),
    ("outer", at.outer, lambda: (rand(3), rand(4)), np.outer),
    ("bmm", at.bmm, lambda: (rand(2, 3, 4), rand(2, 4, 2)), np.matmul),
    (
        "addmm",
        lambda c, a, b: at.addmm(c, a, b, beta=0.5, alpha=2.0),
        lambda: (rand(2), rand(3, 4), rand(4, 2)),
        lambda c, a, b: 0.5 * c + 2.0 * a @ b,
    ),
    ("square", at.square, lambda: (rand(3, 4),), np.square),
    ("neg", lambda a: a.neg(), lambda: (rand(3),), np.negative),
    ("reciprocal", at.reciprocal, lambda: (rand(3, positive=True),), np.reciprocal),
    (
        "lerp",
        at.lerp,
        lambda: (rand(3, 4), rand(4), rand(3, 1)),
        lambda a, b, w: a + w * (b - a),
    ),
    ("atan2", at.atan2, lambda: (rand(3, 4), rand(4)), np.arctan2),
    (
        "remainder",
        lambda a, b: at.remainder(a * 3, b),
        lambda: (rand(3, 4), rand(4, positive=True)),
        lambda a, b: np.mod(a * 3, b),
    ),
    ("log2", at.log2, lambda: (rand(5, positive=True),), np.log2),
    ("log10", lambda a: a.log10(), lambda: (rand(5, positive=True),), np.log10),
    ("sinh", at.sinh, lambda: (rand(5),), np.sinh),
    ("cosh", at.cosh, lambda: (rand(5),), np.cosh),
    ("asin", at.asin, lambda: (rand(5, unit=True),), np.arcsin),
    ("acos", lambda a: a.acos(), lambda: (rand(5, unit=True),), np.arccos),
    ("atan", at.atan, lambda: (rand(5),), np.arctan),
]


@pytest.mark.parametrize(
    ("name", "fn", "make", "oracle"), CASES, ids=[c[0] for c in CASES]
)
def test_values_and_gradients(name: str, fn: Any, make: Any, oracle: Any) -> None:
    inputs = make()
    out = fn(*inputs)
    expected = oracle(*(arr(i) for i in inputs))
    np.testing.assert_allclose(arr(out), expected, rtol=1e-12, atol=1e-12)
    assert at.gradcheck(fn, inputs)


# cumprod's gradient with zeros is computed, not recorded; prod's, where a
# factor is its product's only zero, is exact but not its derivative
# (see _cumulative.py)
NOT_TWICE = {"cumprod zeros", "prod zeros"}


@pytest.mark.parametrize(
    ("name", "fn", "make"),
    [c[:3] for c in CASES if c[0] not in NOT_TWICE],
    ids=[c[0] for c in CASES if c[0] not in NOT_TWICE],
)
def test_second_derivatives(name: str, fn: Any, make: Any) -> None:
    assert at.gradgradcheck(fn, make())


def test_trunc_has_zero_gradient_and_logic_is_not_differentiable() -> None:
    x = at.tensor([-1.5, 0.2, 2.7], requires_grad=True)
    y = at.trunc(x)
    np.testing.assert_array_equal(arr(y), [-1.0, 0.0, 2.0])
    (g,) = at.grad(y.sum(), x)
    np.testing.assert_array_equal(arr(g), 0.0)
    for out in (at.isnan(x), at.eq(x, 0.2), x.gt(0), at.all(x), x.any(1 - 1)):
        assert not out.requires_grad
    assert not at.unique(x).requires_grad


def test_amax_shares_the_gradient_between_ties() -> None:
    x = at.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    at.amax(x).backward()
    np.testing.assert_array_equal(arr(x.grad), [0.0, 0.5, 0.5, 0.0])


def test_norm_gradient_is_zero_at_zero() -> None:
    x = at.zeros(3, dtype="float64", requires_grad=True)
    at.norm(x).backward()
    np.testing.assert_array_equal(arr(x.grad), 0.0)


@pytest.mark.parametrize(
    "name", ["exp_", "sigmoid_", "tanh_", "abs_", "neg_", "sqrt_", "log_"]
)
def test_in_place_math_writes_into_an_unshared_buffer(name: str) -> None:
    t = at.tensor([0.5, 1.0, 2.0])
    expected = arr(getattr(at, name.rstrip("_"))(at.tensor([0.5, 1.0, 2.0])))
    address = buffer_of(t.array).native.__array_interface__["data"][0]
    version = t._version
    assert getattr(t, name)() is t
    assert buffer_of(t.array).native.__array_interface__["data"][0] == address
    assert t._version == version + 1
    np.testing.assert_allclose(arr(t), expected, rtol=1e-7)


def test_in_place_math_copies_what_someone_holds() -> None:
    t = at.tensor([1.0, 4.0])
    held = t.array
    t.sqrt_()
    np.testing.assert_array_equal(np.asarray(held), [1.0, 4.0])
    np.testing.assert_array_equal(arr(t), [1.0, 2.0])
    t.pow_(2)
    np.testing.assert_array_equal(arr(t), [1.0, 4.0])


def test_in_place_math_on_a_saved_tensor_is_caught() -> None:
    x = at.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.exp()  # saves its output
    z.exp_()
    with pytest.raises(RuntimeError):
        z.sum().backward()
    y2 = x * 2
    y2.exp_()
    y2.sum().backward()
    np.testing.assert_allclose(arr(x.grad), 2 * np.exp(2 * np.array([1.0, 2.0])))


def test_functions_are_exported_and_methods_exist() -> None:
    for name in (
        "cumsum",
        "norm",
        "unique",
        "nonzero",
        "flip",
        "roll",
        "square",
        "exp_",
    ):
        assert hasattr(at.Tensor, name)
    for name in (
        "var_mean",
        "std_mean",
        "meshgrid",
        "hstack",
        "vstack",
        "linspace",
        "eye",
    ):
        assert name in at.__all__
    assert at.tensor([5, 7]) % 3 is not None
    np.testing.assert_array_equal(arr(at.tensor([5, -7]) % 3), [2, 2])
