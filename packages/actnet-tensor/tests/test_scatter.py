"""The scatter family, index_fill, take_along_dim, index_put and numel against
NumPy loops (values) and finite differences (gradients)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import actnet.tensor as at

REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


def reference(
    x: np.ndarray, dim: int, index: np.ndarray, src: np.ndarray, reduce: str,
    include_self: bool = True,
) -> np.ndarray:  # fmt: skip
    """scatter_reduce by a loop over index's positions."""
    groups: dict[tuple[int, ...], list[Any]] = {}
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = int(index[pos])
        groups.setdefault(tuple(target), []).append(src[pos])
    out = x.copy()
    for target, values in groups.items():
        items = ([x[target]] if include_self else []) + values
        if reduce == "sum":
            out[target] = np.sum(items)
        elif reduce == "prod":
            out[target] = np.prod(items)
        elif reduce == "mean":
            total = np.sum(items)
            if x.dtype.kind in "iu":
                out[target] = total // len(items)
            else:
                out[target] = total / len(items)
        elif reduce == "amax":
            out[target] = np.max(items)
        else:
            out[target] = np.min(items)
    return out


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.permutation(12).reshape(3, 4).astype(np.float64) + 0.5
    index = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])
    src = rng.permutation(np.arange(20, 30)).reshape(2, 5).astype(np.float64) / 3
    return x, index, src


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_values(reduce: str, include_self: bool) -> None:
    x, index, src = data()
    got = at.scatter_reduce(
        at.tensor(x), 0, at.tensor(index), at.tensor(src), reduce,
        include_self=include_self,
    )  # fmt: skip
    want = reference(x, 0, index, src, reduce, include_self)
    np.testing.assert_allclose(np.asarray(got.tolist()), want, rtol=1e-12)


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradients(reduce: str, include_self: bool) -> None:
    x, index, src = data()
    a = at.tensor(x, requires_grad=True)
    s = at.tensor(src, requires_grad=True)
    idx = at.tensor(index)

    def fn(a: at.Tensor, s: at.Tensor) -> at.Tensor:
        return at.scatter_reduce(a, 0, idx, s, reduce, include_self=include_self)

    assert at.gradcheck(fn, (a, s))


def test_scatter_prod_gradient_with_zeros() -> None:
    x = np.array([0.0, 2.0, 3.0, 0.0])
    src = np.array([4.0, 0.0, 5.0, 0.0, 0.5])
    index = np.array([0, 1, 1, 3, 3])
    a = at.tensor(x, requires_grad=True)
    s = at.tensor(src, requires_grad=True)
    idx = at.tensor(index)
    assert at.gradcheck(lambda a, s: at.scatter_reduce(a, 0, idx, s, "prod"), (a, s))


def test_integer_mean_floors() -> None:
    out = at.scatter_reduce(
        at.zeros(3, dtype=at.int64), 0, at.tensor([0, 0]), at.tensor([3, 4]), "mean"
    )
    assert out.tolist() == [2, 0, 0]


def test_scatter_src_value_and_gradients() -> None:
    x, index, src = data()
    got = at.scatter(at.tensor(x), 1, at.tensor(index[:, :2]), at.tensor(src))
    want = x.copy()
    for i in range(2):
        for j in range(2):
            want[i, index[i, j]] = src[i, j]
    np.testing.assert_array_equal(np.asarray(got.tolist()), want)
    filled = at.tensor(x).scatter(0, at.tensor(index), -1.0)
    want = x.copy()
    for i, j in np.ndindex(*index.shape):
        want[index[i, j], j] = -1.0
    np.testing.assert_array_equal(np.asarray(filled.tolist()), want)
    a = at.tensor(x, requires_grad=True)
    s = at.tensor(src, requires_grad=True)
    idx = at.tensor([[0, 1], [2, 3]])  # no repeats in a row: well defined
    assert at.gradcheck(lambda a, s: at.scatter(a, 1, idx, s), (a, s))


def test_scatter_add_and_in_place_methods() -> None:
    x, index, src = data()
    want = reference(x, 0, index, src, "sum")
    got = at.scatter_add(at.tensor(x), 0, at.tensor(index), at.tensor(src))
    np.testing.assert_allclose(np.asarray(got.tolist()), want)
    t = at.tensor(x)
    assert t.scatter_add_(0, at.tensor(index), at.tensor(src)) is t
    np.testing.assert_allclose(np.asarray(t.tolist()), want)
    t = at.tensor(x)
    t.scatter_reduce_(0, at.tensor(index), at.tensor(src), "amax", include_self=False)
    want = reference(x, 0, index, src, "amax", False)
    np.testing.assert_allclose(np.asarray(t.tolist()), want)
    t = at.zeros(3)
    t.scatter_(0, at.tensor([2]), at.tensor([5.0]))
    assert t.tolist() == [0.0, 0.0, 5.0]


def test_in_place_scatter_records_history() -> None:
    a = at.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = at.tensor([10.0], requires_grad=True)
    b = a * 2
    b.scatter_add_(0, at.tensor([1]), s)
    (b * at.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert a.grad is not None and s.grad is not None
    assert a.grad.tolist() == [2.0, 4.0, 6.0]
    assert s.grad.tolist() == [2.0]


def test_scatter_errors() -> None:
    x = at.zeros(3, 4)
    with pytest.raises(RuntimeError, match="int32/int64 for index"):
        x.scatter(0, at.tensor([[0.0]]), at.ones(1, 1))
    with pytest.raises(RuntimeError, match="out of bounds for dimension 0"):
        x.scatter(0, at.tensor([[5]]), at.ones(1, 1))
    with pytest.raises(RuntimeError, match=r"self\.dtype to be equal to src\.dtype"):
        x.scatter(0, at.tensor([[0]]), at.ones(1, 1, dtype=at.float64))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.scatter(0, at.tensor([0]), at.ones(1))
    with pytest.raises(RuntimeError, match="sum, prod, mean, amax or amin"):
        x.scatter_reduce(0, at.tensor([[0]]), at.ones(1, 1), "max")
    with pytest.raises(RuntimeError, match="no larger than self"):
        x.scatter(0, at.zeros(5, 5, dtype=at.int64), at.ones(5, 5))


def test_index_fill() -> None:
    x = np.arange(12.0).reshape(3, 4)
    got = at.tensor(x).index_fill(1, at.tensor([0, 2]), -1.0)
    want = x.copy()
    want[:, [0, 2]] = -1.0
    np.testing.assert_array_equal(np.asarray(got.tolist()), want)
    a = at.tensor(x, requires_grad=True)
    v = at.tensor(2.0, dtype=at.float64, requires_grad=True)
    idx = at.tensor([1])
    assert at.gradcheck(lambda a, v: at.index_fill(a, 0, idx, v), (a, v))
    t = at.zeros(2, 2)
    assert t.index_fill_(0, at.tensor([1]), 3.0) is t
    assert t.tolist() == [[0.0, 0.0], [3.0, 3.0]]
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        at.zeros(2).index_fill(0, at.tensor([0]), at.ones(2))


def test_take_along_dim() -> None:
    x = np.random.default_rng(1).standard_normal((3, 4))
    order = np.argsort(x, axis=1)
    got = at.take_along_dim(at.tensor(x), at.tensor(order), 1)
    np.testing.assert_array_equal(
        np.asarray(got.tolist()), np.take_along_axis(x, order, 1)
    )
    flat = at.take_along_dim(at.tensor(x), at.tensor([0, 5, 11]))
    assert flat.tolist() == x.reshape(-1)[[0, 5, 11]].tolist()
    broadcast = at.take_along_dim(at.tensor(x), at.tensor([[0, 1]]), 1)
    assert broadcast.shape == (3, 2)
    a = at.tensor(x, requires_grad=True)
    idx = at.tensor([[0, 0], [3, 1], [2, 2]])
    assert at.gradcheck(lambda a: at.take_along_dim(a, idx, 1), (a,))
    with pytest.raises(RuntimeError, match="should be Long but got Float"):
        at.take_along_dim(at.tensor(x), at.tensor([[0.0]]), 1)


def test_index_put() -> None:
    out = at.index_put(
        at.zeros(3), (at.tensor([0, 0, 2]),), at.tensor([1.0, 2.0, 3.0]),
        accumulate=True,
    )  # fmt: skip
    assert out.tolist() == [3.0, 0.0, 3.0]
    out = at.zeros(2, 2).index_put((at.tensor([1]), at.tensor([0])), at.tensor(5.0))
    assert out.tolist() == [[0.0, 0.0], [5.0, 0.0]]
    t = at.zeros(3)
    t.index_put_((at.tensor([1, 1]),), at.tensor([1.0, 1.0]), accumulate=True)
    assert t.tolist() == [0.0, 2.0, 0.0]
    a = at.tensor(np.arange(4.0), requires_grad=True)
    v = at.tensor(np.array([1.0, 2.0]), requires_grad=True)
    idx = (at.tensor([3, 3]),)
    assert at.gradcheck(lambda a, v: at.index_put(a, idx, v, True), (a, v))
    with pytest.raises(RuntimeError, match="dtypes match, got Float"):
        at.zeros(3).index_put((at.tensor([0]),), at.tensor([1.0], dtype=at.float64))


def test_numel() -> None:
    assert at.numel(at.zeros(2, 3)) == 6
    assert at.numel(at.tensor(1.0)) == 1
