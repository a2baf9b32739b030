"""What code ported from PyTorch by its imports reaches through `torch`
(actnet.tensor): torch.nn, torch.optim and torch.utils as registered namespaces,
torch.device, torch.cuda, torch.Tensor(...) (the legacy constructor) and
Tensor.type; each against its definition (NumPy for values)."""

from __future__ import annotations

import types

import numpy as np
import pytest

import actnet.tensor as at
from actnet.device import Device, get_device
from actnet.tensor import _namespaces, _registry


# ------------------------------------------------------------- namespaces
def test_utils_checkpoint_is_the_checkpoint_module() -> None:
    import actnet.tensor.checkpoint as checkpoint_module

    assert at.utils.checkpoint is checkpoint_module
    assert at.utils.checkpoint.checkpoint is checkpoint_module.checkpoint


def test_a_registered_namespace_is_an_attribute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # registrations are process-wide: work on a copy of the table
    monkeypatch.setattr(_namespaces, "_registered", dict(_namespaces._registered))
    utils = types.ModuleType("actnet.tensor.utils")
    monkeypatch.setitem(_namespaces._registered, "utils", utils)
    fake_nn = types.ModuleType("fake_nn")
    fake_data = types.ModuleType("fake_data")
    at.register_namespace("nn", fake_nn)
    at.register_namespace("utils.data", fake_data)
    assert at.nn is fake_nn
    assert at.utils.data is fake_data


def test_an_unregistered_namespace_says_which_import_provides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = {k: v for k, v in _namespaces._registered.items() if k != "optim"}
    monkeypatch.setattr(_namespaces, "_registered", table)
    # as with actnet-tensor alone: no provider installed to import
    monkeypatch.setattr(_namespaces, "import_provider", lambda module: False)
    with pytest.raises(AttributeError, match=r"torch.optim: import actnet.nn"):
        at.optim  # noqa: B018  # the attribute access under test
    with pytest.raises(AttributeError, match=r"has no attribute 'no_such_name'$"):
        at.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(at, "no_such_name")


def test_register_namespace_refuses_unknown_paths_and_non_modules() -> None:
    with pytest.raises(ValueError, match="path must be one of"):
        at.register_namespace("onnx", types.ModuleType("onnx"))
    with pytest.raises(TypeError, match="module must be a module, got dict"):
        at.register_namespace("nn", {})  # type: ignore[arg-type]  # under test


# ------------------------------------------------------------- device, cuda
def test_a_registered_function_is_an_attribute_and_a_method(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """torch.softmax and Tensor.softmax, as actnet.neuron registers them (here
    a stand-in: the sum along a dim), and the hints before any registration
    (the provider, imported when installed, registers nothing here: the
    tables are emptied after its import)."""
    _registry.import_provider("actnet.neuron")  # if installed: imported now
    monkeypatch.setattr(_registry, "functions", {})
    monkeypatch.setattr(_registry, "methods", {})
    x = at.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(AttributeError, match=r"import actnet\.neuron"):
        at.softmax  # noqa: B018
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute"):
        x.softmax  # noqa: B018

    def along(t: at.Tensor, dim: int) -> at.Tensor:
        return t.sum(dim)

    at.register_function("softmax", along, along)
    assert at.softmax is along
    np.testing.assert_array_equal(np.asarray(x.softmax(0)), [4.0, 6.0])
    np.testing.assert_array_equal(np.asarray(at.softmax(x, 1)), [3.0, 7.0])


def test_register_function_refuses_other_names_and_non_callables() -> None:
    with pytest.raises(ValueError, match="must be one of"):
        at.register_function("conv2d", len, None)
    with pytest.raises(TypeError, match="callables"):
        at.register_function("relu", 1, None)  # type: ignore[arg-type]  # refused


def test_device_type_is_its_kind() -> None:
    assert at.ones(1).device.type == "cpu" == get_device("cpu").kind


def test_device_names_the_same_devices_as_get_device() -> None:
    cpu = get_device("cpu")
    assert at.device("cpu") is cpu
    assert at.device("cpu", 0) is cpu
    assert at.device("cpu:0") is cpu
    assert at.device(cpu) is cpu
    assert isinstance(at.device("cpu:1"), Device)
    assert at.device("cpu", 1) is get_device("cpu:1")
    with pytest.raises(ValueError, match="Device index must not be negative"):
        at.device("cpu", -1)
    with pytest.raises(ValueError, match="must not include an index"):
        at.device("cpu:0", 1)


def test_cuda_is_available_exactly_when_a_cuda_device_can_be_made() -> None:
    try:
        get_device("cuda:0")
        expected = True
    except RuntimeError:
        expected = False
    assert at.cuda.is_available() is expected
    assert (at.cuda.device_count() > 0) is expected


# ------------------------------------------------------ the legacy constructor
def test_tensor_of_data_is_a_float32_copy() -> None:
    data = [[1, 2], [3, 4]]
    t = at.Tensor(data)
    assert t.dtype == np.float32
    assert t.requires_grad is False and t.is_leaf
    np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=np.float32))
    array = np.arange(6, dtype=np.int64).reshape(2, 3)
    np.testing.assert_array_equal(at.Tensor(array).numpy(), array.astype(np.float32))
    # a tuple is data, not a size; 0-d tensors inside the data are their values
    np.testing.assert_array_equal(at.Tensor((2, 3)).numpy(), [2.0, 3.0])
    word = at.tensor(7)
    np.testing.assert_array_equal(at.Tensor([[word]]).numpy(), [[7.0]])


def test_tensor_of_sizes_is_uninitialised_float32_of_that_shape() -> None:
    t = at.Tensor(2, 3)
    assert t.shape == (2, 3) and t.dtype == np.float32
    assert at.Tensor(np.int64(4)).shape == (4,)
    assert at.Tensor().shape == (0,)
    assert at.Tensor(0).shape == (0,)


def test_tensor_constructor_refusals() -> None:
    with pytest.raises(RuntimeError, match=r"negative dimension -1: \[2, -1\]"):
        at.Tensor(2, -1)
    with pytest.raises(TypeError, match="invalid data type 'str'"):
        at.Tensor("ab")
    with pytest.raises(TypeError, match=r"data must be a sequence \(got float\)"):
        at.Tensor(2.5)
    with pytest.raises(TypeError, match="one sequence of data or from ints"):
        at.Tensor(2, "a")
    with pytest.raises(TypeError, match=r"tensor\.clone"):
        at.Tensor(at.ones(2))


def test_a_subclass_constructed_is_of_the_subclass() -> None:
    class Sub(at.Tensor):
        __slots__ = ()

    s = Sub([1.0, 2.0])
    assert type(s) is Sub
    np.testing.assert_array_equal(s.numpy(), [1.0, 2.0])


# ---------------------------------------------------------------- Tensor.type
def test_type_converts_and_names() -> None:
    t = at.tensor([1, 2])
    assert t.type() == "torch.LongTensor"
    assert t.type(at.int64) is t
    f = t.type(at.float32)
    assert f.dtype == np.float32 and f.type() == "torch.FloatTensor"
    assert t.type("torch.DoubleTensor").dtype == np.float64
    assert t.type("float16").dtype == np.float16
    assert at.tensor([True]).type() == "torch.BoolTensor"
    with pytest.raises(ValueError, match=r"invalid type: 'torch\.NoSuchTensor'"):
        t.type("torch.NoSuchTensor")
    with pytest.raises(TypeError, match="no tensor-type name for complex64"):
        at.tensor([1j], dtype=at.complex64).type()


def test_type_is_differentiable() -> None:
    x = at.tensor([1.0, 2.0], dtype=at.float64, requires_grad=True)
    x.type(at.float32).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    assert x.grad.dtype == np.float64


# ------------------------------------------------------------- __format__
def test_a_zero_d_tensor_formats_as_its_number() -> None:
    # nanoGPT prints f"{losses['train']:.4f}" of a 0-d tensor
    assert f"{at.tensor(1.23456):.4f}" == "1.2346"
    assert f"{at.tensor(3):>4}" == "   3"
    loss = at.tensor(2.5, requires_grad=True) * 2
    assert f"{loss:.2f}" == "5.00"
    assert f"{at.ones(2)}" == str(at.ones(2))
    with pytest.raises(TypeError, match=r"unsupported format string passed to Tensor"):
        format(at.ones(2), ".2f")


def test_autograd_of_complex_values_is_refused_not_computed_wrong() -> None:
    """PyTorch's gradients of complex values are conjugate (a * b: grad *
    conj(b)); actnet's formulas are the real ones, so a differentiable
    operation with a complex result, or a complex leaf reached by backward,
    raises instead of giving a wrong gradient. Without grad, complex works."""
    z = at.tensor([1 + 2j, 3j], requires_grad=True)
    x = at.tensor([1.0, 2.0], requires_grad=True)
    for make in (lambda: z * 2, lambda: z.abs(), lambda: x * at.tensor([1j, 2j])):
        with pytest.raises(NotImplementedError, match="conjugate"):
            make()
    with at.no_grad():
        np.testing.assert_array_equal(np.asarray(z * 2), [2 + 4j, 6j])
