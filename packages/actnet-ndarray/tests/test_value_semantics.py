"""Value semantics: `x[key] = v` and the in-place operators change what x holds,
copy-on-write, and nothing else any array, view or export holds. NumPy is the
oracle for values, array_api_strict for what is refused; the device's
memory_stats show where a write allocated and where it did not."""

from __future__ import annotations

import gc
import operator
import sys
from collections.abc import Callable
from typing import Any

import array_api_strict as strict
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp
from actnet.device import get_device
from actnet.ndarray import from_buffer, sole_buffer

DEV = get_device("cpu:3")  # this module's own device: its memory_stats are ours


def host(x: xp.NDArray) -> np.ndarray[Any, Any]:
    return np.asarray(x)


def used() -> int:
    gc.collect()
    return DEV.memory_stats().used_bytes


# -------------------------------------------------- the copy-on-write rule
def test_a_fresh_array_alone_holds_its_buffer() -> None:
    x = xp.asarray([1.0, 2.0], device=DEV)
    assert sole_buffer(x) is x.buffer


@pytest.mark.parametrize(
    "holder",
    [
        pytest.param(lambda x: x[1:], id="a view"),
        pytest.param(lambda x: xp.reshape(x, (2, 1)), id="a reshape view"),
        pytest.param(lambda x: from_buffer(x.buffer), id="another array"),
        pytest.param(lambda x: x.buffer, id="the buffer itself"),
        pytest.param(lambda x: [x[::-1]], id="a view in a list"),
    ],
)
def test_anything_else_holding_the_buffer_means_a_copy(
    holder: Callable[[xp.NDArray], Any],
) -> None:
    """Each idiom's reference count (CPython's counting is what the rule reads:
    a CPython that counts these differently fails here)."""
    x = xp.asarray([1.0, 2.0], device=DEV)
    held = holder(x)
    assert sole_buffer(x) is None
    del held
    assert sole_buffer(x) is x.buffer, sys.version


def test_a_view_never_writes_into_its_base() -> None:
    x = xp.asarray([1.0, 2.0, 3.0], device=DEV)
    v = x[1:]
    assert sole_buffer(v) is None  # v's buffer is a view of x's
    v[0] = 10.0
    assert host(x).tolist() == [1.0, 2.0, 3.0]
    assert host(v).tolist() == [10.0, 3.0]


# ------------------------------------------------------------- __setitem__
def _keys(shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    n = shape[0]
    return st.one_of(
        st.integers(-n, n - 1),
        st.slices(n),
        st.just(Ellipsis),
        hnp.arrays(np.bool_, shape),
        hnp.arrays(np.int64, st.integers(0, 4), elements=st.integers(-n, n - 1)),
    )


@st.composite
def setitem_cases(draw: Any) -> tuple[np.ndarray[Any, Any], Any, Any]:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    dtype = draw(st.sampled_from([np.float32, np.int16, np.float64]))
    base = draw(hnp.arrays(dtype, shape, elements=st.integers(-9, 9)))
    key = draw(_keys(shape))
    target = base[key].shape
    if draw(st.booleans()):
        value: Any = draw(st.integers(-9, 9))
    else:
        value_shape = _shapes_into(draw, target)
        value = draw(hnp.arrays(dtype, value_shape, elements=st.integers(-9, 9)))
    return base, key, value


def _shapes_into(draw: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to `shape` (a suffix of it, some extents 1)."""
    n = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else m for m in shape[len(shape) - n :])


def _as_key(key: Any) -> Any:
    return xp.asarray(key, device=DEV) if isinstance(key, np.ndarray) else key


def _as_value(value: Any) -> Any:
    return xp.asarray(value, device=DEV) if isinstance(value, np.ndarray) else value


@settings(max_examples=150, deadline=None)
@given(setitem_cases(), st.sampled_from(["alone", "view", "other", "export"]))
def test_setitem_matches_numpy_and_nothing_else_changes(
    case: tuple[np.ndarray[Any, Any], Any, Any], holder: str
) -> None:
    base, key, value = case
    before = used()
    x = xp.asarray(base, device=DEV)
    held: Any = {
        "alone": None,
        "view": x[...],
        "other": from_buffer(x.buffer),
        "export": np.from_dlpack(x),
    }[holder]
    held_values = None if held is None else np.array(np.asarray(held))
    own = id(x.buffer)  # not the buffer: holding it would make x share it
    k, v = _as_key(key), _as_value(value)
    after_inputs = used()

    x[k] = v

    expected = base.copy()
    expected[key] = value
    np.testing.assert_array_equal(host(x), expected)
    assert x.dtype == base.dtype and x.shape == base.shape
    if holder in ("alone", "export"):  # an export is a copy: it holds nothing of x
        assert id(x.buffer) == own  # written in place
        assert used() == after_inputs  # and nothing was allocated that stayed
    else:
        assert id(x.buffer) != own
    if held is not None:
        np.testing.assert_array_equal(np.asarray(held), held_values)
    del x, held, own, k, v
    assert used() == before


def test_setitem_in_place_allocates_nothing() -> None:
    x = xp.asarray(np.arange(1000, dtype=np.float32), device=DEV)
    mask = x > 500
    gc.collect()
    DEV.reset_peak_memory_stats()
    stats = DEV.memory_stats()
    x[mask] = 0.0
    x[:10] = 1.0
    after = DEV.memory_stats()
    assert after.peak_bytes == stats.used_bytes == after.used_bytes
    assert after.live_buffers == stats.live_buffers
    assert int(host(x)[600]) == 0 and int(host(x)[5]) == 1


def test_setitem_refusals_name_the_dtypes() -> None:
    x = xp.asarray([1, 2, 3], dtype=xp.int8, device=DEV)
    with pytest.raises(TypeError, match=r"int64.*int8"):
        x[0] = xp.asarray([7], dtype=xp.int64, device=DEV)
    with pytest.raises(TypeError, match="float"):
        x[0] = 1.5
    with pytest.raises(OverflowError, match="300"):
        x[0] = 300
    with pytest.raises(ValueError):
        x[:2] = xp.asarray([1, 2, 3], dtype=xp.int8, device=DEV)
    with pytest.raises(IndexError):
        x[5] = 1
    assert host(x).tolist() == [1, 2, 3]  # a refused write leaves x as it was
    s = strict.asarray([1, 2, 3], dtype=strict.int8)  # the oracle refuses the same
    with pytest.raises(TypeError):
        s[0] = 1.5


def test_setitem_casts_a_value_of_a_smaller_dtype() -> None:
    x = xp.asarray([1.0, 2.0], dtype=xp.float64, device=DEV)
    x[0] = xp.asarray(0.5, dtype=xp.float32, device=DEV)
    assert host(x).tolist() == [0.5, 2.0]


def test_setitem_with_itself_as_value() -> None:
    x = xp.asarray([[1.0, 2.0], [3.0, 4.0]], device=DEV)
    x[...] = x.mT
    np.testing.assert_array_equal(host(x), [[1.0, 3.0], [2.0, 4.0]])
    y = xp.asarray([1.0, 2.0, 3.0], device=DEV)
    y[xp.asarray([2, 1, 0], device=DEV)] = y
    assert host(y).tolist() == [3.0, 2.0, 1.0]


# ------------------------------------------------------ in-place operators
INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
}
FLOAT_OPS = ["+=", "-=", "*=", "/=", "//=", "%=", "**="]
INT_OPS = ["+=", "-=", "*=", "//=", "%=", "&=", "|=", "^=", "<<=", ">>="]


@st.composite
def inplace_cases(draw: Any) -> tuple[str, np.ndarray[Any, Any], Any]:
    kind = draw(st.sampled_from(["f", "i"]))
    op = draw(st.sampled_from(FLOAT_OPS if kind == "f" else INT_OPS))
    dtype = draw(
        st.sampled_from(
            [np.float32, np.float64] if kind == "f" else [np.int32, np.int64]
        )
    )
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    low = 1 if op in ("//=", "%=", "/=") else 0  # no division by zero here
    elements = st.integers(low, 5)
    x = draw(hnp.arrays(dtype, shape, elements=elements))
    if draw(st.booleans()):
        other: Any = draw(elements)
    else:
        other_shape = _shapes_into(draw, shape)
        other = draw(hnp.arrays(dtype, other_shape, elements=elements))
    return op, x, other


@settings(max_examples=200, deadline=None)
@given(inplace_cases(), st.booleans())
def test_inplace_operators_match_numpy(
    case: tuple[str, np.ndarray[Any, Any], Any], shared: bool
) -> None:
    op, base, other = case
    before = used()
    x = xp.asarray(base, device=DEV)
    y = x[...] if shared else None
    own = id(x.buffer)  # not the buffer: holding it would make x share it
    o = _as_value(other)
    after_inputs = used()
    DEV.reset_peak_memory_stats()
    result = INPLACE[op](x, o)
    peak = DEV.memory_stats().peak_bytes

    expected = INPLACE[op](base.copy(), other)
    assert result is x  # the same array, now holding the result
    assert x.dtype == base.dtype and x.shape == base.shape
    np.testing.assert_allclose(host(x), expected, rtol=1e-6)
    if y is None:  # written in place
        assert id(x.buffer) == own and used() == after_inputs
        # No allocation at all, not even a transient, but for floating floor
        # division: its kernel takes arena scratch for the array API's infinities.
        if not (op == "//=" and base.dtype.kind == "f"):
            assert peak == after_inputs
    else:
        np.testing.assert_array_equal(host(y), base)  # the view kept its values
    del x, y, own, o, result
    assert used() == before


def test_inplace_matmul() -> None:
    a = np.arange(4.0).reshape(2, 2)
    x = xp.asarray(a, device=DEV)
    keep = x
    x @= xp.asarray(a, device=DEV)
    assert x is keep
    np.testing.assert_array_equal(host(x), a @ a)
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(2, 3\)"):
        x @= xp.ones((2, 3), dtype=xp.float64, device=DEV)


@pytest.mark.parametrize(
    ("x", "other", "error", "pattern"),
    [
        (np.ones(3, np.int32), np.ones(3, np.int64), TypeError, "int32.*int64"),
        (np.ones(3, np.float32), np.ones(3, np.float64), TypeError, "float32.*float64"),
        (
            np.ones(3, np.float32),
            np.ones((2, 3), np.float32),
            ValueError,
            r"\(3,\).*\(2, 3\)",
        ),
        (np.ones(3, np.int32), 1.5, TypeError, "float"),
        (np.ones(3, np.float32), 1j, TypeError, "complex"),
    ],
)
def test_inplace_refusals_name_both_sides(
    x: Any, other: Any, error: type[Exception], pattern: str
) -> None:
    a = xp.asarray(x, device=DEV)
    with pytest.raises(error, match=pattern):
        a += _as_value(other)
    np.testing.assert_array_equal(host(a), x)
    s = strict.asarray(x)  # array_api_strict refuses each too
    with pytest.raises((TypeError, ValueError)):
        s += strict.asarray(other) if isinstance(other, np.ndarray) else other


def test_true_division_of_integers_in_place_is_refused() -> None:
    a = xp.asarray([2, 4], device=DEV)
    with pytest.raises(TypeError, match="divide"):
        a /= 2
    assert host(a).tolist() == [2, 4]


def test_an_array_added_to_itself() -> None:
    x = xp.asarray([1.0, 2.0], device=DEV)
    x += x
    assert host(x).tolist() == [2.0, 4.0]


# ------------------------------------------------------------------ exports
def test_an_export_is_never_written_through() -> None:
    """A consumer may write into what it gets (torch does: the crosscheck shows
    it), so the export is never memory x reads: its own copy."""
    x = xp.asarray([1.0, 2.0, 3.0], device=DEV)
    exported = np.from_dlpack(x)
    assert _address(exported) != _address(x.buffer.native)
    x[1] = 50.0  # nor does the export see later writes to x
    assert exported.tolist() == [1.0, 2.0, 3.0]


def test_an_export_without_copy_hands_the_storage_over() -> None:
    x = xp.asarray([1.0, 2.0, 3.0], device=DEV)
    storage = _address(x.buffer.native)
    exported = np.from_dlpack(x, copy=False)
    assert _address(exported) == storage  # the storage itself, not a copy
    assert _address(x.buffer.native) != storage  # x moved to a copy of its values
    assert host(x).tolist() == exported.tolist() == [1.0, 2.0, 3.0]
    view = x[1:]
    with pytest.raises(BufferError, match="copy=None"):
        x.__dlpack__(copy=False)  # x shares its storage with the view now
    del view


def _address(a: Any) -> int:
    """Where an array's data starts (NumPy's array interface)."""
    address: int = a.__array_interface__["data"][0]
    return address
