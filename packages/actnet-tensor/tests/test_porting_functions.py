"""The functions code ported from PyTorch calls (issue 13): values against NumPy,
gradients against finite differences (gradcheck, float64) and second
derivatives (gradgradcheck); the random ones by the properties of their
distributions. crosscheck/test_porting_functions_torch.py compares with PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.device import Generator, default_generator
from actnet.ndarray import buffer_of

RNG = np.random.default_rng(0)


def rand(*shape: int, positive: bool = False) -> at.Tensor:
    values = RNG.standard_normal(shape)
    if positive:
        values = np.abs(values) + 0.5
    return at.tensor(values, requires_grad=True)


def arr(t: Any) -> np.ndarray[Any, Any]:
    return np.asarray(t.detach() if isinstance(t, at.Tensor) else t)


def _erf(a: Any) -> Any:
    return np.vectorize(math.erf)(a)


# ------------------------------------------------ values and gradients
CASES: list[tuple[str, Callable[..., Any], Callable[[], tuple[Any, ...]], Any]] = [
    ("sin", at.sin, lambda: (rand(3, 4),), np.sin),
    ("cos", lambda a: a.cos(), lambda: (rand(3, 4),), np.cos),
    ("tanh", at.tanh, lambda: (rand(3, 4),), np.tanh),
    ("sigmoid", at.sigmoid, lambda: (rand(3, 4),), lambda a: 1 / (1 + np.exp(-a))),
    ("rsqrt", at.rsqrt, lambda: (rand(5, positive=True),), lambda a: a**-0.5),
    ("log1p", at.log1p, lambda: (rand(5, positive=True),), np.log1p),
    ("expm1", at.expm1, lambda: (rand(5),), np.expm1),
    ("erf", at.erf, lambda: (rand(5),), _erf),
    ("maximum", at.maximum, lambda: (rand(3, 4), rand(4)), np.maximum),
    ("minimum", lambda a, b: a.minimum(b), lambda: (rand(3, 1), rand(4)), np.minimum),
    (
        "clamp tensors",
        lambda a, lo, hi: at.clamp(a, lo, hi),
        lambda: (rand(3, 4), rand(4) - 0.5, rand(3, 1) + 0.5),
        lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi),
    ),
    (
        "tril",
        lambda a: at.tril(a, -1),
        lambda: (rand(2, 3, 4),),
        lambda a: np.tril(a, -1),
    ),
    ("triu", lambda a: a.triu(1), lambda: (rand(3, 4),), lambda a: np.triu(a, 1)),
    (
        "masked_fill",
        lambda a, v: a.masked_fill(at.tensor([True, False, True]), v),
        lambda: (rand(2, 3), rand()),
        lambda a, v: np.where([True, False, True], v, a),
    ),
    (
        "sort",
        lambda a: at.sort(a, 0).values,
        lambda: (rand(4, 3),),
        lambda a: np.sort(a, 0),
    ),
    (
        "sort descending",
        lambda a: a.sort(descending=True)[0],
        lambda: (rand(3, 5),),
        lambda a: -np.sort(-a, -1),
    ),
    (
        "topk",
        lambda a: at.topk(a, 2).values,
        lambda: (rand(3, 5),),
        lambda a: -np.sort(-a, -1)[:, :2],
    ),
    ("var", at.var, lambda: (rand(3, 4),), lambda a: np.var(a, ddof=1)),
    (
        "var dim",
        lambda a: a.var(1, keepdim=True, correction=0),
        lambda: (rand(3, 4),),
        lambda a: np.var(a, 1, keepdims=True),
    ),
    (
        "std",
        lambda a: at.std(a, (0, 2)),
        lambda: (rand(3, 2, 4),),
        lambda a: np.std(a, (0, 2), ddof=1),
    ),
    (
        "split",
        lambda a: at.split(a, [1, 2], 1)[1] * 2,
        lambda: (rand(2, 3),),
        lambda a: a[:, 1:] * 2,
    ),
    ("chunk", lambda a: a.chunk(2)[1], lambda: (rand(5, 2),), lambda a: a[3:]),
    ("unbind", lambda a: at.unbind(a, 1)[1], lambda: (rand(2, 3),), lambda a: a[:, 1]),
]


@pytest.mark.parametrize(
    ("name", "fn", "make", "oracle"), CASES, ids=[c[0] for c in CASES]
)
def test_values_and_gradients(name: str, fn: Any, make: Any, oracle: Any) -> None:
    inputs = make()
    out = fn(*inputs)
    np.testing.assert_allclose(arr(out), oracle(*(arr(i) for i in inputs)), rtol=1e-12)
    assert at.gradcheck(fn, inputs)


SECOND = {
    "sin",
    "tanh",
    "sigmoid",
    "rsqrt",
    "erf",
    "maximum",
    "masked_fill",
    "topk",
    "var",
    "std",
    "split",
}


@pytest.mark.parametrize(
    ("name", "fn", "make"),
    [c[:3] for c in CASES if c[0] in SECOND],
    ids=[c[0] for c in CASES if c[0] in SECOND],
)
def test_second_derivatives(name: str, fn: Any, make: Any) -> None:
    assert at.gradgradcheck(fn, make())


def test_rounding_functions_have_zero_gradients() -> None:
    x = at.tensor([-1.5, 0.2, 2.5, 3.7], requires_grad=True)
    for fn in (at.floor, at.ceil, at.round, at.sign):
        y = fn(x)
        assert y.requires_grad
        (g,) = at.grad(y.sum(), x)
        np.testing.assert_array_equal(g.numpy(), 0.0)
    np.testing.assert_array_equal(at.round(x).detach().numpy(), [-2.0, 0.0, 2.0, 4.0])
    np.testing.assert_array_equal(at.sign(at.tensor([-2, 0, 3])).numpy(), [-1, 0, 1])


def test_maximum_halves_the_gradient_between_ties() -> None:
    a = at.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = at.tensor([1.0, 5.0, 0.0], requires_grad=True)
    at.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(arr(a.grad), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(arr(b.grad), [0.5, 1.0, 0.0])


# ------------------------------------------------------------------ einsum
EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii->", [(4, 4)]),
    ("ii->i", [(3, 3)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("ji", [(3, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("iij,jk", [(3, 3, 2), (2, 2)]),
]


@pytest.mark.parametrize(("equation", "shapes"), EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum_matches_numpy_and_gradcheck(
    equation: str, shapes: list[tuple[int, ...]]
) -> None:
    inputs = tuple(rand(*s) for s in shapes)
    out = at.einsum(equation, *inputs)
    expected = np.einsum(equation, *(arr(i) for i in inputs))
    np.testing.assert_allclose(arr(out), expected, rtol=1e-12, atol=1e-12)
    assert at.gradcheck(lambda *xs: at.einsum(equation, *xs), inputs)


def test_einsum_second_derivative_and_forms() -> None:
    a, b = rand(2, 3), rand(3, 4)
    assert at.gradgradcheck(lambda x, y: at.einsum("ij,jk->ik", x, y), (a, b))
    np.testing.assert_allclose(
        arr(at.einsum("ij,jk", [a, b])), arr(a) @ arr(b), rtol=1e-12
    )
    np.testing.assert_allclose(
        arr(at.einsum(a, [0, 1], b, [1, 2], [0, 2])), arr(a) @ arr(b), rtol=1e-12
    )
    # a size-1 dim broadcasts, also one that is summed
    np.testing.assert_allclose(
        arr(at.einsum("ij,j->i", a, at.ones(1, dtype=at.double))),
        arr(a).sum(1),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    ("equation", "shapes", "match"),
    [
        ("ij,jk", [(2, 3), (4, 4)], "does not broadcast"),
        ("ij->ii", [(2, 2)], "appears more than once"),
        ("ij->k", [(2, 2)], "does not appear"),
        ("ij,jk", [(2, 3)], "fewer operands"),
        ("ij", [(2, 3), (3,)], "more operands"),
        ("ij", [(2, 3, 4)], "no ellipsis"),
        ("i1", [(2, 3)], "invalid subscript given at index 1"),
        ("ii", [(2, 3)], "sizes don't match"),
        ("i.j", [(2, 3)], "not part of any ellipsis"),
    ],
)
def test_einsum_errors(
    equation: str, shapes: list[tuple[int, ...]], match: str
) -> None:
    with pytest.raises(RuntimeError, match=match):
        at.einsum(equation, *(at.ones(*s) for s in shapes))


# ------------------------------------------------------- sorting results
def test_sort_and_topk_return_named_pairs() -> None:
    x = at.tensor([[3.0, 1.0, 2.0, 1.0]])
    result = x.sort(stable=True)
    values, indices = result
    assert values is result.values and indices is result.indices
    np.testing.assert_array_equal(arr(indices), [[1, 3, 2, 0]])  # ties keep order
    assert indices.dtype == at.long
    top = at.topk(x, 2, largest=False)
    np.testing.assert_array_equal(arr(top.indices), [[1, 3]])
    np.testing.assert_array_equal(arr(at.argsort(x, descending=True)), [[0, 2, 1, 3]])
    assert repr(top).startswith("TopKResult(values=")


# ------------------------------------------------------------ masked_fill_
def test_masked_fill_in_place_writes_into_an_unshared_buffer() -> None:
    t = at.tensor(np.arange(4.0))
    address = buffer_of(t.array).native.__array_interface__["data"][0]
    out = t.masked_fill_(at.tensor([True, False, True, False]), -1.0)
    assert out is t and t._version == 1
    assert buffer_of(t.array).native.__array_interface__["data"][0] == address
    np.testing.assert_array_equal(arr(t), [-1.0, 1.0, -1.0, 3.0])


def test_masked_fill_in_place_copies_what_someone_holds() -> None:
    t = at.tensor(np.arange(3.0))
    held = t.array
    t.masked_fill_(at.tensor([True, False, False]), 9.0)
    np.testing.assert_array_equal(np.asarray(held), np.arange(3.0))
    np.testing.assert_array_equal(arr(t), [9.0, 1.0, 2.0])


def test_masked_fill_in_place_on_a_graph() -> None:
    leaf = at.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        leaf.masked_fill_(at.tensor([True, False]), 0.0)
    y = leaf * 3
    y.masked_fill_(at.tensor([True, False]), 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(arr(leaf.grad), [0.0, 3.0])
    saved = leaf * 1
    z = saved * saved  # saves it
    saved.masked_fill_(at.tensor([True, False]), 0.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()
    with at.no_grad():
        leaf.masked_fill_(at.tensor([False, True]), 5.0)
    np.testing.assert_array_equal(arr(leaf), [1.0, 5.0])


def test_masked_fill_value_gradient_and_dtype() -> None:
    x = at.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = at.tensor(0.5, dtype=at.double, requires_grad=True)
    x.masked_fill(at.tensor([True, False]), v).sum().backward()
    assert v.grad is not None and v.grad.dtype == at.double
    assert v.grad.item() == 2.0
    np.testing.assert_array_equal(arr(x.grad), [[0.0, 1.0], [0.0, 1.0]])
    ints = at.tensor([1, 2]).masked_fill(at.tensor([True, False]), 7.9)
    assert ints.dtype == at.long and ints.tolist() == [7, 2]


# ------------------------------------------------- split, chunk, unbind
def test_split_pieces_are_views_of_one_node() -> None:
    x = rand(5, 2)
    pieces = x.split(2)
    assert [p.shape for p in pieces] == [(2, 2), (2, 2), (1, 2)]
    assert pieces[0].grad_fn is pieces[2].grad_fn
    assert buffer_of(pieces[1].array).base is buffer_of(x.array)
    (pieces[2] * 2).sum().backward()  # the unused pieces' gradients are zeros
    np.testing.assert_array_equal(arr(x.grad), [[0, 0]] * 4 + [[2, 2]])


def test_split_chunk_errors() -> None:
    with pytest.raises(RuntimeError, match="sum exactly to 5"):
        at.split(at.ones(5), [2, 2])
    with pytest.raises(RuntimeError, match="greater than 0"):
        at.chunk(at.ones(5), 0)
    with pytest.raises(RuntimeError, match="at least a 1-dimensional"):
        at.tensor(1.0).chunk(1)
    assert [p.shape for p in at.chunk(at.ones(0), 3)] == [(0,)] * 3


# ---------------------------------------------------------------- var, std
def test_var_std_forms_and_warnings() -> None:
    x = at.tensor(RNG.standard_normal((3, 4)))
    a = arr(x)
    np.testing.assert_allclose(arr(x.std(unbiased=False)), a.std(), rtol=1e-12)
    np.testing.assert_allclose(arr(at.var(x, 1, False, True)), a.var(1, keepdims=True))
    np.testing.assert_allclose(arr(at.var(x, True)), a.var(ddof=1), rtol=1e-12)
    np.testing.assert_allclose(
        arr(x.var(dim=[], correction=2)), a.var(ddof=2), rtol=1e-12
    )
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert np.isnan(at.std(at.tensor([1.0])).item())
    with pytest.raises(RuntimeError, match="floating point and complex"):
        at.var(at.tensor([1, 2]))
    with pytest.raises(TypeError, match="either unbiased or correction"):
        at.std(x, 0, unbiased=True, correction=1)
    assert x.std(1).grad_fn is None
    assert rand(3).std().grad_fn.name() == "StdBackward"  # type: ignore[union-attr]


# ---------------------------------------------------------------- new_*
def test_new_tensors_take_dtype_and_device_from_self() -> None:
    x = at.tensor([1, 2], dtype=at.int32)
    for made in (
        x.new_zeros(2, 3),
        x.new_ones((3,)),
        x.new_empty([1]),
        x.new_full((2,), 7.9),
    ):
        assert made.dtype == at.int32 and made.device is x.device
    assert x.new_full((2,), 7.9).tolist() == [7, 7]
    assert x.new_tensor([1.5, 2.5]).tolist() == [1, 2]
    w = x.new_zeros(2, dtype=at.float, requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.dtype == at.float32
    assert buffer_of(w.array).info == ("parameter", "new_zeros")
    with pytest.raises(TypeError, match="tuple of ints"):
        x.new_full(2, 1.0)  # type: ignore[arg-type]


def test_dtype_aliases() -> None:
    pairs = [
        (at.long, at.int64),
        (at.int, at.int32),
        (at.short, at.int16),
        (at.double, at.float64),
        (at.float, at.float32),
        (at.half, at.float16),
        (at.cfloat, at.complex64),
        (at.cdouble, at.complex128),
    ]
    for alias, dtype in pairs:
        assert alias == dtype
    assert at.ones(2).long().dtype == at.long and at.ones(2).cfloat().dtype == at.cfloat


# ------------------------------------------------------------------ random
def test_manual_seed_returns_the_default_generator_and_repeats_draws() -> None:
    g = at.manual_seed(7)
    assert g is default_generator and at.initial_seed() == 7
    first = (at.randint(0, 100, (10,)), at.randperm(10), at.multinomial(at.ones(5), 3))
    at.manual_seed(7)
    second = (at.randint(0, 100, (10,)), at.randperm(10), at.multinomial(at.ones(5), 3))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(arr(a), arr(b))
    assert at.manual_seed(-1).seed == 2**64 - 1
    with pytest.raises(ValueError, match="Overflow"):
        at.manual_seed(2**64)


def test_randint_is_within_bounds_and_covers_them() -> None:
    at.manual_seed(1)
    for low, high in ((0, 5), (-3, 4), (10, 11), (-(2**40), 2**40)):
        x = arr(at.randint(low, high, (2000,)))
        assert x.dtype == np.int64 and x.min() >= low and x.max() < high
        if high - low < 10:
            assert set(x.tolist()) == set(range(low, high))
    assert at.randint(3, (2, 4)).shape == (2, 4)
    assert at.randint(high=3, size=(2,)).shape == (2,)
    as_float = at.randint(0, 10, (100,), dtype=at.float32, requires_grad=True)
    assert as_float.requires_grad and set(arr(as_float).tolist()) <= set(range(10))
    assert arr(at.randint(0, 2, (50,), dtype=at.bool)).dtype == np.bool_
    small = arr(at.randint(0, 256, (500,), dtype=at.uint8))
    assert small.dtype == np.uint8
    gen = Generator(3)
    a = at.randint(0, 9, (5,), generator=gen)
    gen.manual_seed(3)
    np.testing.assert_array_equal(arr(a), arr(at.randint(0, 9, (5,), generator=gen)))
    with pytest.raises(RuntimeError, match="from=5 >= to=5"):
        at.randint(5, 5, (3,))
    with pytest.raises(RuntimeError, match="out of bounds"):
        at.randint(0, 300, (3,), dtype=at.uint8)
    with pytest.raises(TypeError, match="tuple of ints"):
        at.randint(5, 3)


def test_randperm_is_a_permutation() -> None:
    at.manual_seed(2)
    for n in (0, 1, 2, 17, 1000):
        p = arr(at.randperm(n))
        assert p.dtype == np.int64
        np.testing.assert_array_equal(np.sort(p), np.arange(n))
    assert not np.array_equal(arr(at.randperm(50)), np.arange(50))
    assert at.randperm(4, dtype=at.float32).dtype == at.float32
    with pytest.raises(RuntimeError, match="negative dimension"):
        at.randperm(-1)


def _chi_square(
    counts: np.ndarray[Any, Any], probabilities: np.ndarray[Any, Any]
) -> float:
    expected = probabilities * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


# the 99.9% quantile of the chi-square distribution with 3 degrees of freedom
CHI2_3DF_999 = 16.27


def test_multinomial_with_replacement_follows_the_probabilities() -> None:
    weights = np.array([1.0, 2.0, 3.0, 4.0])  # not normalised
    p = weights / weights.sum()
    at.manual_seed(3)
    samples = arr(at.multinomial(at.tensor(weights), 20000, replacement=True))
    assert samples.shape == (20000,) and samples.dtype == np.int64
    counts = np.bincount(samples, minlength=4)
    assert _chi_square(counts, p) < CHI2_3DF_999
    rows = arr(
        at.multinomial(
            at.tensor([[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]]), 500, True
        )
    )
    assert set(rows[0].tolist()) == {1, 3}  # never a category of probability 0
    assert set(rows[1].tolist()) == {0}


def test_multinomial_without_replacement_never_repeats_and_follows_p() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.4])
    at.manual_seed(4)
    rows = arr(at.multinomial(at.tensor(np.tile(p, (8000, 1)), dtype=at.float), 2))
    assert rows.shape == (8000, 2)
    assert np.all(rows[:, 0] != rows[:, 1])
    assert _chi_square(np.bincount(rows[:, 0], minlength=4), p) < CHI2_3DF_999
    # the second draw: P(j) = sum over i != j of p_i p_j / (1 - p_i)
    second = np.array(
        [sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)]
    )
    assert _chi_square(np.bincount(rows[:, 1], minlength=4), second) < CHI2_3DF_999
    full = arr(at.multinomial(at.rand(50, 10), 10))
    for row in full:
        np.testing.assert_array_equal(np.sort(row), np.arange(10))
    zeros_last = arr(at.multinomial(at.tensor([0.0, 3.0, 0.0, 1.0, 0.0]), 5))
    assert set(zeros_last[:2].tolist()) == {1, 3}
    np.testing.assert_array_equal(zeros_last[2:], [0, 2, 4])


def test_multinomial_errors() -> None:
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: at.multinomial(at.tensor([1, 2]), 1), "floating-point dtypes"),
        (lambda: at.multinomial(at.ones(1, 1, 2), 1), "1 or 2 dim"),
        (lambda: at.multinomial(at.ones(2), 0), "n_sample <= 0"),
        (lambda: at.multinomial(at.ones(2), 3), "without replacement"),
        (lambda: at.multinomial(at.tensor([1.0, -1.0]), 1), "element < 0"),
        (lambda: at.multinomial(at.tensor([1.0, float("nan")]), 1), "`nan`"),
        (lambda: at.multinomial(at.zeros(2, 3), 1, True), "sum of probabilities"),
    ]
    for call, match in cases:
        with pytest.raises(RuntimeError, match=match):
            call()
