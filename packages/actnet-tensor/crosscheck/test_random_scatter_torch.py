"""The random draws and the scatter family against PyTorch 2.13.0: scatter's
values, gradients, dtypes and errors exactly; for the draws (whose numbers are
actnet's own), dtypes, shapes, supports, gradients and error types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at

REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


def outcome(lib: Any, call: Callable[[Any], Any]) -> tuple[str, Any]:
    """("ok", (dtype name, shape, values)) or (error type name, "")."""
    try:
        result = call(lib)
    except Exception as exc:  # noqa: BLE001  # compared with torch's
        return type(exc).__name__, ""
    if lib is torch:
        result = result.detach()
    name = str(result.dtype).removeprefix("torch.")
    return "ok", (name, tuple(result.shape), np.asarray(result.tolist()))


def same(call: Callable[[Any], Any]) -> None:
    got, want = outcome(at, call), outcome(torch, call)
    assert got[0] == want[0]
    if got[0] == "ok":
        assert got[1][:2] == want[1][:2]
        np.testing.assert_allclose(got[1][2], want[1][2], rtol=1e-12)


def make(lib: Any, x: np.ndarray, grad: bool = False) -> Any:
    return lib.tensor(x, requires_grad=grad)


def grads(lib: Any, fn: Callable[..., Any], *arrays: np.ndarray) -> list[Any]:
    inputs = [make(lib, a, True) for a in arrays]
    out = fn(lib, *inputs)
    weight = lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)))
    (out * weight).sum().backward()
    return [np.asarray(t.grad.tolist()) for t in inputs]


def same_grads(fn: Callable[..., Any], *arrays: np.ndarray) -> None:
    for g, w in zip(grads(at, fn, *arrays), grads(torch, fn, *arrays), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12)


X = np.array([[1.5, -2.0, 0.0, 4.0], [3.0, 2.0, -1.0, 0.5], [2.0, 0.0, 7.0, 1.0]])
IDX = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])
SRC = np.array([[2.0, 0.0, 3.0, -1.0, 9.0], [1.5, 2.0, 0.0, 4.0, 9.0]])


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, -1])
def test_scatter_reduce(reduce: str, include_self: bool, dim: int) -> None:
    idx = IDX if dim == 0 else np.array([[0, 3, 3, 1], [2, 2, 0, 2]])

    def fn(lib: Any, a: Any, s: Any) -> Any:
        return lib.scatter_reduce(
            a, dim, lib.tensor(idx), s, reduce, include_self=include_self
        )

    same(lambda lib: fn(lib, make(lib, X), make(lib, SRC)))
    # PyTorch's backward refuses a src larger than index: index's part of it
    same_grads(fn, X, SRC[:, :4])


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_integers(reduce: str) -> None:
    x = np.array([[5, 2, 9], [1, 7, 3]])
    same(
        lambda lib: lib.tensor(x).scatter_reduce(
            1, lib.tensor([[0, 0], [2, 2]]), lib.tensor([[4, 3], [8, 1]]), reduce
        )
    )


def test_scatter_and_scatter_add() -> None:
    idx = np.array([[0, 3], [2, 1]])
    same(lambda lib: lib.scatter(make(lib, X), 1, lib.tensor(idx), make(lib, SRC)))
    same(lambda lib: make(lib, X).scatter(0, lib.tensor(IDX), -4.0))
    same(lambda lib: make(lib, X).scatter(0, lib.tensor(IDX), 2.0, reduce="multiply"))
    same(lambda lib: lib.scatter_add(make(lib, X), 0, lib.tensor(IDX), make(lib, SRC)))
    same_grads(lambda lib, a, s: lib.scatter(a, 1, lib.tensor(idx), s), X, SRC[:, :2])
    same_grads(lambda lib, a: lib.scatter(a, 1, lib.tensor(idx), 0.5), X)
    same_grads(lambda lib, a, s: a.scatter_add(0, lib.tensor(IDX), s), X, SRC[:, :4])


def test_in_place_scatters() -> None:
    def run(lib: Any) -> Any:
        t = lib.tensor(X)
        t.scatter_(0, lib.tensor(IDX), lib.tensor(SRC))
        t.scatter_add_(1, lib.tensor([[1, 1]]), lib.tensor([[1.0, 2.0]]))
        t.scatter_reduce_(0, lib.tensor([[2]]), lib.tensor([[8.0]]), "amax")
        return t.index_fill_(1, lib.tensor([3]), 0.25)

    same(run)

    def recorded(lib: Any, a: Any, s: Any) -> Any:
        b = a * 1
        b.scatter_reduce_(0, lib.tensor(IDX), s, "prod", include_self=False)
        return b

    same_grads(recorded, X, SRC[:, :4])


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.zeros(3, 4).scatter(0, lib.tensor([[0.0]]), lib.ones(1, 1)),
        lambda lib: lib.zeros(3, 4).scatter(0, lib.tensor([[5]]), lib.ones(1, 1)),
        lambda lib: lib.zeros(3, 4).scatter(
            0, lib.tensor([[0]]), lib.ones(1, 1, dtype=lib.float64)
        ),
        lambda lib: lib.zeros(3, 4).scatter(0, lib.tensor([0]), lib.ones(1)),
        lambda lib: lib.zeros(3, 4).scatter_reduce(
            0, lib.tensor([[0]]), lib.ones(1, 1), "foo"
        ),
        lambda lib: lib.zeros(2).index_fill(0, lib.tensor([0]), lib.ones(2)),
        lambda lib: lib.take_along_dim(lib.zeros(2), lib.tensor([0.0]), 0),
        lambda lib: lib.zeros(2).index_put(
            (lib.tensor([0]),), lib.ones(1, dtype=lib.float64)
        ),
    ],
)
def test_scatter_errors(call: Callable[[Any], Any]) -> None:
    same(call)


def test_index_fill_take_along_dim_index_put_numel() -> None:
    same(lambda lib: make(lib, X).index_fill(1, lib.tensor([0, 2]), -1.0))
    same(lambda lib: lib.tensor([[1, 2], [3, 4]]).index_fill(0, lib.tensor(1), 9))
    same_grads(lambda lib, a, v: a.index_fill(0, lib.tensor([1]), v), X, np.array(2.0))
    order = np.argsort(X, axis=1)
    same(lambda lib: lib.take_along_dim(make(lib, X), lib.tensor(order), 1))
    same(lambda lib: lib.take_along_dim(make(lib, X), lib.tensor([[0, 2]]), 1))
    same(lambda lib: lib.take_along_dim(make(lib, X), lib.tensor([1, 7])))
    same_grads(
        lambda lib, a: lib.take_along_dim(a, lib.tensor([[0, 0], [1, 3], [2, 2]]), 1),
        X,
    )
    key = (np.array([0, 2, 0]), np.array([1, 1, 1]))

    def put(lib: Any, a: Any, v: Any, accumulate: bool) -> Any:
        return a.index_put(tuple(lib.tensor(k) for k in key), v, accumulate)

    values = np.array([1.0, 2.0, 3.0])
    same(lambda lib: put(lib, make(lib, X), make(lib, values), True))
    same(lambda lib: put(lib, make(lib, X), make(lib, np.array(5.0)), False))
    same_grads(lambda lib, a, v: put(lib, a, v, True), X, values)
    assert at.numel(at.zeros(2, 3)) == torch.numel(torch.zeros(2, 3))


# ---------------------------------------------------------------- the draws
def test_draws_dtypes_shapes_and_gradients() -> None:
    for lib in (at, torch):
        assert lib.normal(lib.zeros(2, 1), lib.ones(3)).shape == (2, 3)
    same(lambda lib: lib.normal(lib.zeros(2, 1), lib.ones(3)) * 0)
    same(lambda lib: lib.normal(0.0, 1.0, size=(2, 3)) * 0)
    same(lambda lib: lib.normal(lib.zeros(3, dtype=lib.float64), 2.0) * 0)
    same(lambda lib: lib.normal(1.0, lib.ones(2, dtype=lib.float64)) * 0)
    same(lambda lib: lib.bernoulli(lib.zeros(4, dtype=lib.float64)))
    same(lambda lib: lib.bernoulli(lib.ones(4)))
    same(lambda lib: lib.bernoulli(lib.zeros(3), 1.0))
    same(lambda lib: lib.poisson(lib.zeros(3)))
    same(lambda lib: lib.randint_like(lib.zeros(2, dtype=lib.float64), 1))
    same(lambda lib: lib.randint_like(lib.zeros(2, dtype=lib.int32), 4, 5))
    for shape_fn in (
        lambda lib, m: lib.normal(m, 1.0),
        lambda lib, m: lib.bernoulli(m.sigmoid()),
        lambda lib, m: lib.poisson(m.exp()),
    ):
        same_grads(shape_fn, np.array([0.5, 1.5]))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.normal(lib.zeros(2), -1.0),
        lambda lib: lib.normal(lib.zeros(2), lib.tensor([1.0, -1.0])),
        lambda lib: lib.normal(lib.zeros(2), lib.ones(3)),
        lambda lib: lib.bernoulli(lib.tensor([1.5])),
        lambda lib: lib.bernoulli(lib.tensor([1, 0])),
        lambda lib: lib.poisson(lib.tensor([-1.0])),
        lambda lib: lib.poisson(lib.tensor([1])),
        lambda lib: lib.zeros(2).bernoulli_(1.5),
        lambda lib: lib.zeros(2).exponential_(-1.0),
        lambda lib: lib.zeros(2).geometric_(0.0),
        lambda lib: lib.zeros(2).log_normal_(1.0, 0.0),
        lambda lib: lib.zeros(2).cauchy_(0.0, 0.0),
        lambda lib: lib.zeros(2).random_(5, 2),
        lambda lib: lib.zeros(2, dtype=lib.int64).exponential_(),
        lambda lib: lib.zeros(2, requires_grad=True).exponential_(),
    ],
)
def test_draw_errors(call: Callable[[Any], Any]) -> None:
    same(call)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_fills_keep_dtype_and_support(dtype: str) -> None:
    for lib in (at, torch):
        kind = getattr(lib, dtype)
        t = lib.zeros(1000, dtype=kind)
        if dtype == "bool":
            with pytest.raises(RuntimeError, match="out of bounds"):
                t.random_(3)
            with pytest.raises(RuntimeError, match="out of bounds"):
                t.random_(-1, 1)
        assert t.random_(2 if dtype == "bool" else 3).dtype == kind
        assert set(np.unique(np.asarray(t.tolist())).tolist()) <= {0, 1, 2}
        assert t.random_(1, 2).tolist() == [1] * 1000
        assert t.bernoulli_(0.5).dtype == kind
        if dtype.startswith("float"):
            assert float(t.exponential_().min()) >= 0
            assert float(t.log_normal_().min()) > 0
            assert t.cauchy_().dtype == kind
        if dtype != "bool":
            assert float(t.geometric_(0.5).min()) >= 1
