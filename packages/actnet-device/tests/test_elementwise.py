"""Elementwise operators against NumPy: every unary and binary operator over every
dtype of its table, broadcasting, strided inputs, Python scalars, `out=`, the
refusals, and the quiet IEEE results.

The CPU device runs NumPy's own ufuncs, so results are compared exactly (NaN
equals NaN, -0.0 differs from 0.0). erf is the exception: it is checked against
`math.erf`; and where the array API's special cases differ from NumPy's values
(complex expm1 and tanh, floor_divide by or of infinity), `expected` and the
special-case tables below give the standard's.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from _helpers import CPU, assert_identical, get, put, rng_for, sample
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from actnet.device import get_device
from actnet.device._dtypes import ALL
from actnet.device._opset import BINARY, UNARY

# The NumPy function of the same meaning (where the name differs).
NUMPY_NAMES = {
    "abs": "absolute",
    "acos": "arccos",
    "acosh": "arccosh",
    "asin": "arcsin",
    "asinh": "arcsinh",
    "atan": "arctan",
    "atanh": "arctanh",
    "atan2": "arctan2",
    "bitwise_invert": "invert",
    "bitwise_left_shift": "left_shift",
    "bitwise_right_shift": "right_shift",
    "conj": "conjugate",
    "pow": "power",
}
# add, subtract, multiply and nextafter warn on overflow to infinity (they are not
# quiet): their data stays finite and small.
LOUD = ("add", "subtract", "multiply", "nextafter")
UNARY_CASES = [
    (name, np.dtype(d)) for name in UNARY if name != "erf" for d in UNARY[name][0]
]
BINARY_CASES = [(name, np.dtype(d)) for name in BINARY for d in BINARY[name][0]]


def numpy_op(name: str) -> Any:
    return getattr(np, NUMPY_NAMES.get(name, name))


def expected(name: str, *args: Any) -> np.ndarray[Any, Any]:
    """NumPy's values, but for the special cases where the device follows the
    array API instead (complex expm1 and tanh, floor_divide by or of infinity)."""
    with np.errstate(all="ignore"):
        want = np.asarray(numpy_op(name)(*args))
        x = np.asarray(args[0])
        if name == "expm1" and x.dtype.kind == "c":
            special = ~np.isfinite(x) | (x == 0)
            want = np.where(special, np.exp(x) - 1, want)
        elif name == "tanh" and x.dtype.kind == "c":
            limit = np.empty_like(x)  # set part by part: no complex arithmetic
            limit.real, limit.imag = np.copysign(1, x.real), np.copysign(0, x.imag)
            want = np.where(np.isinf(x.real), limit, want)
        elif name == "floor_divide" and want.dtype.kind == "f":
            a, b = np.broadcast_arrays(*args)
            want = np.where(np.isinf(a) | np.isinf(b), np.floor(a / b), want)
        return want


def binary_operands(
    name: str, dtype: np.dtype[Any], rng: np.random.Generator, shapes: Any
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Operands in the domain of `name` (shift counts below the width, integer
    exponents non-negative), with IEEE specials unless the op is loud."""
    special = name not in LOUD
    a = sample(dtype, shapes[0], rng, special=special)
    if name in ("bitwise_left_shift", "bitwise_right_shift"):
        b = rng.integers(0, dtype.itemsize * 8, shapes[1]).astype(dtype)
    elif name == "pow" and dtype.kind in "iu":
        a = sample(dtype, shapes[0], rng, special=False, low=-3, high=3)
        b = rng.integers(0, 5, shapes[1]).astype(dtype)
    else:
        b = sample(dtype, shapes[1], rng, special=special)
    return a, b


# ------------------------------------------------------------ every op, dtype
@pytest.mark.parametrize(("name", "dtype"), UNARY_CASES, ids=str)
def test_unary_matches_numpy(name: str, dtype: np.dtype[Any]) -> None:
    rng = rng_for(name, str(dtype))
    x = sample(dtype, (5, 7), rng)
    result = getattr(CPU, name)(put(x))
    want = expected(name, x)
    # The table's result dtype is NumPy's.
    assert result.dtype == UNARY[name][0][dtype] == want.dtype
    assert_identical(result, want)


@pytest.mark.parametrize(("name", "dtype"), BINARY_CASES, ids=str)
def test_binary_matches_numpy(name: str, dtype: np.dtype[Any]) -> None:
    rng = rng_for(name, str(dtype))
    a, b = binary_operands(name, dtype, rng, [(4, 1, 6), (5, 6)])
    result = getattr(CPU, name)(put(a), put(b))
    want = expected(name, a, b)
    assert result.dtype == BINARY[name][0][dtype] == want.dtype
    assert result.shape == (4, 5, 6)
    assert_identical(result, want)


def test_every_operator_of_the_tables_is_a_device_method() -> None:
    for name in (*UNARY, *BINARY):
        assert callable(getattr(CPU, name)), name
        assert getattr(CPU, name).__name__ == name


# ---------------------------------------------------------------------- erf
def erf_reference(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.array([math.erf(v) for v in x.astype(np.float64).ravel()]).reshape(
        x.shape
    )


def test_erf_float64_relative_error_is_below_4e_16() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate(
        [
            rng.uniform(-7.0, 7.0, 20_000),
            rng.uniform(-1.2, 1.2, 20_000),  # where erf is hardest to get right
            rng.standard_normal(5_000) * 1e-4,
            np.geomspace(1e-300, 6.0, 3_000),
            -np.geomspace(1e-300, 6.0, 3_000),
            [0.46875, 0.5, 1.0, 4.0, 6.0, 26.0, 1e300, np.nextafter(1.0, 2.0)],
        ]
    )
    got = get(CPU.erf(put(x)))
    want = erf_reference(x)
    assert got.dtype == np.float64
    relative = np.abs(got - want) / np.abs(want)
    assert relative.max() <= 4e-16, (relative.max(), x[relative.argmax()])


def test_erf_special_values_and_symmetry() -> None:
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 30.0, -30.0])
    got = get(CPU.erf(put(x)))
    assert_identical(got, np.array([0.0, -0.0, 1.0, -1.0, np.nan, 1.0, -1.0]))
    y = np.random.default_rng(1).uniform(-8.0, 8.0, 5_000)
    assert_identical(CPU.erf(put(-y)), -get(CPU.erf(put(y))))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_erf_narrow_floats_round_the_float64_result(dtype: Any) -> None:
    x = np.random.default_rng(3).uniform(-5.0, 5.0, 20_000).astype(dtype)
    got = get(CPU.erf(put(x)))
    assert got.dtype == dtype
    want = erf_reference(x).astype(dtype)
    # Rounded once from float64: equal but for (rare) double-rounding ties.
    spacing = np.spacing(np.abs(want))
    assert np.all(np.abs(got.astype(np.float64) - want) <= spacing)
    assert np.mean(got == want) > 0.999


def test_erf_refuses_integers_and_complex() -> None:
    for dtype in (np.int32, np.complex128, np.bool_):
        with pytest.raises(TypeError, match="erf"):
            CPU.erf(put(np.zeros(3, dtype)))


# --------------------------------------------------------------- broadcasting
BROADCAST_OPS = ["add", "multiply", "maximum", "less", "atan2", "hypot", "pow"]


@settings(max_examples=40)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4),
    name=st.sampled_from(BROADCAST_OPS),
    dtype=st.sampled_from([np.float64, np.float32, np.int32]),
    seed=st.integers(0, 2**32 - 1),
)
def test_binary_broadcasts_like_numpy(
    shapes: Any, name: str, dtype: Any, seed: int
) -> None:
    dtype = np.dtype(dtype)
    if dtype not in BINARY[name][0]:
        dtype = np.dtype(np.float64)
    a, b = binary_operands(
        name, dtype, np.random.default_rng(seed), shapes.input_shapes
    )
    result = getattr(CPU, name)(put(a), put(b))
    assert result.shape == shapes.result_shape
    assert_identical(result, expected(name, a, b))


@settings(max_examples=30)
@given(
    a=hnp.arrays(
        np.float64,
        hnp.array_shapes(max_dims=3, max_side=5),
        elements=st.floats(-1e6, 1e6, allow_subnormal=False),
    ),
    data=st.data(),
)
def test_binary_with_hypothesis_values(a: np.ndarray[Any, Any], data: Any) -> None:
    b = data.draw(
        hnp.arrays(
            np.float64,
            hnp.broadcastable_shapes(a.shape, max_dims=3),
            elements=st.floats(allow_nan=True, allow_infinity=True),
        )
    )
    for name in ("divide", "remainder", "floor_divide", "minimum", "copysign"):
        assert_identical(getattr(CPU, name)(put(a), put(b)), expected(name, a, b))


def test_broadcast_mismatch_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"add: shape \(2, 3\)"):
        CPU.add(put(np.ones((2, 3))), put(np.ones((4,))))


# ---------------------------------------------------------- strided operands
def strided_views(host: np.ndarray[Any, Any]) -> list[tuple[Any, Any]]:
    """(device view, the NumPy view of the same elements) pairs of a 3-d array."""
    buf = put(host)
    return [
        (buf.T, host.T),
        (buf[::2, :, ::-1], host[::2, :, ::-1]),
        (buf.transpose(1, 0, 2)[1:], host.transpose(1, 0, 2)[1:]),
        (buf.swapaxes(0, 2)[:, ::3], host.swapaxes(0, 2)[:, ::3]),
        (buf.flip(1), host[:, ::-1]),
    ]


@pytest.mark.parametrize("name", ["exp", "negative", "sqrt", "floor", "isnan"])
def test_unary_on_non_contiguous_views(name: str) -> None:
    host = sample(np.float64, (4, 6, 6), np.random.default_rng(5))
    for view, np_view in strided_views(host):
        assert not view.is_contiguous
        assert_identical(getattr(CPU, name)(view), expected(name, np_view))


@pytest.mark.parametrize("name", ["subtract", "divide", "greater", "nextafter"])
def test_binary_on_non_contiguous_views(name: str) -> None:
    rng = np.random.default_rng(6)
    host = sample(np.float32, (6, 6, 6), rng, special=name != "subtract")
    other = sample(np.float32, (6, 6, 6), rng, special=name != "subtract")
    for (va, na), (vb, nb) in zip(
        strided_views(host), strided_views(other), strict=True
    ):
        assert_identical(getattr(CPU, name)(va, vb), expected(name, na, nb))
        # A strided view with a contiguous operand, and the other way round.
        contiguous = put(np.ascontiguousarray(nb))
        assert_identical(getattr(CPU, name)(va, contiguous), expected(name, na, nb))
        assert_identical(getattr(CPU, name)(contiguous, va), expected(name, nb, na))
    # A broadcast view (strides 0) as an operand.
    row = put(other[0, 0])
    assert_identical(
        getattr(CPU, name)(put(host), row.broadcast_to(6, 6, 6)),
        expected(name, host, np.broadcast_to(other[0, 0], (6, 6, 6))),
    )


# -------------------------------------------------------------- Python scalars
SCALAR_CASES = [
    ("add", np.int8, 3),
    ("add", np.uint8, 200),
    ("subtract", np.int16, -7),
    ("multiply", np.float16, 1.5),
    ("multiply", np.float32, 3),
    ("divide", np.float32, 0.1),
    ("pow", np.float64, 2.5),
    ("maximum", np.uint32, 5),
    ("equal", np.int64, 2),
    ("less", np.float32, 0.3),
    ("add", np.complex64, 1 + 2j),
    ("multiply", np.complex128, 2.5),
    ("logical_and", np.bool_, True),
    ("bitwise_xor", np.bool_, False),
    ("bitwise_left_shift", np.int32, 3),
    ("atan2", np.float16, -1.0),
    ("remainder", np.int32, 7),
]


@pytest.mark.parametrize(("name", "dtype", "scalar"), SCALAR_CASES, ids=str)
def test_a_python_scalar_takes_the_buffers_dtype(
    name: str, dtype: Any, scalar: Any
) -> None:
    x = sample(dtype, (3, 4), np.random.default_rng(8), special=False, high=9)
    buf = put(x)
    typed = np.dtype(dtype).type(scalar)  # the scalar, in the buffer's dtype
    right = getattr(CPU, name)(buf, scalar)
    left = getattr(CPU, name)(scalar, buf)
    assert right.dtype == left.dtype == BINARY[name][0][np.dtype(dtype)]
    assert_identical(right, expected(name, x, typed))
    assert_identical(left, expected(name, typed, x))


def test_python_scalars_of_another_kind_are_refused() -> None:
    ints, floats, bools = put(np.arange(3)), put(np.ones(3)), put(np.ones(3, bool))
    for buf, scalar in [
        (ints, 1.5),  # a float does not combine with an int buffer
        (ints, True),
        (floats, 1j),
        (floats, True),
        (bools, 1),
        (put(np.ones(3, np.uint8)), 2.0),
    ]:
        with pytest.raises(TypeError, match="add: a Python"):
            CPU.add(buf, scalar)
        with pytest.raises(TypeError, match="add: a Python"):
            CPU.add(scalar, buf)


def test_scalars_that_are_not_python_scalars_are_refused() -> None:
    x = put(np.ones(3))
    for other in (np.float64(1.0), [1.0], "1", None, np.ones(3)):
        with pytest.raises(TypeError, match="add"):
            CPU.add(x, other)
    with pytest.raises(TypeError, match="at least one operand must be a Buffer"):
        CPU.add(1.0, 2.0)


def test_an_int_scalar_that_does_not_fit_is_an_overflow_error() -> None:
    with pytest.raises(OverflowError, match="300"):
        CPU.add(put(np.ones(3, np.uint8)), 300)
    with pytest.raises(OverflowError):
        CPU.add(put(np.ones(3, np.int8)), -129)
    with pytest.raises(OverflowError):
        CPU.multiply(put(np.ones(3, np.uint64)), -1)


# ------------------------------------------------------------------------ out=
def test_out_receives_the_result_in_place() -> None:
    rng = np.random.default_rng(9)
    a, b = sample(np.float64, (3, 4), rng), sample(np.float64, (4,), rng)
    out = CPU.alloc((3, 4), np.float64)
    assert CPU.atan2(put(a), put(b), out=out) is out
    assert_identical(out, expected("atan2", a, b))
    assert CPU.sin(put(a), out=out) is out
    assert_identical(out, expected("sin", a))
    bools = CPU.alloc((3, 4), np.bool_)
    assert CPU.isnan(put(a), out=bools) is bools
    assert_identical(bools, np.isnan(a))


def test_out_may_be_an_input() -> None:
    x = np.arange(12.0).reshape(3, 4)
    buf = put(x)
    CPU.multiply(buf, 2.0, out=buf)
    CPU.add(buf, buf, out=buf)
    CPU.sqrt(buf, out=buf)
    assert_identical(buf, np.sqrt(x * 4))


def test_out_may_be_a_strided_view() -> None:
    owner = put(np.zeros((4, 6), np.int32))
    x = np.arange(12, dtype=np.int32).reshape(2, 6)
    view = owner[::2]
    CPU.negative(put(x), out=view)
    want = np.zeros((4, 6), np.int32)
    want[::2] = -x
    assert_identical(owner, want)
    CPU.add(put(x.T), 1, out=owner.T[:, 1::2])
    want.T[:, 1::2] = x.T + 1
    assert_identical(owner, want)


def test_out_of_the_wrong_shape_dtype_or_device() -> None:
    a = put(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"add: out has shape \(3, 2\)"):
        CPU.add(a, a, out=CPU.alloc((3, 2), np.float32))
    with pytest.raises(ValueError, match="exp: out has shape"):
        CPU.exp(a, out=CPU.alloc((2, 3, 1), np.float32))
    with pytest.raises(TypeError, match="add: out has dtype float64"):
        CPU.add(a, a, out=CPU.alloc((2, 3), np.float64))
    with pytest.raises(TypeError, match="less: out has dtype float32"):
        CPU.less(a, a, out=CPU.alloc((2, 3), np.float32))
    with pytest.raises(TypeError, match="exp: out has dtype"):
        CPU.exp(a, out=CPU.alloc((2, 3), np.float16))
    other = get_device("cpu:1").alloc((2, 3), np.float32)
    with pytest.raises(ValueError, match="cpu:1"):
        CPU.add(a, a, out=other)
    with pytest.raises(ValueError, match="cpu:1"):
        CPU.exp(a, out=other)
    with pytest.raises(TypeError, match="out must be a Buffer"):
        CPU.exp(a, out=np.zeros((2, 3), np.float32))


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_refuses_dtypes_outside_its_table(name: str) -> None:
    # (bfloat16 is no longer refused everywhere: it is taken wherever float32 is,
    # computed in float32 and rounded, as test_bfloat16.py checks)
    refused = [d for d in ALL if d not in UNARY[name][0]]
    for dtype in refused:
        with pytest.raises(TypeError, match=rf"\b{name}\b"):
            getattr(CPU, name)(CPU.alloc((2,), dtype))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_refuses_dtypes_outside_its_table(name: str) -> None:
    for dtype in [d for d in ALL if d not in BINARY[name][0]]:
        x = CPU.alloc((2,), dtype)
        with pytest.raises(TypeError, match=rf"\b{name}\b"):
            getattr(CPU, name)(x, x)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (np.float32, np.float64),
        (np.int32, np.int64),
        (np.int8, np.uint8),
        (np.float64, np.complex128),
        (np.int64, np.float64),
        (np.bool_, np.int8),
    ],
)
def test_mixed_dtypes_are_refused(a: Any, b: Any) -> None:
    x, y = put(np.ones(3, a)), put(np.ones(3, b))
    with pytest.raises(TypeError, match="add: operands have dtypes"):
        CPU.add(x, y)
    with pytest.raises(TypeError, match="equal"):
        CPU.equal(y, x)


def test_operands_that_are_not_buffers_are_refused() -> None:
    with pytest.raises(TypeError, match="exp: x must be a Buffer"):
        CPU.exp(np.ones(3))
    with pytest.raises(TypeError, match="exp"):
        CPU.exp(1.0)


# ------------------------------------------------------------------- devices
def test_operands_on_two_devices_are_refused_naming_both() -> None:
    other = get_device("cpu:1")
    assert other is not CPU and get_device("cpu:0") is CPU
    a, b = put(np.ones(3)), put(np.ones(3), other)
    for x, y in ((a, b), (b, a)):
        with pytest.raises(ValueError, match=r"cpu:0.*cpu:1|cpu:1.*cpu:0"):
            CPU.add(x, y)
        with pytest.raises(ValueError, match=r"cpu:0.*cpu:1|cpu:1.*cpu:0"):
            other.add(x, y)
    with pytest.raises(ValueError, match=r"exp: x is on cpu:1.*runs on cpu:0"):
        CPU.exp(b)
    # The hint names the move of each layer the error reaches, this one's last.
    moves = r"\(`Tensor\.to`, `NDArray\.to_device` or `Device\.copy_to`\)$"
    with pytest.raises(
        ValueError, match="move one to the other's device first " + moves
    ):
        CPU.add(a, b)
    with pytest.raises(ValueError, match="move it there first " + moves):
        CPU.exp(b)
    assert CPU.exp(other.copy_to(b, CPU)).device is CPU  # the hint, followed
    # With a Python scalar, the message names the buffer's device and this one.
    with pytest.raises(ValueError, match=r"on cpu:1, but the operator runs on cpu:0"):
        CPU.multiply(b, 2.0)
    with pytest.raises(ValueError, match=r"cpu:1.*cpu:0"):
        CPU.multiply(2.0, b)
    # Both on the other device, but run here.
    with pytest.raises(ValueError, match=r"on cpu:1, but the operator runs on cpu:0"):
        CPU.add(b, b)


def test_the_same_ops_run_on_the_second_device() -> None:
    other = get_device("cpu:1")
    x = sample(np.float32, (3, 5), np.random.default_rng(2))
    result = other.logaddexp(put(x, other), put(x[0], other))
    assert result.device is other
    assert_identical(get(result), expected("logaddexp", x, x[0]))


def test_no_float64_device_refuses_float64_and_complex128() -> None:
    dev = get_device("no_float64")
    with pytest.raises(TypeError, match="does not support dtype float64"):
        dev.from_host(np.ones(3))
    with pytest.raises(TypeError, match="complex128"):
        dev.alloc((3,), np.complex128)
    # complex64's abs is float32: still held there.
    z = np.array([3 + 4j, -1j], np.complex64)
    assert_identical(dev.abs(put(z, dev)), np.abs(z))
    x = sample(np.float32, (4,), np.random.default_rng(0))
    assert_identical(dev.exp(put(x, dev)), expected("exp", x))


# ------------------------------------------------------------------ quietness
QUIET_CASES: list[tuple[str, tuple[Any, ...], Any]] = [
    ("log", (np.array([0.0, -1.0, np.inf]),), [-np.inf, np.nan, np.inf]),
    ("log2", (np.array([0.0, -0.0]),), [-np.inf, -np.inf]),
    ("log10", (np.array([-2.0]),), [np.nan]),
    ("log1p", (np.array([-1.0, -2.0]),), [-np.inf, np.nan]),
    ("sqrt", (np.array([-1.0, -0.0]),), [np.nan, -0.0]),
    ("reciprocal", (np.array([0.0, -0.0]),), [np.inf, -np.inf]),
    ("exp", (np.array([1000.0, -1000.0]),), [np.inf, 0.0]),
    ("expm1", (np.array([1000.0]),), [np.inf]),
    ("acos", (np.array([2.0]),), [np.nan]),
    ("asin", (np.array([-2.0]),), [np.nan]),
    ("acosh", (np.array([0.0]),), [np.nan]),
    ("atanh", (np.array([1.0, -1.0, 2.0]),), [np.inf, -np.inf, np.nan]),
    ("cosh", (np.array([1000.0]),), [np.inf]),
    ("sinh", (np.array([-1000.0]),), [-np.inf]),
    ("square", (np.array([1e200]),), [np.inf]),
    ("square", (np.array([100], np.int8),), np.array([16], np.int8)),
    ("sin", (np.array([np.inf]),), [np.nan]),
    ("cos", (np.array([-np.inf]),), [np.nan]),
    ("tan", (np.array([np.inf]),), [np.nan]),
    (
        "divide",
        (np.array([1.0, -1.0, 0.0]), np.array([0.0, 0.0, 0.0])),
        [np.inf, -np.inf, np.nan],
    ),
    ("divide", (np.array([1e300]), np.array([1e-300])), [np.inf]),
    (
        "floor_divide",
        (np.array([7, -7, 0], np.int32), np.array([0, 0, 0], np.int32)),
        np.array([0, 0, 0], np.int32),
    ),
    ("floor_divide", (np.array([1.0]), np.array([0.0])), [np.inf]),
    (
        "remainder",
        (np.array([7], np.int64), np.array([0], np.int64)),
        np.array([0], np.int64),
    ),
    ("remainder", (np.array([1.0, np.inf]), np.array([0.0, 2.0])), [np.nan, np.nan]),
    (
        "pow",
        (np.array([0.0, -1.0, 10.0]), np.array([-1.0, 0.5, 400.0])),
        [np.inf, np.nan, np.inf],
    ),
    ("hypot", (np.array([1.5e308]), np.array([1.5e308])), [np.inf]),
    (
        "logaddexp",
        (np.array([np.inf, -np.inf]), np.array([np.inf, -np.inf])),
        [np.inf, -np.inf],
    ),
    ("atan2", (np.array([np.inf]), np.array([np.inf])), [np.pi / 4]),
    ("sign", (np.array([np.nan, -0.0, -3.0]),), [np.nan, 0.0, -1.0]),
]


@pytest.mark.parametrize(("name", "args", "want"), QUIET_CASES, ids=str)
def test_quiet_ops_give_ieee_results_without_warnings(
    name: str, args: tuple[Any, ...], want: Any
) -> None:
    # filterwarnings = error: a RuntimeWarning here would fail the test.
    result = getattr(CPU, name)(*[put(a) for a in args])
    want = np.asarray(want, dtype=args[0].dtype)
    assert_identical(result, want)


def test_quiet_ops_leave_numpys_error_state_as_it_was() -> None:
    before = np.geterr()
    CPU.log(put(np.zeros(3)))
    with pytest.raises(TypeError):
        CPU.log(put(np.zeros(3, np.int32)))  # refused before the kernel runs
    assert np.geterr() == before
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        np.log(np.zeros(3))
    with np.errstate(divide="raise"):
        CPU.log(put(np.zeros(3)))  # quiet, whatever the caller's state
        with pytest.raises(FloatingPointError):
            np.log(np.zeros(3))


def test_loud_ops_warn_on_overflow_and_pass_nan_silently() -> None:
    big = put(np.array([np.finfo(np.float32).max], np.float32))
    with pytest.warns(RuntimeWarning, match="overflow"):
        result = CPU.add(big, big)
    assert get(result)[0] == np.inf
    with pytest.warns(RuntimeWarning, match="overflow"):
        CPU.multiply(big, 2.0)
    nan = put(np.array([np.nan, 1.0]))
    assert_identical(CPU.add(nan, 1.0), np.array([np.nan, 2.0]))
    assert_identical(CPU.less(nan, 1.0), np.array([False, False]))
    assert_identical(CPU.maximum(nan, 0.0), np.array([np.nan, 1.0]))


# The array API's special cases where NumPy's values differ (the device follows
# the standard): each row is an input and the standard's result.
INF, NAN = math.inf, math.nan
COMPLEX_SPECIAL_CASES = [
    ("expm1", complex(-0.0, 0.0), complex(0.0, 0.0)),
    ("expm1", complex(0.0, -0.0), complex(0.0, -0.0)),
    ("expm1", complex(INF, 0.0), complex(INF, 0.0)),
    ("expm1", complex(-INF, INF), complex(-1.0, 0.0)),
    ("expm1", complex(INF, INF), complex(INF, NAN)),
    ("expm1", complex(-INF, NAN), complex(-1.0, 0.0)),
    ("expm1", complex(INF, NAN), complex(INF, NAN)),
    ("expm1", complex(NAN, 0.0), complex(NAN, 0.0)),
    ("expm1", complex(3.0, INF), complex(NAN, NAN)),
    ("tanh", complex(INF, 3.0), complex(1.0, 0.0)),  # C99: 1 - 0j (sin(6) < 0)
    ("tanh", complex(INF, 1e30), complex(1.0, 0.0)),
    ("tanh", complex(-INF, -3.0), complex(-1.0, -0.0)),  # tanh is odd
]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize(("name", "z", "want"), COMPLEX_SPECIAL_CASES, ids=str)
def test_complex_special_cases_of_the_array_api(
    name: str, z: complex, want: complex, dtype: Any
) -> None:
    x = np.array([z, 0.5 + 0.25j], dtype)  # a finite value: NumPy's there
    result = getattr(CPU, name)(put(x))
    assert_identical(result, np.array([want, numpy_op(name)(x[1])], dtype))
    assert_identical(getattr(CPU, name)(put(x[0, ...])), np.array(want, dtype))  # 0-d


FLOOR_DIVIDE_CASES = [  # (a, b, the standard's a // b)
    (INF, 2.0, INF),
    (INF, -2.0, -INF),
    (-INF, 2.0, -INF),
    (-INF, -2.0, INF),
    (1.5, -INF, -0.0),
    (-1.5, INF, -0.0),
    (1.5, INF, 0.0),
    (-1.5, -INF, 0.0),
    (INF, INF, NAN),
    (7.0, 2.0, 3.0),
]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_floor_divide_by_or_of_infinity_follows_the_array_api(dtype: Any) -> None:
    a, b, want = (
        np.array(column, dtype) for column in zip(*FLOOR_DIVIDE_CASES, strict=True)
    )
    assert_identical(CPU.floor_divide(put(a), put(b)), want)
    # into an operand (in place), and with a Python scalar
    into = put(a)
    CPU.floor_divide(into, put(b), out=into)
    assert_identical(into, want)
    assert_identical(CPU.floor_divide(put(a[:4]), 2.0), np.array(want[[0, 0, 2, 2]]))
    for i in range(len(FLOOR_DIVIDE_CASES)):  # 0-d operands
        got = CPU.floor_divide(put(a[i, ...]), put(b[i, ...]))
        assert_identical(got, want[i, ...])


def test_complex_tanh_into_its_operand() -> None:
    x = put(np.array([complex(INF, -1.0), 1 + 1j], np.complex64))
    CPU.tanh(x, out=x)
    want = np.array([complex(1.0, -0.0), np.tanh(np.complex64(1 + 1j))], np.complex64)
    assert_identical(x, want)


def test_nextafter_of_specials() -> None:
    a = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, 5e-324], np.float64)
    b = np.array([0.0, 0.0, 1.0, 1.0, -1.0, np.nan, 0.0], np.float64)
    assert_identical(CPU.nextafter(put(a), put(b)), np.nextafter(a, b))
    for dtype in (np.float16, np.float32):
        x = put(np.ones(2, dtype))
        want = np.nextafter(np.ones(2, dtype), np.array([2.0, 0.0], dtype))
        assert_identical(CPU.nextafter(x, put(np.array([2.0, 0.0], dtype))), want)


def test_integer_arithmetic_wraps_silently() -> None:
    x = np.array([127, -128], np.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_identical(CPU.add(put(x), 1), np.array([-128, -127], np.int8))
        assert_identical(CPU.abs(put(x)), np.array([127, -128], np.int8))
        assert_identical(CPU.negative(put(x)), np.array([-127, -128], np.int8))
