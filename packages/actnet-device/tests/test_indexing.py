"""Indexing and data movement against NumPy: take, gather, scatter, scatter_add,
index, index_update, concatenate, where, astype, full, arange and copy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _helpers import BFLOAT16, CPU, assert_identical, get, put, sample
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from actnet.device import get_device
from actnet.device._checks import index_shape

RNG_SEED = 20240611


def rng(offset: int = 0) -> np.random.Generator:
    return np.random.default_rng(RNG_SEED + offset)


def along_axis(shape: tuple[int, ...], index: Any, axis: int) -> tuple[Any, ...]:
    """The fancy index numpy.take_along_axis reads (x's extents of 1 broadcast)."""
    grids: list[Any] = list(np.ix_(*[np.arange(n) for n in shape]))
    grids[axis] = index
    return tuple(grids)


# ----------------------------------------------------------------------- take
@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.bool_, np.complex64])
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32, np.uint8, np.uint64])
def test_take_matches_numpy(dtype: Any, index_dtype: Any) -> None:
    x = sample(dtype, (3, 4, 5), rng())
    for axis in (0, 1, 2, -1):
        n = x.shape[axis]
        low = 0 if np.dtype(index_dtype).kind == "u" else -n
        idx = rng(axis).integers(low, n, 7).astype(index_dtype)
        assert_identical(
            CPU.take(put(x), put(idx), axis), np.take(x, idx.astype(np.int64), axis)
        )
    flat = x.ravel()
    idx = np.array([0, 59, -60, -1, 7, 7])
    assert_identical(CPU.take(put(flat), put(idx)), flat[idx])


def test_take_refusals_and_out() -> None:
    x = put(np.arange(6.0).reshape(2, 3))
    for bad in ([3], [-4], [0, 1, 99]):
        with pytest.raises(IndexError, match="out of bounds"):
            CPU.take(x, put(np.array(bad)), 1)
    with pytest.raises(TypeError, match="take: indices must have an integer dtype"):
        CPU.take(x, put(np.array([0.0])), 1)
    with pytest.raises(TypeError, match="integer dtype"):
        CPU.take(x, put(np.array([True])), 1)
    with pytest.raises(ValueError, match="indices must be 1-d"):
        CPU.take(x, put(np.zeros((1, 1), np.int64)), 1)
    with pytest.raises(ValueError, match="axis is required"):
        CPU.take(x, put(np.array([0])))
    out = CPU.alloc((2, 2), np.float64)
    assert CPU.take(x, put(np.array([2, 0])), 1, out=out) is out
    assert_identical(out, np.array([[2.0, 0.0], [5.0, 3.0]]))
    empty = CPU.take(x, put(np.zeros(0, np.int64)), 0)
    assert_identical(empty, np.zeros((0, 3)))


# --------------------------------------------------------------------- gather
def test_gather_matches_take_along_axis() -> None:
    x = sample(np.float64, (4, 5, 6), rng())
    for axis in (0, 1, 2, -2):
        shape = list(x.shape)
        shape[axis] = 7
        n = x.shape[axis]
        index = rng(axis).integers(-n, n, shape)
        assert_identical(
            CPU.gather(put(x), put(index), axis), np.take_along_axis(x, index, axis)
        )


def test_gather_broadcasts_extents_of_1_of_x() -> None:
    x = sample(np.int32, (1, 6), rng())
    index = rng(1).integers(0, 6, (3, 4))
    result = CPU.gather(put(x), put(index), 1)
    assert result.shape == (3, 4)
    assert_identical(result, np.take_along_axis(x, index, 1))


def test_gather_refusals() -> None:
    x = put(np.arange(12.0).reshape(3, 4))
    # The result has index's shape: x's other extents must broadcast to it.
    with pytest.raises(ValueError, match="gather"):
        CPU.gather(x, put(np.zeros((1, 2), np.int64)), 1)
    with pytest.raises(ValueError, match="gather"):
        CPU.gather(x, put(np.zeros((2, 2), np.int64)), 1)
    with pytest.raises(ValueError, match="index has 1 axes, x has 2"):
        CPU.gather(x, put(np.zeros(2, np.int64)), 1)
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        CPU.gather(x, put(np.full((3, 1), 4)), 1)
    with pytest.raises(IndexError, match="index -4 is out of bounds"):
        CPU.gather(x, put(np.full((1, 4), -4)), 0)
    with pytest.raises(TypeError, match="integer dtype"):
        CPU.gather(x, put(np.zeros((3, 1), np.float32)), 1)


# ---------------------------------------------------------- scatter, _add
def test_scatter_with_distinct_indices_matches_put_along_axis() -> None:
    x = sample(np.float32, (4, 6), rng())
    src = sample(np.float32, (4, 3), rng(1))
    index = np.stack([rng(i).permutation(6)[:3] for i in range(4)])
    want = x.copy()
    np.put_along_axis(want, index, src, 1)
    result = CPU.scatter(put(x), put(index), put(src), 1)
    assert_identical(result, want)
    index0 = np.stack([rng(i).permutation(4)[:2] for i in range(6)], axis=1)
    want = x.copy()
    np.put_along_axis(want, index0, 7.5, 0)
    assert_identical(CPU.scatter(put(x), put(index0), 7.5, 0), want)
    # x itself is unchanged: scatter returns a copy.
    buf = put(x)
    CPU.scatter(buf, put(index), put(src), 1)
    assert_identical(buf, x)


def test_scatter_of_repeated_indices_writes_one_of_the_values() -> None:
    x = np.zeros((1, 3), np.int64)
    result = get(
        CPU.scatter(put(x), put(np.array([[1, 1, 1]])), put(np.array([[5, 6, 7]])), 1)
    )
    assert result[0, 0] == result[0, 2] == 0
    assert result[0, 1] in (5, 6, 7)


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.complex64, np.uint8])
def test_scatter_add_accumulates_duplicates_like_add_at(dtype: Any) -> None:
    x = sample(dtype, (5, 4, 3), rng(), special=False, low=0, high=9)
    for axis in (0, 1, -1):
        shape = list(x.shape)
        shape[axis] = 8  # more indices than the extent: duplicates are certain
        n = x.shape[axis]
        index = rng(axis).integers(-n, n, shape)
        src = sample(dtype, tuple(shape), rng(axis + 9), special=False, low=0, high=9)
        want = x.copy()
        np.add.at(want, along_axis(x.shape, index, axis), src)
        assert_identical(CPU.scatter_add(put(x), put(index), put(src), axis), want)


def test_scatter_add_with_a_scalar_and_a_broadcast_src() -> None:
    x = np.zeros((3, 4))
    index = np.array([[0, 0, 3], [1, 1, 1], [2, 3, 2]])
    want = x.copy()
    np.add.at(want, along_axis(x.shape, index, 1), 1.0)
    assert_identical(CPU.scatter_add(put(x), put(index), 1.0, 1), want)
    src = np.array([[10.0, 20.0, 30.0]])  # broadcast along axis 0
    want = x.copy()
    np.add.at(want, along_axis(x.shape, index, 1), np.broadcast_to(src, (3, 3)))
    assert_identical(CPU.scatter_add(put(x), put(index), put(src), 1), want)


def test_scatter_and_scatter_add_agree_on_a_broadcast_x_extent() -> None:
    # x's extent 1 off the axis broadcasts against index's, as in gather: every
    # row of index writes into x's single row.
    x = np.zeros((1, 4))
    index = np.array([[0], [0], [3]])
    src = np.array([[1.0], [2.0], [4.0]])
    want = x.copy()
    np.add.at(want, along_axis(x.shape, index, 1), src)
    assert_identical(want, np.array([[3.0, 0.0, 0.0, 4.0]]))
    assert_identical(CPU.scatter_add(put(x), put(index), put(src), 1), want)
    result = get(CPU.scatter(put(x), put(index), put(src), 1))
    assert result[0, 3] == 4.0 and result[0, 0] in (1.0, 2.0)


@settings(max_examples=25)
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
    data=st.data(),
)
def test_scatter_add_random(shape: tuple[int, ...], data: Any) -> None:
    axis = data.draw(st.integers(0, len(shape) - 1))
    index_shape = list(shape)
    index_shape[axis] = data.draw(st.integers(0, 9))
    n = shape[axis]
    index = data.draw(
        hnp.arrays(np.int64, tuple(index_shape), elements=st.integers(-n, n - 1))
    )
    src = data.draw(
        hnp.arrays(np.int64, tuple(index_shape), elements=st.integers(-99, 99))
    )
    x = np.zeros(shape, np.int64)
    want = x.copy()
    np.add.at(want, along_axis(shape, index, axis), src)
    assert_identical(CPU.scatter_add(put(x), put(index), put(src), axis), want)


def test_scatter_refusals() -> None:
    x = put(np.zeros((3, 4)))
    index = put(np.zeros((3, 2), np.int64))
    for op in (CPU.scatter, CPU.scatter_add):
        name = op.__name__
        with pytest.raises(IndexError, match=f"{name}: index 4 is out of bounds"):
            op(x, put(np.full((3, 1), 4)), 1.0, 1)
        with pytest.raises(TypeError, match=f"{name}: src has dtype float32"):
            op(x, index, put(np.zeros((3, 2), np.float32)), 1)
        with pytest.raises(ValueError, match=name):
            op(x, index, put(np.zeros((3, 3))), 1)  # src does not fit index
        with pytest.raises(ValueError, match=name):
            op(x, put(np.zeros((2, 2), np.int64)), 1.0, 1)  # x's rows vs index's
        with pytest.raises(ValueError, match="index has 1 axes"):
            op(x, put(np.zeros(2, np.int64)), 1.0, 1)
        with pytest.raises(TypeError, match="a Python float cannot combine"):
            op(put(np.zeros((3, 4), np.int32)), index, 1.5, 1)
        big = put(np.zeros((3, 4)))
        with pytest.raises(ValueError, match="shares memory"):
            op(x, index, big[:, :2], 1, out=big)


# ---------------------------------------------------------------------- index
def index_cases(x: np.ndarray[Any, Any]) -> list[tuple[Any, ...]]:
    """Keys of host arrays (converted to Buffers by `to_key`)."""
    mask2 = x[0] > np.median(x[0])
    return [
        (1,),
        (-1, slice(None, None, -2)),
        (Ellipsis, 2),
        (None, slice(1, 3), Ellipsis, None),
        (1, 2, 3),
        (),
        (np.array([1, 0, 0, -1]),),
        (slice(None), np.array([[0, 1], [2, 2]]), np.array([3, -4])),
        (np.array([1, 0]), Ellipsis, np.array([3, 0])),
        (np.array([1, 0], np.uint8), slice(None), 1),
        (x > 0,),
        (slice(None), mask2),
        (np.array([True, False]), Ellipsis),
        (1, x[1, :, 0] > 0, np.array([0, 3, 1])[: int((x[1, :, 0] > 0).sum())]),
        (None, np.array([0, 1]), None, slice(0, 2)),
    ]


def to_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(put(k) if isinstance(k, np.ndarray) else k for k in key)


@pytest.mark.parametrize("case", range(15))
def test_index_matches_numpy_indexing(case: int) -> None:
    x = sample(np.float64, (2, 3, 4), rng())
    key = index_cases(x)[case]
    want = np.array(x[key])  # a copy, as the device's
    result = CPU.index(put(x), to_key(key))
    assert_identical(result, want)
    assert result.base is None and result.is_contiguous


def test_index_takes_a_single_item_without_a_tuple() -> None:
    x = np.arange(10)
    assert_identical(CPU.index(put(x), put(np.array([3, 3, -1]))), x[[3, 3, -1]])
    assert_identical(CPU.index(put(x), put(x % 3 == 0)), x[x % 3 == 0])
    assert_identical(CPU.index(put(x), slice(2, None, 3)), x[2::3])
    assert_identical(CPU.index(put(x), 4), np.array(x[4]))
    out = CPU.alloc((2,), x.dtype)
    assert CPU.index(put(x), put(np.array([1, 2])), out=out) is out
    assert_identical(out, x[[1, 2]])


def test_index_refusals() -> None:
    x = put(np.arange(12.0).reshape(3, 4))
    for key in ((put(np.array([3])),), (put(np.array([-4])),), (0, put(np.array([4])))):
        with pytest.raises(IndexError, match="out of bounds"):
            CPU.index(x, key)
    with pytest.raises(IndexError):
        CPU.index(x, (3,))
    with pytest.raises(IndexError):
        CPU.index(x, (0, 0, 0))
    with pytest.raises(IndexError):
        CPU.index(x, (put(np.ones(4, bool)),))  # mask of the wrong length
    # a mask's extent may be 0 whatever the axis's (the array API, NumPy)
    assert CPU.index(x, (put(np.ones((3, 0), bool)),)).shape == (0,)
    assert CPU.index(x, (put(np.ones((0,), bool)),)).shape == (0, 4)
    with pytest.raises(TypeError, match="index arrays must be integer or bool"):
        CPU.index(x, (put(np.array([0.0])),))
    for item in ([0, 1], 1.0, True, np.array([0]), "a"):
        with pytest.raises(TypeError, match="an index is an int, slice"):
            CPU.index(x, (item,))
    with pytest.raises(ValueError, match="cpu:1"):
        CPU.index(x, (put(np.array([0]), get_device("cpu:1")),))


# ---------------------------------------------------------------- index_update
UPDATE_UFUNCS = {
    "add": np.add,
    "multiply": np.multiply,
    "min": np.minimum,
    "max": np.maximum,
}


@pytest.mark.parametrize("mode", sorted(UPDATE_UFUNCS))
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.float16])
def test_index_update_accumulates_duplicates(mode: str, dtype: Any) -> None:
    x = sample(dtype, (5, 4), rng(), special=False, low=-3, high=3)
    keys: list[tuple[Any, ...]] = [
        (np.array([0, 0, 4, -1, 2, 0]),),
        (np.array([1, 1, 1]), np.array([0, 0, 3])),
        (slice(None), np.array([2, 2, -2])),
        (x > 0,),
        (np.array([3, 3]), Ellipsis),
    ]
    for key in keys:
        target = np.empty_like(x)[key].shape
        values = sample(dtype, target, rng(1), special=False, low=-3, high=3)
        want = x.copy()
        UPDATE_UFUNCS[mode].at(want, key, values)
        result = CPU.index_update(put(x), to_key(key), put(values), mode)
        assert_identical(result, want)
        # A scalar and a broadcast value too.
        want = x.copy()
        UPDATE_UFUNCS[mode].at(want, key, np.asarray(2, dtype))
        assert_identical(CPU.index_update(put(x), to_key(key), 2, mode), want)


def test_index_update_set_matches_numpy_assignment() -> None:
    x = sample(np.float32, (3, 4, 5), rng())
    cases: list[tuple[tuple[Any, ...], Any]] = [
        ((1,), np.float32(7.0)),
        ((slice(None), 2), sample(np.float32, (3, 5), rng(1))),
        ((Ellipsis, np.array([4, 0])), sample(np.float32, (1, 2), rng(2))),
        ((x > 0.5,), np.float32(-1.0)),
        ((np.array([2, 0]), slice(1, 3), np.array([1, -1])), np.arange(2, dtype="f4")),
        ((None, 0, slice(None, None, -1)), sample(np.float32, (5,), rng(3))),
    ]
    for key, values in cases:
        want = x.copy()
        want[key] = values
        v = put(values) if isinstance(values, np.ndarray) else float(values)
        buf = put(x)
        assert_identical(CPU.index_update(buf, to_key(key), v), want)
        assert_identical(buf, x)  # a copy is updated, not x


def test_index_update_refusals() -> None:
    x = put(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="mode must be set, add, multiply"):
        CPU.index_update(x, (0,), 1.0, "sub")  # type: ignore[arg-type]
    with pytest.raises(IndexError, match="out of bounds"):
        CPU.index_update(x, (put(np.array([0, 3])),), 1.0, "add")
    with pytest.raises(IndexError, match="out of bounds"):
        CPU.index_update(x, (slice(None), put(np.array([-5]))), 1.0)
    with pytest.raises(TypeError, match="values have dtype float32"):
        CPU.index_update(x, (0,), put(np.zeros(4, np.float32)))
    with pytest.raises(ValueError, match="does not broadcast"):
        CPU.index_update(x, (0,), put(np.zeros(3)))
    with pytest.raises(TypeError, match="cannot combine"):
        CPU.index_update(x, (0,), 1j)
    values = put(np.zeros(4))
    with pytest.raises(ValueError, match="shares memory"):
        CPU.index_update(x, (0,), values, out=values.broadcast_to(3, 4))


def test_index_update_out() -> None:
    x = np.arange(6.0).reshape(2, 3)
    out = CPU.alloc((2, 3), np.float64)
    assert CPU.index_update(put(x), (1, 2), -1.0, "add", out=out) is out
    want = x.copy()
    want[1, 2] -= 1
    assert_identical(out, want)
    # out may be x itself: an update in place.
    buf = put(x)
    CPU.index_update(buf, (put(np.array([0, 0])),), 10.0, "add", out=buf)
    want = x.copy()
    want[0] += 20
    assert_identical(buf, want)


# ---------------------------------------------------------------- concatenate
def test_concatenate_matches_numpy() -> None:
    parts = [sample(np.int16, (2, n, 3), rng(n)) for n in (1, 0, 4)]
    for axis, arrays in ((1, parts), (-2, parts), (0, [parts[0], parts[2][:, :1]])):
        want = np.concatenate(arrays, axis=axis)
        assert_identical(CPU.concatenate([put(a) for a in arrays], axis), want)
    one = sample(np.float32, (3, 2), rng())
    assert_identical(CPU.concatenate((put(one),)), one)
    views = [put(one).T, put(one).T[:, ::-1]]
    assert_identical(CPU.concatenate(views, 0), np.concatenate([one.T, one.T[:, ::-1]]))


def test_concatenate_refusals_and_out() -> None:
    a, b = put(np.zeros((2, 3))), put(np.ones((2, 4)))
    with pytest.raises(ValueError, match="non-empty list"):
        CPU.concatenate([])
    with pytest.raises(ValueError, match="non-empty list"):
        CPU.concatenate(a)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"buffers\[1\] has shape \(2, 4\)"):
        CPU.concatenate([a, b], 0)
    with pytest.raises(ValueError, match="buffers"):
        CPU.concatenate([a, put(np.zeros(3))], 0)
    with pytest.raises(TypeError, match=r"buffers\[1\] has dtype float32"):
        CPU.concatenate([a, put(np.zeros((2, 3), np.float32))])
    with pytest.raises(ValueError, match="0-d"):
        CPU.concatenate([put(np.float64(1.0))])
    with pytest.raises(IndexError, match="out of range"):
        CPU.concatenate([a, a], 2)
    with pytest.raises(ValueError, match=r"buffers\[1\] is on cpu:1"):
        CPU.concatenate([a, put(np.zeros((2, 3)), get_device("cpu:1"))])
    out = CPU.alloc((2, 7), np.float64)
    assert CPU.concatenate([a, b], 1, out=out) is out
    assert_identical(out, np.concatenate([np.zeros((2, 3)), np.ones((2, 4))], 1))
    with pytest.raises(ValueError, match="shares memory"):
        CPU.concatenate([out[:, :3], b], 1, out=out)


# ---------------------------------------------------------------------- where
def test_where_matches_numpy_with_broadcasting_and_scalars() -> None:
    r = rng()
    cond = r.random((3, 1, 4)) < 0.5
    a = sample(np.float32, (5, 4), r)
    b = sample(np.float32, (3, 5, 1), r)
    assert_identical(CPU.where(put(cond), put(a), put(b)), np.where(cond, a, b))
    assert_identical(
        CPU.where(put(cond), put(a), 0.5), np.where(cond, a, np.float32(0.5))
    )
    c = sample(np.int8, (4,), r)
    assert_identical(CPU.where(put(cond), -2, put(c)), np.where(cond, np.int8(-2), c))
    owner = put(np.zeros((4, 3), np.float32))
    CPU.where(put(cond[0, 0]), put(a[0]), put(a[1]), out=owner.T[1])
    want = np.zeros((4, 3), np.float32)
    want.T[1] = np.where(cond[0, 0], a[0], a[1])
    assert_identical(owner, want)


@settings(max_examples=60)
@given(
    dtype=st.sampled_from(
        [
            "bool",
            "int8",
            "uint16",
            "int32",
            "int64",
            "float16",
            "float32",
            "float64",
            "complex64",
            "complex128",
            "bfloat16",
        ]
    ),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
    seed=st.integers(0, 2**32 - 1),
)
def test_where_selects_the_exact_bits_of_every_dtype(
    dtype: str, shape: tuple[int, ...], seed: int
) -> None:
    """where copies elements bit for bit: NaN payloads, signed zeros, infinities
    (the NumPy backend selects on the elements' bits)."""
    r = np.random.default_rng(seed)
    dt = BFLOAT16 if dtype == "bfloat16" else np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    a = np.frombuffer(r.bytes(nbytes), dt).reshape(shape)  # any bit patterns
    b = np.frombuffer(r.bytes(nbytes), dt).reshape(shape)
    cond = r.random(shape) < 0.5
    got = get(CPU.where(put(cond), put(a), put(b)))
    want = np.where(cond, a, b)
    assert got.tobytes() == want.tobytes()
    if dt.kind in "fc" or dt == BFLOAT16:  # scalar zeros: +0 has a path of its own
        for zero in (0.0, -0.0):
            got = get(CPU.where(put(cond), put(a), zero))
            want = np.where(cond, a, np.array(zero, dt))
            assert got.tobytes() == want.tobytes()


def test_where_refusals() -> None:
    cond, a = put(np.array([True, False])), put(np.zeros(2))
    with pytest.raises(TypeError, match="cond must be bool"):
        CPU.where(put(np.array([1, 0])), a, a)
    with pytest.raises(TypeError, match="a and b have dtypes float64 and float32"):
        CPU.where(cond, a, put(np.zeros(2, np.float32)))
    with pytest.raises(TypeError, match="a or b must be a Buffer"):
        CPU.where(cond, 1.0, 2.0)
    with pytest.raises(TypeError, match="cannot combine"):
        CPU.where(cond, put(np.zeros(2, np.int32)), 0.5)
    with pytest.raises(ValueError, match="does not broadcast"):
        CPU.where(cond, put(np.zeros(3)), a)
    with pytest.raises(ValueError, match="shares memory"):
        CPU.where(cond, a, 0.0, out=a)


# --------------------------------------------------------------------- astype
CAST_DTYPES = [
    np.bool_,
    np.int8,
    np.uint8,
    np.int32,
    np.uint64,
    np.int64,
    np.float16,
    BFLOAT16,
    np.float32,
    np.float64,
    np.complex64,
    np.complex128,
]


@pytest.mark.parametrize("source", CAST_DTYPES, ids=str)
def test_astype_matches_numpy(source: Any) -> None:
    source = np.dtype(source)
    # Values every dtype holds exactly or rounds (no out-of-range float to int).
    x = sample(source, (4, 5), rng(), special=False, low=0, high=100)
    for target in CAST_DTYPES:
        target = np.dtype(target)
        if source.kind == "c" and target.kind != "c":
            with pytest.raises(TypeError, match="cannot cast complex"):
                CPU.astype(put(x), target)
            continue
        with np.errstate(all="ignore"):
            want = x.astype(target)
        assert_identical(CPU.astype(put(x), target), want)


def test_astype_is_quiet_and_takes_out() -> None:
    x = np.array([np.nan, np.inf, 1e10, -2.7])
    result = CPU.astype(put(x), np.int32)  # C casting; no RuntimeWarning
    assert get(result)[3] == -2
    with np.errstate(over="ignore"):
        assert_identical(CPU.astype(put(x), np.float16), x.astype(np.float16))
    out = CPU.alloc((4,), np.float32)
    assert CPU.astype(put(x), "float32", out=out) is out
    assert_identical(out, x.astype(np.float32))
    with pytest.raises(TypeError, match="not a device data type"):
        CPU.astype(put(x), np.str_)
    with pytest.raises(TypeError, match="out has dtype float32"):
        CPU.astype(put(x), np.float64, out=out)
    dev = get_device("no_float64")
    with pytest.raises(TypeError, match="does not support dtype float64"):
        dev.astype(put(x[:1].astype("f4"), dev), "f8")


# ----------------------------------------------------------------------- full
def test_full_matches_numpy() -> None:
    cases: list[tuple[Any, Any, Any]] = [
        ((2, 3), 1.5, np.float32),
        ((4,), -3, np.int8),
        (5, 7, np.uint64),
        ((), True, np.bool_),
        ((2, 0), 2.0, np.float64),
        ((3,), 1 - 2j, np.complex64),
        ((2, 2), 3, np.complex128),
        ((3,), 0.1, BFLOAT16),  # bfloat16 is for storage: it can be filled
        ((2,), 2, BFLOAT16),
    ]
    for shape, value, dtype in cases:
        want = np.full(shape, value, dtype)
        assert_identical(CPU.full(shape, value, dtype), want)
    out = CPU.alloc((2, 2), np.int64)
    assert CPU.full((2, 2), 9, np.int64, out=out) is out
    assert_identical(out, np.full((2, 2), 9))


def test_full_refusals() -> None:
    with pytest.raises(TypeError, match="a Python float cannot combine with a int32"):
        CPU.full((2,), 1.5, np.int32)
    with pytest.raises(TypeError, match="bool"):
        CPU.full((2,), True, np.float32)
    with pytest.raises(TypeError, match="complex"):
        CPU.full((2,), 1j, BFLOAT16)
    with pytest.raises(OverflowError):
        CPU.full((2,), 256, np.uint8)
    with pytest.raises(ValueError, match="negative"):
        CPU.full((2, -1), 0, np.int8)
    with pytest.raises(TypeError, match="shape must"):
        CPU.full((2.0,), 0, np.int8)
    with pytest.raises(ValueError, match="full: out has shape"):
        CPU.full((3,), 0, np.int8, out=CPU.alloc((2,), np.int8))


# --------------------------------------------------------------------- arange
def test_arange_has_the_array_api_length() -> None:
    cases: list[tuple[Any, Any, Any, Any]] = [
        (0, 10, 1, np.int64),
        (0, 10, 3, np.int32),
        (10, 0, -3, np.int16),
        (5, 5, 1, np.int64),
        (5, 0, 1, np.float32),
        (0, 1, 0.1, np.float64),
        (1, 2, 0.3, np.float32),
        (-1.5, 1.5, 0.5, np.float64),
        (2.5, -1, -0.75, np.float64),
        (0, 5, 2, np.uint8),
        (0, 3, 1, BFLOAT16),
    ]
    for start, stop, step, dtype in cases:
        result = get(CPU.arange(start, stop, step, dtype=dtype))
        n = max(0, math.ceil((stop - start) / step))
        assert result.shape == (n,)
        assert result.dtype == np.dtype(dtype)
        want = (start + np.arange(n, dtype=np.float64) * step).astype(dtype)
        assert_identical(result, want)


@settings(max_examples=40)
@given(
    start=st.integers(-1000, 1000),
    stop=st.integers(-1000, 1000),
    step=st.integers(-50, 50).filter(bool),
)
def test_arange_of_ints_matches_numpy(start: int, stop: int, step: int) -> None:
    assert_identical(
        CPU.arange(start, stop, step, dtype=np.int64),
        np.arange(start, stop, step, dtype=np.int64),
    )


def test_arange_refusals() -> None:
    with pytest.raises(ValueError, match="step must not be 0"):
        CPU.arange(0, 1, 0, dtype=np.int32)
    for bad in (True, np.int64(1), "1", None):
        with pytest.raises(TypeError, match="arange"):
            CPU.arange(0, bad, dtype=np.int32)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="arange: out has shape"):
        CPU.arange(0, 3, dtype=np.int32, out=CPU.alloc((4,), np.int32))
    out = CPU.alloc((3,), np.float32)
    assert CPU.arange(1, 2, 0.4, dtype=np.float32, out=out) is out
    assert_identical(out, np.array([1.0, 1.4, 1.8], np.float32))


# ----------------------------------------------------------------------- copy
def test_copy_of_a_strided_view_is_contiguous() -> None:
    x = sample(np.float64, (4, 6), rng())
    view = put(x).T[::-2]
    result = CPU.copy(view)
    assert result.is_contiguous and result.base is None
    assert_identical(result, x.T[::-2])


def test_copy_broadcasts_into_out() -> None:
    row = np.array([1, 2, 3], np.int16)
    out = CPU.alloc((2, 4, 3), np.int16)
    assert CPU.copy(put(row), out=out) is out
    assert_identical(out, np.broadcast_to(row, (2, 4, 3)))
    owner = put(np.zeros((3, 4)))
    CPU.copy(put(np.array([[5.0], [6.0]])), out=owner.T[1:3])
    want = np.zeros((3, 4))
    want.T[1:3] = [[5.0], [6.0]]
    assert_identical(owner, want)
    # An overlapping copy within one buffer is as if through a temporary.
    buf = put(np.arange(6.0))
    CPU.copy(buf[:-1], out=buf[1:])
    assert_identical(buf, np.array([0.0, 0, 1, 2, 3, 4]))


def test_copy_refusals() -> None:
    x = put(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"copy: shape \(2, 3\) does not broadcast"):
        CPU.copy(x, out=CPU.alloc((3, 3), np.float64))
    with pytest.raises(ValueError, match="does not broadcast"):
        CPU.copy(x, out=CPU.alloc((3,), np.float64))
    with pytest.raises(TypeError, match="copy: out has dtype float32"):
        CPU.copy(x, out=CPU.alloc((2, 3), np.float32))
    with pytest.raises(ValueError, match="cpu:1"):
        CPU.copy(x, out=get_device("cpu:1").alloc((2, 3), np.float64))


# ------------------------------------------------- index_shape against NumPy
def _key_item(draw: Any, shape: tuple[int, ...], axis: int) -> tuple[Any, int]:
    """One random index item at `axis` and the number of axes it consumes."""
    n = shape[axis] if axis < len(shape) else 1
    kind = draw(st.sampled_from(["int", "slice", "none", "ints", "mask", "mask0"]))
    if kind == "int":
        return draw(st.integers(-n - 1, n)), 1  # may be out of range
    if kind == "slice":
        bounds = st.none() | st.integers(-n - 2, n + 2)
        step = draw(st.none() | st.integers(-3, 3).filter(bool))
        return slice(draw(bounds), draw(bounds), step), 1
    if kind == "none":
        return None, 0
    if kind == "ints":
        index_shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
        return np.zeros(index_shape, np.int64), 1
    if kind == "mask0":
        return np.bool_(draw(st.booleans())) * np.ones((), bool), 0
    k = draw(st.integers(1, 2))
    mask_shape = tuple(shape[axis : axis + k]) or (1,)
    if draw(st.booleans()):  # sometimes the wrong shape
        mask_shape = (*mask_shape[:-1], mask_shape[-1] + 1)
    return draw(hnp.arrays(np.bool_, mask_shape)), len(mask_shape)


@st.composite
def shapes_and_keys(draw: Any) -> tuple[tuple[int, ...], tuple[Any, ...]]:
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    key: list[Any] = []
    axis = 0
    for _ in range(draw(st.integers(0, 4))):
        item, used = _key_item(draw, shape, axis)
        key.append(item)
        axis += used
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), Ellipsis)
    return shape, tuple(key)


@settings(max_examples=400, deadline=None)
@given(shapes_and_keys())
# an Ellipsis of no axes still separates the advanced indices around it
@example(case=((1, 0), (None, 0, Ellipsis, np.array([], dtype=bool))))
def test_index_shape_is_numpys(case: tuple[tuple[int, ...], tuple[Any, ...]]) -> None:
    """The shape computed from the key equals the shape of NumPy's own result,
    and the keys NumPy refuses with IndexError are refused too."""
    shape, key = case
    x = np.zeros(shape, np.int8)
    int_arrays = any(isinstance(i, np.ndarray) and i.dtype.kind == "i" for i in key)
    try:
        expected = x[key].shape
    except IndexError as exc:
        # Integer arrays' values are _check_key_bounds's to check, not index_shape's.
        assume(not (int_arrays and "out of bounds" in str(exc)))
        with pytest.raises(IndexError):
            index_shape(np, shape, key)
        return
    assert index_shape(np, shape, key) == expected
