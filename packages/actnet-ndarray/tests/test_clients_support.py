"""What real clients of the namespace (scikit-learn, SciPy: crosscheck/
test_array_api_clients.py) pass that a test written against the standard alone
would not: NumPy integer scalars where the standard says int (SciPy's stats
functions broadcast to shapes they computed with NumPy). array_api_strict takes
them; so does actnet, as the Python ints they stand for."""

from __future__ import annotations

from typing import Any

import array_api_strict as strict
import numpy as np
import pytest
from _oracle import API_VERSION, check, host, sample

import actnet.ndarray as xp

INTEGERS = [np.int64, np.int32, np.uint8]

x23 = sample("float32", (2, 3))
x3 = sample("float64", (3,))


@pytest.mark.parametrize("integer", INTEGERS, ids=lambda t: t.__name__)
@pytest.mark.parametrize(
    ("name", "np_fn", "args", "kwargs"),
    [
        ("broadcast_to", np.broadcast_to, (x3, (2, 3)), {}),
        ("reshape", np.reshape, (x23, (3, 2)), {}),
        ("sum", np.sum, (x23,), {"axis": 1}),
        ("mean", np.mean, (x23,), {"axis": (0,)}),
        ("expand_dims", np.expand_dims, (x23,), {"axis": 1}),
        ("concat", np.concatenate, ([x23, x23],), {"axis": 1}),
        ("stack", np.stack, ([x3, x3],), {"axis": 1}),
        ("flip", np.flip, (x23,), {"axis": 1}),
        ("permute_dims", np.transpose, (x23, (1, 0)), {}),
        ("argmax", np.argmax, (x23,), {"axis": 1}),
        ("sort", np.sort, (x23,), {"axis": 0}),
        ("cumulative_sum", np.cumsum, (x23,), {"axis": 1}),
        ("tile", np.tile, (x3, (2,)), {}),
        ("diff", np.diff, (x23,), {"n": 1}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_numpy_integers_stand_for_ints(
    name: str, np_fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], integer: type
) -> None:
    """Every int in a shape, axis or count given as a NumPy integer instead: the
    same result as with Python ints, on array_api_strict and here."""
    args = tuple(_numpy_ints(a, integer) for a in args)
    kwargs = {k: _numpy_ints(v, integer) for k, v in kwargs.items()}
    check(name, np_fn, *args, **kwargs)


def _numpy_ints(value: Any, integer: type) -> Any:
    """`value` with each Python int in it (also inside tuples) a NumPy `integer`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return integer(value)
    if isinstance(value, tuple):
        return tuple(_numpy_ints(v, integer) for v in value)
    return value


@pytest.mark.parametrize("integer", INTEGERS, ids=lambda t: t.__name__)
@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("shape", [(2, 3), (0,), 4])
def test_creation_shapes_of_numpy_integers(
    name: str, shape: int | tuple[int, ...], integer: type
) -> None:
    given = _numpy_ints(shape, integer)
    with strict.ArrayAPIStrictFlags(api_version=API_VERSION):
        expected = getattr(strict, name)(given).shape
    got = getattr(xp, name)(given)
    assert got.shape == expected
    assert all(type(n) is int for n in got.shape)  # Python ints, whatever came in
    full = xp.full(given, 1.5)
    np.testing.assert_array_equal(host(full), np.full(shape, 1.5, np.float32))


def test_the_shape_is_python_ints() -> None:
    y = xp.broadcast_to(xp.asarray(x3), (np.int64(2), np.int32(3)))
    assert y.shape == (2, 3)
    assert all(type(n) is int for n in y.shape)
    np.testing.assert_array_equal(host(y), np.broadcast_to(x3, (2, 3)))


@pytest.mark.parametrize("value", [True, np.True_, 2.0, np.float64(2.0), "2"])
def test_what_is_not_an_integer_is_still_refused(value: Any) -> None:
    """bools (Python's and NumPy's) and floats are not extents or axes."""
    with pytest.raises(TypeError, match="must be an int"):
        xp.broadcast_to(xp.asarray(x3), (value, 3))
    with pytest.raises(TypeError, match="must be an int"):
        xp.sum(xp.asarray(x23), axis=value)
    with pytest.raises(TypeError, match="shape must hold ints"):
        xp.zeros((value, 3))


def test_a_numpy_integer_axis_out_of_range_is_an_axis_error() -> None:
    with pytest.raises(IndexError, match="out of range"):
        xp.sum(xp.asarray(x23), axis=np.int64(2))
