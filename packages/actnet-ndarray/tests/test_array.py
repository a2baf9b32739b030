"""NDArray itself: construction, immutability, operators and promotion, indexing,
functional updates, conversions, DLPack. array_api_strict is the oracle for
semantics (shapes, dtypes, promotion, errors), NumPy for values."""

from __future__ import annotations

import gc
import itertools
import operator
import pickle
from typing import Any

import array_api_strict as strict
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp
from actnet.device import get_device

STANDARD = [
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
]  # fmt: skip


def host(x: xp.NDArray) -> np.ndarray[Any, Any]:
    return np.asarray(x)


def sample(
    dtype: str, shape: tuple[int, ...] = (3, 4), seed: int = 0
) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    d = np.dtype(dtype)
    if d.kind == "b":
        return rng.random(shape) < 0.5
    if d.kind in "iu":
        return rng.integers(1, 9, shape).astype(d)
    if d.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(d)
    return rng.standard_normal(shape).astype(d)


# ---------------------------------------------------------------- construction
def test_the_class_cannot_be_called() -> None:
    with pytest.raises(TypeError, match="asarray"):
        xp.NDArray()
    with pytest.raises(TypeError, match="asarray"):
        xp.NDArray(np.zeros(3))


def test_namespace_and_version() -> None:
    x = xp.asarray([1.0])
    assert x.__array_namespace__() is xp
    assert xp.__array_api_version__ == "2024.12"
    assert x.__array_namespace__(api_version="2023.12") is xp
    with pytest.raises(ValueError, match="not supported"):
        x.__array_namespace__(api_version="2021.12")


@pytest.mark.parametrize(
    ("obj", "dtype"),
    [(1.5, "float32"), (2, "int64"), (True, "bool"), (1j, "complex64"),
     ([1, 2.5], "float32"), ([[True, False]], "bool"), ([1, 2], "int64"),
     ([], "float32")],
)  # fmt: skip
def test_asarray_default_dtypes(obj: Any, dtype: str) -> None:
    assert xp.asarray(obj).dtype == np.dtype(dtype)
    np.testing.assert_array_equal(host(xp.asarray(obj)), np.asarray(obj, dtype=dtype))


def test_asarray_keeps_numpy_dtypes_and_copies() -> None:
    a = np.arange(6.0).reshape(2, 3)
    x = xp.asarray(a)
    a[0, 0] = 99.0
    assert x.dtype == xp.float64 and host(x)[0, 0] == 0.0


def test_asarray_copy_semantics() -> None:
    x = xp.asarray([1.0, 2.0])
    assert xp.asarray(x) is x
    y = xp.asarray(x, copy=True)
    assert y is not x and y.buffer.base is None and y.buffer is not x.buffer
    with pytest.raises(ValueError, match="copy=False"):
        xp.asarray(np.zeros(2), copy=False)
    with pytest.raises(ValueError, match="copy=False"):
        xp.asarray(x, dtype=xp.float64, copy=False)
    assert xp.asarray(x, dtype=xp.float64).dtype == xp.float64


@pytest.mark.parametrize(
    ("obj", "dtype", "error"),
    [([1.5], "int32", TypeError), ([300], "int8", OverflowError),
     ([[1, 2], [3]], None, ValueError), (["a"], None, TypeError),
     ([1j], "float32", TypeError), (object(), None, TypeError)],
)  # fmt: skip
def test_asarray_refuses_what_it_cannot_hold(obj: Any, dtype: Any, error: type) -> None:
    with pytest.raises(error):
        xp.asarray(obj, dtype=dtype)


def test_device_argument_takes_names_and_devices() -> None:
    one = xp.asarray([1, 2], device="cpu:1")
    assert one.device is get_device("cpu:1")
    assert xp.zeros(3, device=get_device("cpu:1")).device.name == "cpu:1"
    assert one.to_device("cpu").device.name == "cpu:0"
    with pytest.raises(ValueError, match="cpu:0 and cpu:1"):
        _ = xp.asarray([1, 2]) + one


# ------------------------------------------------- writes (test_value_semantics)
def test_items_cannot_be_deleted() -> None:
    x = xp.asarray([1, 2, 3])
    with pytest.raises(TypeError, match="cannot be deleted"):
        del x[0]
    assert host(x).tolist() == [1, 2, 3]


@pytest.mark.parametrize("mode", ["set", "add", "multiply", "min", "max"])
def test_at_methods_return_new_arrays_and_keep_the_original(mode: str) -> None:
    base = np.array([5, 1, 7, 3], np.int64)
    x = xp.asarray(base)
    view = x[1:]
    idx = xp.asarray([0, 2, 0])
    result = getattr(x.at[idx], mode)(xp.asarray([2, 4, 6]))
    expected = base.copy()
    if mode == "set":
        expected[[0, 2, 0]] = [2, 4, 6]
        assert host(result)[2] == 4 and host(result)[0] in (2, 6)
    else:
        ufunc = {
            "add": np.add,
            "multiply": np.multiply,
            "min": np.minimum,
            "max": np.maximum,
        }
        ufunc[mode].at(expected, [0, 2, 0], [2, 4, 6])  # repeated 0 accumulates
        np.testing.assert_array_equal(host(result), expected)
    np.testing.assert_array_equal(host(x), base)
    np.testing.assert_array_equal(host(view), base[1:])


def test_at_with_slices_masks_and_scalars() -> None:
    a = np.arange(12).reshape(3, 4)
    x = xp.asarray(a)
    expected = a.copy()
    expected[1:, ::2] = 0
    np.testing.assert_array_equal(host(x.at[1:, ::2].set(0)), expected)
    mask = x > 5
    np.testing.assert_array_equal(
        host(x.at[mask].add(100)), np.where(host(mask), host(x) + 100, host(x))
    )
    assert host(x.at[0, 0].get()) == 0


def test_at_refuses_a_lossy_dtype() -> None:
    x = xp.asarray([1, 2], dtype=xp.int8)
    with pytest.raises(TypeError, match="do not promote"):
        x.at[0].set(xp.asarray([1.5]))
    assert host(x.at[0].set(xp.asarray(9, dtype=xp.int8))).tolist() == [9, 2]


def test_views_share_memory_and_nothing_public_mutates() -> None:
    x = xp.asarray(np.arange(6.0).reshape(2, 3))
    t = x.mT
    s = x[:, 1]
    assert t.buffer.base is x.buffer and s.buffer.base is x.buffer
    before = [host(a).copy() for a in (x, t, s)]
    _ = x + 1, x.at[0].set(5.0), -x, abs(x), x @ x.mT
    for a, b in zip((x, t, s), before, strict=True):
        np.testing.assert_array_equal(host(a), b)


def test_arrays_are_unhashable_and_pickle_by_value() -> None:
    x = xp.asarray([1.0, 2.0])
    with pytest.raises(TypeError):
        hash(x)
    y = pickle.loads(pickle.dumps(x))
    assert y is not x and host(y).tolist() == [1.0, 2.0] and y.dtype == x.dtype


# ----------------------------------------------------------- operators, promotion
BINARY_OPERATORS = [
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
    operator.mod, operator.pow, operator.and_, operator.or_, operator.xor,
    operator.lshift, operator.rshift, operator.lt, operator.le, operator.gt,
    operator.ge, operator.eq, operator.ne,
]  # fmt: skip


def _strict(dtype: str) -> Any:
    return getattr(strict, dtype)


def _name(strict_dtype: Any) -> np.dtype[Any]:
    return np.dtype(str(strict_dtype).removeprefix("array_api_strict."))


@pytest.mark.parametrize(("left", "right"), list(itertools.product(STANDARD, repeat=2)))
def test_promotion_table_matches_array_api_strict(left: str, right: str) -> None:
    a, b = xp.asarray(sample(left, (2,))), xp.asarray(sample(right, (2,)))
    assert xp.can_cast(a.dtype, b.dtype) == strict.can_cast(
        _strict(left), _strict(right)
    )
    try:
        expected = _name(strict.result_type(_strict(left), _strict(right)))
    except TypeError:
        with pytest.raises(TypeError, match="do not promote"):
            _ = a == b
        return
    assert (a == b).dtype == xp.bool
    result = (a & b) if left == right == "bool" else (a * b)
    assert result.dtype == expected


@settings(max_examples=60)
@given(
    dtype=st.sampled_from(["int8", "int32", "uint8", "int64", "float32", "float64"]),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
    op=st.sampled_from(BINARY_OPERATORS),
    data=st.data(),
)
def test_binary_operators_match_numpy_and_strict(
    dtype: str, shapes: Any, op: Any, data: st.DataObject
) -> None:
    (s1, s2), _ = shapes
    d = np.dtype(dtype)
    if d.kind == "f" and op in (operator.and_, operator.or_, operator.xor,
                                operator.lshift, operator.rshift):  # fmt: skip
        return
    if d.kind in "iu" and op is operator.truediv:
        return
    elements = (
        st.integers(1, 5)
        if d.kind in "iu"
        else st.floats(-4, 4, width=32).filter(lambda v: abs(v) > 0.1)
    )
    a = data.draw(hnp.arrays(d, s1, elements=elements))
    b = data.draw(hnp.arrays(d, s2, elements=elements))
    got = op(xp.asarray(a), xp.asarray(b))
    with np.errstate(all="ignore"):  # array_api_strict computes with NumPy's warnings
        want_strict = op(strict.asarray(a), strict.asarray(b))
    assert got.shape == want_strict.shape
    assert got.dtype == np.dtype(
        str(want_strict.dtype).removeprefix("array_api_strict.")
    )
    with np.errstate(all="ignore"):
        expected = op(a, b)
    np.testing.assert_allclose(host(got), expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("dtype", "scalar", "ok"),
    [("float32", 2, True), ("float32", 2.5, True), ("float32", 1j, "complex64"),
     ("int16", 3, True), ("int16", 2.5, False), ("bool", True, True),
     ("bool", 1, False),
     ("complex64", 2.5, True), ("uint8", -1, False)],
)  # fmt: skip
def test_python_scalars_are_weak(dtype: str, scalar: Any, ok: bool | str) -> None:
    x = xp.asarray(sample(dtype, (3,)))
    op = operator.and_ if dtype == "bool" else operator.add
    if isinstance(ok, str):  # a complex scalar makes a real array complex (2024.12)
        assert op(x, scalar).dtype == np.dtype(ok) == op(scalar, x).dtype
    elif ok:
        assert op(x, scalar).dtype == x.dtype
        assert op(scalar, x).dtype == x.dtype
    else:
        with pytest.raises((TypeError, OverflowError)):
            op(x, scalar)


def test_unary_operators_and_matmul() -> None:
    a = sample("float64", (3, 4))
    x = xp.asarray(a)
    np.testing.assert_array_equal(host(-x), -a)
    np.testing.assert_array_equal(host(+x), a)
    np.testing.assert_array_equal(host(abs(x)), np.abs(a))
    np.testing.assert_allclose(host(x @ x.mT), a @ a.T)
    i = xp.asarray(np.array([1, 2], np.int8))
    np.testing.assert_array_equal(host(~i), ~np.array([1, 2], np.int8))
    with pytest.raises(TypeError):
        _ = x @ xp.asarray(np.ones((4, 2), np.int32))
    with pytest.raises(ValueError, match=r"x\.T is for 2-d"):
        _ = xp.asarray([1, 2]).T


def test_comparison_with_non_arrays_is_not_implemented() -> None:
    x = xp.asarray([1, 2])
    assert (x == None) is False  # Python falls back to identity
    assert (x != "a") is True


# ------------------------------------------------------------------- indexing
@settings(max_examples=60)
@given(data=st.data())
def test_basic_indexing_matches_numpy_and_is_a_view(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    key = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x = xp.asarray(a)
    got = x[key]
    np.testing.assert_array_equal(host(got), a[key])
    assert got.buffer.base is x.buffer


def test_integer_array_and_boolean_mask_indexing() -> None:
    a = np.arange(20).reshape(4, 5)
    x = xp.asarray(a)
    rows = xp.asarray([3, 0, -1])
    np.testing.assert_array_equal(host(x[rows]), a[[3, 0, -1]])
    np.testing.assert_array_equal(host(x[rows, 1:3]), a[[3, 0, -1], 1:3])
    np.testing.assert_array_equal(host(x[x % 3 == 0]), a[a % 3 == 0])
    np.testing.assert_array_equal(host(x[True]), a[True])
    with pytest.raises(IndexError):
        x[xp.asarray([4])]
    with pytest.raises(IndexError):
        x[9]
    with pytest.raises(TypeError, match="not an index"):
        x[1.0]
    with pytest.raises(TypeError, match="list"):
        x[[0, 1]]


# ------------------------------------------------------------------ conversions
def test_scalar_conversions() -> None:
    assert bool(xp.asarray(True)) is True
    assert int(xp.asarray(7)) == 7 and float(xp.asarray(2.5)) == 2.5
    assert complex(xp.asarray(1 + 2j)) == 1 + 2j
    assert [10, 20, 30][xp.asarray(1)] == 20
    with pytest.raises(TypeError, match="0-d"):
        bool(xp.asarray([1, 2]))
    with pytest.raises(TypeError, match="integer"):
        [1][xp.asarray(0.0)]
    with pytest.raises(ValueError, match="cannot convert"):
        int(xp.asarray(float("nan")))


def test_numpy_interop_copies() -> None:
    x = xp.asarray([1.0, 2.0])
    a = np.asarray(x)
    a[0] = 5.0
    assert host(x)[0] == 1.0
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(x, copy=False)


def test_repr_looks_like_numpy() -> None:
    assert repr(xp.asarray([1.0, 2.5])) == "NDArray([1. , 2.5])"
    assert repr(xp.asarray([1, 2], dtype=xp.int8)) == "NDArray([1, 2], dtype=int8)"
    assert repr(xp.asarray([1, 2], device="cpu:1")) == "NDArray([1, 2], device='cpu:1')"


# --------------------------------------------------------------------- DLPack
def test_dlpack_round_trip_with_numpy() -> None:
    x = xp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert x.__dlpack_device__() == (1, 0)
    a = np.from_dlpack(x)
    np.testing.assert_array_equal(a, np.arange(6).reshape(2, 3))
    assert _address(a) != _address(x.buffer.native)  # a copy, never x's memory
    back = xp.from_dlpack(a)
    np.testing.assert_array_equal(host(back), a)
    assert xp.asarray(np.arange(3.0)).dtype == xp.float64


def test_an_export_keeps_its_memory_and_values() -> None:
    dev = get_device("cpu:2")
    x = xp.asarray(np.full(64, 7.0, np.float32), device=dev)
    exported = np.from_dlpack(x)  # a copy, in the arena while the consumer has it
    used = dev.memory_stats().used_bytes
    del x
    gc.collect()
    used -= 256  # x's own block
    assert dev.memory_stats().used_bytes == used  # the capsule holds its block
    for _ in range(10):  # allocations that would reuse a freed block
        xp.zeros(64, device=dev) + 1
    np.testing.assert_array_equal(exported, np.full(64, 7.0, np.float32))
    del exported
    gc.collect()
    assert dev.memory_stats().used_bytes == used - 256


def test_from_dlpack_copy_false_is_refused() -> None:
    with pytest.raises(ValueError, match="copy=False"):
        xp.from_dlpack(np.arange(3), copy=False)


def test_an_export_to_another_device_names_the_moves() -> None:
    x = xp.ones(3)
    moved = r"is not this array's device \(1, 0\); move it there first \(`Tensor\.to`"
    with pytest.raises(BufferError, match=r"\(2, 0\) " + moved):
        x.__dlpack__(dl_device=(2, 0))  # CUDA: an export does not move data
    # Two devices: the error reaches Tensor users too, so it names both moves.
    y = xp.ones(3, device=get_device("cpu:1"))
    hint = (
        r"move one to the other's device first \(`Tensor\.to`, `NDArray\.to_device`\)"
    )
    with pytest.raises(
        ValueError, match=r"arrays\[1\] is on cpu:1, arrays\[0\] on cpu:0; " + hint
    ):
        xp.concat([x, y])
    np.testing.assert_array_equal(host(xp.concat([x, y.to_device(x.device)])), 1.0)


def _address(a: Any) -> int:
    """Where an array's data starts (NumPy's array interface)."""
    address: int = a.__array_interface__["data"][0]
    return address
