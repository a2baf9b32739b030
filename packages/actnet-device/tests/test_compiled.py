"""The compiled kernel layer: the `cpu` device against `reference` and a float64
oracle (the fused activations: gelu, both forms, and silu, with their
backwards), their refusals, the thread setting, and numba's cold start (not
imported by `import actnet.device`; cached where the package cannot be
written)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from typing import Any

import mpmath as mp
import numpy as np
import pytest
from _helpers import get, put

import actnet.device
from actnet.device import get_device
from actnet.device._compiled_activations import (
    BLOCK,
    _gelu,
    _gelu_backward,
    _gelu_tanh,
    _gelu_tanh_backward,
    _silu,
    _silu_backward,
)

CPU = get_device("cpu")
REF = get_device("reference")


def _run(code: str, **env: str) -> str:
    """Run `code` in a fresh interpreter; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    return done.stdout.strip()


def _gelu_oracle(x: np.ndarray[Any, Any], tanh: bool) -> np.ndarray[Any, Any]:
    """gelu in float64 from the math module, element by element."""

    def one(v: float) -> float:
        if tanh:
            inner = math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)
            return 0.5 * v * (1 + math.tanh(inner))
        return 0.5 * v * (1 + math.erf(v / math.sqrt(2)))

    return np.array([one(float(v)) for v in x.reshape(-1)]).reshape(x.shape)


def _slope_oracle(x: np.ndarray[Any, Any], tanh: bool) -> np.ndarray[Any, Any]:
    """gelu'(x) in float64 from the math module, element by element."""

    def one(v: float) -> float:
        if tanh:
            b, k = math.sqrt(2 / math.pi), 0.044715
            t = math.tanh(b * (v + k * v**3))
            return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * b * (1 + 3 * k * v * v)
        pdf = math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
        return 0.5 * (1 + math.erf(v / math.sqrt(2))) + v * pdf

    return np.array([one(float(v)) for v in x.reshape(-1)]).reshape(x.shape)


def _silu_oracle(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """x sigmoid(x) in float64 from the math module, element by element."""

    def one(v: float) -> float:
        return v / (1 + math.exp(-v)) if v > -700 else v * math.exp(v)

    return np.array([one(float(v)) for v in x.reshape(-1)]).reshape(x.shape)


def _silu_slope_oracle(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """silu'(x) = s (1 + x (1 - s)), s = sigmoid(x), element by element."""

    def one(v: float) -> float:
        e = math.exp(-abs(v))
        s, rest = (1 / (1 + e), e / (1 + e)) if v >= 0 else (e / (1 + e), 1 / (1 + e))
        return s * (1 + v * rest)

    return np.array([one(float(v)) for v in x.reshape(-1)]).reshape(x.shape)


def _assert_close(
    got: np.ndarray[Any, Any], want: np.ndarray[Any, Any], x: np.ndarray[Any, Any]
) -> None:
    """float32: one rounding of the float64 value, give or take that value's own
    error, which two libms differ by (1 + erf(x / sqrt 2) cancels for x < -4, and
    1 - tanh(u)^2 as |x| grows: absolute errors of 1e-16 |x|, times x^2 in the tanh
    form's derivative). float64: the formula's few roundings, and that condition."""
    if got.dtype == np.float32:
        bound = (
            np.spacing(np.abs(want).astype(np.float32)) + 4e-16 * (1 + np.abs(x)) ** 3
        )
    else:
        bound = 16 * np.spacing(np.abs(want)) + 1e-15 * (1 + np.abs(x)) ** 3
    excess = np.abs(got.astype(np.float64) - want) - bound - 1e-300
    assert excess.max() <= 0, f"off by {excess.max():.3g} beyond the bound"


@pytest.mark.parametrize("device", [CPU, REF], ids=["cpu", "reference"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("n", [7, 50_000])  # one thread; the threaded kernel
def test_gelu_is_the_float64_value_rounded_once(
    device: Any, dtype: Any, approximate: str, n: int
) -> None:
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 4).astype(dtype)
    tanh = approximate == "tanh"
    got = get(device.gelu(put(x, device), approximate=approximate))
    want = _gelu_oracle(x.astype(np.float64), tanh)
    assert got.dtype == dtype
    _assert_close(got, want, x.astype(np.float64))
    g = rng.standard_normal(n).astype(dtype)
    back = get(device.gelu_backward(put(g, device), put(x, device), approximate))
    slope = _slope_oracle(x.astype(np.float64), tanh)
    _assert_close(back, g.astype(np.float64) * slope, x.astype(np.float64))


@pytest.mark.parametrize("device", [CPU, REF], ids=["cpu", "reference"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [7, 50_000])
def test_silu_is_the_float64_value_rounded_once(
    device: Any, dtype: Any, n: int
) -> None:
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 6).astype(dtype)
    got = get(device.silu(put(x, device)))
    assert got.dtype == dtype
    _assert_close(got, _silu_oracle(x.astype(np.float64)), x.astype(np.float64))
    g = rng.standard_normal(n).astype(dtype)
    back = get(device.silu_backward(put(g, device), put(x, device)))
    slope = _silu_slope_oracle(x.astype(np.float64))
    _assert_close(back, g.astype(np.float64) * slope, x.astype(np.float64))


_SPECIAL = [-np.inf, -1e300, -50.0, -40.0, -38.5, -37.0, -4.0, -1e-310, -0.0, 0.0,
            1e-310, 4.0, 30.0, 1e300, np.inf, np.nan]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values_match_the_reference(dtype: Any) -> None:
    """inf, NaN, signed zeros, subnormals, the edges of the forms: each block of
    the exact gelu once with |x| <= 4 only and once with larger values."""
    with np.errstate(over="ignore"):
        x = np.array(_SPECIAL, dtype)
    small = np.array([v for v in _SPECIAL if not abs(v) > 4.0], dtype)
    for values in (x, small):
        g = np.linspace(-2, 2, values.size).astype(dtype)
        for op, args in (
            ("gelu", ("none",)),
            ("gelu", ("tanh",)),
            ("silu", ()),
        ):
            for backward in (False, True):
                name = f"{op}_backward" if backward else op
                inputs = (g, values) if backward else (values,)
                got = get(getattr(CPU, name)(*(put(a) for a in inputs), *args))
                want = get(getattr(REF, name)(*(put(a, REF) for a in inputs), *args))
                np.testing.assert_array_equal(np.isnan(got), np.isnan(want), name)
                tol = 1e-6 if dtype == np.float32 else 1e-12
                np.testing.assert_allclose(
                    got, want, rtol=tol, atol=1e-15, err_msg=name
                )


def test_float32_results_are_the_exact_values_rounded_once() -> None:
    """On float32, the compiled kernels give the exact values rounded (mpmath,
    40 digits): the float64 work is accurate enough that no sample rounds the
    other way."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(1500), rng.standard_normal(500) * 5])
    x = x.astype(np.float32)
    ones = np.ones_like(x)
    k, b = mp.mpf("0.044715"), 2 * mp.sqrt(2 / mp.pi)

    def exact(v: Any, op: str) -> Any:
        if op.startswith("gelu_tanh"):
            s = 1 / (1 + mp.exp(-b * (v + k * v**3)))  # (1 + tanh(u)) / 2
            return (
                v * s
                if op == "gelu_tanh"
                else s + v * s * (1 - s) * b * (1 + 3 * k * v**2)
            )
        if op.startswith("gelu"):
            return v * mp.ncdf(v) if op == "gelu" else mp.ncdf(v) + v * mp.npdf(v)
        s = 1 / (1 + mp.exp(-v))
        return v * s if op == "silu" else s * (1 + v * (1 - s))

    runs = {
        "gelu": lambda: CPU.gelu(put(x)),
        "gelu_backward": lambda: CPU.gelu_backward(put(ones), put(x)),
        "gelu_tanh": lambda: CPU.gelu(put(x), "tanh"),
        "gelu_tanh_backward": lambda: CPU.gelu_backward(put(ones), put(x), "tanh"),
        "silu": lambda: CPU.silu(put(x)),
        "silu_backward": lambda: CPU.silu_backward(put(ones), put(x)),
    }
    with mp.workdps(40):
        for op, run in runs.items():
            want = np.array([float(exact(mp.mpf(float(v)), op)) for v in x])
            np.testing.assert_array_equal(get(run()), want.astype(np.float32), op)


def test_the_exact_gelu_tail_form_is_relatively_accurate() -> None:
    """In a block with some |x| > 4, Phi(-|x|) is exp(-x^2/2) erfcx(|x|/sqrt 2)
    / 2: float64 gelu and its slope to a few ulp (mpmath) down to the subnormals,
    where the reference's 1 + erf(x/sqrt 2) cancels (for x < -1 it is the
    absolute error of about 1e-16 that the test above allows)."""
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-38.4, 8, 600), rng.uniform(-1, 1, 200)])
    interleaved = np.stack([x, np.full_like(x, 5.0)], 1).reshape(-1)
    ones = np.ones_like(interleaved)
    got = get(CPU.gelu(put(interleaved)))[0::2]
    slope = get(CPU.gelu_backward(put(ones), put(interleaved)))[0::2]
    with mp.workdps(40):
        want = np.array([float(mp.mpf(v) * mp.ncdf(v)) for v in x])
        want_slope = np.array([float(mp.ncdf(v) + mp.mpf(v) * mp.npdf(v)) for v in x])
    ulps = np.abs(got - want) / np.spacing(np.abs(want))
    assert ulps.max() <= 8, f"{ulps.max()} ulp at x = {x[ulps.argmax()]}"
    # the slope cancels near its root (x = -0.75): there, the absolute error
    err = np.abs(slope - want_slope) - 8 * np.spacing(np.abs(want_slope))
    assert err.max() <= 4e-16, f"off by {err.max():.3g} at x = {x[err.argmax()]}"


def test_cpu_equals_reference_on_odd_layouts_and_half_precision() -> None:
    """Strided inputs and float16/bfloat16 take the reference kernel on cpu too."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 30)).astype(np.float32)
    strided = put(x, CPU).T
    assert not strided.is_contiguous
    np.testing.assert_array_equal(get(CPU.gelu(strided)), get(REF.gelu(put(x, REF).T)))
    np.testing.assert_array_equal(get(CPU.silu(strided)), get(REF.silu(put(x, REF).T)))
    for dtype in (actnet.device.float16, actnet.device.bfloat16):
        h = x.astype(dtype)
        np.testing.assert_array_equal(
            get(CPU.gelu(put(h, CPU))), get(REF.gelu(put(h, REF)))
        )
        np.testing.assert_array_equal(
            get(CPU.silu(put(h, CPU))), get(REF.silu(put(h, REF)))
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_exact_gelu_block_takes_its_own_form(dtype: Any) -> None:
    """A block's values depend on its own elements only: a block with |x| <= 4
    gives the same bits after a block that took the tail form (which makes the
    kernel count first) as alone, and so does the tail form wherever it runs."""
    rng = np.random.default_rng(5)
    small = rng.uniform(-4, 4, BLOCK)
    wide = rng.uniform(-9, 9, BLOCK)
    wide[0] = 8.5  # surely beyond 4
    blocks = [small, wide, small, small, wide, wide, small]
    x = np.concatenate(blocks).astype(dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    out = get(CPU.gelu(put(x)))
    back = get(CPU.gelu_backward(put(g), put(x)))
    for i, block in enumerate(blocks):
        part = slice(i * BLOCK, (i + 1) * BLOCK)
        alone = get(CPU.gelu(put(block.astype(dtype))))
        np.testing.assert_array_equal(out[part], alone)
        alone = get(CPU.gelu_backward(put(g[part]), put(block.astype(dtype))))
        np.testing.assert_array_equal(back[part], alone)
    xd = x.astype(np.float64)
    _assert_close(out, _gelu_oracle(xd, False), xd)
    _assert_close(back, g.astype(np.float64) * _slope_oracle(xd, False), xd)


def test_the_kernels_run_as_plain_python() -> None:
    """A kernel is a Python function first (prange is range): same values. One
    block has |x| <= 4 only (the rational form), the other not (the tail form)."""
    x = np.concatenate([np.linspace(-4, 4, BLOCK), np.linspace(-9, 6, BLOCK)])
    ones, out = np.ones_like(x), np.empty_like(x)
    _gelu(x, out)
    _assert_close(out, _gelu_oracle(x, False), x)
    _gelu_backward(ones, x, out)
    _assert_close(out, _slope_oracle(x, False), x)
    _gelu_tanh(x, out)
    _assert_close(out, _gelu_oracle(x, True), x)
    _gelu_tanh_backward(ones, x, out)
    _assert_close(out, _slope_oracle(x, True), x)
    _silu(x, out)
    _assert_close(out, _silu_oracle(x), x)
    _silu_backward(ones, x, out)
    _assert_close(out, _silu_slope_oracle(x), x)


def test_gelu_refusals() -> None:
    x = put(np.zeros(3, np.float32), CPU)
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        CPU.gelu(x, approximate="erf")  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(TypeError, match="gelu does not take int32"):
        CPU.gelu(put(np.zeros(3, np.int32), CPU))
    with pytest.raises(ValueError, match="one shape and dtype"):
        CPU.gelu_backward(put(np.zeros(4, np.float32), CPU), x)
    with pytest.raises(ValueError, match="out shares memory with an input"):
        CPU.gelu_backward(x, put(np.zeros(3, np.float32), CPU), out=x[::1])


def test_silu_refusals() -> None:
    x = put(np.zeros(3, np.float32), CPU)
    with pytest.raises(TypeError, match="silu does not take int32"):
        CPU.silu(put(np.zeros(3, np.int32), CPU))
    with pytest.raises(ValueError, match=r"silu_backward: grad .* one shape and dtype"):
        CPU.silu_backward(put(np.zeros(3, np.float64), CPU), x)
    with pytest.raises(ValueError, match="out shares memory with an input"):
        CPU.silu(x, out=x[::1])


def test_gelu_in_place() -> None:
    x = put(np.linspace(-3, 3, 9, dtype=np.float32), CPU)
    want = get(CPU.gelu(x))
    assert CPU.gelu(x, out=x) is x
    np.testing.assert_array_equal(get(x), want)
    x = put(np.linspace(-3, 3, 9, dtype=np.float32), CPU)
    want = get(CPU.silu(x))
    assert CPU.silu(x, out=x) is x
    np.testing.assert_array_equal(get(x), want)
    g = put(np.linspace(1, 2, 9, dtype=np.float32), CPU)
    want = get(CPU.silu_backward(g, x))
    assert CPU.silu_backward(g, x, out=g) is g
    np.testing.assert_array_equal(get(g), want)


def test_set_num_threads_governs_blas_and_the_compiled_kernels() -> None:
    out = _run(
        """
        import numpy as np
        import numba
        from actnet.device import get_device, get_num_threads, set_num_threads
        from actnet.device._threads import blas_threads
        cpu = get_device("cpu")
        cpu.gelu(cpu.from_host(np.ones(10, np.float32)))  # loads numba
        set_num_threads(1)
        print(get_num_threads(), blas_threads(), numba.get_num_threads())
        set_num_threads(2)
        print(get_num_threads(), blas_threads(), numba.get_num_threads())
        """,
        OMP_NUM_THREADS="2",
        NUMBA_NUM_THREADS="2",
    )
    first, second = (line.split() for line in out.splitlines())
    assert first[0] == first[2] == "1" and first[1] in ("1", "None")
    assert second[0] == second[2] == "2" and second[1] in ("2", "None")


def test_the_default_honours_omp_num_threads() -> None:
    code = "from actnet.device import get_num_threads; print(get_num_threads())"
    assert _run(code, OMP_NUM_THREADS="3") == "3"


def test_set_num_threads_refusals() -> None:
    with pytest.raises(TypeError, match="n must be an int"):
        actnet.device.set_num_threads(2.0)  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ValueError, match="at least 1"):
        actnet.device.set_num_threads(0)


def test_numba_loads_only_when_a_compiled_kernel_runs() -> None:
    out = _run(
        """
        import sys
        import numpy as np
        from actnet.device import get_device
        print("numba" in sys.modules)
        ref = get_device("reference")
        ref.gelu(ref.from_host(np.ones(3, np.float32)))
        print("numba" in sys.modules)
        cpu = get_device("cpu")
        cpu.gelu(cpu.from_host(np.ones(3, np.float32)))
        print("numba" in sys.modules)
        """
    )
    assert out.split() == ["False", "False", "True"]


def test_the_cache_moves_to_the_user_cache_when_the_package_is_read_only(
    tmp_path: Any,
) -> None:
    out = _run(
        """
        import os
        writable = os.access
        def access(path, mode):
            return False if "actnet" in str(path) else writable(path, mode)
        os.access = access
        import numpy as np
        from actnet.device import get_device
        cpu = get_device("cpu")
        cpu.gelu(cpu.from_host(np.ones(3, np.float32)))
        print(os.environ["NUMBA_CACHE_DIR"])
        """,
        XDG_CACHE_HOME=str(tmp_path),
    )
    assert out == str(tmp_path / "actnet" / "numba")
    assert any((tmp_path / "actnet" / "numba").rglob("*.nbi"))  # numba's index
