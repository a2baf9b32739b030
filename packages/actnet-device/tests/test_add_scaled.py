"""add_scaled (a + alpha * b) against a float64 oracle: fused (BLAS axpy) and
unfused paths, into a, into b and into fresh memory, contiguous and strided, the
refusals; and the BLAS lookup itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _helpers import get, put
from hypothesis import given, settings
from hypothesis import strategies as st

from actnet.device import get_device
from actnet.device._blas import _numpys, find_axpy

CPU = get_device("cpu")
BLAS = CPU._backend._axpy  # the NumPy backend's axpy by dtype ({} where not found)


def _ulp(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.spacing(np.abs(x).astype(x.dtype))


def _assert_one_rounding(
    result: np.ndarray[Any, Any],
    a: np.ndarray[Any, Any],
    b: np.ndarray[Any, Any],
    alpha: float,
) -> None:
    """result is a + alpha * b rounded once (fused) or with the product rounded
    first: within an ulp of the sum and half an ulp of the product of exact."""
    dtype = a.dtype
    product = (b.astype(np.float64) * dtype.type(alpha).astype(np.float64)).astype(
        dtype
    )
    exact = a.astype(np.float64) + b.astype(np.float64) * float(dtype.type(alpha))
    bound = _ulp(exact.astype(dtype)).astype(np.float64) + _ulp(product).astype(
        np.float64
    )
    error = np.abs(result.astype(np.float64) - exact)
    assert result.dtype == dtype
    assert (error <= bound).all(), float((error - bound).max())


def _cpu_has_fma() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return " fma " in info.read()
    except OSError:
        return False


@pytest.fixture(params=[True, False], ids=["blas", "ufuncs"])
def paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run a test with the fused BLAS path (where found) and with the ufuncs."""
    if not request.param:
        monkeypatch.setattr(CPU._backend, "_axpy", {})
    elif not BLAS:
        pytest.skip("no OpenBLAS axpy found in this process")
    return bool(request.param)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 1 << 14, (1 << 16) + 3, 300_001])
def test_into_a_matches_the_oracle(paths: bool, dtype: Any, n: int) -> None:
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    x, y = put(a), put(b)
    result = CPU.add_scaled(x, y, -0.01, out=x)
    assert result is x
    _assert_one_rounding(get(x), a, b, -0.01)
    np.testing.assert_array_equal(get(y), b)  # b is only read


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [7, (1 << 16) + 3, 300_001])
def test_into_fresh_memory_and_into_b_match_the_oracle(
    paths: bool, dtype: Any, n: int
) -> None:
    """Into fresh memory the BLAS path copies a there and runs axpy over it;
    into b (whose values it must read first) it takes the ufuncs."""
    rng = np.random.default_rng(n + 1)
    a = rng.standard_normal(n).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    x, y = put(a), put(b)
    fresh = CPU.add_scaled(x, y, 0.37)
    _assert_one_rounding(get(fresh), a, b, 0.37)
    np.testing.assert_array_equal(get(x), a)  # a and b are only read
    np.testing.assert_array_equal(get(y), b)
    assert CPU.add_scaled(x, y, 0.37, out=y) is y
    _assert_one_rounding(get(y), a, b, 0.37)


def test_the_blas_path_is_fused_and_the_ufunc_path_is_not() -> None:
    """Values where the rounding of the product shows: the fused path keeps it."""
    if not BLAS:
        pytest.skip("no OpenBLAS axpy found in this process")
    if not _cpu_has_fma():
        pytest.skip("OpenBLAS fuses axpy with FMA instructions; this CPU has none")
    n = 1 << 15
    a = np.full(n, -1.0, np.float32)
    b = np.full(n, 1 + 2.0**-12, np.float32)  # b * b is not a float32
    x = put(a)
    CPU.add_scaled(x, put(b), float(b[0]), out=x)
    fused = np.float32(np.float64(b[0]) * np.float64(b[0]) - 1.0)  # exact, then once
    assert (get(x) == fused).all()
    unfused = np.float32(b[0] * b[0]) - np.float32(1.0)
    assert fused != unfused


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64])
def test_into_b_and_into_fresh_memory(dtype: Any) -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5)).astype(dtype)
    b = rng.standard_normal((4, 5)).astype(dtype)
    fresh = CPU.add_scaled(put(a), put(b), 2.5)
    expected = a + np.asarray(2.5, dtype) * b
    np.testing.assert_array_equal(get(fresh), expected)
    y = put(b)
    assert CPU.add_scaled(put(a), y, 2.5, out=y) is y
    np.testing.assert_array_equal(get(y), expected)


@settings(max_examples=40)
@given(
    rows=st.integers(1, 40),
    cols=st.integers(1, 40),
    alpha=st.floats(-4, 4, allow_nan=False, width=32),
    transpose_a=st.booleans(),
    transpose_b=st.booleans(),
)
def test_strided_operands(
    rows: int, cols: int, alpha: float, transpose_a: bool, transpose_b: bool
) -> None:
    rng = np.random.default_rng(rows * 41 + cols)
    a = rng.standard_normal((cols, rows)).astype(np.float32)
    b = rng.standard_normal((cols, rows)).astype(np.float32)
    x = put(a).transpose() if transpose_a else put(a.T.copy())
    y = put(b).transpose() if transpose_b else put(b.T.copy())
    CPU.add_scaled(x, y, alpha, out=x)
    _assert_one_rounding(get(x), a.T, b.T, alpha)


def test_refusals() -> None:
    x = put(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="dtypes float32 and float64"):
        CPU.add_scaled(x, put(np.ones((2, 3))), 1.0)
    with pytest.raises(ValueError, match=r"a has shape \(2, 3\) and b \(3,\)"):
        CPU.add_scaled(x, put(np.ones(3, np.float32)), 1.0)
    with pytest.raises(TypeError, match="alpha must be a real Python number"):
        CPU.add_scaled(x, x, True)
    with pytest.raises(TypeError, match="alpha must be a real Python number"):
        CPU.add_scaled(x, x, 1j)  # type: ignore[arg-type]  # the refusal under test
    with pytest.raises(TypeError, match="add_scaled does not take int32"):
        CPU.add_scaled(put(np.ones(3, np.int32)), put(np.ones(3, np.int32)), 1.0)
    with pytest.raises(ValueError, match="out shares memory with an input"):
        CPU.add_scaled(x, x, 1.0, out=x[::-1])  # another view of a's memory


def test_numpy_scalars_are_real_numbers() -> None:
    x = put(np.ones(3, np.float32))
    CPU.add_scaled(x, x, np.float32(0.5), out=x)
    np.testing.assert_array_equal(get(x), np.full(3, 1.5, np.float32))


def test_the_lookup_finds_numpys_openblas_where_numpy_links_one() -> None:
    """NumPy's wheels link OpenBLAS (scipy-openblas); the lookup must find it
    there, and every function it returns passed its known-answer check."""
    blas = np.__config__.CONFIG["Build Dependencies"]["blas"]["name"]
    found = find_axpy()
    if "openblas" not in str(blas).lower():
        pytest.skip(f"NumPy links {blas}, not OpenBLAS")
    assert set(found) == {np.dtype(np.float32), np.dtype(np.float64)}
    x, y = np.ones(3), np.zeros(3)
    found[np.dtype(np.float64)](3, 2.0, x.ctypes.data, y.ctypes.data)
    np.testing.assert_array_equal(y, [2.0, 2.0, 2.0])


def test_the_lookup_prefers_numpys_own_copy() -> None:
    """SciPy's wheels map a second OpenBLAS with its own thread pool: NumPy's is
    the one to call, whatever the order of the mappings; with two candidates and
    neither NumPy's, none."""
    shipped = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    numpys = str(shipped / "libscipy_openblas64_-abc.so")
    scipys = str(shipped.parent / "scipy.libs" / "libscipy_openblas-def.so")
    assert _numpys([scipys, numpys]) == numpys
    assert _numpys([numpys, scipys]) == numpys
    assert _numpys(["/usr/lib/libopenblas.so.0"]) == "/usr/lib/libopenblas.so.0"
    assert _numpys([scipys, "/usr/lib/libopenblas.so.0"]) is None
    assert _numpys([]) is None
