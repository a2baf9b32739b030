"""Module and Parameter: registration, traversal, modes, devices, state dicts, hooks,
repr. Expected orders and messages are PyTorch's documented behaviour, written
out by hand (the crosscheck compares them with torch itself)."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet import nn
from actnet.nn import Module, Parameter
from actnet.tensor import Tensor


class Affine(Module):
    """y = x * weight + bias, with a persistent and a non-persistent buffer."""

    def __init__(self, n: int = 3) -> None:
        super().__init__()
        self.weight = Parameter(at.ones(n))
        self.bias = Parameter(at.zeros(n))
        self.register_buffer("count", at.zeros(1, dtype="int64"))
        self.register_buffer("scratch", at.zeros(n), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return x * self.weight + self.bias

    def extra_repr(self) -> str:
        return f"n={self.weight.shape[0]}"


class Net(Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = Affine()
        self.scale = Parameter(at.tensor([2.0]))
        self.block = nn.Sequential(Affine(), Affine())
        self.register_buffer("steps", at.tensor([0]))

    def forward(self, x: Tensor) -> Tensor:
        return self.block(self.first(x)) * self.scale


def _host(t: Tensor) -> np.ndarray[Any, Any]:
    return np.asarray(t.detach())


# ---------------------------------------------------------------- registration
def test_attributes_register_parameters_buffers_and_modules() -> None:
    m = Affine()
    assert list(m._parameters) == ["weight", "bias"]
    assert list(m._buffers) == ["count", "scratch"]
    assert isinstance(m.weight, Parameter) and m.weight.requires_grad
    assert "weight" not in m.__dict__  # it lives in the registry only
    net = Net()
    assert list(net._modules) == ["first", "block"]
    assert net.first is net._modules["first"]


def test_parameter_defaults_and_repr() -> None:
    p = Parameter(at.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf
    assert not Parameter(at.ones(1), requires_grad=False).requires_grad
    assert Parameter().shape == (0,)
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.]")
    with pytest.raises(TypeError, match="Parameter expects a Tensor"):
        Parameter([1.0])  # type: ignore[arg-type]  # the bad input


def test_assigning_before_init_is_an_error() -> None:
    class Early(Module):
        def __init__(self) -> None:
            self.w = Parameter(at.ones(1))

    with pytest.raises(AttributeError, match=r"before Module\.__init__"):
        Early()


def test_reassignment_rules_follow_pytorch() -> None:
    m = Affine()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = at.ones(3)
    m.bias = None  # a parameter may become None
    assert m.bias is None and "bias" in m._parameters
    m.count = at.ones(1)  # a buffer takes a plain tensor
    assert m.count.tolist() == [1.0]
    with pytest.raises(TypeError, match="as buffer 'count'"):
        m.count = 3
    net = Net()
    with pytest.raises(TypeError, match="as child module 'first'"):
        net.first = 3
    net.first = None
    assert net.first is None and "first" in net._modules
    # A Parameter assigned over a plain attribute replaces it.
    m.plain = 1
    m.plain = Parameter(at.ones(1))
    assert "plain" in m._parameters and "plain" not in m.__dict__


def test_register_checks_names_and_types() -> None:
    m = Affine()
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="empty string"):
        m.register_buffer("", None)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.register_buffer("weight", at.ones(1))
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_parameter("forward", None)
    with pytest.raises(TypeError, match="parameter 'x'"):
        m.register_parameter("x", at.ones(1))  # type: ignore[arg-type]  # the bad input
    with pytest.raises(TypeError, match="buffer 'y'"):
        m.register_buffer("y", [1])  # type: ignore[arg-type]  # the bad input
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("z", 3)  # type: ignore[arg-type]  # the bad input
    m.register_module("child", Affine())
    assert "child" in m._modules
    m.register_buffer("count", None)  # re-registering replaces
    assert m.count is None


def test_deleting_attributes_unregisters_them() -> None:
    net = Net()
    del net.first.weight
    del net.first.scratch
    del net.block
    assert "weight" not in net.first._parameters
    assert "scratch" not in net.first._non_persistent_buffers
    assert list(net.state_dict()) == ["scale", "steps", "first.bias", "first.count"]
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'block'"):
        _ = net.block
    net.extra = 1
    del net.extra
    assert not hasattr(net, "extra")


def test_dir_lists_registered_names() -> None:
    names = dir(Net())
    assert {"first", "block", "scale", "steps", "forward"} <= set(names)


# ------------------------------------------------------------------- traversal
def test_traversal_order_is_depth_first_registration_order() -> None:
    net = Net()
    assert [n for n, _ in net.named_modules()] == [
        "",
        "first",
        "block",
        "block.0",
        "block.1",
    ]
    assert [n for n, _ in net.named_parameters()] == [
        "scale",
        "first.weight",
        "first.bias",
        "block.0.weight",
        "block.0.bias",
        "block.1.weight",
        "block.1.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "steps",
        "first.count",
        "first.scratch",
        "block.0.count",
        "block.0.scratch",
        "block.1.count",
        "block.1.scratch",
    ]
    assert [n for n, _ in net.named_children()] == ["first", "block"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="model")][:2] == [
        "model.scale",
        "model.first.weight",
    ]
    assert [n for n, _ in net.named_modules(prefix="m")][1] == "m.first"
    assert len(list(net.parameters())) == 7 and len(list(net.buffers())) == 7
    assert list(net.children()) == [net.first, net.block]
    assert next(net.modules()) is net


def test_shared_modules_and_parameters_appear_once() -> None:
    shared = Affine()
    net = nn.Sequential(shared, Affine(), shared)
    net[1].weight = shared.weight  # tied weight
    assert [n for n, _ in net.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in net.named_children()] == ["0", "1"]
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    all_names = [n for n, _ in net.named_parameters(remove_duplicate=False)]
    assert all_names == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "2.weight",
        "2.bias",
    ]
    assert [n for n, _ in net.named_modules(remove_duplicate=False)] == [
        "",
        "0",
        "1",
        "2",
    ]
    # state_dict keeps every path (as PyTorch's does).
    assert len(net.state_dict()) == 9


def test_get_submodule_parameter_and_buffer() -> None:
    net = Net()
    assert net.get_submodule("") is net
    assert net.get_submodule("block.1") is net.block[1]
    assert net.get_parameter("block.0.weight") is net.block[0].weight
    assert net.get_parameter("scale") is net.scale
    assert net.get_buffer("first.count") is net.first.count
    with pytest.raises(AttributeError, match="Sequential has no attribute `7`"):
        net.get_submodule("block.7")
    with pytest.raises(AttributeError, match="has no parameter `nope`"):
        net.get_parameter("first.nope")
    with pytest.raises(AttributeError, match="has no buffer `weight`"):
        net.get_buffer("first.weight")


# ------------------------------------------------------------------------ modes
def test_train_and_eval_propagate_to_every_submodule() -> None:
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.block.train()
    assert net.block[0].training and not net.first.training and not net.training
    with pytest.raises(ValueError, match="boolean"):
        net.train(1)  # type: ignore[arg-type]  # the bad input


def test_requires_grad_zero_grad_and_apply() -> None:
    net = Net()
    y = net(at.ones(2, 3)).sum()
    y.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None for g in grads)
    # d(sum)/d(scale) = sum of the block's output before scaling = 2 * 3 ones
    assert net.scale.grad is not None and net.scale.grad.tolist() == [6.0]
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())
    assert all(
        not np.any(_host(p.grad)) for p in net.parameters() if p.grad is not None
    )
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    visited: list[str] = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Affine", "Affine", "Affine", "Sequential", "Net"]


# ------------------------------------------------------------ devices and dtypes
def test_to_casts_floating_tensors_in_place_and_keeps_the_objects() -> None:
    net = Net()
    params = list(net.parameters())
    net(at.ones(1, 3)).sum().backward()
    assert net.to("float64") is net
    assert list(net.parameters()) == params  # same objects: optimizers keep them
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert all(p.grad is not None and p.grad.dtype == np.float64 for p in params)
    assert net.steps.dtype == np.int64  # integers are left alone
    assert net.first.scratch.dtype == np.float64
    net.float()
    assert net.scale.dtype == np.float32
    net.half()
    assert net.scale.dtype == np.float16
    net.bfloat16()
    assert net.scale.dtype == np.dtype(at.bfloat16)
    net.to(at.zeros(1, dtype="float64"))
    assert net.scale.dtype == np.float64
    net.to(device="cpu", dtype="float32").cpu()
    assert net.scale.dtype == np.float32 and net.scale.device.name == "cpu:0"
    with pytest.raises(TypeError, match="floating point or complex"):
        net.to("int64")
    with pytest.raises(TypeError, match="unexpected keyword"):
        net.to(devise="cpu")
    net.type("float64")
    assert net.steps.dtype == np.float64 and net.scale.dtype == np.float64
    assert net.scale.tolist() == [2.0]


def test_to_another_device_moves_parameters_and_buffers() -> None:
    m = Affine()
    m.to("cpu:1")
    assert {t.device.name for t in [*m.parameters(), *m.buffers()]} == {"cpu:1"}
    assert m(at.ones(3, device="cpu:1")).device.name == "cpu:1"


def test_a_bfloat16_model_runs_bfloat16_input() -> None:
    # (it used to be stored only and refuse its own dtype: issue 13 asks it to
    # run, as torch's does, in float32 arithmetic rounded to bfloat16)
    model = nn.Linear(4, 3).bfloat16()
    x = at.ones(2, 4).to(at.bfloat16)
    out = model(x)
    assert out.dtype == at.bfloat16
    weight, bias = (np.asarray(p.detach().float()) for p in (model.weight, model.bias))
    expected = np.ones((2, 4), np.float32) @ weight.T + bias
    # the product rounded once to bfloat16, then the bias added and rounded
    assert np.allclose(
        out.detach().float().numpy(), expected, rtol=2 * 2.0**-8, atol=1e-2
    )
    with pytest.raises(TypeError, match="weight has dtype bfloat16, input has float32"):
        model(at.ones(2, 4))
    out = model.float()(x.float())
    assert np.allclose(np.asarray(out.detach()), expected)


# ------------------------------------------------------------------ state dicts
def test_state_dict_keys_order_and_persistence() -> None:
    net = Net()
    sd = net.state_dict()
    assert list(sd) == [
        "scale",
        "steps",
        "first.weight",
        "first.bias",
        "first.count",
        "block.0.weight",
        "block.0.bias",
        "block.0.count",
        "block.1.weight",
        "block.1.bias",
        "block.1.count",
    ]
    assert isinstance(sd, OrderedDict)
    assert not sd["scale"].requires_grad and not isinstance(sd["scale"], Parameter)
    assert net.state_dict(keep_vars=True)["scale"] is net.scale
    assert list(net.first.state_dict(prefix="p.")) == ["p.weight", "p.bias", "p.count"]
    dest: dict[str, Tensor] = {}
    assert net.first.state_dict(destination=dest) is dest and len(dest) == 3
    net.first.bias = None
    assert "first.bias" not in net.state_dict()


def test_load_state_dict_copies_values_and_casts() -> None:
    src, dst = Net(), Net()
    src.scale.data = at.tensor([5.0]).array
    src.first.weight.data = at.tensor([1.0, 2.0, 3.0]).array
    sd = {
        k: v.to("float64") if v.dtype == np.float32 else v
        for k, v in src.state_dict().items()
    }
    weight = dst.first.weight
    result = dst.load_state_dict(sd)
    assert result == nn.IncompatibleKeys([], [])
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.first.weight is weight  # copied into, not replaced
    assert weight.dtype == np.float32 and weight.tolist() == [1.0, 2.0, 3.0]
    assert dst.scale.tolist() == [5.0]
    # NumPy arrays and NDArrays are accepted as values.
    dst.load_state_dict({**sd, "scale": np.array([7.0]), "steps": at.tensor([3]).array})
    assert dst.scale.tolist() == [7.0] and dst.steps.tolist() == [3]


def test_load_state_dict_assign_takes_the_given_values() -> None:
    m = Affine()
    sd = {
        "weight": at.tensor([1.0, 2.0, 3.0], dtype="float64"),
        "bias": at.zeros(3),
        "count": at.tensor([4]),
    }
    m.load_state_dict(sd, assign=True)
    assert m.weight.dtype == np.float64 and isinstance(m.weight, Parameter)
    assert m.weight.requires_grad


def test_strict_loading_lists_missing_and_unexpected_keys_like_pytorch() -> None:
    net = Net()
    sd = net.state_dict()
    del sd["first.bias"]
    del sd["block.1.count"]
    sd["block.0.extra"] = at.ones(1)
    sd["nothing"] = at.ones(1)
    sd["first.count.deeper"] = at.ones(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    assert str(info.value) == (
        "Error(s) in loading state_dict for Net:\n\t"
        'Missing key(s) in state_dict: "first.bias", "block.1.count". \n\t'
        'Unexpected key(s) in state_dict: "nothing", "first.count.deeper", '
        '"block.0.extra". '
    )
    before = net.scale.tolist()
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["first.bias", "block.1.count"]
    # Grouped module by module (root first), not in the state dict's order.
    assert result.unexpected_keys == ["nothing", "first.count.deeper", "block.0.extra"]
    assert net.scale.tolist() == before


def test_size_mismatch_is_an_error_even_when_not_strict_and_loads_nothing() -> None:
    net = Net()
    sd = net.state_dict()
    sd["first.weight"] = at.ones(4)
    sd["scale"] = at.tensor([9.0])
    sd["block.0.bias"] = at.ones(2, 3)
    del sd["steps"]
    expected = (
        "Error(s) in loading state_dict for Net:\n\t"
        'Missing key(s) in state_dict: "steps". \n\t'
        "size mismatch for first.weight: copying a param with shape (4,) from "
        "checkpoint, the shape in current model is (3,).\n\t"
        "size mismatch for block.0.bias: copying a param with shape (2, 3) from "
        "checkpoint, the shape in current model is (3,)."
    )
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    assert str(info.value) == expected
    with pytest.raises(RuntimeError, match=r"size mismatch for first\.weight"):
        net.load_state_dict(sd, strict=False)
    assert net.scale.tolist() == [2.0]  # nothing was loaded


def test_load_state_dict_rejects_bad_values() -> None:
    m = Affine()
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([("weight", at.ones(3))])  # type: ignore[arg-type]  # the bad input
    with pytest.raises(
        RuntimeError, match='While copying the parameter named "weight"'
    ):
        m.load_state_dict({**m.state_dict(), "weight": [1.0, 2.0, 3.0]})


def test_non_persistent_buffers_are_not_loaded_or_expected() -> None:
    m = Affine()
    sd = m.state_dict()
    assert "scratch" not in sd
    m.load_state_dict(sd)  # no "missing scratch"
    with pytest.raises(RuntimeError, match=r'Unexpected key.*"scratch"'):
        m.load_state_dict({**sd, "scratch": at.ones(3)})


# ------------------------------------------------------------------------ hooks
def test_forward_pre_hooks_and_forward_hooks() -> None:
    m = Affine()
    calls: list[str] = []

    def double_input(module: Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        calls.append("pre")
        return (args[0] * 2,)

    def add_one(module: Module, args: tuple[Any, ...], output: Tensor) -> Tensor:
        calls.append(f"post {args[0].tolist()}")
        return output + 1

    h1 = m.register_forward_pre_hook(double_input)
    h2 = m.register_forward_hook(add_one)
    m.register_forward_hook(lambda mod, args, out: calls.append("observer"))
    m.register_forward_pre_hook(lambda mod, args: calls.append("first"), prepend=True)
    with at.no_grad():
        assert m(at.tensor([1.0, 2.0, 3.0])).tolist() == [3.0, 5.0, 7.0]
    assert calls == ["first", "pre", "post [2.0, 4.0, 6.0]", "observer"]
    h1.remove()
    h2.remove()
    with at.no_grad():
        assert m(at.tensor([1.0, 2.0, 3.0])).tolist() == [1.0, 2.0, 3.0]


def test_hooks_with_kwargs() -> None:
    class Scaled(Module):
        def forward(self, x: Tensor, *, scale: float = 1.0) -> Tensor:
            return x * scale

    m = Scaled()

    def pre(mod: Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return args, {**kwargs, "scale": 10.0}

    def post(mod: Module, args: Any, kwargs: dict[str, Any], out: Tensor) -> Tensor:
        assert kwargs == {"scale": 10.0}
        return out - 1

    m.register_forward_pre_hook(pre, with_kwargs=True)
    with m.register_forward_hook(post, with_kwargs=True):
        assert m(at.tensor([1.0]), scale=2.0).tolist() == [9.0]
    assert m(at.tensor([1.0]), scale=2.0).tolist() == [10.0]
    m.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        m(at.tensor([1.0]))
    with pytest.raises(TypeError, match="callable"):
        m.register_forward_hook(3)


def test_a_module_without_forward_says_so() -> None:
    with pytest.raises(NotImplementedError, match=r"Module \[Module\] is missing"):
        Module()(at.ones(1))


# ------------------------------------------------------------------------- repr
def test_repr_matches_pytorchs_layout() -> None:
    assert repr(Affine()) == "Affine(n=3)"
    assert repr(Module()) == "Module()"
    assert repr(Net()) == (
        "Net(\n"
        "  (first): Affine(n=3)\n"
        "  (block): Sequential(\n"
        "    (0): Affine(n=3)\n"
        "    (1): Affine(n=3)\n"
        "  )\n"
        ")"
    )

    class Multi(Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = Affine(2)

        def extra_repr(self) -> str:
            return "a=1\nb=2"

    assert repr(Multi()) == "Multi(\n  a=1\n  b=2\n  (inner): Affine(n=2)\n)"


# -------------------------------------------------------------- copies, pickles
def test_deepcopy_and_pickle_keep_the_structure_and_values() -> None:
    net = Net()
    restored = pickle.loads(pickle.dumps(net.eval()))
    net.register_forward_hook(lambda m, a, o: None)  # deepcopy shares functions
    clone = copy.deepcopy(net)
    for other in (clone, restored):
        assert list(other.state_dict()) == list(net.state_dict())
        for (k, a), (_, b) in zip(
            net.state_dict().items(), other.state_dict().items(), strict=True
        ):
            assert a.tolist() == b.tolist(), k
        assert other.first.weight is not net.first.weight
        assert isinstance(other.first.weight, Parameter)
    assert not restored.training
    x = at.ones(1, 3)
    with at.no_grad():
        assert clone(x).tolist() == net(x).tolist()


# --------------------------------------------------------------- backward hooks
class Scale(Module):
    """y = x * w * factor: dy/dx = w * factor, dy/dw = x * factor."""

    def __init__(self) -> None:
        super().__init__()
        self.w = Parameter(at.tensor([2.0, 3.0]))

    def forward(self, x: Tensor, factor: float = 1.0) -> Tensor:
        return x * self.w * factor


def test_full_backward_hook_sees_input_and_output_gradients() -> None:
    m = Scale()
    seen: list[tuple[Any, Any]] = []

    def hook(module: Module, grad_input: Any, grad_output: Any) -> None:
        seen.append(
            (
                [None if g is None else g.tolist() for g in grad_input],
                [g.tolist() for g in grad_output],
            )
        )

    handle = m.register_full_backward_hook(hook)
    x = at.tensor([1.0, 1.0], requires_grad=True)
    (m(x, 0.5) * at.tensor([1.0, 10.0])).sum().backward()
    # grad_output = d(loss)/dy = [1, 10]; grad_input = [w * 0.5 * grad_output, None]
    assert seen == [([[1.0, 15.0], None], [[1.0, 10.0]])]
    handle.remove()
    m(x).sum().backward()
    assert len(seen) == 1


def test_full_backward_hook_can_replace_grad_input() -> None:
    m = Scale()
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
    x = at.tensor([1.0, 1.0], requires_grad=True)
    m(x).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [4.0, 6.0]
    assert m.w.grad is not None and m.w.grad.tolist() == [1.0, 1.0]  # unchanged
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2"):
        m(x).sum().backward()


def test_full_backward_pre_hook_can_replace_grad_output() -> None:
    m = Scale()
    order: list[str] = []
    m.register_full_backward_pre_hook(lambda mod, go: (order.append("pre"), None)[1])
    m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
    m.register_full_backward_hook(lambda mod, gi, go: order.append("full"))
    x = at.tensor([1.0, 2.0], requires_grad=True)
    m(x).sum().backward()
    assert order == ["pre", "full"]
    assert x.grad is not None and x.grad.tolist() == [6.0, 9.0]
    assert m.w.grad is not None and m.w.grad.tolist() == [3.0, 6.0]


def test_full_backward_hook_without_input_gradients_gets_none() -> None:
    m = Scale()
    seen: list[Any] = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, len(go))))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        m(at.tensor([1.0, 2.0])).sum().backward()
    assert seen == [((None,), 1)]
    assert m.w.grad is not None and m.w.grad.tolist() == [1.0, 2.0]
    with at.no_grad():  # no graph, no hook
        m(at.tensor([1.0, 2.0]))
    assert len(seen) == 1


def test_state_dict_values_alias_the_parameters_as_torch() -> None:
    m = nn.Linear(3, 2)
    sd = m.state_dict()
    snapshot = {k: v.clone() for k, v in sd.items()}
    opt = nn.optim.SGD(m.parameters(), lr=0.1)
    m(at.randn(4, 3)).sum().backward()
    opt.step()
    for key in ("weight", "bias"):
        now = np.asarray(getattr(m, key).detach())
        np.testing.assert_array_equal(np.asarray(sd[key]), now)
        assert not np.array_equal(np.asarray(snapshot[key]), now)
