"""The fused optimiser updates (sgd_update, adam_update): the `cpu` device's
compiled kernels equal the `reference` kernels bit for bit, both equal a float64
oracle of PyTorch's algorithms (written from its formulas, not its order of
operations) to the rounding of their dtype, and bad arguments are refused by
name."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from _helpers import assert_identical, get, put
from hypothesis import given
from hypothesis import strategies as st

from actnet.device import Buffer, Device, get_device
from actnet.device._compiled_optim import PARALLEL_MIN, _adam, _sgd, _sgd_momentum
from actnet.device._jit import compiled
from actnet.device._kernels_optim import adam_scalars, sgd_scalars

CPU = get_device("cpu")
REF = get_device("reference")
DEVICES = pytest.mark.parametrize("device", [CPU, REF], ids=["cpu", "reference"])
# a tensor of the threaded kernel, a small one, a 0-d one and an empty one
SHAPES = [(PARALLEL_MIN + 5,), (7, 3), (), (0,)]

Array = np.ndarray[Any, Any]


# --------------------------------------------------------------- the oracles
def sgd_oracle(
    params: list[Array],
    grads: list[list[Array]],
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
) -> tuple[list[Array], list[Array]]:
    """torch.optim.SGD's documented algorithm in float64 (complex128 for complex
    tensors), one step per entry of `grads`; the parameters and momentum buffers
    after them."""
    wide = np.complex128 if params[0].dtype.kind == "c" else np.float64
    ps = [p.astype(wide) for p in params]
    bufs: list[Array] = []
    for step_grads in grads:
        for i, grad in enumerate(step_grads):
            g = grad.astype(wide)
            g = -g if maximize else g
            g = g + weight_decay * ps[i]
            if momentum != 0:
                if len(bufs) <= i:
                    bufs.append(g.copy())
                else:
                    bufs[i] = momentum * bufs[i] + (1 - dampening) * g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            ps[i] = ps[i] - lr * g
    return ps, bufs


def adam_oracle(
    params: list[Array],
    grads: list[list[Array]],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    amsgrad: bool = False,
    maximize: bool = False,
) -> list[list[Array]]:
    """torch.optim.Adam / AdamW's documented algorithm in float64 from zero
    state; [params, exp_avgs, exp_avg_sqs, max_exp_avg_sqs] after the steps."""
    ps = [p.astype(np.float64) for p in params]
    ms = [np.zeros_like(p) for p in ps]
    vs = [np.zeros_like(p) for p in ps]
    tops = [np.zeros_like(p) for p in ps]
    for t, step_grads in enumerate(grads, 1):
        for i, grad in enumerate(step_grads):
            g = grad.astype(np.float64)
            g = -g if maximize else g
            if decoupled_weight_decay:
                ps[i] = ps[i] * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * ps[i]
            ms[i] = beta1 * ms[i] + (1 - beta1) * g
            vs[i] = beta2 * vs[i] + (1 - beta2) * g * g
            tops[i] = np.maximum(tops[i], vs[i])
            v_hat = (tops[i] if amsgrad else vs[i]) / (1 - beta2**t)
            m_hat = ms[i] / (1 - beta1**t)
            ps[i] = ps[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return [ps, ms, vs, tops]


def assert_close(got: Array, want: Array, steps: int) -> None:
    """got (float32 or float64) is the float64 `want` up to a few roundings per
    step of values as large as the largest of want (the updates cancel)."""
    eps = np.finfo(got.dtype).eps
    scale = float(np.abs(want).max(initial=1.0))
    bound = 16 * steps * eps * (np.abs(want) + scale)
    excess = np.abs(got.astype(np.float64) - want) - bound
    assert excess.max(initial=0.0) <= 0, f"off by {excess.max():.3g} beyond the bound"


# ------------------------------------------------------------------ helpers
def _data(shapes: list[tuple[int, ...]], dtype: Any, seed: int) -> list[Array]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


def _put_all(arrays: list[Array], device: Device) -> list[Buffer]:
    return [put(a, device) for a in arrays]


def run_sgd(
    device: Device,
    params: list[Array],
    grads: list[list[Array]],
    **options: Any,
) -> tuple[list[Array], list[Array]]:
    """The parameters and momentum buffers after one sgd_update per step."""
    ps = _put_all(params, device)
    bufs = [device.alloc(p.shape, p.dtype) for p in ps]  # uninitialised: not read
    for step, step_grads in enumerate(grads):
        device.sgd_update(
            ps, _put_all(step_grads, device), bufs, first_step=step == 0, **options
        )
    momentum = options.get("momentum", 0.0) != 0
    return [get(p) for p in ps], [get(b) for b in bufs] if momentum else []


def run_adam(
    device: Device, params: list[Array], grads: list[list[Array]], **options: Any
) -> list[list[Array]]:
    """[params, exp_avgs, exp_avg_sqs, max_exp_avg_sqs] after the steps."""
    ps = _put_all(params, device)
    state = [[put(np.zeros_like(p), device) for p in params] for _ in range(3)]
    for step, step_grads in enumerate(grads, 1):
        device.adam_update(
            ps, _put_all(step_grads, device), *state, steps=step, **options
        )
    return [[get(b) for b in buffers] for buffers in (ps, *state)]


SGD_OPTIONS = [
    {"momentum": m, "dampening": d, "weight_decay": w, "nesterov": n, "maximize": x}
    for m, d, w, n, x in itertools.product(
        (0.0, 0.9), (0.0, 0.3), (0.0, 0.05), (False, True), (False, True)
    )
    if not (n and (m == 0 or d != 0))
]
ADAM_OPTIONS = [
    {"weight_decay": w, "decoupled_weight_decay": dw, "amsgrad": a, "maximize": x}
    for w, dw, a, x in itertools.product(
        (0.0, 0.1), (False, True), (False, True), (False, True)
    )
]
BETAS = [(0.9, 0.999), (0.3, 0.95)]  # lerp's two forms (1 - beta1 < or >= 0.5)


# ------------------------------------------------------ values: the oracle
@DEVICES
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=repr)
def test_sgd_matches_the_oracle(device: Device, dtype: Any, options: Any) -> None:
    params = _data(SHAPES, dtype, 0)
    grads = [_data(SHAPES, dtype, step) for step in (1, 2, 3)]
    got_p, got_b = run_sgd(device, params, grads, lr=0.1, **options)
    want_p, want_b = sgd_oracle(params, grads, lr=0.1, **options)
    for got, want in zip([*got_p, *got_b], [*want_p, *want_b], strict=True):
        assert got.dtype == dtype
        assert_close(got, want, 3)


@DEVICES
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=repr)
@pytest.mark.parametrize("betas", BETAS)
def test_adam_matches_the_oracle(
    device: Device, dtype: Any, options: Any, betas: tuple[float, float]
) -> None:
    params = _data(SHAPES, dtype, 0)
    grads = [_data(SHAPES, dtype, step) for step in (1, 2, 3)]
    settings = {"lr": 0.05, "beta1": betas[0], "beta2": betas[1], "eps": 1e-8}
    got = run_adam(device, params, grads, **settings, **options)
    want = adam_oracle(params, grads, **settings, **options)
    if not options["amsgrad"]:
        got, want = got[:3], want[:3]  # max_exp_avg_sqs is neither read nor written
    for got_list, want_list in zip(got, want, strict=True):
        for g, w in zip(got_list, want_list, strict=True):
            assert g.dtype == dtype
            assert_close(g, w, 3)


def test_the_state_of_a_parameter_continues_with_its_own_step_count() -> None:
    """steps per parameter: one tensor at its 3rd step beside one at its 1st."""
    params = _data([(50,), (40,)], np.float32, 4)
    grads = [_data([(50,), (40,)], np.float32, s) for s in (5, 6, 7)]
    settings = {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    want_a = adam_oracle(params[:1], [g[:1] for g in grads], **settings)
    want_b = adam_oracle(params[1:], [grads[2][1:]], **settings)
    ps = _put_all(params, CPU)
    state = [[put(np.zeros_like(p)) for p in params] for _ in range(2)]
    for step in (1, 2):  # only the first parameter has a gradient
        CPU.adam_update(
            ps[:1], [put(grads[step - 1][0])], *(s[:1] for s in state),
            steps=step, **settings,
        )  # fmt: skip
    CPU.adam_update(ps, _put_all(grads[2], CPU), *state, steps=[3, 1], **settings)
    assert_close(get(ps[0]), want_a[0][0], 3)
    assert_close(get(ps[1]), want_b[0][0], 1)


def test_first_step_per_buffer() -> None:
    """A new momentum buffer beside one that continues (a parameter that got its
    first gradient later): each follows its own history."""
    params = _data([(30,), (20,)], np.float64, 8)
    grads = [_data([(30,), (20,)], np.float64, s) for s in (9, 10)]
    ps = _put_all(params, CPU)
    bufs = [CPU.alloc(p.shape, p.dtype) for p in ps]
    options = {"lr": 0.1, "momentum": 0.9, "dampening": 0.2}
    CPU.sgd_update(ps[:1], [put(grads[0][0])], bufs[:1], first_step=True, **options)
    CPU.sgd_update(
        ps, _put_all(grads[1], CPU), bufs, first_step=[False, True], **options
    )
    want_a, buf_a = sgd_oracle(params[:1], [[grads[0][0]], [grads[1][0]]], **options)
    want_b, buf_b = sgd_oracle(params[1:], [[grads[1][1]]], **options)
    assert_close(get(ps[0]), want_a[0], 2)
    assert_close(get(bufs[0]), buf_a[0], 2)
    assert_close(get(ps[1]), want_b[0], 1)
    assert_close(get(bufs[1]), buf_b[0], 1)


# ------------------------------------------- values: compiled and reference
@given(
    options=st.sampled_from(SGD_OPTIONS),
    lr=st.sampled_from([0.1, 1e-3, 0.0]),
    sizes=st.lists(st.sampled_from([0, 1, 5, 333]), min_size=1, max_size=4),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_sgd_cpu_is_the_reference_bit_for_bit(
    options: Any, lr: float, sizes: list[int], dtype: Any, seed: int
) -> None:
    shapes = [(n,) for n in sizes]
    params = _data(shapes, dtype, seed)
    grads = [_data(shapes, dtype, seed + s) for s in (1, 2)]
    got = run_sgd(CPU, params, grads, lr=lr, **options)
    want = run_sgd(REF, params, grads, lr=lr, **options)
    for g, w in zip([*got[0], *got[1]], [*want[0], *want[1]], strict=True):
        assert_identical(g, w)


@given(
    options=st.sampled_from(ADAM_OPTIONS),
    betas=st.sampled_from([*BETAS, (0.0, 0.0), (0.5, 0.5)]),
    eps=st.sampled_from([1e-8, 0.0, 1.0]),
    sizes=st.lists(st.sampled_from([0, 1, 5, 333]), min_size=1, max_size=4),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_adam_cpu_is_the_reference_bit_for_bit(
    options: Any,
    betas: tuple[float, float],
    eps: float,
    sizes: list[int],
    dtype: Any,
    seed: int,
) -> None:
    shapes = [(n,) for n in sizes]
    params = _data(shapes, dtype, seed)
    grads = [_data(shapes, dtype, seed + s) for s in (1, 2)]
    settings = {"lr": 0.01, "beta1": betas[0], "beta2": betas[1], "eps": eps}
    got = run_adam(CPU, params, grads, **settings, **options)
    want = run_adam(REF, params, grads, **settings, **options)
    for got_list, want_list in zip(got, want, strict=True):
        for g, w in zip(got_list, want_list, strict=True):
            assert_identical(g, w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_threaded_kernels_are_the_reference_bit_for_bit(dtype: Any) -> None:
    shapes = [(PARALLEL_MIN + 1,), (3, PARALLEL_MIN // 2)]
    params = _data(shapes, dtype, 11)
    grads = [_data(shapes, dtype, s) for s in (12, 13)]
    sgd = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1, "nesterov": True}
    for got, want in zip(
        run_sgd(CPU, params, grads, **sgd),
        run_sgd(REF, params, grads, **sgd),
        strict=True,
    ):
        for g, w in zip(got, want, strict=True):
            assert_identical(g, w)
    adam = {"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "amsgrad": True}
    for got, want in zip(
        run_adam(CPU, params, grads, **adam),
        run_adam(REF, params, grads, **adam),
        strict=True,
    ):
        for g, w in zip(got, want, strict=True):
            assert_identical(g, w)


def test_nan_and_inf_propagate_as_in_the_reference() -> None:
    """NaN in a gradient, infinities in the state: the compiled kernels take them
    as the reference's ufuncs do (maximum lets NaN win)."""
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e38, 1e-45], np.float32)
    params = [specials[::-1].copy()]
    grads = [[specials.copy()], [np.roll(specials, 2)]]
    for options in SGD_OPTIONS:
        for got, want in zip(
            run_sgd(CPU, params, grads, lr=0.1, **options),
            run_sgd(REF, params, grads, lr=0.1, **options),
            strict=True,
        ):
            for g, w in zip(got, want, strict=True):
                assert_identical(g, w)
    adam = {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "amsgrad": True}
    for got, want in zip(
        run_adam(CPU, params, grads, **adam),
        run_adam(REF, params, grads, **adam),
        strict=True,
    ):
        for g, w in zip(got, want, strict=True):
            assert_identical(g, w)


def test_other_layouts_and_dtypes_take_the_reference_kernel_on_cpu() -> None:
    """Strided buffers, float16 and complex (SGD) run the reference kernel, tensor
    by tensor beside compiled ones; complex SGD also against the oracle."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal((6, 8)).astype(np.float32)
    for device in (CPU, REF):
        p = put(base, device).T  # a transposed parameter and its state
        b = put(np.zeros_like(base), device).T
        g = put(base * 0.5, device).T
        q = put(base, device)
        device.sgd_update(
            [p, q], [g, put(base, device)], [b, put(base, device)], lr=0.1,
            momentum=0.9, first_step=[True, False],
        )  # fmt: skip
        assert_identical(get(p), (base - 0.1 * (base * 0.5)).T)
    for dtype in (np.float16, np.complex64, np.complex128):
        imaginary = 0 if dtype == np.float16 else 1j
        params = [(base + imaginary * base[::-1]).astype(dtype)]
        grads = [[params[0] * 0.25], [params[0] * -0.5]]
        options = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}
        got = run_sgd(CPU, params, grads, **options)
        want = run_sgd(REF, params, grads, **options)
        for gl, wl in zip(got, want, strict=True):
            for g_, w_ in zip(gl, wl, strict=True):
                assert_identical(g_, w_)
        if dtype != np.float16:
            want_p, _ = sgd_oracle(params, grads, **options)
            tol = 1e-5 if dtype == np.complex64 else 1e-12
            np.testing.assert_allclose(got[0][0], want_p[0], rtol=tol)
    half = [base.astype(np.float16)]
    half_grads = [[half[0] * 0.5]]
    adam = {"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-3}
    for g, w in zip(
        run_adam(CPU, half, half_grads, **adam),
        run_adam(REF, half, half_grads, **adam),
        strict=True,
    ):
        assert_identical(g[0], w[0])


def test_the_compiled_update_allocates_nothing() -> None:
    """One pass over the tensors in place: no scratch from the arena."""
    params = _put_all(_data([(1000,), (PARALLEL_MIN + 3,)], np.float32, 1), CPU)
    grads = _put_all(_data([(1000,), (PARALLEL_MIN + 3,)], np.float32, 2), CPU)
    state = [[put(np.zeros(p.shape, np.float32)) for p in params] for _ in range(3)]
    CPU.reset_peak_memory_stats()
    used = CPU.memory_stats().used_bytes
    CPU.sgd_update(params, grads, state[0], lr=0.1, momentum=0.9, first_step=True)
    CPU.adam_update(
        params, grads, *state, steps=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
        amsgrad=True,
    )  # fmt: skip
    assert CPU.memory_stats().peak_bytes == used


def test_run_calls_the_updates_by_name() -> None:
    p, g = put(np.ones(3, np.float32)), put(np.full(3, 2.0, np.float32))
    assert CPU.run("sgd_update", [[p], [g]], lr=0.25) is None
    assert_identical(get(p), np.full(3, 0.5, np.float32))


def test_the_kernels_run_as_plain_python() -> None:
    """A kernel is a Python function first (prange is range): same values."""
    rng = np.random.default_rng(2)
    f32 = np.dtype(np.float32)
    arrays = [rng.standard_normal(9).astype(np.float32) for _ in range(5)]
    arrays[3] = np.abs(arrays[3])
    arrays[4] = np.abs(arrays[4])
    s = sgd_scalars(f32, 0.1, 0.9, 0.2, 0.01)
    a = adam_scalars(f32, 3.0, 0.01, 0.9, 0.99, 1e-8, 0.1, True)
    runs = [
        (_sgd, (0, 1), (True, s.decay, s.weight_decay, s.neg_lr)),
        (
            _sgd_momentum,
            (0, 1, 2),
            (False, True, s.decay, True, s.weight_decay, s.momentum,
             s.dampening_scale, s.neg_lr),
        ),
        (
            _adam,
            (0, 1, 2, 3, 4),
            (True, True, True, True, a.small, a.decay_factor, a.lerp_weight, a.beta2,
             a.one_minus_beta2, a.bias_correction2_sqrt, a.eps, a.neg_step_size),
        ),
    ]  # fmt: skip
    for kernel, which, scalars in runs:
        plain = [arrays[i].copy() for i in which]
        done = [arrays[i].copy() for i in which]
        kernel(*plain, *scalars)
        compiled(kernel)(*done, *scalars)
        for x, y in zip(plain, done, strict=True):
            assert_identical(x, y)


# ---------------------------------------------------------------- refusals
def test_refusals_name_the_argument() -> None:
    f32 = np.zeros((2, 3), np.float32)
    p, g, b = put(f32), put(f32), put(f32)
    adam = {"steps": 1, "lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    with pytest.raises(ValueError, match=r"sgd_update: grads has 2 tensors, params"):
        CPU.sgd_update([p], [g, g], lr=0.1)
    with pytest.raises(ValueError, match=r"momentum_buffers has 0 tensors"):
        CPU.sgd_update([p], [g], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(3, 2\), params"):
        CPU.sgd_update([p], [g.T], lr=0.1)
    with pytest.raises(TypeError, match=r"grads\[1\] has dtype float64"):
        CPU.sgd_update([p, p], [g, put(f32.astype(np.float64))], lr=0.1)
    with pytest.raises(TypeError, match=r"sgd_update does not take int32"):
        CPU.sgd_update([put(f32.astype(np.int32))], [g], lr=0.1)
    with pytest.raises(TypeError, match=r"adam_update does not take complex64"):
        c = put(f32.astype(np.complex64))
        CPU.adam_update([c], [c], [c], [c], **adam)
    with pytest.raises(ValueError, match=r"exp_avg_sqs\[0\] is on reference"):
        CPU.adam_update([p], [g], [b], [put(f32, REF)], **adam)
    with pytest.raises(ValueError, match=r"max_exp_avg_sqs has 0 tensors"):
        CPU.adam_update([p], [g], [b], [b], amsgrad=True, **adam)
    with pytest.raises(TypeError, match=r"params\[0\] must be a Buffer, got ndarray"):
        CPU.sgd_update([f32], [g], lr=0.1)  # type: ignore[list-item]  # on purpose
    with pytest.raises(TypeError, match=r"grads must be a list or tuple of Buffers"):
        CPU.sgd_update([p], g, lr=0.1)  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match=r"sgd_update: lr must be a float, got str"):
        CPU.sgd_update([p], [g], lr="0.1")  # type: ignore[arg-type]  # on purpose
    with pytest.raises(TypeError, match=r"adam_update: beta1 must be a float"):
        CPU.adam_update([p], [g], [b], [b], **(adam | {"beta1": True}))
    with pytest.raises(ValueError, match=r"adam_update: beta2 must be in \[0, 1\)"):
        CPU.adam_update([p], [g], [b], [b], **(adam | {"beta2": 1.0}))
    with pytest.raises(ValueError, match=r"steps\[1\] must be at least 1, got 0"):
        CPU.adam_update([p, p], [g, g], [b, b], [b, b], **(adam | {"steps": [1, 0]}))
    with pytest.raises(ValueError, match=r"steps has 2 counts, params has 1"):
        CPU.adam_update([p], [g], [b], [b], **(adam | {"steps": [1, 2]}))
    with pytest.raises(ValueError, match=r"first_step has 2 flags, params has 1"):
        CPU.sgd_update([p], [g], [b], lr=0.1, momentum=0.9, first_step=[True, True])
    CPU.sgd_update([], [], lr=0.1)  # nothing to update
    assert_identical(get(p), f32)
