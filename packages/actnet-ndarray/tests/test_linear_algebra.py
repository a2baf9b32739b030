"""Linear algebra of the main namespace: matmul, matrix_transpose, tensordot and
vecdot; semantics against array_api_strict, values against NumPy."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from _oracle import STANDARD, check, host, is_view_of, sample
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp

NUMERIC = [d for d in STANDARD if d != "bool"]
# operand dtypes: mostly numeric pairs (some of mixed kinds, which the table
# refuses), and bool now and then
dtypes = st.sampled_from(NUMERIC) | st.just("bool")


def promotable(d1: str, d2: str) -> bool:
    """Whether the standard's table promotes the pair (array_api_strict's matmul,
    tensordot and vecdot leave that to NumPy, which promotes any pair)."""
    try:
        xp.result_type(d1, d2)
    except TypeError:
        return False
    return "bool" not in (d1, d2)


def refuses_the_pair(name: str, a: Any, b: Any, **kwargs: Any) -> bool:
    """For a pair the table refuses, check that `name` raises TypeError."""
    if promotable(str(a.dtype), str(b.dtype)):
        return False
    with pytest.raises(TypeError, match=r"numeric dtype|do not promote"):
        getattr(xp, name)(xp.asarray(a), xp.asarray(b), **kwargs)
    return True


@settings(max_examples=120)
@given(data=st.data())
def test_matmul(data: st.DataObject) -> None:
    if data.draw(st.integers(0, 9)):  # mostly shapes that align
        (s1, s2), _ = data.draw(
            hnp.mutually_broadcastable_shapes(
                signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4, max_side=3
            )
        )
    else:
        s1 = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
        s2 = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
    d1 = data.draw(dtypes)
    d2 = data.draw(st.sampled_from([d1, d1, *NUMERIC]))
    a, b = sample(d1, s1, seed=1), sample(d2, s2, seed=2)
    if not refuses_the_pair("matmul", a, b):
        check("matmul", np.matmul, a, b)


def test_matmul_errors() -> None:
    with pytest.raises(ValueError, match="at least one axis"):
        xp.matmul(xp.asarray(2.0), xp.ones(2))
    with pytest.raises(ValueError, match="do not align"):
        xp.matmul(xp.ones((2, 3)), xp.ones((2, 3)))
    with pytest.raises(TypeError, match="x1 must have a numeric dtype"):
        xp.matmul(xp.asarray([True]), xp.asarray([True]))
    with pytest.raises(TypeError, match="do not promote"):
        xp.matmul(xp.ones(2), xp.asarray([1, 2]))
    with pytest.raises(ValueError, match="cpu:1"):
        xp.matmul(xp.ones(2), xp.ones(2, device="cpu:1"))
    promoted = xp.matmul(xp.ones((2, 2), dtype=xp.int8), xp.ones(2, dtype=xp.int16))
    assert promoted.dtype == xp.int16


@settings(max_examples=30)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=3))
def test_matrix_transpose(shape: tuple[int, ...]) -> None:
    a = sample("int32", shape)
    ours = check("matrix_transpose", lambda v: np.swapaxes(v, -1, -2), a)
    if ours is not None:
        x = xp.asarray(a)
        assert is_view_of(xp.matrix_transpose(x), x)


def contracted_pair(
    data: st.DataObject,
) -> tuple[tuple[int, ...], tuple[int, ...], Any]:
    """Shapes of x1 and x2 and tensordot's `axes` for them: an int, or two lists
    (some negative), and now and then extents that differ."""
    count = data.draw(st.integers(0, 3))
    inner = data.draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
    free1 = data.draw(st.lists(st.integers(1, 3), max_size=2))
    free2 = data.draw(st.lists(st.integers(1, 3), max_size=2))
    if data.draw(st.booleans()):
        return (*free1, *inner), (*inner, *free2), count
    # the contracted axes anywhere, in any order, named in any sign
    order1 = data.draw(st.permutations(range(len(free1) + count)))
    order2 = data.draw(st.permutations(range(len(free2) + count)))
    dims1 = [*inner, *free1]
    dims2 = [*inner, *free2]
    if count and not data.draw(st.integers(0, 5)):
        dims2[0] += 1  # extents that differ: an error
    s1 = tuple(dims1[i] for i in order1)
    s2 = tuple(dims2[i] for i in order2)
    axes1 = [order1.index(i) - len(s1) * data.draw(st.booleans()) for i in range(count)]
    axes2 = [order2.index(i) - len(s2) * data.draw(st.booleans()) for i in range(count)]
    return s1, s2, (axes1, axes2)


@settings(max_examples=120)
@given(data=st.data())
def test_tensordot(data: st.DataObject) -> None:
    s1, s2, axes = contracted_pair(data)
    d1 = data.draw(dtypes)
    d2 = data.draw(st.sampled_from([d1, d1, *NUMERIC]))
    a, b = sample(d1, s1, seed=1), sample(d2, s2, seed=2)
    if not refuses_the_pair("tensordot", a, b, axes=axes):
        check(
            "tensordot",
            lambda v, w, axes: np.tensordot(v, w, axes=axes),
            a,
            b,
            axes=axes,
        )


def test_tensordot_errors() -> None:
    a = xp.ones((2, 3))
    with pytest.raises(ValueError, match="at most the number of axes"):
        xp.tensordot(a, a, axes=3)
    with pytest.raises(ValueError, match="must have equal extents"):
        xp.tensordot(a, a, axes=1)
    with pytest.raises(ValueError, match="name 1 axes of x1 but 2 of x2"):
        xp.tensordot(a, a, axes=([0], [0, 1]))
    with pytest.raises(TypeError, match="pair of sequences"):
        xp.tensordot(a, a, axes="ij")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="repeats an axis"):
        xp.tensordot(a, a, axes=([0, 0], [0, 1]))
    # a non-contiguous operand: contracting a transposed view
    t = xp.reshape(xp.arange(6.0), (2, 3)).mT
    np.testing.assert_array_equal(
        host(xp.tensordot(t, t, axes=([0], [0]))),
        np.tensordot(host(t), host(t), axes=([0], [0])),
    )


@settings(max_examples=120)
@given(data=st.data())
def test_vecdot(data: st.DataObject) -> None:
    (b1, b2), _ = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)
    )
    n = data.draw(st.integers(0, 4))
    low = min(len(b1), len(b2)) + 1  # the vector axis counts as one of each
    where = data.draw(st.integers(1, low))  # the vectors' axis, from the end
    s1 = (*b1[: len(b1) + 1 - where], n, *b1[len(b1) + 1 - where :])
    s2 = (*b2[: len(b2) + 1 - where], n, *b2[len(b2) + 1 - where :])
    d1 = data.draw(dtypes)
    d2 = data.draw(st.sampled_from([d1, d1, *NUMERIC]))
    a, b = sample(d1, s1, seed=1), sample(d2, s2, seed=2)
    axis = data.draw(st.sampled_from([-where, -where, -low - 1, 0]))
    if refuses_the_pair("vecdot", a, b, axis=axis):
        return
    if axis < -low:  # array_api_strict accepts axes of the broadcast shape
        with pytest.raises(ValueError, match="axis must be in"):
            xp.vecdot(xp.asarray(a), xp.asarray(b), axis=axis)
        return

    def expected(v: Any, w: Any, axis: int) -> Any:
        return np.sum(np.conj(v) * w, axis=axis)

    check("vecdot", expected, a, b, axis=axis)


def test_vecdot_conjugates_x1_and_checks_the_vector_axis() -> None:
    z = xp.asarray([1j, 2.0])
    assert complex(xp.vecdot(z, z)) == 5.0  # |1j|^2 + |2|^2
    assert complex(xp.vecdot(z, xp.asarray([1j, 1.0]))) == 3.0
    with pytest.raises(ValueError, match="equal extents along axis -1"):
        xp.vecdot(xp.ones((2, 3)), xp.ones((2, 1)))  # the vector axis never broadcasts
    with pytest.raises(ValueError, match="axis must be in"):
        xp.vecdot(xp.ones(3), xp.ones(3), axis=0)
    with pytest.raises(ValueError, match="axis must be in"):
        xp.vecdot(xp.asarray(1.0), xp.asarray(1.0))


def test_signatures_follow_the_standard() -> None:
    positional = inspect.Parameter.POSITIONAL_ONLY
    for fn in (xp.matmul, xp.matrix_transpose):
        kinds = [p.kind for p in inspect.signature(fn).parameters.values()]
        assert all(kind is positional for kind in kinds)
    for fn, keyword in ((xp.tensordot, "axes"), (xp.vecdot, "axis")):
        params = inspect.signature(fn).parameters
        assert params[keyword].kind is inspect.Parameter.KEYWORD_ONLY
