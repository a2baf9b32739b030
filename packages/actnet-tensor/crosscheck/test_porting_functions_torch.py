"""The functions code ported from PyTorch calls (issue 13) against PyTorch 2.13.0:
values, dtypes, shapes, errors, and the gradients of a random upstream gradient,
float32 to 1e-5 and float64 to 1e-7 relative."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at

torch.set_num_threads(2)

Op = Callable[..., Any]
RTOL = {"float32": 1e-5, "float64": 1e-7}


def dtype_name(dtype: Any) -> str:
    """A dtype's name, the same for actnet's and torch's (float32, int64, ...)."""
    return str(dtype).removeprefix("torch.")


def values(shape: tuple[int, ...], dtype: str, seed: int, kind: str = "") -> Any:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if kind == "positive":
        a = np.abs(a) + 0.5
    elif kind == "unit":  # inside (-1, 1), away from its ends
        a = np.tanh(a) * 0.9
    return a.astype(dtype)


def both(arrays: list[Any], grad: bool = True) -> tuple[list[Any], list[Any]]:
    ours = [at.tensor(a, requires_grad=grad) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=grad) for a in arrays]
    return ours, theirs


def close(mine: Any, peer: Any, rtol: float) -> None:
    mine_np = mine.detach().numpy() if isinstance(mine, at.Tensor) else mine
    peer_np = peer.detach().numpy() if isinstance(peer, torch.Tensor) else peer
    assert dtype_name(mine_np.dtype) == dtype_name(peer_np.dtype)
    assert mine_np.shape == peer_np.shape
    np.testing.assert_allclose(mine_np, peer_np, rtol=rtol, atol=rtol)


def check(
    op: Op, arrays: list[Any], dtype: str, torch_op: Op | None = None, seed: int = 1
) -> None:
    """op's values and gradients (of a random upstream gradient) against torch's."""
    rtol = RTOL[dtype]
    ours, theirs = both(arrays)
    y = op(at, *ours)
    ty = (torch_op or op)(torch, *theirs)
    close(y, ty, rtol)
    weights = np.random.default_rng(seed).standard_normal(ty.shape).astype(dtype)
    (y * at.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    for mine, peer in zip(ours, theirs, strict=True):
        if peer.grad is None:
            assert mine.grad is None or not np.any(mine.grad.numpy())
            continue
        assert mine.grad is not None
        close(mine.grad, peer.grad, rtol)


# ------------------------------------------------------------ pointwise math
UNARY = [
    ("sin", ""),
    ("cos", ""),
    ("tanh", ""),
    ("sigmoid", ""),
    ("sqrt", "positive"),
    ("rsqrt", "positive"),
    ("exp", ""),
    ("log", "positive"),
    ("log1p", "positive"),
    ("expm1", ""),
    ("erf", ""),
    ("abs", ""),
    ("floor", ""),
    ("ceil", ""),
    ("round", ""),
    ("sign", ""),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "kind"), UNARY, ids=[u[0] for u in UNARY])
def test_unary_functions_and_methods(name: str, kind: str, dtype: str) -> None:
    a = values((3, 4), dtype, seed=len(name), kind=kind) * (3 if not kind else 1)
    check(lambda lib, x: getattr(lib, name)(x), [a], dtype)
    check(lambda lib, x: getattr(x.T, name)(), [a], dtype)  # a method, on a view


@pytest.mark.parametrize(("name", "kind"), UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16"])
def test_unary_dtypes(name: str, kind: str, dtype: str) -> None:
    data = np.array([0, 1, 2, 1]).astype(dtype)
    try:
        expected = getattr(torch, name)(torch.tensor(data))
    except (NotImplementedError, RuntimeError) as exc:
        with pytest.raises(type(exc)):
            getattr(at, name)(at.tensor(data))
        return
    got = getattr(at, name)(at.tensor(data))
    assert dtype_name(got.dtype) == dtype_name(expected.dtype)
    rtol = 2e-3 if "float16" in (dtype_name(got.dtype),) else 1e-6
    np.testing.assert_allclose(
        got.numpy().astype(float), expected.numpy().astype(float), rtol=rtol
    )


def test_round_decimals() -> None:
    a = np.array([1.2345, -2.5, 3.5, 1234.5678, 0.125], dtype=np.float32)
    for decimals in (0, 2, -2, 1):
        np.testing.assert_array_equal(
            at.round(at.tensor(a), decimals=decimals).numpy(),
            torch.round(torch.tensor(a), decimals=decimals).numpy(),
        )
    for lib in (at, torch):
        with pytest.raises(NotImplementedError):
            lib.round(lib.tensor([1, 2]), decimals=1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum(name: str, dtype: str) -> None:
    a = values((3, 4), dtype, seed=2)
    b = values((4,), dtype, seed=3)
    b[1] = a[0, 1]  # a tie: the gradient is halved
    check(lambda lib, x, y: getattr(lib, name)(x, y), [a, b], dtype)
    check(lambda lib, x, y: getattr(x, name)(y), [a, b], dtype)


def test_maximum_promotes_and_refuses_what_torch_refuses() -> None:
    x, tx = at.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    got = at.maximum(x, at.tensor([1, 3]))
    expected = torch.maximum(tx, torch.tensor([1, 3]))
    close(got, expected, 0)
    nan = at.maximum(at.tensor([1.0, float("nan")]), at.tensor([2.0, 0.0]))
    assert np.isnan(nan.numpy()[1])
    for lib, t in ((at, x), (torch, tx)):
        with pytest.raises(TypeError):
            lib.maximum(t, 1.0)
        with pytest.raises(RuntimeError):
            lib.minimum(t, lib.tensor([1j, 2]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clamp_with_tensor_bounds(dtype: str) -> None:
    a = values((3, 4), dtype, seed=4)
    low = values((4,), dtype, seed=5) - 0.5
    high = values((3, 1), dtype, seed=6) + 0.5
    low[2] = a[0, 2]  # ties go to the input
    high[1] = -2.0  # min > max: max wins
    check(lambda lib, x, lo, hi: lib.clamp(x, lo, hi), [a, low, high], dtype)
    check(lambda lib, x, lo: x.clamp(min=lo), [a, low], dtype)
    check(lambda lib, x, hi: lib.clip(x, max=hi), [a, high], dtype)
    check(lambda lib, x: lib.clamp(x, min=-0.5), [a], dtype)


def test_clamp_errors_and_dtypes() -> None:
    close(
        at.clamp(at.tensor([1, 2, 3]), min=1.5),
        torch.clamp(torch.tensor([1, 2, 3]), min=1.5),
        0,
    )
    got = at.clamp(at.tensor([1, 2, 3]), min=at.tensor([2.0, 0.0, 0.0]))
    expected = torch.clamp(torch.tensor([1, 2, 3]), min=torch.tensor([2.0, 0.0, 0.0]))
    close(got, expected, 0)
    for lib in (at, torch):
        with pytest.raises(RuntimeError):
            lib.clamp(lib.tensor([1.0]))
        with pytest.raises(TypeError):
            lib.clamp(lib.tensor([1.0]), lib.tensor([0.0]), 2.0)


# ---------------------------------------------------------------- masking
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("diagonal", [-1, 0, 2])
def test_tril_triu(diagonal: int, dtype: str) -> None:
    a = values((2, 3, 4), dtype, seed=7)
    for name in ("tril", "triu"):
        check(lambda lib, x, n=name: getattr(lib, n)(x, diagonal), [a], dtype)
        check(lambda lib, x, n=name: getattr(x, n)(diagonal=diagonal), [a], dtype)
    for lib in (at, torch):
        with pytest.raises(RuntimeError):
            lib.tril(lib.ones(3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_masked_fill(dtype: str) -> None:
    a = values((3, 4), dtype, seed=8)
    mask = values((4,), "float64", seed=9) > 0
    big_mask = values((2, 3, 4), "float64", seed=10) > 0

    def fill(lib: Any, x: Any, value: Any, m: Any = mask) -> Any:
        return x.masked_fill(lib.tensor(m), value)

    check(lambda lib, x: fill(lib, x, 0.5), [a], dtype)
    check(lambda lib, x: fill(lib, x, float("-inf")).exp(), [a], dtype)
    check(lambda lib, x: lib.masked_fill(x, lib.tensor(big_mask), 2.0), [a], dtype)
    value = np.array(1.5, dtype=dtype)  # a 0-d tensor value gets a gradient
    check(lambda lib, x, v: fill(lib, x, v), [a, value], dtype)


def test_masked_fill_dtypes_and_errors() -> None:
    mask = [True, False]
    cases: list[tuple[Any, Any]] = [
        ([1, 2], 0.5),
        ([True, False], 0.5),
        ([1.0, 2.0], 3),
        ([1, 2], np.float32(7.9)),
    ]
    for data, value in cases:
        got = at.tensor(data).masked_fill(at.tensor(mask), value)
        expected = torch.tensor(data).masked_fill(torch.tensor(mask), value)
        close(got, expected, 0)
    tensor_value = at.tensor([1, 2]).masked_fill(at.tensor(mask), at.tensor(3.5))
    close(
        tensor_value,
        torch.tensor([1, 2]).masked_fill(torch.tensor(mask), torch.tensor(3.5)),
        0,
    )
    bad: list[tuple[Callable[[Any], Any], type[Exception]]] = [
        (
            lambda lib: lib.tensor([1.0, 2]).masked_fill(lib.tensor([1, 0]), 0.5),
            RuntimeError,
        ),
        (
            lambda lib: lib.tensor([1.0, 2]).masked_fill(
                lib.tensor(mask), lib.tensor([1.0, 2])
            ),
            RuntimeError,
        ),
        (
            lambda lib: lib.tensor([1, 2]).masked_fill(lib.tensor(mask), 1e30),
            RuntimeError,
        ),
        (
            lambda lib: lib.tensor([1.0, 2]).masked_fill(lib.tensor(mask), 1e300),
            RuntimeError,
        ),
        (
            lambda lib: lib.tensor([1.0, 2]).masked_fill(lib.tensor(mask), "a"),
            TypeError,
        ),
        (
            lambda lib: lib.tensor([1.0, 2]).masked_fill_(
                lib.tensor([[True, False]]), 3.0
            ),
            RuntimeError,
        ),
    ]
    for call, error in bad:
        for lib in (at, torch):
            with pytest.raises(error):
                call(lib)


def test_masked_fill_in_place_records_history() -> None:
    a = values((3, 4), "float64", seed=11)
    mask = values((3, 4), "float64", seed=12) > 0
    ours, theirs = both([a])

    def run(lib: Any, x: Any) -> Any:
        y = x * 2
        y.masked_fill_(lib.tensor(mask), 1.0)
        return (y * y).sum()

    run(at, ours[0]).backward()
    run(torch, theirs[0]).backward()
    close(ours[0].grad, theirs[0].grad, 1e-12)
    for lib, t in ((at, ours[0]), (torch, theirs[0])):
        with pytest.raises(RuntimeError):
            t.masked_fill_(lib.tensor(mask), 0.0)  # a leaf that requires grad


# ---------------------------------------------------------------- sorting
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort(dim: int, descending: bool, dtype: str) -> None:
    a = values((4, 5, 3), dtype, seed=13)
    check(lambda lib, x: lib.sort(x, dim, descending).values, [a], dtype)
    check(lambda lib, x: x.sort(dim=dim, descending=descending)[0], [a], dtype)
    ours, theirs = at.tensor(a), torch.tensor(a)
    close(
        at.sort(ours, dim, descending).indices,
        torch.sort(theirs, dim, descending)[1],
        0,
    )
    close(at.argsort(ours, dim, descending), torch.argsort(theirs, dim, descending), 0)
    close(ours.argsort(dim), theirs.argsort(dim), 0)


def test_sort_ties_nan_bool_and_0d() -> None:
    ties = [3.0, 1.0, 3.0, float("nan"), 1.0, 2.0]
    for descending in (False, True):
        mine = at.sort(at.tensor(ties), descending=descending, stable=True)
        peer = torch.sort(torch.tensor(ties), descending=descending, stable=True)
        close(mine.values, peer.values, 0)
        close(mine.indices, peer.indices, 0)
        close(
            at.argsort(at.tensor(ties), descending=descending, stable=True),
            torch.argsort(torch.tensor(ties), descending=descending, stable=True),
            0,
        )
    for data in ([True, False, True], 3.0):
        mine = at.sort(at.tensor(data))
        peer = torch.sort(torch.tensor(data))
        close(mine.values, peer.values, 0)
        close(mine.indices, peer.indices, 0)
    for lib in (at, torch):
        with pytest.raises(RuntimeError):
            lib.sort(lib.tensor([1 + 1j]))
        with pytest.raises(IndexError):
            lib.sort(lib.ones(2, 3), 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize(("k", "dim"), [(2, -1), (3, 0), (0, 1), (5, 1)])
def test_topk(k: int, dim: int, largest: bool, dtype: str) -> None:
    a = values((4, 5), dtype, seed=14)
    check(lambda lib, x: lib.topk(x, k, dim, largest).values, [a], dtype)
    check(lambda lib, x: x.topk(k, dim=dim, largest=largest)[0], [a], dtype)
    mine = at.topk(at.tensor(a), k, dim, largest)
    peer = torch.topk(torch.tensor(a), k, dim, largest)
    close(mine.indices, peer.indices, 0)
    assert mine.values is mine[0] and mine.indices is mine[1]


def test_topk_nan_0d_and_errors() -> None:
    data = [1.0, float("nan"), 2.0]
    for largest in (True, False):
        mine = at.topk(at.tensor(data), 2, largest=largest)
        peer = torch.topk(torch.tensor(data), 2, largest=largest)
        close(mine.values, peer.values, 0)
        close(mine.indices, peer.indices, 0)
    for k in (0, 1):
        close(
            at.topk(at.tensor(3.0), k).values,
            torch.topk(torch.tensor(3.0), k).values,
            0,
        )
    close(
        at.topk(at.tensor([1, 3, 2]), 2).values,
        torch.topk(torch.tensor([1, 3, 2]), 2).values,
        0,
    )
    for lib in (at, torch):
        for k in (3, -1):
            with pytest.raises(RuntimeError, match="selected index k out of range"):
                lib.topk(lib.tensor([1.0, 2.0]), k)
        with pytest.raises(RuntimeError):
            lib.topk(lib.tensor([True, False]), 1)
        with pytest.raises(TypeError):
            lib.topk(lib.tensor([1.0, 2.0]), 1.0)


# ----------------------------------------------------------------- einsum
EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(5,), (5,)]),
    ("ii->", [(4, 4)]),
    ("ii->i", [(4, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ijk->kij", [(2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij->ij", [(5, 2, 3)]),
    ("b i d, b j d -> b i j", [(2, 3, 4), (2, 5, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij,j", [(2, 3), (1,)]),
    ("bi,bi->b", [(1, 3), (4, 3)]),
    ("iI,Ik", [(2, 3), (3, 4)]),
    ("ba", [(2, 3)]),
    ("ijk,kji->", [(2, 3, 4), (4, 3, 2)]),
    ("iij,jk->ik", [(3, 3, 4), (4, 2)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,kj->ikj", [(3, 4), (2, 4)]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("equation", "shapes"), EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum(equation: str, shapes: list[tuple[int, ...]], dtype: str) -> None:
    arrays = [values(s, dtype, seed=15 + i) for i, s in enumerate(shapes)]
    check(lambda lib, *xs: lib.einsum(equation, *xs), arrays, dtype)


def test_einsum_forms_and_errors() -> None:
    a, b = values((2, 3), "float64", 16), values((3, 4), "float64", 17)
    close(
        at.einsum("ij,jk", [at.tensor(a), at.tensor(b)]),
        torch.einsum("ij,jk", [torch.tensor(a), torch.tensor(b)]),
        1e-12,
    )
    close(
        at.einsum(at.tensor(a), [0, 1], at.tensor(b), [1, 2], [0, 2]),
        torch.einsum(torch.tensor(a), [0, 1], torch.tensor(b), [1, 2], [0, 2]),
        1e-12,
    )
    close(
        at.einsum("i,i", at.tensor([1, 2]), at.tensor([3, 4])),
        torch.einsum("i,i", torch.tensor([1, 2]), torch.tensor([3, 4])),
        0,
    )
    bad: list[tuple[str, list[tuple[int, ...]]]] = [
        ("ij,jk", [(2, 3), (4, 4)]),
        ("ij->ii", [(2, 2)]),
        ("ij->k", [(2, 2)]),
        ("ij,jk", [(2, 3)]),
        ("ij", [(2, 3, 4)]),
        ("i1", [(2, 3)]),
        ("ii", [(2, 3)]),
        ("...ij", [(3,)]),
        ("...i...", [(3,)]),
        ("ij->j->i", [(3, 3)]),
    ]
    for equation, shapes in bad:
        for lib in (at, torch):
            ops = [lib.ones(*s) for s in shapes]
            with pytest.raises(RuntimeError):
                lib.einsum(equation, *ops)
    for lib in (at, torch):
        with pytest.raises(RuntimeError):
            lib.einsum("ij,jk", lib.ones(2, 3), lib.ones(3, 4, dtype=lib.float64))
        with pytest.raises(TypeError):
            lib.einsum(5, lib.ones(2))
        with pytest.raises(ValueError):
            lib.einsum(lib.ones(2, 3), [0, 60])


# ---------------------------------------------------------------- var, std
MOMENTS: list[tuple[str, Callable[[Any, Any, str], Any]]] = [
    ("all", lambda lib, x, f: getattr(x, f)()),
    ("dim", lambda lib, x, f: getattr(lib, f)(x, 1)),
    ("dims keepdim", lambda lib, x, f: getattr(lib, f)(x, (0, 2), keepdim=True)),
    ("unbiased False", lambda lib, x, f: getattr(x, f)(dim=1, unbiased=False)),
    ("positional unbiased", lambda lib, x, f: getattr(lib, f)(x, 1, False, True)),
    ("bool as unbiased", lambda lib, x, f: getattr(lib, f)(x, False)),
    ("correction", lambda lib, x, f: getattr(x, f)(dim=[0, 1], correction=2)),
    ("float correction", lambda lib, x, f: getattr(lib, f)(x, correction=0.5)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(("form", "call"), MOMENTS, ids=[m[0] for m in MOMENTS])
def test_var_std(form: str, call: Any, name: str, dtype: str) -> None:
    a = values((3, 4, 2), dtype, seed=18)
    check(lambda lib, x: call(lib, x, name), [a], dtype)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_edges(name: str) -> None:
    # zero spread: std's gradient is 0 (PyTorch's choice), var's is 0
    ours, theirs = both([np.ones((2, 3))])
    getattr(at, name)(ours[0], 1).sum().backward()
    getattr(torch, name)(theirs[0], 1).sum().backward()
    close(ours[0].grad, theirs[0].grad, 0)
    # too few values: a warning, NaN or inf, and NaN gradients, as PyTorch
    for data, kwargs in (([1.0], {}), ([1.0, 2.0], {"correction": 3}), (2.0, {})):
        ours, theirs = both([np.array(data)])
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            y = getattr(at, name)(ours[0], **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ty = getattr(torch, name)(theirs[0], **kwargs)
            ty.backward()
        y.backward()
        close(y, ty, 0)
        close(ours[0].grad, theirs[0].grad, 0)
    for lib in (at, torch):
        with pytest.raises(RuntimeError):
            getattr(lib, name)(lib.tensor([1, 2]))
        with pytest.raises(TypeError):
            getattr(lib, name)(lib.ones(3), 0, unbiased=False, correction=1)
    z = np.array([1 + 2j, 3 - 1j, 0.5j])
    close(getattr(at, name)(at.tensor(z)), getattr(torch, name)(torch.tensor(z)), 1e-12)


# ------------------------------------------------------- split, chunk, unbind
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_split_chunk_unbind(dtype: str) -> None:
    a = values((5, 4), dtype, seed=19)
    # only some pieces are used: the others' gradients are zeros
    check(lambda lib, x: lib.split(x, 2)[1] * 3, [a], dtype)
    check(lambda lib, x: x.split([1, 3], dim=1)[1], [a], dtype)
    check(lambda lib, x: lib.cat(x.chunk(3, 1)[::2], 1), [a], dtype)
    check(lambda lib, x: lib.chunk(x, 2)[0], [a], dtype)
    check(lambda lib, x: x.unbind(1)[2] - lib.unbind(x)[0].sum(), [a], dtype)
    for total, chunks in ((5, 3), (6, 4), (0, 3), (2, 5)):
        mine = at.chunk(at.ones(total), chunks)
        peer = torch.chunk(torch.ones(total), chunks)
        assert [p.shape for p in mine] == [tuple(p.shape) for p in peer]
    for total, size in ((5, 2), (0, 0), (0, 3), (4, 4)):
        mine = at.split(at.ones(total), size)
        peer = torch.split(torch.ones(total), size)
        assert [p.shape for p in mine] == [tuple(p.shape) for p in peer]
    for lib in (at, torch):
        for call in (
            lambda lib: lib.split(lib.ones(5), [2, 2]),
            lambda lib: lib.split(lib.ones(5), 0),
            lambda lib: lib.split(lib.tensor(1.0), 1),
            lambda lib: lib.chunk(lib.ones(5), 0),
            lambda lib: lib.chunk(lib.tensor(1.0), 1),
        ):
            with pytest.raises(RuntimeError):
                call(lib)


# ---------------------------------------------------------------- new_*
def test_new_tensors_dtype_and_aliases() -> None:
    for data in ([1, 2], [1.0, 2.0]):
        x, tx = at.tensor(data), torch.tensor(data)
        pairs = [
            (x.new_zeros(2, 3), tx.new_zeros(2, 3)),
            (x.new_ones((2,)), tx.new_ones((2,))),
            (x.new_full((2, 2), 1.5), tx.new_full((2, 2), 1.5)),
            (x.new_tensor([1.5, 2.5]), tx.new_tensor([1.5, 2.5])),
            (
                x.new_zeros([3], dtype=at.float64),
                tx.new_zeros([3], dtype=torch.float64),
            ),
            (x.new_empty(2, 0), tx.new_empty(2, 0)),
        ]
        for mine, peer in pairs:
            if mine.numel():
                close(mine, peer, 0)
            assert mine.shape == tuple(peer.shape)
            assert dtype_name(mine.dtype) == dtype_name(peer.dtype)
            assert mine.device is x.device and not mine.requires_grad
    for name in (
        "long",
        "int",
        "double",
        "half",
        "float",
        "bool",
        "cfloat",
        "short",
        "cdouble",
    ):
        assert dtype_name(getattr(at, name)) == dtype_name(getattr(torch, name))
        t, tt = at.tensor([1.0, 0.0]), torch.tensor([1.0, 0.0])
        if hasattr(tt, name):
            assert dtype_name(getattr(t, name)().dtype) == dtype_name(
                getattr(tt, name)().dtype
            )
    x, tx = at.ones(2, 3), torch.ones(2, 3)
    assert x.size() == tuple(tx.size()) and x.size(-1) == tx.size(-1)
    assert x.numel() == tx.numel() and x.dim() == tx.dim()
    assert dtype_name(x.type_as(at.ones(1, dtype=at.long)).dtype) == "int64"


def test_random_functions_follow_torch_signatures_and_errors() -> None:
    for lib in (at, torch):
        assert lib.randint(5, (3,)).dtype == lib.int64
        assert tuple(lib.randint(2, 5, (3, 2)).shape) == (3, 2)
        assert tuple(lib.randint(low=2, high=5, size=(3,)).shape) == (3,)
        assert lib.randint(5, (3,), dtype=lib.float32).dtype == lib.float32
        assert tuple(lib.randperm(4).shape) == (4,) and lib.randperm(0).numel() == 0
        assert tuple(lib.multinomial(lib.tensor([[1.0, 2.0]] * 3), 2).shape) == (3, 2)
        assert lib.multinomial(lib.tensor([1.0, 0.0, 0.0]), 2).tolist() == [0, 1]
        lib.manual_seed(-1)
        for call, error in [
            (lambda lib: lib.randint(5, 5, (3,)), RuntimeError),
            (lambda lib: lib.randint(0, 3, (3,), dtype=lib.bool), RuntimeError),
            (lambda lib: lib.randint(0, 300, (3,), dtype=lib.uint8), RuntimeError),
            (lambda lib: lib.randint(5, 3), TypeError),
            (lambda lib: lib.randint(2.5, 5, (3,)), TypeError),
            (lambda lib: lib.randint(5, (3,), requires_grad=True), RuntimeError),
            (lambda lib: lib.randperm(-1), RuntimeError),
            (lambda lib: lib.manual_seed(2**64), ValueError),
            (lambda lib: lib.multinomial(lib.tensor([1, 2]), 1), RuntimeError),
            (lambda lib: lib.multinomial(lib.ones(1, 1, 2), 1), RuntimeError),
            (lambda lib: lib.multinomial(lib.ones(2), 0), RuntimeError),
            (lambda lib: lib.multinomial(lib.ones(2), 3), RuntimeError),
            (lambda lib: lib.multinomial(lib.tensor([1.0, -2.0]), 1), RuntimeError),
            (
                lambda lib: lib.multinomial(lib.tensor([1.0, float("inf")]), 1),
                RuntimeError,
            ),
            (lambda lib: lib.multinomial(lib.zeros(2), 1, True), RuntimeError),
        ]:
            with pytest.raises(error):
                call(lib)
