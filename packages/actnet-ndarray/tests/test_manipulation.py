"""Manipulation functions: shapes, dtypes and errors against array_api_strict,
values against NumPy, and the view functions really share the input's memory."""

from __future__ import annotations

import inspect
from typing import Any

import array_api_strict as strict
import numpy as np
import pytest
from _oracle import STANDARD, check, host, is_view_of, owner, sample
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actnet.ndarray as xp

DTYPES = ["bool", "int8", "uint16", "int64", "float32", "float64", "complex64"]
LAYOUTS = ["contiguous", "reversed", "transposed"]


def laid_out(a: np.ndarray[Any, Any], layout: str) -> tuple[Any, xp.NDArray]:
    """The same values as a NumPy array and as an NDArray that is, for "reversed"
    and "transposed", a non-contiguous view of a contiguous owner."""
    if layout == "reversed" and a.ndim:
        return a, xp.asarray(np.ascontiguousarray(a[::-1]))[::-1]
    if layout == "transposed" and a.ndim >= 2:
        return a, xp.asarray(np.ascontiguousarray(np.swapaxes(a, -1, -2))).mT
    return a, xp.asarray(a)


@st.composite
def arrays(draw: Any, min_dims: int = 0, max_dims: int = 4, max_side: int = 4) -> Any:
    shape = draw(
        hnp.array_shapes(
            min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side
        )
    )
    dtype = draw(st.sampled_from(DTYPES))
    layout = draw(st.sampled_from(LAYOUTS))
    return laid_out(sample(dtype, shape, seed=draw(st.integers(0, 3))), layout)


def axes(ndim: int, extra: int = 1) -> st.SearchStrategy[int]:
    """Axes in range, and just out of it (to exercise the errors)."""
    if ndim == 0 and extra == 0:
        return st.just(0)  # no axis in range: only drawn for empty lists
    return st.integers(-ndim - extra, ndim - 1 + extra)


@st.composite
def reshape_targets(draw: Any, size: int) -> tuple[int, ...]:
    """A shape of `size` elements, maybe with one -1, or a wrong one."""
    if draw(st.integers(0, 9)) == 0:
        return tuple(draw(st.lists(st.integers(-2, 5), max_size=3)))
    dims: list[int] = []
    remaining = size
    for _ in range(draw(st.integers(0, 3))):
        divisors = [d for d in range(1, remaining + 1) if remaining % d == 0] or [0]
        d = draw(st.sampled_from(divisors))
        dims.append(d)
        remaining = remaining // d if d else 0
    dims.append(remaining)
    if remaining and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(draw(st.permutations(dims)))


# ------------------------------------------------------------------- reshape
@settings(max_examples=80)
@given(data=st.data())
def test_reshape(data: st.DataObject) -> None:
    a, x = data.draw(arrays())
    shape = data.draw(reshape_targets(a.size))
    if any(n < -1 for n in shape):  # NumPy takes any negative extent for -1
        with pytest.raises(ValueError, match="negative extent"):
            xp.reshape(x, shape)
        return
    got = check("reshape", np.reshape, a, shape, xp_args=(x, shape))
    if got is not None and x.buffer.is_contiguous:
        assert is_view_of(got, x), "reshape of contiguous data must be a view"


def test_reshape_names_a_negative_extent_before_a_second_minus_one() -> None:
    # hypothesis found (-1, -1, -2): both mistakes, the negative extent is named
    with pytest.raises(ValueError, match="negative extent"):
        xp.reshape(xp.asarray(False), (-1, -1, -2))
    with pytest.raises(ValueError, match="more than one -1"):
        xp.reshape(xp.asarray(False), (-1, -1))


def test_reshape_copy_argument() -> None:
    a = sample("float32", (3, 4))
    x = xp.asarray(a)
    copied = xp.reshape(x, (4, 3), copy=True)
    assert not is_view_of(copied, x)
    np.testing.assert_array_equal(host(copied), a.reshape(4, 3))
    assert is_view_of(xp.reshape(x, (2, 6), copy=False), x)
    t = x.mT  # strides (1, 4): flattening needs a copy
    with pytest.raises(ValueError, match="copy=False"):
        xp.reshape(t, (12,), copy=False)
    flat = xp.reshape(t, (12,))
    assert not is_view_of(flat, t)
    np.testing.assert_array_equal(host(flat), a.T.reshape(12))
    assert is_view_of(xp.reshape(t, (1, 4, 3, 1), copy=False), t)


@pytest.mark.parametrize("shape", [(5,), (-1, -1), (2, -2), (0, -1), [3, True]])
def test_reshape_refuses_bad_shapes(shape: Any) -> None:
    x = xp.zeros((2, 3))
    with pytest.raises((ValueError, TypeError), match="reshape"):
        xp.reshape(x, shape)


# --------------------------------------------------------------------- views
@settings(max_examples=80)
@given(data=st.data())
def test_view_functions(data: st.DataObject) -> None:
    a, x = data.draw(arrays())
    n = a.ndim
    axis: Any
    src: Any
    dst: Any
    name = data.draw(
        st.sampled_from(
            ["expand_dims", "flip", "permute_dims", "moveaxis", "squeeze", "unstack"]
        )
    )
    if name == "expand_dims":
        axis = data.draw(axes(n + 1))
        got = check(
            name, lambda v, axis: np.expand_dims(v, axis), a, axis=axis, xp_args=(x,)
        )
    elif name == "flip":
        axis = data.draw(
            st.none() | axes(n) | st.lists(axes(n, 0), max_size=n).map(tuple)
        )
        got = check(name, lambda v, axis: np.flip(v, axis), a, axis=axis, xp_args=(x,))
    elif name == "permute_dims":
        order = data.draw(st.permutations(range(n)).map(tuple))
        if data.draw(st.integers(0, 4)) == 0:  # a wrong one
            order = data.draw(st.lists(axes(n), max_size=n + 1).map(tuple))
        got = check(name, np.transpose, a, order, xp_args=(x, order))
    elif name == "moveaxis":
        k = data.draw(st.integers(0, n))
        src = data.draw(st.lists(axes(n, 0), min_size=k, max_size=k).map(tuple))
        dst = data.draw(st.lists(axes(n, 0), min_size=k, max_size=k).map(tuple))
        if k == 1 and data.draw(st.booleans()):
            src, dst = src[0], dst[0]
        got = check(name, np.moveaxis, a, src, dst, xp_args=(x, src, dst))
    elif name == "squeeze":
        if n == 0:  # NumPy squeezes a 0-d array along axis 0; it has no axis
            with pytest.raises(IndexError, match="out of range"):
                xp.squeeze(x, axis=0)
            return
        ones = [i for i, m in enumerate(a.shape) if m == 1]
        size_one: Any = st.lists(st.sampled_from(ones), min_size=1, unique=True)
        axis = data.draw(
            size_one.map(tuple) if bool(ones) and data.draw(st.booleans()) else axes(n)
        )
        got = check(
            name, lambda v, axis: np.squeeze(v, axis), a, axis, xp_args=(x, axis)
        )
    else:
        axis = data.draw(axes(n))
        got = check(
            name,
            lambda v, axis: tuple(np.moveaxis(v, axis, 0)),
            a,
            axis=axis,
            xp_args=(x,),
        )
    results = got if isinstance(got, tuple) else (got,) if got is not None else ()
    for r in results:
        assert is_view_of(r, x), f"{name} must return a view"


@settings(max_examples=50)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=4, max_side=3),
    layout=st.sampled_from(LAYOUTS),
)
def test_broadcast_arrays_and_broadcast_to(shapes: Any, layout: str) -> None:
    inputs, result = shapes
    pairs = [laid_out(sample("int16", s, seed=i), layout) for i, s in enumerate(inputs)]
    nps = [p[0] for p in pairs]
    xs = [p[1] for p in pairs]
    got = check(
        "broadcast_arrays",
        lambda *v: list(np.broadcast_arrays(*v)),
        *nps,
        xp_args=tuple(xs),
    )
    for r, x in zip(got, xs, strict=True):
        assert r.shape == result and is_view_of(r, x)
    target = (2, *result)
    for a, x in pairs:
        r = check("broadcast_to", np.broadcast_to, a, target, xp_args=(x, target))
        assert is_view_of(r, x)


@pytest.mark.parametrize(
    ("shape", "target"), [((3,), (4,)), ((2, 1), (2,)), ((3,), (-1, 3)), ((2,), (3, 4))]
)
def test_broadcast_errors(shape: tuple[int, ...], target: tuple[int, ...]) -> None:
    a = sample("float32", shape)
    check("broadcast_to", None, a, target)
    check("broadcast_arrays", None, a, sample("float32", target[-1:] or (5,)) * 0)
    with pytest.raises(ValueError, match="broadcast"):
        xp.broadcast_to(xp.asarray(a), target)


def test_broadcast_arrays_of_nothing_and_type_errors() -> None:
    assert xp.broadcast_arrays() == []
    with pytest.raises(TypeError, match="arrays\\[1\\] must be an NDArray"):
        xp.broadcast_arrays(xp.zeros(2), np.zeros(2))  # type: ignore[arg-type]


# ------------------------------------------------------------------- joining
@settings(max_examples=80)
@given(data=st.data())
def test_concat_and_stack(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    n = len(shape)
    count = data.draw(st.integers(1, 3))
    dtypes = data.draw(
        st.lists(st.sampled_from(STANDARD), min_size=count, max_size=count)
    )
    name = data.draw(st.sampled_from(["concat", "stack"]))
    shapes = [shape] * count
    if name == "concat" and n and data.draw(st.booleans()):  # vary the joined axis
        axis_along = data.draw(st.integers(0, n - 1))
        shapes = [
            tuple(
                data.draw(st.integers(0, 3)) if i == axis_along else m
                for i, m in enumerate(shape)
            )
            for _ in range(count)
        ]
    layout = data.draw(st.sampled_from(LAYOUTS))
    pairs = [
        laid_out(sample(d, s, seed=i), layout)
        for i, (d, s) in enumerate(zip(dtypes, shapes, strict=True))
    ]
    nps = [p[0] for p in pairs]
    xs = [p[1] for p in pairs]
    if name == "concat":
        axis = data.draw(st.none() | axes(n))
        check(
            "concat",
            lambda v, axis: np.concatenate(v, axis=axis),
            nps,
            axis=axis,
            xp_args=(xs,),
        )
    else:
        axis = data.draw(axes(n + 1))
        check(
            "stack",
            lambda v, axis: np.stack(v, axis=axis),
            nps,
            axis=axis,
            xp_args=(xs,),
        )


def test_concat_and_stack_errors() -> None:
    a, b = xp.zeros((2, 3)), xp.zeros((2, 4))
    with pytest.raises(ValueError, match="must not be empty"):
        xp.concat([])
    with pytest.raises(TypeError, match="tuple or list"):
        xp.concat(a)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape"):
        xp.stack([a, b])
    with pytest.raises(ValueError, match="0-d"):
        xp.concat([xp.asarray(1.0), xp.asarray(2.0)])
    with pytest.raises(TypeError, match="do not promote"):
        xp.concat([a, xp.zeros((2, 3), dtype=xp.int32)])
    with pytest.raises(ValueError, match="cpu:1"):
        xp.concat([a, xp.zeros((2, 3), device="cpu:1")])


# ---------------------------------------------------------------- repetition
@settings(max_examples=80)
@given(data=st.data())
def test_repeat(data: st.DataObject) -> None:
    a, x = data.draw(arrays(max_dims=3))
    # NumPy repeats a 0-d array along axis 0 too; the standard has no such axis
    axis = data.draw(st.none() | axes(a.ndim)) if a.ndim else None
    kind = data.draw(st.sampled_from(["int", "one", "each", "wrong"]))
    n = a.size if axis is None else (a.shape[axis] if -a.ndim <= axis < a.ndim else 1)
    dtype = data.draw(st.sampled_from(["int64", "int8", "uint8", "int32"]))
    repeats: Any
    if kind == "int":
        repeats = data.draw(st.integers(-1, 3))
        if repeats < 0:  # NumPy lets it pass when there is nothing to repeat
            with pytest.raises((ValueError, IndexError)):
                xp.repeat(x, repeats, axis=axis)
            return
    elif kind == "one":
        repeats = np.asarray([data.draw(st.integers(0, 3))], dtype=dtype)
    elif kind == "each":
        counts = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        repeats = np.asarray(counts, dtype=dtype)
    else:
        repeats = np.ones(n + 2, dtype="int32")  # neither (1,) nor (n,)
    expected = lambda v, r, axis: np.repeat(v, r, axis=axis)
    ours_repeats = xp.asarray(repeats) if isinstance(repeats, np.ndarray) else repeats
    check("repeat", expected, a, repeats, axis=axis, xp_args=(x, ours_repeats))


def test_repeat_errors() -> None:
    x = xp.asarray([1, 2, 3])
    with pytest.raises(ValueError, match="negative"):
        xp.repeat(x, xp.asarray([1, -1, 2]))
    with pytest.raises(ValueError, match="negative"):
        xp.repeat(x, -2)
    with pytest.raises(TypeError, match="integer dtype"):
        xp.repeat(x, xp.asarray([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="repeats must be an int"):
        xp.repeat(x, 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape"):
        xp.repeat(x, xp.asarray([[1, 2, 3]]))


@settings(max_examples=60)
@given(data=st.data())
def test_tile(data: st.DataObject) -> None:
    a, x = data.draw(arrays(max_dims=3, max_side=3))
    reps = tuple(data.draw(st.lists(st.integers(0, 3), max_size=4)))
    got = check("tile", np.tile, a, reps, xp_args=(x, reps))
    assert got is not None and not is_view_of(got, x)  # a new array


def test_tile_errors() -> None:
    with pytest.raises(TypeError, match="tuple"):
        xp.tile(xp.zeros(2), [2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        xp.tile(xp.zeros(2), (-1,))


@settings(max_examples=80)
@given(data=st.data())
def test_roll(data: st.DataObject) -> None:
    a, x = data.draw(arrays(max_dims=3))
    n = a.ndim
    if data.draw(st.booleans()) or not n:
        axis: Any = None
        shift: Any = data.draw(st.integers(-7, 7))
    else:
        k = data.draw(st.integers(1, 3))
        axis = tuple(data.draw(st.lists(axes(n, 0), min_size=k, max_size=k)))
        shift = tuple(data.draw(st.lists(st.integers(-7, 7), min_size=k, max_size=k)))
        if k == 1 and data.draw(st.booleans()):
            axis, shift = axis[0], shift[0]
        elif data.draw(st.booleans()):
            shift = shift[0]
    got = check(
        "roll",
        lambda v, shift, axis: np.roll(v, shift, axis),
        a,
        shift=shift,
        axis=axis,
        xp_args=(x,),
    )
    assert got is not None and got.shape == a.shape


def test_roll_refuses_mismatched_shift_and_axis() -> None:
    with pytest.raises(ValueError, match="same length"):
        xp.roll(xp.zeros((2, 3)), (1, 2), axis=(0,))
    with pytest.raises(ValueError, match="tuple axis"):
        xp.roll(xp.zeros((2, 3)), (1, 2))


# ------------------------------------------------------------ argument checks
@pytest.mark.parametrize(
    "call",
    [
        lambda: xp.expand_dims(np.zeros(2), 0),  # type: ignore[arg-type]
        lambda: xp.flip([1, 2]),  # type: ignore[arg-type]
        lambda: xp.squeeze(xp.zeros((1, 2)), 0.0),  # type: ignore[arg-type]
        lambda: xp.permute_dims(xp.zeros((1, 2)), 0),  # type: ignore[arg-type]
    ],
)
def test_type_errors_name_the_argument(call: Any) -> None:
    with pytest.raises(TypeError, match=r"(x|axis|axes) must be"):
        call()


def test_expand_dims_takes_axis_as_the_standard_does() -> None:
    # 2024.12: `expand_dims(x, /, axis: int)`, axis positional or keyword, and
    # required (array_api_strict's signature)
    a = sample("float32", (2, 3))
    got = check("expand_dims", lambda v, axis: np.expand_dims(v, axis), a, 1)
    assert got is not None and got.shape == (2, 1, 3)
    ours = inspect.signature(xp.expand_dims).parameters["axis"]
    theirs = inspect.signature(strict.expand_dims).parameters["axis"]
    assert (ours.kind, ours.default) == (theirs.kind, theirs.default)


def test_axis_errors_are_index_and_value_errors() -> None:
    x = xp.zeros((2, 3))
    with pytest.raises(IndexError, match="axis 4 is out of range"):
        xp.expand_dims(x, axis=4)
    with pytest.raises(ValueError, match="out of range"):
        xp.unstack(x, axis=-3)
    with pytest.raises(ValueError, match="repeats an axis"):
        xp.flip(x, axis=(0, -2))


def test_results_keep_the_inputs_memory_alive() -> None:
    x = xp.reshape(xp.arange(12), (3, 4))
    view = xp.flip(xp.moveaxis(x, 0, 1), axis=0)
    base = owner(x)
    del x
    assert view.buffer.base is base
    np.testing.assert_array_equal(host(view), np.arange(12).reshape(3, 4).T[::-1])


@pytest.mark.parametrize(
    "call",
    [
        lambda x: xp.concat([x, x], axis=None),
        lambda x: xp.stack([x, x]),
        lambda x: xp.repeat(x, xp.asarray([1, 2, 0], device=x.device), axis=1),
        lambda x: xp.tile(x, (2, 1)),
        lambda x: xp.roll(x, 1),
        lambda x: xp.reshape(x.mT, (-1,)),
        lambda x: xp.take(x, xp.asarray([0], device=x.device), axis=0),
        lambda x: xp.where(x > 1, x, 0),
        lambda x: xp.sort(x),
        lambda x: xp.unique_values(x),
        lambda x: xp.nonzero(x)[0],
        lambda x: xp.count_nonzero(x),
        lambda x: xp.astype(x, xp.int8),
    ],
)
def test_results_stay_on_the_inputs_device(call: Any) -> None:
    x = xp.asarray(sample("int32", (2, 3)), device="cpu:1")
    assert call(x).device is x.device
