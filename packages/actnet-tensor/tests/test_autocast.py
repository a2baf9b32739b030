"""Automatic mixed precision (`autocast`, actnet.tensor.amp): the region's
state (nesting, enabled=False, the decorator, threads, the weight cache), the
tensor operations' entries on PyTorch's CPU lists, the cast rules (only
floating tensors, float64 left alone), gradients in the parameters' dtype,
backward outside autocast, custom_fwd/custom_bwd, GradScaler, and bfloat16's
arithmetic and promotion as PyTorch's."""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.tensor import Function, Tensor
from actnet.tensor.amp import (
    CPU_CAST_POLICIES,
    GradScaler,
    autocast_cast,
    autocast_op,
    custom_bwd,
    custom_fwd,
    is_autocast_available,
)

BF16 = at.bfloat16


def _x(*shape: int, seed: int = 0, **kw: Any) -> Tensor:
    rng = np.random.default_rng(seed)
    return at.tensor(rng.standard_normal(shape).astype(np.float32), **kw)


# ------------------------------------------------------------------ the region
def test_autocast_is_off_by_default_and_on_inside() -> None:
    assert not at.is_autocast_enabled("cpu")
    with at.autocast("cpu") as region:
        assert at.is_autocast_enabled("cpu")
        assert at.get_autocast_dtype("cpu") == BF16
        assert region.fast_dtype == BF16
        # PyTorch's call without a device type asks about CUDA
        assert not at.is_autocast_enabled()
    assert not at.is_autocast_enabled("cpu")


def test_regions_nest_and_restore_what_they_found() -> None:
    x, w = _x(2, 3), _x(3, 4, seed=1)
    with at.autocast("cpu", dtype=at.float16):
        assert (x @ w).dtype == at.float16
        with at.autocast("cpu", dtype=BF16):
            assert (x @ w).dtype == BF16
            with at.autocast("cpu", enabled=False):
                assert not at.is_autocast_enabled("cpu")
                assert (x @ w).dtype == at.float32
            assert (x @ w).dtype == BF16
        assert at.get_autocast_dtype("cpu") == at.float16
        assert (x @ w).dtype == at.float16
    assert at.get_autocast_dtype("cpu") == BF16
    assert (x @ w).dtype == at.float32


def test_autocast_restores_the_state_when_the_body_raises() -> None:
    with pytest.raises(ValueError, match="boom"), at.autocast("cpu"):
        raise ValueError("boom")
    assert not at.is_autocast_enabled("cpu")


def test_autocast_as_a_decorator_opens_a_region_per_call() -> None:
    @at.autocast("cpu")
    def product(a: Tensor, b: Tensor) -> Tensor:
        assert at.is_autocast_enabled("cpu")
        return a @ b

    assert product(_x(2, 3), _x(3, 2)).dtype == BF16
    assert product.__name__ == "product"
    assert not at.is_autocast_enabled("cpu")
    with pytest.raises(TypeError, match="requires a callable"):
        at.autocast("cpu")(3)  # type: ignore[type-var]  # the error under test


def test_autocast_is_thread_local() -> None:
    seen: list[bool] = []
    with at.autocast("cpu"):
        thread = threading.Thread(
            target=lambda: seen.append(at.is_autocast_enabled("cpu"))
        )
        thread.start()
        thread.join()
        assert at.is_autocast_enabled("cpu")
    assert seen == [False]


def test_device_types_and_dtypes_autocast_refuses() -> None:
    with pytest.raises(ValueError, match="of type `str`"):
        at.autocast(at.device("cpu"))  # type: ignore[arg-type]  # the error under test
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'xpu'"):
        at.autocast("xpu")
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        region = at.autocast("cpu", dtype=at.float32)
    with region:
        assert not at.is_autocast_enabled("cpu")
    with pytest.warns(UserWarning, match="cpu only"):
        region = at.autocast("cuda")
    with region:
        assert not at.is_autocast_enabled("cuda")
    assert is_autocast_available("cpu") and not is_autocast_available("mps")


def test_the_deprecated_spellings() -> None:
    with pytest.warns(FutureWarning, match=r'amp.autocast\("cpu"'):
        region = at.cpu.amp.autocast()
    with region:
        assert at.is_autocast_enabled("cpu")
    with pytest.warns(DeprecationWarning, match="is_autocast_enabled"):
        assert at.is_autocast_cpu_enabled() is False
    with pytest.warns(DeprecationWarning, match="get_autocast_dtype"):
        assert at.get_autocast_cpu_dtype() == BF16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with at.cuda.amp.autocast():  # no CUDA: disabled
            assert not at.is_autocast_enabled("cuda")


def test_the_state_functions() -> None:
    at.set_autocast_enabled("cpu", True)
    try:
        assert (_x(2, 2) @ _x(2, 2)).dtype == BF16
    finally:
        at.set_autocast_enabled("cpu", False)
    at.set_autocast_dtype("cpu", at.float16)
    try:
        with at.autocast("cpu"):
            assert (_x(2, 2) @ _x(2, 2)).dtype == at.float16
    finally:
        at.set_autocast_dtype("cpu", BF16)
    assert at.autocast_increment_nesting() == 1
    assert at.autocast_decrement_nesting() == 0


# --------------------------------------------------------- the tensor ops' lists
def test_lower_precision_ops_compute_in_bfloat16() -> None:
    x, w, b = _x(4, 3), _x(3, 5, seed=1), _x(5, seed=2)
    with at.autocast("cpu"):
        assert (x @ w).dtype == BF16
        assert at.matmul(x, w).dtype == BF16
        assert x.matmul(w).dtype == BF16
        assert at.bmm(x[None], w[None]).dtype == BF16
        assert at.addmm(b, x, w).dtype == BF16
        assert at.einsum("ij,jk->ik", x, w).dtype == BF16  # a matmul inside
        assert at.einsum("ij,ij->ij", x, x).dtype == at.float32  # no product
        # not on the lists: they keep their inputs' dtype, as torch's
        assert at.dot(x[0], x[1]).dtype == at.float32
        assert at.outer(x[0], x[1]).dtype == at.float32
        assert (x + 1).exp().sum().dtype == at.float32


def test_float64_and_integers_are_not_cast() -> None:
    x = _x(3, 3).double()
    with at.autocast("cpu"):
        assert (x @ x).dtype == at.float64
        assert (x.prod()).dtype == at.float64
        i = at.arange(4).reshape(2, 2)
        assert (i @ i).dtype == at.int64


def test_fp32_ops_compute_in_float32() -> None:
    h = _x(3, 4).to(BF16)
    with at.autocast("cpu"):
        assert h.prod().dtype == at.float32
        assert h.prod(0).dtype == at.float32
        assert h.sum().dtype == BF16  # sum is not on CPU's list


def test_promote_ops_take_the_widest_argument() -> None:
    h, f = _x(2, 3).to(BF16), _x(2, 3)
    with at.autocast("cpu"):
        assert at.cat([h, f]).dtype == at.float32
        assert at.stack([h, f]).dtype == at.float32
        assert at.cat([h, h]).dtype == BF16
        assert at.cat([h, f.double()]).dtype == at.float64
        with pytest.raises(RuntimeError, match="float16 beside bfloat16"):
            at.cat([h, f.half()])


def test_every_op_name_is_on_the_lists() -> None:
    assert CPU_CAST_POLICIES["linear"] == "lower_precision_fp"
    assert CPU_CAST_POLICIES["cross_entropy_loss"] == "fp32"
    assert CPU_CAST_POLICIES["cat"] == "promote"
    assert set(CPU_CAST_POLICIES.values()) == {
        "lower_precision_fp",
        "fp32",
        "promote",
        "unlisted",
    }
    with pytest.raises(KeyError):
        autocast_op("softmax")  # not on PyTorch's CPU lists
    (h,) = autocast_cast("mse_loss", _x(2).to(BF16))
    assert h.dtype == BF16  # outside a region: as it is
    with at.autocast("cpu"):
        (h,) = autocast_cast("mse_loss", _x(2).to(BF16))
        assert h.dtype == at.float32


# ------------------------------------------------------- casts and gradients
def test_gradients_reach_float32_parameters_in_float32() -> None:
    w = _x(3, 5, requires_grad=True)
    x = _x(4, 3, seed=1, requires_grad=True)
    with at.autocast("cpu"):
        y = x @ w
        loss = (y.float() ** 2).sum()
    assert y.dtype == BF16 and loss.dtype == at.float32
    loss.backward()
    assert w.grad is not None and x.grad is not None
    assert w.grad.dtype == at.float32 and x.grad.dtype == at.float32
    # the bfloat16 product's gradient: 2 y x^T, rounded through bfloat16
    expected = 2 * x.detach().numpy().T @ y.float().detach().numpy()
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=2e-2, atol=2e-2)


def test_backward_runs_with_autocast_off() -> None:
    seen: list[bool] = []

    class Probe(Function):
        @staticmethod
        def forward(ctx: Any, x: Tensor) -> Tensor:
            return x * 1

        @staticmethod
        def backward(ctx: Any, grad: Tensor) -> Tensor:
            seen.append(at.is_autocast_enabled("cpu"))
            return grad

    x = _x(3, requires_grad=True)
    with at.autocast("cpu"):
        Probe.apply(x).sum().backward()
        assert at.is_autocast_enabled("cpu")
    assert seen == [False]


def test_a_function_gets_its_gradient_in_its_output_dtype() -> None:
    dtypes: list[Any] = []

    class Identity(Function):
        @staticmethod
        def forward(ctx: Any, x: Tensor) -> Tensor:
            return x * 1

        @staticmethod
        def backward(ctx: Any, grad: Tensor) -> Tensor:
            dtypes.append(grad.dtype)
            return grad

    h = _x(3).to(BF16).requires_grad_()
    # the bfloat16 output meets float32: the sum's gradient is float32, cast back
    (Identity.apply(h) + _x(3)).sum().backward()
    assert dtypes == [BF16]
    assert h.grad is not None and h.grad.dtype == BF16


def test_parameter_casts_are_kept_for_the_region() -> None:
    w = _x(3, 3, requires_grad=True)
    x = _x(2, 3, seed=1)
    with at.autocast("cpu"):
        a, b = x @ w, x @ w
        # one cast of w, shared: one node feeds both products
        assert a.grad_fn is not None and b.grad_fn is not None
        cast_a = a.grad_fn.next_edges[1]
        cast_b = b.grad_fn.next_edges[1]
        assert cast_a is not None and cast_b is not None
        assert cast_a[0] is cast_b[0]
        with at.no_grad():
            w.mul_(2)  # a new version: cast again
        c = x @ w
        assert c.grad_fn is not None
        edge = c.grad_fn.next_edges[1]
        assert edge is not None and edge[0] is not cast_a[0]
    with at.autocast("cpu", cache_enabled=False):
        a, b = x @ w, x @ w
        assert a.grad_fn is not None and b.grad_fn is not None
        ea, eb = a.grad_fn.next_edges[1], b.grad_fn.next_edges[1]
        assert ea is not None and eb is not None and ea[0] is not eb[0]
    (a.float().sum() + b.float().sum()).backward()
    assert w.grad is not None and w.grad.dtype == at.float32


def test_the_cache_is_dropped_when_the_outermost_region_exits() -> None:
    from actnet.tensor._autocast import _state

    w = _x(3, 3, requires_grad=True)
    with at.autocast("cpu"):
        with at.autocast("cpu"):
            _ = _x(1, 3) @ w
        assert len(_state.cache) == 1
    assert not _state.cache


# ------------------------------------------------------ custom_fwd, custom_bwd
def test_custom_fwd_casts_inputs_and_custom_bwd_restores_the_state() -> None:
    seen: dict[str, Any] = {}

    class Square(Function):
        @staticmethod
        @custom_fwd(device_type="cpu", cast_inputs=at.float32)
        def forward(ctx: Any, x: Tensor) -> Tensor:
            seen["forward"] = (x.dtype, at.is_autocast_enabled("cpu"))
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @custom_bwd(device_type="cpu")
        def backward(ctx: Any, grad: Tensor) -> Tensor:
            seen["backward"] = at.is_autocast_enabled("cpu")
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    h = _x(3).to(BF16).requires_grad_()
    with at.autocast("cpu"):
        y = Square.apply(h)
    y.sum().backward()
    assert seen["forward"] == (at.float32, False)
    assert seen["backward"] is False  # forward ran with autocast off
    assert y.dtype == at.float32 and h.grad is not None and h.grad.dtype == BF16


# ------------------------------------------------------------------ GradScaler
class _SGD:
    """The optimizer interface GradScaler uses: param_groups and step."""

    def __init__(self, params: list[Tensor], lr: float) -> None:
        self.param_groups = [{"params": params}]
        self.lr = lr
        self.steps = 0

    def step(self) -> str:
        with at.no_grad():
            for p in self.param_groups[0]["params"]:
                assert p.grad is not None
                p.sub_(p.grad * self.lr)
        self.steps += 1
        return "stepped"


def test_grad_scaler_scales_unscales_and_steps() -> None:
    w = _x(3, requires_grad=True)
    start = w.detach().numpy().copy()
    opt = _SGD([w], 0.1)
    scaler = GradScaler("cpu", init_scale=1024.0)
    loss = (w * w).sum()
    scaled = scaler.scale(loss)
    assert scaled.item() == pytest.approx(1024.0 * loss.item(), rel=1e-6)
    scaled.backward()
    assert scaler.step(opt) == "stepped"
    np.testing.assert_allclose(w.detach().numpy(), start - 0.1 * 2 * start, rtol=1e-6)
    scaler.update()
    assert scaler.get_scale() == 1024.0
    assert scaler.state_dict()["_growth_tracker"] == 1


def test_grad_scaler_skips_a_step_with_inf_and_backs_off() -> None:
    w = _x(3, requires_grad=True)
    opt = _SGD([w], 0.1)
    scaler = GradScaler("cpu", init_scale=8.0, growth_interval=2)
    scaler.scale((w.abs() * float("inf")).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    assert scaler.step(opt) is None and opt.steps == 0
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 4.0
    for _ in range(2):  # two clean steps: the scale grows
        w.grad = None
        scaler.scale(w.sum()).backward()
        scaler.step(opt)
        scaler.update()
    assert scaler.get_scale() == 8.0 and opt.steps == 2
    state = scaler.state_dict()
    other = GradScaler("cpu")
    other.load_state_dict(state)
    assert other.get_scale() == 8.0


def test_a_disabled_grad_scaler_passes_everything_through() -> None:
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = GradScaler()  # "cuda", as written for GPUs
    with pytest.warns(FutureWarning, match=r"amp.GradScaler\("):
        at.cuda.amp.GradScaler(enabled=False)  # disabled: no CUDA warning
    w = _x(3, requires_grad=True)
    opt = _SGD([w], 0.1)
    loss = w.sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    assert scaler.step(opt) == "stepped"
    scaler.update()
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    assert not scaler.is_enabled()


# ---------------------------------------------------------- bfloat16 itself
def test_bfloat16_promotes_as_in_pytorch() -> None:
    h = at.ones(2, dtype=BF16)
    assert (h + at.ones(2)).dtype == at.float32
    assert (h + at.ones(2, dtype=at.float64)).dtype == at.float64
    assert (h + at.ones(2, dtype=at.float16)).dtype == at.float32
    assert (h + at.ones(2, dtype=at.int64)).dtype == BF16
    assert (h * 2.5).dtype == BF16
    assert (h * 1j).dtype == at.complex64
    assert at.is_floating_point(h)


def test_bfloat16_requires_grad_and_differentiates() -> None:
    h = _x(4).to(BF16).requires_grad_()
    y = (h.tanh() * h).sum()
    assert y.dtype == BF16
    y.backward()
    assert h.grad is not None and h.grad.dtype == BF16
    x = h.detach().float().numpy()
    expected = np.tanh(x) + x * (1 - np.tanh(x) ** 2)
    np.testing.assert_allclose(h.grad.float().numpy(), expected, rtol=2e-2, atol=1e-2)


def test_bfloat16_sums_accumulate_in_float32() -> None:
    h = at.ones(1000, dtype=BF16)
    assert h.sum().item() == 1000.0
    assert h.mean().item() == 1.0
