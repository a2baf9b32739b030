"""Custom Functions and tensor creation."""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.device import Generator, get_device


def arr(t: Any) -> np.ndarray[Any, Any]:
    return np.asarray(t.detach())


class Cube(at.Function):
    @staticmethod
    def forward(ctx: Any, x: at.Tensor, scale: float) -> at.Tensor:
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx: Any, g: at.Tensor) -> tuple[at.Tensor, None]:
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g * 3.0 * x * x * ctx.scale, None


def test_custom_function_forward_backward() -> None:
    x = at.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), 6.0 * np.array([1.0, 4.0]))
    assert at.gradcheck(lambda t: Cube.apply(t, 2.0), (x.detach().requires_grad_(),))


def test_forward_runs_without_recording() -> None:
    seen: list[bool] = []

    class Probe(at.Function):
        @staticmethod
        def forward(ctx: Any, x: at.Tensor) -> at.Tensor:
            seen.append(at.is_grad_enabled())
            return x * 1.0

        @staticmethod
        def backward(ctx: Any, g: at.Tensor) -> at.Tensor:
            return g

    Probe.apply(at.ones(2, requires_grad=True))
    assert seen == [False]


def test_mark_non_differentiable_and_multiple_outputs() -> None:
    class SortOut(at.Function):
        @staticmethod
        def forward(ctx: Any, x: at.Tensor) -> tuple[at.Tensor, at.Tensor]:
            values = x * 2.0
            index = at.tensor([1, 0])
            ctx.mark_non_differentiable(index)
            return values, index

        @staticmethod
        def backward(ctx: Any, g: at.Tensor, g_index: at.Tensor) -> at.Tensor:
            return g * 2.0

    values, index = SortOut.apply(at.ones(2, requires_grad=True))
    assert values.requires_grad and not index.requires_grad


def test_wrong_number_of_gradients_is_an_error() -> None:
    class Bad(at.Function):
        @staticmethod
        def forward(ctx: Any, x: at.Tensor, y: at.Tensor) -> at.Tensor:
            return x + y

        @staticmethod
        def backward(ctx: Any, g: at.Tensor) -> at.Tensor:
            return g

    out = Bad.apply(at.ones(2, requires_grad=True), at.ones(2))
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        out.sum().backward()


def test_saved_tensors_are_freed_after_backward() -> None:
    x = at.ones(2, requires_grad=True)
    y = Cube.apply(x, 1.0)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.sum().backward()


def test_function_is_not_instantiated() -> None:
    with pytest.raises(TypeError, match="apply"):
        Cube()


def test_creation_dtypes_and_devices() -> None:
    assert at.tensor([1.0, 2.0]).dtype == at.float32
    assert at.tensor([1, 2]).dtype == at.int64
    assert at.tensor(np.zeros(2)).dtype == at.float64
    assert at.tensor([1.0], dtype="float64").dtype == at.float64
    assert at.tensor([1.0], dtype=at.float16).dtype == at.float16
    assert at.zeros(2, 3).shape == (2, 3) and at.zeros((2, 3)).dtype == at.float32
    assert at.ones(2, dtype="long").dtype == at.int64
    assert at.full((2,), 7).dtype == at.int64 and at.full((2,), 7.0).dtype == at.float32
    assert at.arange(5).dtype == at.int64 and at.arange(0.0, 1.0, 0.25).shape == (4,)
    assert at.zeros(2, device="cpu:1").device.name == "cpu:1"
    like = at.ones_like(at.zeros(2, 2, dtype="float64"))
    assert like.dtype == at.float64 and arr(like).sum() == 4
    with pytest.raises(TypeError, match="not a data type"):
        at.zeros(2, dtype="quaternion")


def test_from_numpy_copies() -> None:
    a = np.arange(3.0)
    t = at.from_numpy(a)
    a[0] = 9.0
    assert arr(t)[0] == 0.0 and t.dtype == at.float64


def test_random_creation_is_reproducible() -> None:
    a = at.randn(3, 4, generator=Generator(1))
    b = at.randn(3, 4, generator=Generator(1))
    np.testing.assert_array_equal(arr(a), arr(b))
    r = at.rand(1000)
    assert arr(r).min() >= 0.0 and arr(r).max() < 1.0
    assert at.randn(2, requires_grad=True).requires_grad


def test_item_numpy_and_repr() -> None:
    t = at.tensor([1.5])
    assert t.item() == 1.5
    assert repr(at.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(at.ones(1, requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(at.ones(1, requires_grad=True) * 2.0)
    with pytest.raises(RuntimeError, match="detach"):
        at.ones(1, requires_grad=True).numpy()
    assert at.Tensor().shape == (0,)  # PyTorch's legacy constructor (test_legacy)


def test_to_device_and_dtype_is_differentiable() -> None:
    x = at.tensor(np.ones(2), requires_grad=True)
    y = x.to("cpu:1").to("float32")
    assert y.device.name == "cpu:1" and y.dtype == at.float32
    y.sum().backward()
    assert x.grad is not None and x.grad.device.name == "cpu:0"
    np.testing.assert_allclose(arr(x.grad), [1.0, 1.0])


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,  # the device's elementwise check
        lambda a, b: at.matmul(a, b),  # the device's operand check
        lambda a, b: at.stack([a, b]),  # ndarray's check
        lambda a, b: at.where(a > 0, a, b),
    ],
)
def test_mixed_devices_name_the_tensor_move_and_it_works(op: Any) -> None:
    a, b = at.ones(2, device="cpu:0"), at.ones(2, device="cpu:1")
    with pytest.raises(ValueError, match=r"cpu:1.*first \(`Tensor\.to`, `NDArray"):
        op(a, b)
    assert op(a, b.to(a.device)).device.name == "cpu:0"  # the hint, followed


class Exp(at.Function):
    @staticmethod
    def forward(ctx: Any, x: at.Tensor) -> at.Tensor:
        y = x.exp()
        ctx.save_for_backward(y)  # its own output: must not make a cycle
        return y

    @staticmethod
    def backward(ctx: Any, g: at.Tensor) -> at.Tensor:
        (y,) = ctx.saved_tensors
        return g * y


def test_function_saving_its_output_frees_without_the_gc() -> None:
    dev = get_device("cpu:20")
    x = at.tensor(np.ones((32, 32)), device=dev, requires_grad=True)
    start = dev.memory_stats().used_bytes
    gc.disable()
    try:
        y = Exp.apply(x)
        assert dev.memory_stats().used_bytes == start + 32 * 32 * 8
        del y  # forward with grad and no backward: freed by reference counting
        assert dev.memory_stats().used_bytes == start
    finally:
        gc.enable()
    y = Exp.apply(x)
    y.sum().backward(create_graph=True)
    np.testing.assert_allclose(arr(x.grad), np.e)
    (g,) = at.grad(Exp.apply(x).sum(), x, create_graph=True)
    assert g.grad_fn is not None  # the saved output is in the double-backward graph
    (gg,) = at.grad(g.sum(), x)
    np.testing.assert_allclose(arr(gg), np.e)


def test_function_saved_output_modified_in_place_is_an_error() -> None:
    x = at.tensor(np.ones(3), requires_grad=True)
    y = Exp.apply(x)
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
