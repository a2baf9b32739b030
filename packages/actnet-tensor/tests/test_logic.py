"""all, any and the elementwise tests of every dtype, against NumPy: bool
tensors (what `(mask == x).all()` reduces), integers, floats with NaN and
infinities, complex, bfloat16; over every dim, a tuple of dims, keepdim and
empty tensors. Comparisons order bools as PyTorch does (False < True)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.tensor as at

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64"]
DTYPES += ["float16", "float32", "float64", "complex64", "complex128"]


def _elements(dtype: str) -> st.SearchStrategy[Any]:
    """Values with many zeros (so all() and any() both go either way)."""
    if dtype == "bool":
        return st.booleans()
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return st.sampled_from([0, 0, 1, -1, 7, int(info.min), int(info.max)]).map(
            lambda v: v if info.min <= v <= info.max else 0
        )
    floats = st.sampled_from([0.0, -0.0, 0.0, 1.5, -2.0, np.nan, np.inf, 1e-30])
    if dtype.startswith("complex"):
        return st.tuples(floats, floats).map(lambda p: complex(*p))
    return floats


@st.composite
def _case(draw: st.DrawFn) -> tuple[np.ndarray[Any, Any], Any, bool]:
    """An array (possibly empty or 0-d), a dim (None, an int or a tuple of
    distinct dims, negative ones too) and keepdim."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
    values = draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))
    ndim = max(len(shape), 1)
    dims = st.integers(-ndim, ndim - 1)
    dim = draw(
        st.none()
        | dims
        | st.lists(dims, max_size=ndim, unique_by=lambda d: d % ndim).map(tuple)
    )
    return values, dim, draw(st.booleans())


def _oracle(
    reduce: Any, values: np.ndarray[Any, Any], dim: Any, keepdim: bool
) -> np.ndarray[Any, Any]:
    """np.all / np.any with PyTorch's dims: a 0-d tensor takes dim 0 or -1 and
    stays 0-d; uint8 stays uint8."""
    if values.ndim == 0:
        axis = None
        expected = np.asarray(reduce(values))
    else:
        axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
        expected = np.asarray(reduce(values, axis=axis, keepdims=keepdim))
    if values.dtype == np.uint8:
        expected = expected.astype(np.uint8)
    return expected


@given(_case())
def test_all_and_any_of_every_dtype_match_numpy(
    case: tuple[np.ndarray[Any, Any], Any, bool],
) -> None:
    values, dim, keepdim = case
    t = at.tensor(values)
    for name, reduce in (("all", np.all), ("any", np.any)):
        expected = _oracle(reduce, values, dim, keepdim)
        for result in (
            getattr(at, name)(t, dim, keepdim),
            getattr(t, name)(dim=dim, keepdim=keepdim),
        ):
            got = np.asarray(result)
            assert got.dtype == expected.dtype, (name, values.dtype)
            assert got.shape == expected.shape, (name, values.shape, dim)
            np.testing.assert_array_equal(got, expected)


def test_all_of_a_comparison_is_the_porting_case() -> None:
    x = at.tensor([[1, 2], [3, 4]])
    mask = x.clone()
    assert bool((mask == x).all())
    assert not bool((mask != x).any())
    mask[0, 1] = 0
    assert not bool((mask == x).all())
    assert np.asarray((mask == x).all(dim=1)).tolist() == [False, True]
    assert (mask == x).all(1, keepdim=True).shape == (2, 1)
    assert at.all(x > 0).dtype == at.bool


def test_all_and_any_without_dim_reduce_everything() -> None:
    for t, every, some in (
        (at.tensor(np.zeros((0, 3), dtype=bool)), True, False),  # empty
        (at.tensor(np.array([np.nan, 1.0])), True, True),  # NaN is nonzero
        (at.tensor(np.array([0j, 1j])), False, True),
        (at.tensor(True), True, True),
        (at.tensor(np.array([0, 256], dtype=np.int64)), False, True),
    ):
        assert bool(t.all()) is every and bool(t.any()) is some
    assert at.all(at.ones(2, 3), keepdim=True).shape == (1, 1)


def test_all_and_any_of_bfloat16_read_its_values() -> None:
    values = np.array([[0.0, 1.5, np.nan], [0.0, 0.0, -np.inf]], dtype=np.float32)
    t = at.tensor(values, dtype=at.bfloat16)  # each value is exact in bfloat16
    for dim in (None, 0, 1, (0, 1)):
        np.testing.assert_array_equal(np.asarray(t.all(dim)), np.all(values, dim))
        np.testing.assert_array_equal(np.asarray(t.any(dim)), np.any(values, dim))
    finite = at.tensor(values[:, :2], dtype=at.bfloat16)
    assert at.equal(finite, finite) and not at.equal(t, t)  # NaN != NaN
    assert at.allclose(t, t, equal_nan=True) and not at.allclose(t, t)


def test_all_and_any_refuse_what_pytorch_refuses() -> None:
    t = at.tensor([[True, False]])
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        at.all(t, (0, -2))
    with pytest.raises(RuntimeError, match="dim 1 appears multiple times"):
        t.any((1, 1))
    with pytest.raises(IndexError, match="dimension out of range"):
        t.all(2)
    with pytest.raises(TypeError, match="argument 'keepdim' must be bool"):
        t.all(0, keepdim=1)  # type: ignore[arg-type]  # the refusal under test
    with pytest.raises(TypeError, match="argument 'input' must be Tensor, not list"):
        at.any([True])  # type: ignore[arg-type]  # the refusal under test


@pytest.mark.parametrize("dtype", [*DTYPES, "bfloat16"])
def test_isnan_isinf_isfinite_of_every_dtype_match_numpy(dtype: str) -> None:
    if dtype == "bool":
        values: np.ndarray[Any, Any] = np.array([True, False])
    elif dtype.startswith(("int", "uint")):
        values = np.array([0, 1, 100], dtype=dtype)
    else:
        values = np.array([0.0, 1.5, np.nan, np.inf, -np.inf])
        if dtype.startswith("complex"):
            values = np.array(
                [complex(r, i) for r, i in zip(values, values[::-1], strict=True)]
            )
        values = values.astype("float32" if dtype == "bfloat16" else dtype)
    t = at.tensor(values, dtype=at.bfloat16 if dtype == "bfloat16" else None)
    for name in ("isnan", "isinf", "isfinite"):
        got = np.asarray(getattr(at, name)(t))
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, getattr(np, name)(values), err_msg=name)
        np.testing.assert_array_equal(np.asarray(getattr(t, name)()), got)


def test_bools_are_ordered_false_before_true() -> None:
    a = np.array([False, False, True, True])
    b = np.array([False, True, False, True])
    ta, tb = at.tensor(a), at.tensor(b)
    pairs = [(at.lt, np.less), (at.le, np.less_equal)]
    pairs += [(at.gt, np.greater), (at.ge, np.greater_equal)]
    for op, oracle in pairs:
        np.testing.assert_array_equal(np.asarray(op(ta, tb)), oracle(a, b))
        np.testing.assert_array_equal(np.asarray(op(ta, True)), oracle(a, True))
        np.testing.assert_array_equal(np.asarray(op(ta, False)), oracle(a, False))
    np.testing.assert_array_equal(np.asarray(ta < tb), a < b)
    reflected = True > ta  # noqa: SIM300  # the reflected operator is under test
    np.testing.assert_array_equal(np.asarray(reflected), np.array([True]) > a)
    mixed = at.tensor(np.array([0, 1, 2, -1]))  # bool and int64: compared as int64
    np.testing.assert_array_equal(np.asarray(ta >= mixed), a >= np.array([0, 1, 2, -1]))
    assert (ta < tb).dtype == at.bool
