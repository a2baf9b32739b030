"""The fused softmax family: the compiled kernels (`cpu`) and the reference
kernels against a float64 NumPy oracle and each other; -inf logits and rows of
them; cross-entropy's ignore_index (everywhere too), weights, smoothing,
reductions and target bounds; the kernels as plain Python; refusals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _helpers import get, put

import actnet.device
from actnet.device import _compiled_softmax as compiled
from actnet.device import _compiled_softmax_exp as exps
from actnet.device import _compiled_softmax_rows as rows
from actnet.device import get_device
from actnet.device._compiled_softmax_exp import _exp_into, _max_of
from actnet.device._compiled_softmax_rows import (
    _softmax_backward_rows,
    _softmax_rows,
)

CPU = get_device("cpu")
REF = get_device("reference")
DEVICES = [CPU, REF]
IDS = ["cpu", "reference"]
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


@pytest.fixture(autouse=True)
def _threaded_from_small_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "threaded" shapes here (a few hundred rows) run the compiled kernels
    in parallel: their thresholds, tuned for speed (2^17 and 2^18 elements),
    lowered to 2^14 (the conformance stream runs them at their own)."""
    monkeypatch.setattr(compiled, "PARALLEL_MIN", 1 << 14)
    monkeypatch.setattr(compiled, "PARALLEL_MIN_NO_EXP", 1 << 14)


# ------------------------------------------------------------------ the oracle
# In NumPy's long double (x86's 80-bit: 11 more bits than float64), with
# log(sum) as log1p of the terms off the maximum and p - 1 at the target as
# expm1, so that both are right near 0 to what the kernels claim; returned as
# float64.
LONG = np.longdouble


def _log_sum(shifted: np.ndarray[Any, Any], axis: int) -> np.ndarray[Any, Any]:
    """log(sum(exp(shifted))) for shifted = x - max, kept along axis."""
    hit = shifted == 0
    e = np.exp(shifted)
    rest = np.where(hit, 0, e).sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):  # a row of -inf: NaN, as the kernels
        rest = rest + np.where(np.isnan(shifted), np.nan, 0).sum(axis, keepdims=True)
    return np.log1p(rest + (hit.sum(axis=axis, keepdims=True) - 1))


def _softmax(x: np.ndarray[Any, Any], axis: int) -> np.ndarray[Any, Any]:
    x = x.astype(LONG)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float64)


def _log_softmax(x: np.ndarray[Any, Any], axis: int) -> np.ndarray[Any, Any]:
    x = x.astype(LONG)
    shifted = x - x.max(axis=axis, keepdims=True)
    return (shifted - _log_sum(shifted, axis)).astype(np.float64)


def _cross_entropy(
    x: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    w: np.ndarray[Any, Any] | None,
    ignore: int,
    eps: float,
    reduction: str,
) -> tuple[Any, ...]:
    """PyTorch's cross_entropy of class indices and its gradient (for a loss
    gradient of 1 per row, or 1 for the reduced loss), in float64; and the
    sizes of the terms each is made of (for `_assert_near`'s scale)."""
    rows, classes = x.shape
    w = np.ones(classes, LONG) if w is None else w.astype(LONG)
    valid = t != ignore
    safe = np.where(valid, t, 0)
    x = x.astype(LONG)
    shifted = x - x.max(1, keepdims=True)
    logp = shifted - _log_sum(shifted, 1)
    wy = w[safe] * valid
    nll = -logp[np.arange(rows), safe] * wy
    smooth = -(logp * w).sum(1) * valid
    loss = np.where(valid, (1 - eps) * nll + eps / classes * smooth, 0.0)
    a = eps / classes * w[None, :] * valid[:, None]
    a[np.arange(rows), safe] += (1 - eps) * wy
    total = a.sum(1, keepdims=True)
    grad = total * np.exp(logp) - a
    # at the target: total (p - 1) + eps / C (sum(w) - w[y])
    at = np.arange(rows), safe
    grad[at] = total[:, 0] * np.expm1(logp[at]) + eps / classes * (w.sum() - w[safe])
    grad = np.where(valid[:, None], grad, 0)
    terms = total * np.exp(logp) + a
    size = np.abs(loss)  # no term cancels: -log p and the smoothing are >= 0
    f64 = np.float64
    if reduction == "sum":
        return f64(loss.sum()), grad.astype(f64), f64(size.sum()), terms.astype(f64)
    if reduction == "mean":
        with np.errstate(invalid="ignore"):
            mean = loss.sum() / wy.sum()
        d = wy.sum() if wy.sum() else 1.0
        return f64(mean), (grad / d).astype(f64), f64(size.sum() / d), terms / d
    return loss.astype(f64), grad.astype(f64), size.astype(f64), terms.astype(f64)


def _assert_near(
    got: np.ndarray[Any, Any],
    want: np.ndarray[Any, Any],
    scale: Any = 0.0,
    ulps: float = 1.0,
    float32_rule: bool = False,
) -> None:
    """float32: within `ulps` of the float64 value's rounding (one rounding and
    the float64 arithmetic's own error: 1e-14 of `scale`, the size of the terms
    that cancelled into it), or, with `float32_rule`, within FLOAT32_RULE;
    float64: 1e-12 relative, and 1e-14 of `scale`. NaN where the oracle is NaN;
    inf equal."""
    got = np.asarray(got)
    want = np.asarray(want, np.float64)
    scale = np.abs(np.asarray(scale, np.float64))
    assert np.array_equal(np.isnan(got), np.isnan(want)), "NaN in other places"
    finite = np.isfinite(want)
    assert np.array_equal(
        got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)]
    )
    g = got.astype(np.float64)[finite]
    w = want[finite]
    s = np.broadcast_to(scale, want.shape)[finite]
    ulp = np.spacing(np.abs(w).astype(np.float32)).astype(np.float64)
    if got.dtype == F32 and float32_rule:
        bound = FLOAT32_RULE_ULPS * ulp + FLOAT32_RULE_SCALE * s
    elif got.dtype == F32:
        bound = ulps * ulp + 1e-14 * s
    else:
        bound = 1e-12 * np.abs(w) + 1e-14 * s
    bound = bound + 1e-300
    excess = np.abs(g - w) - bound
    assert excess.size == 0 or excess.max() <= 0, (
        f"off by {excess.max():.3g} beyond the bound"
    )


# FLOAT32_RULE: how far a float32 result may be from the float64 value where a
# kernel computes in float32 (issue 19: "float32 within the reference's own
# float32 rounding"): 2 ulp(float32) of that value, plus 2^-23 of `scale`, the
# size of the terms that cancel into it (0 where none do). The second term is
# what the float32 inputs leave open in any case: each is known to half an ulp,
# 2^-24 of itself, and a result made of such terms moves by that much of each
# (two inputs to a term: 2^-23) whatever arithmetic follows; near 0, where
# terms cancel, it is the floor. Kernels that compute in float64 and round once
# stay within one ulp (the `ulps` bound); float64 results keep theirs. (A
# float32 exp in the forwards would not do: softmax's e / sum, say, rounds the
# exponential, the sum and the quotient, up to 3-4 ulp together.)
FLOAT32_RULE_ULPS = 2.0
FLOAT32_RULE_SCALE = 2.0**-23


def _data(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: Any
) -> np.ndarray[Any, Any]:
    return (rng.standard_normal(shape) * 4).astype(dtype)


# ------------------------------------------------------- softmax, log_softmax
SHAPES = [
    ((7, 5), -1),  # one thread
    ((300, 257), -1),  # threaded, odd row length
    ((2, 3, 40, 33), -1),
    ((5, 6, 7), 1),  # a middle axis: the reference kernel, on cpu too
    ((9,), 0),
]


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize(("shape", "axis"), SHAPES)
def test_softmax_family_against_the_float64_oracle(
    device: Any, dtype: Any, shape: tuple[int, ...], axis: int
) -> None:
    rng = np.random.default_rng(len(shape) * 100 + shape[0])
    x = _data(rng, shape, dtype)
    g = rng.standard_normal(shape).astype(dtype)
    xd, gd = x.astype(np.float64), g.astype(np.float64)
    y = get(device.softmax(put(x, device), axis))
    _assert_near(y, _softmax(xd, axis))
    log_y = get(device.log_softmax(put(x, device), axis))
    # float32: (x - max) - log(sum) in float32 arithmetic, within FLOAT32_RULE
    _assert_near(log_y, _log_softmax(xd, axis), float32_rule=True)
    # the backwards from the outputs the device made (the oracle too): float32
    # results within FLOAT32_RULE (the compiled kernels compute softmax's in
    # float32, log_softmax's with exp to float32's needs, not to 1e-14 of the
    # terms that cancel); float64 results as ever
    yd, log_yd = y.astype(np.float64), log_y.astype(np.float64)
    back = get(device.softmax_backward(put(g, device), put(y, device), axis))
    dot = (gd * yd).sum(axis, keepdims=True)
    scale = yd * (np.abs(gd) + np.abs(dot))
    _assert_near(back, yd * (gd - dot), scale, float32_rule=True)
    back = get(device.log_softmax_backward(put(g, device), put(log_y, device), axis))
    total = gd.sum(axis, keepdims=True)
    want = gd - np.exp(log_yd) * total
    scale = np.abs(gd) + np.exp(log_yd) * np.abs(total)
    _assert_near(back, want, scale, float32_rule=True)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_cpu_equals_the_reference(dtype: Any) -> None:
    """The compiled kernels against the reference's: float32 softmax within
    one rounding (the same float64 value, give or take its last bits),
    log_softmax and the backwards within FLOAT32_RULE (their last passes may
    compute in float32); float64 to 1e-12 relative."""
    rng = np.random.default_rng(1)
    x = _data(rng, (300, 129), dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    for op in ("softmax", "log_softmax"):
        ours = get(getattr(CPU, op)(put(x, CPU)))
        theirs = get(getattr(REF, op)(put(x, REF)))
        _assert_near(ours, theirs, float32_rule=op == "log_softmax")
        backward = f"{op}_backward"
        ours = get(getattr(CPU, backward)(put(g, CPU), put(theirs, CPU)))
        theirs = get(getattr(REF, backward)(put(g, REF), put(theirs, REF)))
        scale = np.abs(g).sum(1, keepdims=True)
        _assert_near(ours, theirs, scale, float32_rule=True)


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
@pytest.mark.parametrize("dtype", [F32, F64])
def test_minus_infinity_and_rows_of_it(device: Any, dtype: Any) -> None:
    """-inf logits get probability 0 (log-probability -inf); a row of them is
    NaN, as in PyTorch; large logits do not overflow."""
    x = np.array(
        [
            [0.5, -np.inf, 1.0, -np.inf],
            [-np.inf, -np.inf, -np.inf, -np.inf],
            [1000.0, 999.0, -1000.0, 0.0],
            [-800.0, -801.0, -800.5, -np.inf],
        ],
        dtype,
    )
    xd = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        want, log_want = _softmax(xd, 1), _log_softmax(xd, 1)
    y = get(device.softmax(put(x, device), 1))
    _assert_near(y, want)
    assert y[0, 1] == y[0, 3] == 0.0
    assert np.isnan(y[1]).all()
    log_y = get(device.log_softmax(put(x, device), 1))
    _assert_near(log_y, log_want)
    assert log_y[0, 1] == -np.inf and np.isnan(log_y[1]).all()
    # backward through the -inf: grad - exp(-inf) sum = grad there
    g = np.ones_like(x)
    back = get(device.log_softmax_backward(put(g, device), put(log_y, device), 1))
    assert back[0, 1] == 1.0 and np.isnan(back[1]).all()
    back = get(device.softmax_backward(put(g, device), put(y, device), 1))
    assert back[0, 1] == 0.0


@pytest.mark.parametrize("dtype", [F32, F64])
def test_threads_do_not_change_the_bits(dtype: Any) -> None:
    rng = np.random.default_rng(2)
    x = _data(rng, (500, 300), dtype)
    results = []
    before = actnet.device.get_num_threads()
    try:
        for n in (1, 2, 3):
            actnet.device.set_num_threads(n)
            results.append(get(CPU.log_softmax(put(x, CPU))))
    finally:
        actnet.device.set_num_threads(before)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_other_layouts_and_half_precision_take_the_reference() -> None:
    rng = np.random.default_rng(3)
    x = _data(rng, (40, 30), np.float32)
    strided = put(x, CPU).T
    assert not strided.is_contiguous
    for op in ("softmax", "log_softmax"):
        np.testing.assert_array_equal(
            get(getattr(CPU, op)(strided, -1)), get(getattr(REF, op)(put(x, REF).T))
        )
        for dtype in (actnet.device.float16, actnet.device.bfloat16):
            h = x.astype(dtype)
            np.testing.assert_array_equal(
                get(getattr(CPU, op)(put(h, CPU), 0)),
                get(getattr(REF, op)(put(h, REF), 0)),
            )


def test_in_place_and_empty() -> None:
    x = put(np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4), CPU)
    want = get(CPU.softmax(x))
    assert CPU.softmax(x, out=x) is x
    np.testing.assert_array_equal(get(x), want)
    # the backwards in place, over the gradient or the output
    g = np.linspace(1, -2, 12, dtype=np.float32).reshape(3, 4)
    for op in ("softmax_backward", "log_softmax_backward"):
        backward = getattr(CPU, op)
        apart = get(backward(put(g, CPU), put(want, CPU)))
        for into in (0, 1):
            pair = [put(g, CPU), put(want, CPU)]
            np.testing.assert_array_equal(get(backward(*pair, out=pair[into])), apart)
    assert CPU.softmax(put(np.zeros((3, 0), np.float32), CPU)).shape == (3, 0)
    assert CPU.log_softmax(put(np.zeros((0, 4)), CPU)).shape == (0, 4)


# ---------------------------------------------------------------- cross-entropy
def _targets(rng: np.random.Generator, rows: int, classes: int) -> Any:
    t = rng.integers(0, classes, rows)
    t[:: max(1, rows // 3)] = -100  # some rows ignored
    return t


CE_CASES = [
    (None, 0.0, "mean"),
    (None, 0.0, "sum"),
    (None, 0.0, "none"),
    ("weight", 0.0, "mean"),
    ("weight", 0.3, "mean"),  # label smoothing with weights
    ("weight", 0.1, "none"),
    (None, 0.2, "sum"),
    ("weight", 1.0, "sum"),
]


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("size", [(9, 5), (400, 203)])  # one thread; threaded
@pytest.mark.parametrize(("weighted", "eps", "reduction"), CE_CASES)
def test_cross_entropy_against_the_float64_oracle(
    device: Any,
    dtype: Any,
    size: tuple[int, int],
    weighted: str | None,
    eps: float,
    reduction: str,
) -> None:
    rng = np.random.default_rng(size[0])
    x = _data(rng, size, dtype)
    t = _targets(rng, *size)
    w = (rng.random(size[1]) + 0.5).astype(dtype) if weighted else None
    wb = None if w is None else put(w, device)
    loss, stats_buffer = device.cross_entropy(put(x, device), put(t, device), wb,
                                              -100, eps, reduction)  # fmt: skip
    xd = x.astype(np.float64)
    want, want_grad, loss_scale, terms = _cross_entropy(
        xd, t, None if w is None else w.astype(np.float64), -100, eps, reduction
    )
    _assert_near(get(loss), want, loss_scale)
    # the row statistics: the maximum; log(sum(exp(x - max))), from float32
    # logits to what float32 results need (exp's shorter polynomial, 4.7e-9:
    # 0.08 ulp of a float32, as the float32 rule allows)
    stats = get(stats_buffer)
    assert stats.dtype == F64 and stats.shape == (size[0], 2)
    np.testing.assert_array_equal(stats[:, 0], xd.max(1))
    xl = xd.astype(LONG)
    log_sum = np.log(np.exp(xl - xl.max(1, keepdims=True)).sum(1)).astype(F64)
    rtol = 5e-9 if dtype == F32 and eps == 0 else 1e-14
    np.testing.assert_allclose(stats[:, 1], log_sum, rtol=rtol)
    g = np.full(loss.shape, 0.75, dtype)
    grad = get(device.cross_entropy_backward(put(g, device), put(x, device),
                                             put(t, device), stats_buffer, wb, -100,
                                             eps, reduction))  # fmt: skip
    assert grad.dtype == dtype and grad.shape == size
    coef = 0.75 if reduction != "none" else 0.75 * np.ones((size[0], 1))
    _assert_near(grad, want_grad * coef, terms * coef)


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_every_target_ignored(device: Any, eps: float) -> None:
    """'mean' of no row is NaN (0 / 0, as PyTorch), 'sum' 0, 'none' zeros; every
    gradient 0, even where the logits make the softmax NaN."""
    x = np.ones((4, 3), np.float32)
    x[2] = -np.inf
    t = np.full(4, 7)
    for reduction in ("mean", "sum", "none"):
        loss, stats = device.cross_entropy(
            put(x, device), put(t, device), None, 7, eps, reduction
        )
        if reduction == "mean":
            assert np.isnan(get(loss))
        else:
            np.testing.assert_array_equal(get(loss), np.zeros(loss.shape))
        g = put(np.ones(loss.shape, np.float32), device)
        grad = device.cross_entropy_backward(
            g, put(x, device), put(t, device), stats, None, 7, eps, reduction
        )
        np.testing.assert_array_equal(get(grad), np.zeros((4, 3)))


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
def test_cross_entropy_of_a_confident_prediction(device: Any) -> None:
    """-log p and p - 1 near 0 keep their digits (float32 arithmetic would make
    them 0, float64's rounding of a sum near 1 would leave a few): log1p of the
    terms off the maximum, expm1 of x[y] - max - log_sum, and exp(0) exactly 1."""
    x = np.array([[30.0, 0.0, 0.0], [0.0, 15.0, 1.0], [3.0, 3.0, -9.0]], np.float32)
    t = np.array([0, 1, 0])
    loss, stats = device.cross_entropy(put(x, device), put(t, device), None, -100,
                                       0.0, "none")  # fmt: skip
    want, grad, _, _ = _cross_entropy(x.astype(np.float64), t, None, -100, 0.0,
                                      "none")  # fmt: skip
    assert 0 < want[0] < 1e-12
    _assert_near(get(loss), want)
    back = device.cross_entropy_backward(put(np.ones(3, np.float32), device),
                                         put(x, device), put(t, device), stats, None,
                                         -100, 0.0, "none")  # fmt: skip
    _assert_near(get(back), grad)
    log_p = get(device.log_softmax(put(x, device)))
    _assert_near(log_p, _log_softmax(x.astype(np.float64), 1))


@pytest.mark.parametrize("device", DEVICES, ids=IDS)
def test_cross_entropy_targets_out_of_bounds(device: Any) -> None:
    """A clear IndexError naming the target, from forward and backward (the
    compiled kernels check before they index: no stray read)."""
    x = put(np.zeros((3, 4), np.float32), device)
    ones = put(np.ones((), np.float32), device)
    lse = device.cross_entropy(x, put(np.array([0, 1, 2]), device))[1]
    for bad, match in (
        ([0, 4, 1], "target 4 is out of bounds for 4 classes"),
        ([0, 10**12, 1], "target 1000000000000 is out of bounds for 4 classes"),
        ([0, -1, 1], r"target -1 is out of bounds \(neither a class index nor"),
    ):
        t = put(np.array(bad), device)
        with pytest.raises(IndexError, match=f"cross_entropy: {match}"):
            device.cross_entropy(x, t)
        with pytest.raises(IndexError, match=f"cross_entropy_backward: {match}"):
            device.cross_entropy_backward(ones, x, t, lse)
    # ignore_index may be anything, negative or in range
    loss, _ = device.cross_entropy(x, put(np.array([0, 2, 2]), device), None, 2)
    assert float(get(loss)) == pytest.approx(math.log(4))


def test_cross_entropy_other_dtypes_and_layouts_take_the_reference() -> None:
    rng = np.random.default_rng(4)
    x = _data(rng, (6, 5), np.float32)
    t = np.array([0, 4, -100, 2, 3, 1], np.int32)
    for arr in (x, x.astype(actnet.device.bfloat16)):
        for device_x in (put(arr, CPU), put(np.ascontiguousarray(arr.T), CPU).T):
            loss, _ = CPU.cross_entropy(device_x, put(t, CPU), None, -100, 0.1)
            want, _ = REF.cross_entropy(put(arr, REF), put(t, REF), None, -100,
                                               0.1)  # fmt: skip
            _assert_near(get(loss), get(want).astype(np.float64), ulps=1.0)


# ------------------------------------------------------- the kernels as Python
def test_the_kernels_run_as_plain_python() -> None:
    """A kernel is a Python function first (prange is range): the same values
    as compiled, and exp to float64's accuracy (`precise`; else to float32's
    needs, 4.7e-9), with its special values."""
    t = np.array([-np.inf, -1000.0, -745.0, -700.0, -1.5, -1e-300, 0.0, 1.0, np.nan])
    out = np.empty_like(t)
    for precise, rtol in ((True, 2.5e-16), (False, 4.7e-9)):
        with np.errstate(all="ignore"):  # inf - inf where -inf is selected away
            _exp_into(t, 0.0, out, precise)
        assert out[0] == out[1] == out[2] == 0.0 and out[6] == 1.0
        assert np.isnan(out[-1])
        want = np.array([math.exp(v) for v in t[3:8]])
        np.testing.assert_allclose(out[3:8], want, rtol=rtol)
    out2 = np.empty(2)
    with np.errstate(all="ignore"):
        _exp_into(np.array([np.inf, 800.0]), 0.0, out2, True)
    assert (out2 == np.inf).all()
    rows = np.array([[-0.0, -1.0, -2.0], [3.0, -np.inf, 2.0], [-5.0, -4.0, -6.0]])
    for row in rows:
        assert _max_of(row.view(np.int64)) == row.max()
        assert _max_of(row.astype(np.float32).view(np.int32)) == row.max()
    x = np.array([[1.0, 2.0, 3.0], [0.5, -np.inf, 0.0]])
    y = np.empty_like(x)
    with np.errstate(all="ignore"):  # inf - inf where -inf is selected away
        slabs = np.empty((1, 5))  # a block of one row: 3 values and 2 statistics
        _softmax_rows(x, x.view(np.int64), y, True, 2, slabs, 1)  # in 2 parts
    _assert_near(y, _softmax(x, 1))
    g = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    back = np.empty_like(x)
    _softmax_backward_rows(g, y, back, 1)
    _assert_near(back, get(CPU.softmax_backward(put(g, CPU), put(y, CPU))))


def test_exp_scaled_and_added_to_rounds_once() -> None:
    """`_exp_into`'s scale and addend (log_softmax's backward, cross-entropy's
    gradient): exp(t) scale + plus in float64, rounded once to out's dtype; the
    edges as without them."""
    t = np.array([-np.inf, -800.0, -3.0, -0.5, 0.0, np.nan])
    plus = np.array([1.0, 2.0, 0.25, -1.0, 0.5, 0.0])
    out = np.empty(t.size, np.float32)
    with np.errstate(all="ignore"):  # inf - inf where -inf is selected away
        _exp_into(t, 0.0, out, True, True, -2.0, plus)
    want = plus - 2.0 * np.exp(t)
    np.testing.assert_array_equal(out[:2], plus[:2].astype(np.float32))
    _assert_near(out, want)
    assert np.isnan(out[-1])


def _chebyshev_fit(mp: Any, f: Any, degree: int) -> tuple[list[Any], Any]:
    """f's interpolation at 64 Chebyshev points of |r| <= 0.35, cut after the
    r^degree term, as powers of r (lowest first), in mpmath's arithmetic; and
    the first coefficient cut off."""
    half, nodes = mp.mpf("0.35"), 64
    angles = [mp.pi * (k + mp.mpf(1) / 2) / nodes for k in range(nodes)]
    values = [f(half * mp.cos(t)) for t in angles]
    cheb = [
        (2 if j else 1)
        * mp.fsum(v * mp.cos(j * t) for v, t in zip(values, angles, strict=True))
        / nodes
        for j in range(degree + 2)
    ]
    powers = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]  # T_j in s = r / half
    while len(powers) <= degree:
        following = [mp.mpf(0)] + [2 * c for c in powers[-1]]
        for i, c in enumerate(powers[-2]):
            following[i] -= c
        powers.append(following)
    fitted = [
        mp.fsum(
            cheb[j] * powers[j][i] for j in range(i, degree + 1) if i < len(powers[j])
        )
        / half**i
        for i in range(degree + 1)
    ]
    return fitted, cheb[degree + 1]


def test_exp_coefficients_are_their_recipe() -> None:
    """The polynomials of the compiled exps, refitted in 50-digit arithmetic
    (`_chebyshev_fit`): q(r) = (exp(r) - 1) / r of degree 5, rounded to
    float64 (`_exp_into` for float32's results), and h(r) = (exp(r) - 1 - r) /
    r^2 of degree 4, rounded to float32 (`_exp32_into`); the terms cut off
    below 1.2e-8 and 7e-8 (r times, r^2 times those: below 4.2e-9 and 8.6e-9
    of exp(r))."""
    mp = pytest.importorskip("mpmath")
    with mp.workdps(50):
        q, cut = _chebyshev_fit(mp, lambda r: mp.expm1(r) / r, 5)
        assert [float(c) for c in q] == [exps.G0, exps.G1, exps.G2, exps.G3,
                                         exps.G4, exps.G5]  # fmt: skip
        assert abs(cut) < 1.2e-8
        h, cut = _chebyshev_fit(mp, lambda r: (mp.expm1(r) - r) / (r * r), 4)
        got = [exps.H0, exps.H1, exps.H2, exps.H3, exps.H4]
        assert got == [np.float32(float(c)) for c in h]
        assert abs(cut) < 7e-8


def test_exp32_within_its_bound() -> None:
    """exp in float32 arithmetic: relative error below 8.01e-8 (the maximum
    over every float32 in [EXP32_LOW, EXP32_HIGH], found once by trying them
    all; here every 211th), each multiply-add one rounding; the arguments
    outside counted (the caller's float64 path takes their rows)."""
    kernel = rows.SCOPE.compiled(exps._exp32_into)
    outside = rows.SCOPE.compiled(exps._exp32_outside)
    low = int(np.float32(exps.EXP32_LOW).view(np.int32))
    high = int(np.float32(exps.EXP32_HIGH).view(np.int32))
    negative = -np.arange(0, -low & 0x7FFFFFFF, 211, dtype=np.int32).view(np.float32)
    positive = np.arange(0, high, 211, dtype=np.int32).view(np.float32)
    y = np.concatenate([negative, positive, [exps.EXP32_LOW, exps.EXP32_HIGH]])
    y = y.astype(np.float32)
    out = np.empty_like(y)
    assert outside(y) == 0
    kernel(y, np.float32(1.0), np.zeros_like(y), out)
    want = np.exp(y.astype(np.float64))
    assert np.max(np.abs(out - want) / want) <= 8.01e-8
    # scale and addend: exp(y) s + plus in one rounding
    plus = np.linspace(-3, 3, y.size).astype(np.float32)
    kernel(y[:1000], np.float32(-0.75), plus[:1000], out[:1000])
    exact = want[:1000] * -0.75 + plus[:1000]
    bound = 2.0**-23 * 0.75 * want[:1000] + np.spacing(np.abs(exact).astype(np.float32))
    assert np.all(np.abs(out[:1000] - exact) <= bound)
    edges = np.array([-np.inf, -87.5, -100.0, 88.5, np.inf, np.nan, 0.0], np.float32)
    assert outside(edges) == 5
    out = np.empty_like(edges)
    kernel(edges[5:], np.float32(1.0), np.zeros(2, np.float32), out[5:])
    assert np.isnan(out[5]) and out[6] == 1.0


def test_log_softmax_backward_float32_beyond_exp32() -> None:
    """Rows where exp(y) is no normal float32 (y below -87, -inf) or above 88,
    and a sum beyond float32's range: computed again in float64, the same
    values as the reference's."""
    y = np.array(
        [
            [-0.1, -90.0, -3.0, -np.inf],
            [89.0, -1.0, 0.0, -2.0],
            [-0.5, -1.0, -2.0, -3.0],
            [-0.5, -1.0, -2.0, -3.0],
        ],
        np.float32,
    )
    g = np.array(
        [
            [1.0, 0.0, 2.0, 3.0],
            [1e-30, 0.5, 0.0, 1.0],
            [3e38, 3e38, 0, 0],
            [1, 2, 3, 4],
        ],
        np.float32,
    )
    with np.errstate(all="ignore"):
        ours = get(CPU.log_softmax_backward(put(g, CPU), put(y, CPU)))
        theirs = get(REF.log_softmax_backward(put(g, REF), put(y, REF)))
    total = g.astype(np.float64).sum(1, keepdims=True)
    scale = np.abs(g) + np.exp(y.astype(np.float64)) * np.abs(total)
    _assert_near(ours, theirs, scale, float32_rule=True)
    assert ours[0, 3] == g[0, 3]  # exp(-inf) = 0: g itself
    # in place, over the gradient or the output: the same values
    for into in ("grad", "y"):
        gb, yb = put(g, CPU), put(y, CPU)
        with np.errstate(all="ignore"):
            got = CPU.log_softmax_backward(gb, yb, out=gb if into == "grad" else yb)
        np.testing.assert_array_equal(get(got), ours)


# ------------------------------------------------------------------- refusals
def test_refusals() -> None:
    x = put(np.zeros((2, 3), np.float32), CPU)
    with pytest.raises(TypeError, match="softmax: axis must be an int"):
        CPU.softmax(x, 1.0)  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(IndexError, match="log_softmax: axis 2 is out of range"):
        CPU.log_softmax(x, 2)
    with pytest.raises(ValueError, match="at least one axis"):
        CPU.softmax(put(np.float32(1.0), CPU))
    with pytest.raises(TypeError, match="softmax does not take int32"):
        CPU.softmax(put(np.zeros(3, np.int32), CPU))
    with pytest.raises(ValueError, match="one shape and dtype"):
        CPU.softmax_backward(put(np.zeros((2, 3)), CPU), x)
    with pytest.raises(ValueError, match="out shares memory with an input"):
        CPU.softmax_backward(x, put(np.zeros((2, 3), np.float32), CPU), out=x[::1])
    t = put(np.array([0, 1]), CPU)
    with pytest.raises(ValueError, match=r"logits must be \(N, C\)"):
        CPU.cross_entropy(put(np.zeros(3, np.float32), CPU), t)
    with pytest.raises(TypeError, match="target must hold integers"):
        CPU.cross_entropy(x, put(np.zeros(2, np.float32), CPU))
    with pytest.raises(ValueError, match="target of shape"):
        CPU.cross_entropy(x, put(np.array([0, 1, 2]), CPU))
    with pytest.raises(ValueError, match=r"weight must be a \(3,\) buffer"):
        CPU.cross_entropy(x, t, put(np.ones(3), CPU))
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        CPU.cross_entropy(x, t, None, 1.0)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        CPU.cross_entropy(x, t, None, -100, 1.5)
    with pytest.raises(ValueError, match="reduction must be"):
        CPU.cross_entropy(x, t, None, -100, 0.0, "avg")  # type: ignore[arg-type]
    loss, lse = CPU.cross_entropy(x, t)
    with pytest.raises(ValueError, match="grad must be a"):
        CPU.cross_entropy_backward(put(np.ones(2, np.float32), CPU), x, t, lse)
    with pytest.raises(ValueError, match=r"stats must be the forward's \(2, 2\)"):
        CPU.cross_entropy_backward(loss, x, t, put(np.zeros(2, np.float32), CPU))
