"""The fused LSTM cell (lstm_cell, lstm_cell_backward) against an independent
float64 NumPy oracle, on `cpu` (compiled) and `reference`: float32, float64 and
the half-precision types; tanh and sigmoid against mpmath where they are hard
(near 0, large |x|, infinities, NaN); strided rows, grad_c None, the threaded
path, finite differences of the forward against the backward, a captured step,
and the refusals."""

from __future__ import annotations

from typing import Any

import mpmath as mp
import numpy as np
import pytest
from _helpers import get, put

import actnet.device
from actnet.device import get_device, get_num_threads, set_num_threads
from actnet.device._compiled_activations import PARALLEL_MIN
from actnet.device._compiled_recurrent import _lstm_cell, _lstm_cell_backward

CPU = get_device("cpu")
REF = get_device("reference")
DEVICES = [CPU, REF]
IDS = ["cpu", "reference"]
F64 = np.float64


def _sigmoid(w: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-w))


def _forward_oracle(
    gx: np.ndarray[Any, Any], gh: np.ndarray[Any, Any], c: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], ...]:
    """(h_new, c_new, gates) in float64 from the operands' values; h_new from
    c_new rounded to the operands' dtype (as the kernels store it)."""
    pre = gx.astype(F64) + gh.astype(F64)
    i, f, g, o = np.split(pre, 4, axis=1)
    i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
    c_new = f * c.astype(F64) + i * g
    stored = c_new.astype(c.dtype).astype(F64)
    return o * np.tanh(stored), c_new, np.concatenate([i, f, g, o], axis=1)


def _backward_oracle(
    grad_h: Any, grad_c: Any, c: Any, c_new: Any, gates: Any
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(grad_gates, grad_c_prev) in float64 from the operands' values."""
    i, f, g, o = np.split(gates.astype(F64), 4, axis=1)
    tc = np.tanh(c_new.astype(F64))
    gh = grad_h.astype(F64)
    dc = gh * o * (1 - tc * tc)
    if grad_c is not None:
        dc = dc + grad_c.astype(F64)
    grads = [dc * g * i * (1 - i), dc * c.astype(F64) * f * (1 - f),
             dc * i * (1 - g * g), gh * tc * o * (1 - o)]  # fmt: skip
    return np.concatenate(grads, axis=1), dc * f


def _assert_close(got: Any, want: Any, scale: Any, device: Any) -> None:
    """On `cpu`, the float64 value rounded once: within an ulp of the result
    (float32), or a few (float64), plus 1e-15 of `scale` (the size of the terms
    that cancel into it: the oracle's own rounding). On `reference`, the
    composition rounds each operation in the dtype: eight of its epsilons of
    `scale`."""
    eps = float(np.finfo(got.dtype).eps)
    if device is CPU and got.dtype == np.float32:
        bound = np.spacing(np.abs(want).astype(np.float32)) + 1e-15 * scale
    elif device is CPU:
        bound = 8 * np.spacing(np.abs(want)) + 1e-15 * scale
    else:
        bound = 8 * eps * scale
    excess = np.abs(got.astype(F64) - want) - bound
    assert excess.max() <= 0, f"off by {excess.max():.3g} beyond the bound"


def _inputs(
    rows: int, hidden: int, dtype: Any, seed: int
) -> tuple[np.ndarray[Any, Any], ...]:
    rng = np.random.default_rng(seed)
    gx = (rng.standard_normal((rows, 4 * hidden)) * 3).astype(dtype)
    gh = rng.standard_normal((rows, 4 * hidden)).astype(dtype)
    c = (rng.standard_normal((rows, hidden)) * 2).astype(dtype)
    grad_h = rng.standard_normal((rows, hidden)).astype(dtype)
    grad_c = rng.standard_normal((rows, hidden)).astype(dtype)
    return gx, gh, c, grad_h, grad_c


def _check_step(device: Any, arrays: tuple[Any, ...], with_grad_c: bool) -> None:
    gx, gh, c, grad_h, grad_c = arrays
    h_new, c_new, gates = device.lstm_cell(put(gx, device), put(gh, device),
                                           put(c, device))  # fmt: skip
    want_h, want_c, want_gates = _forward_oracle(gx, gh, c)
    cells = 1 + np.abs(c.astype(F64))
    for buf, want, scale in ((h_new, want_h, 1 + cells), (c_new, want_c, cells),
                             (gates, want_gates, 1.0)):  # fmt: skip
        got = get(buf)
        assert got.dtype == c.dtype and got.shape == want.shape
        _assert_close(got, want, scale, device)
    # the backward, from the forward's own (rounded) c_new and gates
    cn, gt = get(c_new), get(gates)
    gc = grad_c if with_grad_c else None
    grads = device.lstm_cell_backward(
        put(grad_h, device), None if gc is None else put(gc, device),
        put(c, device), c_new, gates,
    )  # fmt: skip
    want_gates_grad, want_c_prev = _backward_oracle(grad_h, gc, c, cn, gt)
    terms = np.abs(grad_h.astype(F64)) + np.abs(grad_c.astype(F64))
    scale = np.tile(terms * cells, 4)
    _assert_close(get(grads[0]), want_gates_grad, scale, device)
    _assert_close(get(grads[1]), want_c_prev, terms, device)


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5), (20, 200), (1, 1)])
@pytest.mark.parametrize("with_grad_c", [True, False])
def test_the_cell_is_the_float64_value_rounded_once(
    device: Any, dtype: Any, shape: tuple[int, int], with_grad_c: bool
) -> None:
    _check_step(device, _inputs(*shape, dtype, sum(shape)), with_grad_c)


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
def test_the_threaded_path(device: Any) -> None:
    """B H past PARALLEL_MIN on two threads: the oracle's values, and on cpu
    the single thread's bits."""
    rows, hidden = 40, 1000
    assert rows * hidden >= PARALLEL_MIN
    arrays = _inputs(rows, hidden, np.float32, 7)
    before = get_num_threads()
    results = []
    try:
        for threads in (2, 1):
            set_num_threads(threads)
            if threads == 2:
                _check_step(device, arrays, True)
            gx, gh, c, grad_h, grad_c = (put(a, device) for a in arrays)
            h_new, c_new, gates = device.lstm_cell(gx, gh, c)
            grads = device.lstm_cell_backward(grad_h, grad_c, c, c_new, gates)
            results.append([get(b) for b in (h_new, c_new, gates, *grads)])
    finally:
        set_num_threads(before)
    for two, one in zip(*results, strict=True):
        np.testing.assert_array_equal(two, one)


def _tanh_and_sigmoid(device: Any, x: np.ndarray[Any, Any]) -> tuple[Any, Any]:
    """tanh(x) and sigmoid(x) as the cell computes them: the g and i blocks of
    `gates` for pre-activations x (gates_h -0, so -0 stays -0)."""
    n = x.size
    gx = np.tile(x.reshape(1, n), (1, 4))
    gh = np.full_like(gx, -0.0)
    c = np.zeros((1, n), x.dtype)
    gates = get(device.lstm_cell(put(gx, device), put(gh, device), put(c, device))[2])
    return gates[0, 2 * n : 3 * n], gates[0, :n]


# around 0, the switch of forms at |x| = ln(2)/4 = 0.1733, tanh's rounding to
# 1, sigmoid's subnormals and overflow, the infinities and NaN
_SAMPLES = [0.0, -0.0, 5e-324, 1e-300, -1e-200, 1e-20, 3e-9, -1e-5, 0.01, 0.1,
            -0.17, 0.1732, 0.17328679513998632, 0.1733, -0.174, 0.2, 0.25,
            0.3466, 0.35, 0.5, -0.7, 1.0, 2.0, -3.5, 5.0, 9.0, -18.0, 19.1, 20.0,
            -40.0, 100.0, -700.0, 710.0, -745.0, 1e300, -1e308, np.inf, -np.inf,
            np.nan]  # fmt: skip


def _exact(v: float, op: str) -> float:
    if np.isnan(v):
        return np.nan
    if np.isinf(v):
        return float(np.sign(v)) if op == "tanh" else float(v > 0)
    if v == 0 and op == "tanh":
        return v  # tanh(-0) is -0 (mpmath has no signed zero)
    with mp.workdps(60):
        x = mp.mpf(v)
        return float(mp.tanh(x) if op == "tanh" else 1 / (1 + mp.exp(-x)))


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
def test_tanh_and_sigmoid_against_mpmath(device: Any) -> None:
    """Near 0 (each side of the switch from y q(y) to exp(y) - 1 at |x| =
    ln(2)/4), large |x|, the subnormals, +-inf, NaN and signed zeros: float64
    within 3 ulp of mpmath (on cpu, just past the switch, exp(y) - 1 is 2.3
    times exp's relative error: tanh's worst, 3 ulp; sigmoid's 2), float32 the
    exact value rounded on cpu."""
    rng = np.random.default_rng(11)
    dense = np.concatenate(
        [rng.uniform(-0.4, 0.4, 3000), rng.standard_normal(3000) * 4]
    )
    x = np.concatenate([np.array(_SAMPLES), dense])
    tanh, sigmoid = _tanh_and_sigmoid(device, x)
    for got, op in ((tanh, "tanh"), (sigmoid, "sigmoid")):
        want = np.array([_exact(v, op) for v in x])
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), op)
        ok = ~np.isnan(want)
        np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]), op)
        ulps = np.abs(got[ok] - want[ok]) / np.spacing(np.abs(want[ok]))
        assert ulps.max() <= 3, f"{op}: {ulps.max()} ulp at x = {x[ok][ulps.argmax()]}"
    if device is not CPU:
        return
    with np.errstate(over="ignore"):
        x32 = x.astype(np.float32)
    tanh, sigmoid = _tanh_and_sigmoid(device, x32)
    for got, op in ((tanh, "tanh"), (sigmoid, "sigmoid")):
        want = np.array([_exact(float(v), op) for v in x32]).astype(np.float32)
        np.testing.assert_array_equal(got, want, op)


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_rows_give_the_contiguous_results(device: Any, dtype: Any) -> None:
    """gates_x a step of a (T, B, 4H) projection and of a (B, T, 4H) one (rows
    apart), gates_h transposed (elements apart), c flipped: the same bits as
    contiguous copies; the results are C-contiguous."""
    rows, hidden, steps = 6, 9, 3
    _, gh, c, grad_h, grad_c = _inputs(rows, hidden, dtype, 3)
    seq = np.random.default_rng(4).standard_normal((steps, rows, 4 * hidden))
    seq = put(seq.astype(dtype), device)
    batch_first = device.copy(seq.swapaxes(0, 1))  # (B, T, 4H)
    want = device.lstm_cell(seq[1], put(gh, device), put(c, device))
    want_back = device.lstm_cell_backward(
        put(grad_h, device), put(grad_c, device), put(c, device), want[1], want[2]
    )
    wide_t = put(np.ascontiguousarray(gh.T), device).T
    flipped = put(np.ascontiguousarray(c[::-1]), device)[::-1]
    grad_h_t = put(np.ascontiguousarray(grad_h.T), device).T
    assert not batch_first[:, 1].is_contiguous
    for step in (seq[1], batch_first[:, 1]):
        got = device.lstm_cell(step, wide_t, flipped)
        for a, b in zip(got, want, strict=True):
            assert b.is_contiguous and a.is_contiguous
            np.testing.assert_array_equal(get(a), get(b))
        back = device.lstm_cell_backward(
            grad_h_t, put(grad_c, device), flipped, got[1], device.copy(got[2].T).T
        )
        for a, b in zip(back, want_back, strict=True):
            np.testing.assert_array_equal(get(a), get(b))


@pytest.mark.parametrize("dtype", [actnet.device.float16, actnet.device.bfloat16])
def test_half_precision_takes_the_reference_kernels(dtype: Any) -> None:
    """float16 and bfloat16 compute in float32 and round each output once: cpu
    gives the reference's bits, near the float64 oracle."""
    gx, gh, c, grad_h, grad_c = (a.astype(dtype) for a in _inputs(4, 7, F64, 5))
    results = []
    for device in DEVICES:
        h_new, c_new, gates = device.lstm_cell(put(gx, device), put(gh, device),
                                               put(c, device))  # fmt: skip
        grads = device.lstm_cell_backward(put(grad_h, device), put(grad_c, device),
                                          put(c, device), c_new, gates)  # fmt: skip
        results.append([get(b) for b in (h_new, c_new, gates, *grads)])
    for cpu, ref in zip(*results, strict=True):
        assert cpu.dtype == dtype
        np.testing.assert_array_equal(cpu, ref)
    want = _forward_oracle(gx, gh, c)
    tol = 1e-2 if dtype == actnet.device.bfloat16 else 1e-3
    for got, w in zip(results[0][:3], want, strict=True):
        np.testing.assert_allclose(got.astype(F64), w, rtol=tol, atol=tol)


def test_finite_differences_of_the_forward_give_the_backward() -> None:
    """float64: the backward's gradients of the pre-activations and of c are
    the central differences of L = <wh, h_new> + <wc, c_new>, on both devices,
    through gates_x and through gates_h alike."""
    rows, hidden, eps = 2, 3, 1e-6
    gx, gh, c, wh, wc = _inputs(rows, hidden, F64, 9)
    for device in DEVICES:

        def loss(gx: Any, gh: Any, c: Any, device: Any = device) -> float:
            h_new, c_new, _ = device.lstm_cell(*(put(a, device) for a in (gx, gh, c)))
            return float((wh * get(h_new)).sum() + (wc * get(c_new)).sum())

        _, c_new, gates = device.lstm_cell(*(put(a, device) for a in (gx, gh, c)))
        grads = device.lstm_cell_backward(
            put(wh, device), put(wc, device), put(c, device), c_new, gates
        )
        grad_gates, grad_c = (get(b) for b in grads)
        for which, want in ((0, grad_gates), (1, grad_gates), (2, grad_c)):
            numeric = np.zeros_like(want)
            for index in np.ndindex(*want.shape):
                args = [gx, gh, c]
                up, down = args[which].copy(), args[which].copy()
                up[index] += eps
                down[index] -= eps
                plus = loss(*args[:which], up, *args[which + 1 :])
                minus = loss(*args[:which], down, *args[which + 1 :])
                numeric[index] = (plus - minus) / (2 * eps)
            np.testing.assert_allclose(numeric, want, rtol=1e-6, atol=1e-8)


def test_grad_c_none_is_zeros() -> None:
    gx, gh, c, grad_h, _ = _inputs(5, 8, np.float32, 2)
    for device in DEVICES:
        _, c_new, gates = device.lstm_cell(*(put(a, device) for a in (gx, gh, c)))
        zeros = put(np.zeros_like(c), device)
        args = (put(c, device), c_new, gates)
        none = device.lstm_cell_backward(put(grad_h, device), None, *args)
        zero = device.lstm_cell_backward(put(grad_h, device), zeros, *args)
        for a, b in zip(none, zero, strict=True):
            np.testing.assert_array_equal(get(a), get(b))


def test_a_captured_step_replays_as_run_eagerly() -> None:
    """Recorded inside capture() (grad_c None among the arguments) and replayed
    on new values: what running the two operators eagerly on them gives."""
    first, second = _inputs(4, 6, np.float32, 0), _inputs(4, 6, np.float32, 1)
    gx, gh, c, grad_h, _ = (put(a) for a in first)
    with CPU.capture() as cap:
        _, c_new, gates = CPU.lstm_cell(gx, gh, c)
        grad_gates, grad_c = CPU.lstm_cell_backward(grad_h, None, c, c_new, gates)
        out = (CPU.copy(c_new), CPU.copy(grad_gates), CPU.copy(grad_c))
    for buf, values in zip((gx, gh, c, grad_h), second, strict=False):
        CPU.copy(put(values), out=buf)
    cap.program.replay()
    _, c_new, gates = CPU.lstm_cell(*(put(a) for a in second[:3]))
    want = (c_new, *CPU.lstm_cell_backward(put(second[3]), None, put(second[2]),
                                           c_new, gates))  # fmt: skip
    for a, b in zip(out, want, strict=True):
        np.testing.assert_array_equal(get(a), get(b))


def test_the_kernels_run_as_plain_python() -> None:
    """A kernel is a Python function first (prange is range): the oracle's
    values, any layout."""
    gx, gh, c, grad_h, _ = _inputs(3, 4, F64, 6)
    h_new, c_new, gates = (np.empty_like(a) for a in (c, c, gx))
    _lstm_cell(gx, np.asfortranarray(gh), c, h_new, c_new, gates)
    for got, want in zip((h_new, c_new, gates), _forward_oracle(gx, gh, c),
                         strict=True):  # fmt: skip
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    grad_gates, grad_c_prev = np.empty_like(gx), np.empty_like(c)
    _lstm_cell_backward(grad_h, None, c, c_new, gates, grad_gates, grad_c_prev)
    for got, want in zip((grad_gates, grad_c_prev),
                         _backward_oracle(grad_h, None, c, c_new, gates),
                         strict=True):  # fmt: skip
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_refusals() -> None:
    f32 = put(np.zeros((2, 12), np.float32))
    c = put(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"lstm_cell does not take int32.*of c\)"):
        CPU.lstm_cell(f32, f32, put(np.zeros((2, 3), np.int32)))
    with pytest.raises(TypeError, match="lstm_cell: gates_h has dtype float64, but c"):
        CPU.lstm_cell(f32, put(np.zeros((2, 12))), c)
    with pytest.raises(
        ValueError, match=r"gates_x must have shape \(B, 4H\) = \(2, 12\)"
    ):
        CPU.lstm_cell(put(np.zeros((2, 9), np.float32)), f32, c)
    with pytest.raises(ValueError, match="lstm_cell: c must be 2-d"):
        CPU.lstm_cell(f32, f32, put(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="lstm_cell: gates_x is on reference"):
        CPU.lstm_cell(put(np.zeros((2, 12), np.float32), REF), f32, c)
    with pytest.raises(TypeError, match="lstm_cell: gates_h must be a Buffer"):
        CPU.lstm_cell(f32, np.zeros((2, 12), np.float32), c)  # type: ignore[arg-type]
    op = "lstm_cell_backward"
    with pytest.raises(ValueError, match=f"{op}: gates must have shape \\(B, 4H\\)"):
        CPU.lstm_cell_backward(c, None, c, c, c)
    with pytest.raises(ValueError, match=f"{op}: grad_c must have shape \\(B, H\\)"):
        CPU.lstm_cell_backward(c, f32, c, c, f32)
    with pytest.raises(TypeError, match=f"{op}: c_new has dtype float64"):
        CPU.lstm_cell_backward(c, None, c, put(np.zeros((2, 3))), f32)
    with pytest.raises(ValueError, match=f"{op}: c is on reference"):
        CPU.lstm_cell_backward(c, None, put(np.zeros((2, 3), np.float32), REF), c, f32)
