"""Fused scaled-dot-product attention: the compiled kernels (`cpu`) against the
reference kernels (`reference`) and both against a float64 NumPy oracle, causal
and not, L != S, sizes that are not multiples of the blocks, head dims 16 and
64, few heads (the backward's dq parts) and many; strided and half-precision
inputs, refusals, the kernels run as Python, and the memory they take."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
from _helpers import get, put

import actnet.device
from actnet.device import _compiled_attention as ca
from actnet.device import get_device

CPU = get_device("cpu")
REF = get_device("reference")
F32_EPS = float(np.finfo(np.float32).eps)

# (heads, L, S, E, Ev): odd sizes across BLOCK_Q = 128 and BLOCK_K = 64; few
# heads split the backward's key blocks into groups (dq parts), twenty do not
SHAPES = [
    (2, 5, 7, 3, 2),
    (2, 70, 45, 16, 16),
    (2, 130, 200, 64, 48),
    (20, 67, 67, 16, 24),
    (3, 1, 33, 64, 64),
    (1, 300, 150, 16, 8),
]


def _oracle(
    q: Any, k: Any, v: Any, g: Any, causal: bool, scale: float
) -> tuple[Any, ...]:
    """(out, lse, dq, dk, dv) in float64 by plain NumPy, from the definitions."""
    q, k, v, g = (a.astype(np.float64) for a in (q, k, v, g))
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        length, source = scores.shape[-2:]
        allowed = np.arange(source)[None, :] <= np.arange(length)[:, None]
        scores = np.where(allowed, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    p = e / total
    out = p @ v
    lse = (top + np.log(total))[..., 0]
    dp = g @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) * scale
    return out, lse, ds @ k, np.swapaxes(ds, -1, -2) @ q, np.swapaxes(p, -1, -2) @ g


def _inputs(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> list[Any]:
    heads, length, source, width, vwidth = shape
    rng = np.random.default_rng(seed)
    sizes = (
        (heads, length, width),
        (heads, source, width),
        (heads, source, vwidth),
        (heads, length, vwidth),
    )
    return [rng.standard_normal(s).astype(dtype) for s in sizes]


def _run(device: Any, arrays: list[Any], causal: bool, **kw: Any) -> list[Any]:
    q, k, v, g = (put(a, device) for a in arrays)
    out, lse = device.sdpa(q, k, v, causal=causal, **kw)
    grads = device.sdpa_backward(g, q, k, v, out, lse, causal=causal, **kw)
    return [get(b) for b in (out, lse, *grads)]


def _float32_bound(arrays: list[Any], causal: bool, want: tuple[Any, ...]) -> list[Any]:
    """Per result, the error of the same composition in float32 (NumPy's float32
    matmuls and softmax; the softmax's backward from rowsum(grad * out), as
    FlashAttention's and PyTorch's): how far from the float64 value a kernel that
    accumulates in float32 lands."""
    q, k, v, g = arrays
    scale = np.float32(1 / np.sqrt(q.shape[-1]))
    scores = (q @ np.swapaxes(k, -1, -2)) * scale
    if causal:
        length, source = scores.shape[-2:]
        allowed = np.arange(source)[None, :] <= np.arange(length)[:, None]
        scores = np.where(allowed, scores, np.float32(-np.inf))
    top = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    p = e / total
    out = p @ v
    dp = g @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (g * out).sum(axis=-1, keepdims=True)) * scale
    got = (
        out,
        (top + np.log(total))[..., 0],
        ds @ k,
        np.swapaxes(ds, -1, -2) @ q,
        np.swapaxes(p, -1, -2) @ g,
    )
    return [np.abs(a - w).max() for a, w in zip(got, want, strict=True)]


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_float64_kernels_equal_the_oracle(shape: tuple[int, ...], causal: bool) -> None:
    arrays = _inputs(shape, np.float64)
    want = _oracle(*arrays, causal, 1 / np.sqrt(shape[3]))
    compiled = _run(CPU, arrays, causal)
    reference = _run(REF, arrays, causal)
    # a result that cancels to 0 (dq with one key) is compared at the scale of
    # the terms that cancelled: the largest of all results
    size = max(np.abs(w).max() for w in want)
    for c, r, w in zip(compiled, reference, want, strict=True):
        np.testing.assert_allclose(r, w, rtol=1e-12, atol=1e-13 * size)
        np.testing.assert_allclose(c, r, rtol=1e-12, atol=1e-12 * size)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_float32_kernels_within_float32_rounding(
    shape: tuple[int, ...], causal: bool
) -> None:
    """reference: the float64 value rounded once. cpu: computes in float32, as
    PyTorch does; within three times what the plain float32 composition is off
    by, plus a rounding of the result."""
    arrays = _inputs(shape, np.float32)
    want = _oracle(*arrays, causal, 1 / np.sqrt(shape[3]))
    bounds = _float32_bound(arrays, causal, want)
    compiled = _run(CPU, arrays, causal)
    reference = _run(REF, arrays, causal)
    for c, r, w, bound in zip(compiled, reference, want, bounds, strict=True):
        assert c.dtype == r.dtype == np.float32
        ulp = np.spacing(np.abs(w).astype(np.float32))  # one rounding, give or take
        assert np.all(np.abs(r - w) <= ulp + 1e-15 * np.abs(w).max())
        error = np.abs(c - w).max()
        assert error <= 3 * bound + F32_EPS * np.abs(w).max(), (error, bound)


def test_keys_no_query_sees_never_reach_the_results() -> None:
    """With L < S, keys L.. are masked for every query: NaN there changes nothing
    (the blocks above the diagonal are skipped, not computed and masked; the
    masked part of a diagonal tile is overwritten before it is used)."""
    q, k, v, g = _inputs((3, 70, 130, 16, 16), np.float32, seed=1)
    want = _run(CPU, [q, k[:, :70], v[:, :70], g], True)
    k[:, 70:] = np.nan
    v[:, 70:] = np.nan
    got = _run(CPU, [q, k, v, g], True)
    for a, b in zip(got[:3], want[:3], strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(got[3:], want[3:], strict=True):  # dk, dv: zero for the rest
        np.testing.assert_array_equal(a[:, :70], b)
        assert not np.any(a[:, 70:])


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_small_blocks(monkeypatch: pytest.MonkeyPatch, causal: bool) -> None:
    """Blocks of 12 queries by 8 keys: many tiles, partial tiles and groups of
    rows at every offset from the diagonal, in both directions (L < S, L > S)."""
    monkeypatch.setattr(ca, "BLOCK_Q", 12)
    monkeypatch.setattr(ca, "BLOCK_K", 8)
    monkeypatch.setattr(ca, "FORWARD_BLOCK_K", 8)
    for shape in ((3, 37, 53, 5, 6), (2, 53, 37, 8, 3)):
        arrays = _inputs(shape, np.float64)
        want = _oracle(*arrays, causal, 1 / np.sqrt(shape[3]))
        size = max(np.abs(w).max() for w in want)
        for got, w in zip(_run(CPU, arrays, causal), want, strict=True):
            np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-12 * size)


def test_the_scale_is_an_option() -> None:
    arrays = _inputs((2, 9, 11, 8, 5), np.float64)
    got = _run(CPU, arrays, False, scale=0.3)
    for a, b in zip(got, _oracle(*arrays, False, 0.3), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_leading_axes_and_unbatched_inputs() -> None:
    """Any leading shape (batch, heads) is flattened; (L, E) has none."""
    q, k, v, g = _inputs((6, 10, 12, 4, 3), np.float64)
    batched = _run(CPU, [a.reshape(2, 3, *a.shape[1:]) for a in (q, k, v, g)], True)
    flat = _run(CPU, [q, k, v, g], True)
    for a, b in zip(batched, flat, strict=True):
        np.testing.assert_array_equal(a.reshape(b.shape), b)
    single = _run(CPU, [q[0], k[0], v[0], g[0]], True)
    for a, b in zip(single, flat, strict=True):
        np.testing.assert_array_equal(a, b[0])


def test_strided_and_half_precision_inputs() -> None:
    """Inputs whose rows are contiguous (heads transposed) are read where they
    lie, others (every other element) from a copy: the same values either way;
    float16 and bfloat16 take the reference kernel on cpu too."""
    q, k, v, g = _inputs((4, 33, 40, 8, 8), np.float32)
    contiguous = _run(CPU, [q, k, v, g], True)
    qs, ks, vs, gs = (
        put(np.ascontiguousarray(a.transpose(1, 0, 2)), CPU).transpose((1, 0, 2))
        for a in (q, k, v, g)
    )
    spaced = [put(np.repeat(a, 2, axis=-1), CPU)[..., ::2] for a in (q, k, v, g)]
    assert not qs.is_contiguous and not spaced[0].is_contiguous
    for q2, k2, v2, g2 in ((qs, ks, vs, gs), spaced):
        out, lse = CPU.sdpa(q2, k2, v2, causal=True)
        grads = CPU.sdpa_backward(g2, q2, k2, v2, out, lse, causal=True)
        for a, b in zip((out, lse, *grads), contiguous, strict=True):
            np.testing.assert_array_equal(get(a), b)
    for dtype in (actnet.device.float16, actnet.device.bfloat16):
        half = [a.astype(dtype) for a in (q, k, v, g)]
        for a, b in zip(_run(CPU, half, True), _run(REF, half, True), strict=True):
            np.testing.assert_array_equal(a, b)


def test_heads_output_is_laid_out_for_merging_heads() -> None:
    """With a heads axis, (B, H, L, Ev) outputs sit in memory as (B, L, H, Ev)
    (PyTorch's CPU flash attention's layout): transposing heads and sequence
    gives a C-contiguous view, whose merge of the heads needs no copy. Values
    and gradients equal those of the same heads run as one 3-d batch, on both
    devices."""
    batch, heads = 2, 3
    arrays = _inputs((batch * heads, 40, 40, 8, 8), np.float32, seed=5)
    for device in (CPU, REF):
        flat = _run(device, arrays, True)
        q, k, v, g = (put(a.reshape(batch, heads, 40, 8), device) for a in arrays)
        out, lse = device.sdpa(q, k, v, causal=True)
        assert out.shape == (batch, heads, 40, 8)
        assert not out.is_contiguous and out.swapaxes(1, 2).is_contiguous
        grads = device.sdpa_backward(g, q, k, v, out, lse, causal=True)
        for a, b in zip((out, lse, *grads), flat, strict=True):
            np.testing.assert_array_equal(get(a).reshape(b.shape), b)


def test_gradients_are_laid_out_as_their_inputs() -> None:
    """dq, dk, dv keep the layout of q, k, v: C-contiguous for C-contiguous
    inputs; heads inside the sequence for heads split from one projection
    (PyTorch's (B, L, 3, H, E) split and transposed), whose merge is then a
    view. The values do not depend on it."""
    batch, heads, length, width = 2, 3, 20, 8
    rng = np.random.default_rng(7)
    flat = [rng.standard_normal((batch * heads, length, width)).astype(np.float32)]
    arrays = flat + [
        rng.standard_normal(flat[0].shape).astype(np.float32) for _ in "kvg"
    ]
    want = _run(CPU, arrays, True)
    for device in (CPU, REF):
        q, k, v, g = (
            put(a.reshape(batch, heads, length, width), device) for a in arrays
        )
        out, lse = device.sdpa(q, k, v, causal=True)
        grads = device.sdpa_backward(g, q, k, v, out, lse, causal=True)
        assert all(d.is_contiguous for d in grads)
        projection = np.stack(
            [
                a.reshape(batch, heads, length, width).transpose(0, 2, 1, 3)
                for a in arrays[:3]
            ],
            axis=2,
        )  # (B, L, 3, H, E)
        qkv = put(np.ascontiguousarray(projection), device)
        q2, k2, v2 = (qkv[:, :, i].swapaxes(1, 2) for i in range(3))
        out2, lse2 = device.sdpa(q2, k2, v2, causal=True)
        grads2 = device.sdpa_backward(g, q2, k2, v2, out2, lse2, causal=True)
        for d in grads2:
            assert not d.is_contiguous and d.swapaxes(1, 2).is_contiguous
        if device is CPU:
            for a, b in zip(grads2, want[2:], strict=True):
                np.testing.assert_array_equal(get(a).reshape(b.shape), b)


def test_no_keys_gives_zeros() -> None:
    """S = 0: out is zeros and lse -inf (PyTorch's empty softmax); L = 0 works."""
    for device in (CPU, REF):
        got = _run(device, _inputs((2, 3, 0, 4, 5), np.float32), False)
        assert not got[0].any() and np.all(got[1] == -np.inf) and not got[2].any()
        got = _run(device, _inputs((2, 0, 3, 4, 5), np.float32), True)
        assert got[0].shape == (2, 0, 5) and not got[3].any() and not got[4].any()


def test_the_kernels_run_as_plain_python() -> None:
    """A kernel is a Python function first (prange is range): same values, with
    operands given where they lie (here q, k, v as heads of one projection)."""
    q, k, v, g = _inputs((2, 9, 7, 4, 3), np.float64)
    want = _oracle(q, k, v, g, True, 0.5)
    lse = np.empty((2, 9))
    out = np.empty((9, 2, 3)).transpose(1, 0, 2)  # laid out for the merge of heads
    slab = np.full((1, 7 * (4 + 3)), np.nan)  # the forward's, one thread's
    ca._forward(
        *map(ca._operand, (q, k, v, out)), lse, 9, 7, 4, 3, True, 0.5, 4, 3, slab
    )
    dq = np.empty((2, 2, 9, 4))  # two groups of key blocks: two dq parts
    dk, dv = np.empty_like(k), np.empty_like(v)
    # one thread's slab of scratch, filled with NaN: the kernel sets it itself
    slabs = np.full((1, ca._slab_size(9, 4, 3, 4, 3)), np.nan)
    operands = [ca._operand(a) for a in (g, q, k, v, out)]
    parts = ca._operand(dq.reshape(4, 9, 4))
    dims = (9, 7, 4, 3, True, 0.5, 4, 3, 2)
    ca._backward(*operands, lse, parts, *map(ca._operand, (dk, dv)), *dims, slabs)
    got = (out, lse, dq.sum(axis=0), dk, dv)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_compiled_exp_rows(dtype: Any) -> None:
    """The softmax rows' helpers, compiled (`_exp` inlined into their loops):
    exp(x - shift) within one ulp of the result's dtype, 0 below 2**-1022
    and at -inf; `_exp_minus` returns the sum of what it wrote (float64), `_max`
    the largest of its start and the row, NaN skipped."""
    scope = ca._SCOPE._globals()
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [rng.uniform(-80, 20, 997), [0.0, -745.0, -1e9, -np.inf, 20.0]]
    ).astype(dtype)
    shift = dtype(1.5)
    want = np.exp(x.astype(np.float64) - np.float64(shift))
    want[want < 2.0**-1022] = 0.0
    got = x.copy()
    total = scope["_exp_minus"](got, shift, got.size)
    # one ulp of the result's dtype (float64's polynomial is good to about one)
    ulp = np.spacing(want.astype(dtype)).astype(np.float64)
    assert np.all(np.abs(got - want) <= ulp)
    np.testing.assert_allclose(total, got.astype(np.float64).sum(), rtol=1e-15)
    shifts = rng.uniform(-5, 5, x.size).astype(dtype)
    rows = x.copy()
    scope["_exp_shifted"](rows, shifts, rows.size)
    want = np.exp(x.astype(np.float64) - shifts.astype(np.float64))
    want[want < 2.0**-1022] = 0.0
    np.testing.assert_allclose(rows, want.astype(dtype), rtol=2 * np.finfo(dtype).eps)
    row = rng.standard_normal(37).astype(dtype)
    assert scope["_max"](row, 37, dtype(-np.inf)) == row.max()
    assert scope["_max"](row, 5, dtype(9)) == 9
    row[3] = np.nan
    assert scope["_max"](row, 37, dtype(-np.inf)) == np.nanmax(row)


def test_the_scores_never_take_arena_memory() -> None:
    """The (L, S) scores are never allocated: the arena's peak over forward and
    backward stays far below one (L, S) float32 matrix (the reference device
    holds several float64 ones)."""
    length = 2048
    q, k, v, g = (put(a, CPU) for a in _inputs((1, length, length, 16, 16), np.float32))
    CPU.reset_peak_memory_stats()
    before = CPU.memory_stats().used_bytes
    out, lse = CPU.sdpa(q, k, v, causal=True)
    CPU.sdpa_backward(g, q, k, v, out, lse, causal=True)
    peak = CPU.memory_stats().peak_bytes - before
    assert peak < length * length * 4 // 4, peak


def test_sdpa_refusals() -> None:
    x = put(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(TypeError, match="sdpa does not take int32"):
        CPU.sdpa(*(put(np.zeros((2, 3, 4), np.int32)),) * 3)
    with pytest.raises(TypeError, match="sdpa: v has dtype float64, q has float32"):
        CPU.sdpa(x, x, put(np.zeros((2, 3, 4))))
    with pytest.raises(ValueError, match="sdpa: q must be at least 2-d"):
        CPU.sdpa(put(np.zeros(4, np.float32)), x, x)
    with pytest.raises(ValueError, match=r"same leading \(batch\) shape"):
        CPU.sdpa(x, put(np.zeros((1, 3, 4), np.float32)), x)
    with pytest.raises(ValueError, match=r"last dimensions \(E\) differ"):
        CPU.sdpa(x, put(np.zeros((2, 3, 5), np.float32)), x)
    with pytest.raises(ValueError, match="same sequence length"):
        CPU.sdpa(x, x, put(np.zeros((2, 5, 4), np.float32)))
    with pytest.raises(TypeError, match="sdpa: causal must be a bool"):
        CPU.sdpa(x, x, x, causal=1)  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(TypeError, match="sdpa: scale must be a float"):
        CPU.sdpa(x, x, x, scale="0.5")  # type: ignore[arg-type]  # wrong on purpose
    empty = put(np.zeros((2, 3, 0), np.float32))
    with pytest.raises(ValueError, match="scale must be given when E is 0"):
        CPU.sdpa(empty, empty, x)
    with pytest.raises(ValueError, match="sdpa: k is on reference"):
        CPU.sdpa(x, put(np.zeros((2, 3, 4), np.float32), REF), x)
    out, lse = CPU.sdpa(x, x, x)
    with pytest.raises(
        ValueError, match=r"sdpa_backward: lse must have shape \(2, 3\)"
    ):
        CPU.sdpa_backward(x, x, x, x, out, out)
    with pytest.raises(ValueError, match="sdpa_backward: grad must have shape"):
        CPU.sdpa_backward(lse, x, x, x, out, lse)


def test_the_first_kernel_of_a_process_has_a_slab_per_thread() -> None:
    """sdpa run before any other compiled kernel (numba not yet loaded) sizes its
    per-thread scratch for the threads the kernel will run on: once, it took one
    slab while two threads ran, and the second wrote past it into whatever the
    arena held next (wrong gradients, now and then). In a fresh interpreter: the
    scratch holds a slab per thread, and the results equal the reference's."""
    code = """
        import numpy as np
        import actnet.device as ad
        from actnet.device import _jit
        ad.set_num_threads(2)
        cpu, ref = ad.get_device("cpu"), ad.get_device("reference")
        rng = np.random.default_rng(0)
        shape = (8, 4, 96, 16)
        arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(4)]
        assert not _jit.loaded()
        results = []
        for d in (cpu, ref):
            q, k, v, g = (d.from_host(a) for a in arrays)
            d.reset_peak_memory_stats()
            out, lse = d.sdpa(q, k, v, causal=True)
            stats = d.memory_stats()
            if d is cpu:  # the forward's scratch: a slab (96 x 32) a thread
                slabs = (stats.peak_bytes - stats.used_bytes) // (96 * 32 * 4)
            grads = d.sdpa_backward(g, q, k, v, out, lse, True)
            results.append([d.to_host(b) for b in (out, *grads)])
        for ours, want in zip(*results):
            np.testing.assert_allclose(ours, want, rtol=2e-4, atol=2e-5)
        print(_jit.slots(), slabs)
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["2", "2"]
