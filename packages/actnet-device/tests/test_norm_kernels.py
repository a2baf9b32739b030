"""The fused normalisations (layer_norm, rms_norm and their backwards): the
compiled kernels (`cpu`) against the reference kernels (`reference`), both
against a float64 NumPy oracle, on odd shapes and layouts; and their refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
from _helpers import BFLOAT16, get, put

from actnet.device import get_device
from actnet.device._compiled_norms import (
    _column_sums,
    _layer_norm,
    _norm_backward,
    _rms_norm,
)

CPU = get_device("cpu")
REF = get_device("reference")
DEVICES = pytest.mark.parametrize("device", [CPU, REF], ids=["cpu", "reference"])

# (shape, normalized_ndim): one feature; a few rows; two normalized axes; the
# GPT shape (threaded); one long row; more rows than features.
SHAPES = [
    ((4, 1), 1),
    ((3, 7), 1),
    ((2, 3, 4, 5), 2),
    ((16, 128, 256), 1),
    ((2, 40_000), 1),
    ((3000, 17), 1),
]


def _rows(x: np.ndarray[Any, Any], k: int) -> np.ndarray[Any, Any]:
    return x.reshape(int(np.prod(x.shape[: x.ndim - k])), -1).astype(np.float64)


def layer_norm_oracle(
    x: Any, w: Any, b: Any, k: int, eps: float
) -> tuple[np.ndarray[Any, Any], ...]:
    """y, mean, rstd in float64 (plain NumPy, two passes)."""
    x2 = _rows(x, k)
    mean = x2.mean(axis=1, keepdims=True)
    rstd = 1.0 / np.sqrt(((x2 - mean) ** 2).mean(axis=1, keepdims=True) + eps)
    y = (x2 - mean) * rstd
    if w is not None:
        y = y * w.reshape(-1).astype(np.float64)
    if b is not None:
        y = y + b.reshape(-1).astype(np.float64)
    return y.reshape(x.shape), mean, rstd


def layer_norm_backward_oracle(
    g: Any, x: Any, mean: Any, rstd: Any, w: Any, k: int
) -> tuple[np.ndarray[Any, Any], ...]:
    """grad_x, grad_weight, grad_bias in float64 from the given statistics."""
    x2, g2 = _rows(x, k), _rows(g, k)
    m, r = (
        mean.reshape(-1, 1).astype(np.float64),
        rstd.reshape(-1, 1).astype(np.float64),
    )
    xhat = (x2 - m) * r
    gw = g2 if w is None else g2 * w.reshape(-1).astype(np.float64)
    gx = r * (gw - gw.mean(axis=1, keepdims=True)
              - xhat * (gw * xhat).mean(axis=1, keepdims=True))  # fmt: skip
    return gx.reshape(x.shape), (g2 * xhat).sum(axis=0), g2.sum(axis=0)


def rms_norm_oracle(x: Any, w: Any, k: int, eps: float) -> tuple[Any, Any]:
    x2 = _rows(x, k)
    rstd = 1.0 / np.sqrt((x2 * x2).mean(axis=1, keepdims=True) + eps)
    y = x2 * rstd
    if w is not None:
        y = y * w.reshape(-1).astype(np.float64)
    return y.reshape(x.shape), rstd


def rms_norm_backward_oracle(g: Any, x: Any, rstd: Any, w: Any, k: int) -> Any:
    x2, g2 = _rows(x, k), _rows(g, k)
    r = rstd.reshape(-1, 1).astype(np.float64)
    xhat = x2 * r
    gw = g2 if w is None else g2 * w.reshape(-1).astype(np.float64)
    gx = r * (gw - xhat * (gw * xhat).mean(axis=1, keepdims=True))
    return gx.reshape(x.shape), (g2 * xhat).sum(axis=0)


def _close(got: Any, want: Any, extra: float = 0.0) -> None:
    """float32: the float64 value rounded once, give or take the float64
    reduction orders (a few float64 ulps of the row sums, far below float32's).
    float64: relative 1e-12 of the values' scale, |want| + `extra` (the
    magnitude of the terms a sum cancelled)."""
    want = np.asarray(want, np.float64).reshape(got.shape)
    scale = np.abs(want) + extra
    if got.dtype == np.float32:
        bound = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
        bound = bound * 0.5 + 1e-12 * scale
    else:
        bound = 1e-12 * scale + 1e-300
    excess = np.abs(got.astype(np.float64) - want) - bound
    assert excess.max(initial=0.0) <= 0, f"off by {excess.max():.3g} beyond the bound"


def _data(shape: tuple[int, ...], dtype: Any, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 2 + 3).astype(dtype)


@DEVICES
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "k"), SHAPES, ids=str)
@pytest.mark.parametrize("affine", ["both", "none", "weight", "bias"])
def test_layer_norm_against_the_float64_oracle(
    device: Any, dtype: Any, shape: Any, k: int, affine: str
) -> None:
    x = _data(shape, dtype, 0)
    features = shape[len(shape) - k :]
    w = _data(features, dtype, 1) if affine in ("both", "weight") else None
    b = _data(features, dtype, 2) if affine in ("both", "bias") else None
    g = _data(shape, dtype, 3)
    put_or_none = [None if a is None else put(a, device) for a in (w, b)]
    y, mean, rstd = device.layer_norm(put(x, device), *put_or_none, k, 1e-5)
    want_y, want_mean, want_rstd = layer_norm_oracle(x, w, b, k, 1e-5)
    stats_shape = shape[: len(shape) - k] + (1,) * k
    assert mean.shape == rstd.shape == stats_shape and mean.dtype == dtype
    _close(get(y), want_y, 1.0)
    _close(get(mean), want_mean, 1.0)
    _close(get(rstd), want_rstd)
    # the backward from the statistics the forward returned (rounded as saved)
    grads = device.layer_norm_backward(
        put(g, device), put(x, device), mean, rstd, put_or_none[0], k
    )
    want = layer_norm_backward_oracle(g, x, get(mean), get(rstd), w, k)
    rows = len(g.reshape(-1)) // max(len(want[1]), 1)
    extras = (20.0, 20.0 * rows, 20.0 * rows)
    for got, expected, extra in zip(grads, want, extras, strict=True):
        assert got is not None
        _close(get(got), expected, extra)


@DEVICES
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "k"), SHAPES, ids=str)
@pytest.mark.parametrize("weighted", [True, False])
def test_rms_norm_against_the_float64_oracle(
    device: Any, dtype: Any, shape: Any, k: int, weighted: bool
) -> None:
    x = _data(shape, dtype, 4)
    w = _data(shape[len(shape) - k :], dtype, 5) if weighted else None
    g = _data(shape, dtype, 6)
    wb = None if w is None else put(w, device)
    y, rstd = device.rms_norm(put(x, device), wb, k)  # eps: the dtype's
    eps = float(np.finfo(dtype).eps)
    want_y, want_rstd = rms_norm_oracle(x, w, k, eps)
    assert rstd.shape == shape[: len(shape) - k] + (1,) * k and rstd.dtype == dtype
    _close(get(y), want_y, 1.0)
    _close(get(rstd), want_rstd)
    grad_x, grad_w = device.rms_norm_backward(
        put(g, device), put(x, device), rstd, wb, k
    )
    want_x, want_w = rms_norm_backward_oracle(g, x, get(rstd), w, k)
    rows = g.size // want_w.size
    assert grad_x is not None and grad_w is not None
    _close(get(grad_x), want_x, 20.0)
    _close(get(grad_w), want_w, 20.0 * rows)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "k"), SHAPES, ids=str)
def test_compiled_equals_reference(dtype: Any, shape: Any, k: int) -> None:
    """float64: to 1e-12 relative; float32: equal but for a rare last-bit tie
    where the float64 values round differently (their sums' orders differ)."""
    x, g = _data(shape, dtype, 7), _data(shape, dtype, 8)
    w, b = (_data(shape[len(shape) - k :], dtype, s) for s in (9, 10))
    results = []
    for dev in (CPU, REF):
        args = [put(a, dev) for a in (x, w, b, g)]
        y, mean, rstd = dev.layer_norm(*args[:3], k, 1e-5)
        grads = dev.layer_norm_backward(args[3], args[0], mean, rstd, args[1], k)
        ry, rrstd = dev.rms_norm(args[0], args[1], k, 1e-6)
        rgrads = dev.rms_norm_backward(args[3], args[0], rrstd, args[1], k)
        results.append([get(a) for a in (y, mean, rstd, *grads, ry, rrstd, *rgrads)])
    for got, want in zip(*results, strict=True):
        if dtype == np.float64:
            scale = np.abs(want).max(initial=0.0)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale)
        else:
            ulps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32))
            assert ulps.max(initial=0) <= 1 and (ulps > 0).mean() < 1e-3


def test_odd_layouts_and_half_precision_take_the_reference_kernel() -> None:
    """A transposed input (not contiguous) and float16/bfloat16 give exactly
    the reference's values on cpu; their statistics are float32."""
    x = _data((40, 30), np.float32, 11)
    w = _data((40,), np.float32, 12)
    strided = put(x, CPU).T
    assert not strided.is_contiguous
    got = CPU.layer_norm(strided, put(w, CPU), None, 1, 1e-5)
    want = REF.layer_norm(put(x, REF).T, put(w, REF), None, 1, 1e-5)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(get(a), get(b))
    g = put(_data((30, 40), np.float32, 13), CPU)
    got_b = CPU.rms_norm_backward(g, strided, CPU.rms_norm(strided)[1])
    g_ref = put(get(g), REF)
    x_ref = put(x, REF).T
    want_b = REF.rms_norm_backward(g_ref, x_ref, REF.rms_norm(x_ref)[1])
    for a, b in zip(got_b, want_b, strict=True):
        assert a is not None and b is not None
        np.testing.assert_array_equal(get(a), get(b))
    for dtype in (np.float16, BFLOAT16):
        h = x.astype(dtype)
        y, mean, rstd = CPU.layer_norm(put(h, CPU))
        assert y.dtype == dtype and mean.dtype == rstd.dtype == np.float32
        np.testing.assert_array_equal(get(y), get(REF.layer_norm(put(h, REF))[0]))
        want_y = layer_norm_oracle(
            x.astype(dtype).astype(np.float64), None, None, 1, 1e-5
        )[0]
        np.testing.assert_allclose(
            get(y).astype(np.float64), want_y, rtol=1e-2, atol=1e-2
        )


@DEVICES
def test_only_the_gradients_asked_for(device: Any) -> None:
    x, g = (put(_data((5, 6), np.float64, s), device) for s in (14, 15))
    _, mean, rstd = device.layer_norm(x)
    full = device.layer_norm_backward(g, x, mean, rstd)
    for mask in ((True, False, False), (False, True, False), (False, False, True)):
        part = device.layer_norm_backward(g, x, mean, rstd, None, 1, mask)
        for asked, got, want in zip(mask, part, full, strict=True):
            if not asked:
                assert got is None
            else:
                assert got is not None and want is not None
                np.testing.assert_array_equal(get(got), get(want))
    _, rstd = device.rms_norm(x)
    assert device.rms_norm_backward(g, x, rstd, None, 1, (False, True))[0] is None


@DEVICES
def test_empty_inputs(device: Any) -> None:
    """No rows: empty outputs, zero parameter gradients. Empty rows: NaN
    statistics (the mean of nothing), quietly, as the device's mean."""
    x = put(np.zeros((0, 4), np.float32), device)
    w = put(np.ones(4, np.float32), device)
    y, mean, rstd = device.layer_norm(x, w, w, 1, 1e-5)
    assert y.shape == (0, 4) and mean.shape == (0, 1)
    gx, gw, gb = device.layer_norm_backward(x, x, mean, rstd, w)
    assert gx is not None and gx.shape == (0, 4)
    assert gw is not None and gb is not None
    np.testing.assert_array_equal(get(gw), np.zeros(4, np.float32))
    np.testing.assert_array_equal(get(gb), np.zeros(4, np.float32))
    with np.errstate(all="raise"):  # quiet: no floating-point warning escapes
        y, mean, rstd = device.layer_norm(put(np.zeros((3, 0), np.float32), device))
    assert y.shape == (3, 0) and np.isnan(get(rstd)).all()


def test_refusals() -> None:
    x = put(np.zeros((2, 3), np.float32))
    w = put(np.ones(3, np.float32))
    with pytest.raises(TypeError, match="layer_norm does not take int32"):
        CPU.layer_norm(put(np.zeros((2, 3), np.int32)))
    with pytest.raises(TypeError, match="normalized_ndim must be an int"):
        CPU.layer_norm(x, w, w, 1.0)  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ValueError, match=r"normalized_ndim must be in \[1, x.ndim"):
        CPU.rms_norm(x, None, 3)
    with pytest.raises(ValueError, match=r"weight must have x's normalized shape"):
        CPU.layer_norm(x, put(np.ones(2, np.float32)))
    with pytest.raises(ValueError, match="bias must have x's normalized shape"):
        CPU.layer_norm(x, None, put(np.ones(3, np.float64)))
    with pytest.raises(TypeError, match="eps must be a float"):
        CPU.layer_norm(x, None, None, 1, None)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match="x must be a Buffer"):
        CPU.rms_norm(np.zeros(3))  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ValueError, match="x is on reference"):
        CPU.layer_norm(put(np.zeros((2, 3), np.float32), REF))
    _, mean, rstd = CPU.layer_norm(x)
    with pytest.raises(ValueError, match=r"grad must have shape \(2, 3\)"):
        CPU.layer_norm_backward(w, x, mean, rstd)
    with pytest.raises(ValueError, match="mean must have shape"):
        CPU.layer_norm_backward(x, x, rstd.reshape(2), rstd)
    with pytest.raises(ValueError, match=r"rstd must have shape .* and dtype float32"):
        CPU.rms_norm_backward(x, x, put(np.ones((2, 1), np.float64)))
    with pytest.raises(TypeError, match="output_mask must be 3 bools"):
        CPU.layer_norm_backward(x, x, mean, rstd, None, 1, (True, True))


def test_the_kernels_run_as_plain_python() -> None:
    """A kernel is a Python function first (prange is range): the oracle's values."""
    x = _data((3, 5), np.float64, 16)
    w, b = _data((5,), np.float64, 17), _data((5,), np.float64, 18)
    out, mean, rstd = np.empty_like(x), np.empty(3), np.empty(3)
    _layer_norm(x, w, b, 1e-5, out, mean, rstd)
    want_y, want_mean, want_rstd = layer_norm_oracle(x, w, b, 1, 1e-5)
    np.testing.assert_allclose(out, want_y, rtol=1e-13)
    np.testing.assert_allclose(mean, want_mean.reshape(-1), rtol=1e-13)
    np.testing.assert_allclose(rstd, want_rstd.reshape(-1), rtol=1e-13)
    g = _data((3, 5), np.float64, 19)
    gx, part = np.empty_like(x), np.empty((2, 2, 5))
    gw, gb = np.empty(5), np.empty(5)
    _norm_backward(g, x, mean, rstd, w, True, gx, True, part, True, 2)
    _column_sums(part, True, True, gw, gb)
    want = layer_norm_backward_oracle(g, x, mean, rstd, w, 1)
    for got, expected in zip((gx, gw, gb), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)
    _rms_norm(x, w, 1e-5, out, rstd)
    np.testing.assert_allclose(out, rms_norm_oracle(x, w, 1, 1e-5)[0], rtol=1e-13)


def test_threaded_results_do_not_depend_on_the_thread_count() -> None:
    """The column sums go through blocks fixed by the shape: one thread and two
    give the same bits."""
    code = """
        import numpy as np
        from actnet.device import get_device, set_num_threads
        cpu = get_device("cpu")
        rng = np.random.default_rng(0)
        x, g = (cpu.from_host(rng.standard_normal((512, 256)).astype(np.float32))
                for _ in range(2))
        w = cpu.from_host(rng.standard_normal(256).astype(np.float32))
        out = []
        for n in (1, 2):
            set_num_threads(n)
            _, mean, rstd = cpu.layer_norm(x, w, w)
            out.append([cpu.to_host(b) for b in
                        cpu.layer_norm_backward(g, x, mean, rstd, w)])
        print(all((a == b).all() for a, b in zip(*out)))
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, "NUMBA_NUM_THREADS": "2"},
        check=True,
    )
    assert done.stdout.strip() == "True"


def test_the_disk_cache_keeps_the_serial_and_parallel_kernels_apart(
    tmp_path: Any,
) -> None:
    """numba keys its disk cache by function name and bytecode, not options: the
    variants of a kernel are cached under names of their own (`_jit`)."""
    code = """
        import numpy as np
        from actnet.device import get_device
        from actnet.device._jit import _compiled
        from actnet.device._compiled_norms import _rms_norm
        cpu = get_device("cpu")
        for rows in (4, 4096):  # the serial kernel, then the parallel one
            cpu.rms_norm(cpu.from_host(np.ones((rows, 64), np.float32)))
        for key, kernel in sorted(_compiled.items(), key=lambda item: item[0][1]):
            if key[0] is _rms_norm:
                print(key[1], sum(kernel.stats.cache_hits.values()))
    """
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        runs.append(done.stdout.split())
    assert runs[0] == ["False", "0", "True", "0"]  # both compiled: no stale hit
    assert runs[1] == ["False", "1", "True", "1"]  # both found in the cache
    names = {p.name.split("-")[0] for p in tmp_path.rglob("*.nbi")}
    names = {n for n in names if "._rms_norm" in n}
    assert len(names) == 2 and len({n.replace("__parallel", "") for n in names}) == 1
