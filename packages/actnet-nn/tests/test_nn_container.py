"""Sequential, ModuleList, ModuleDict: PyTorch's keys, indexing and repr."""

from __future__ import annotations

from collections import OrderedDict

import pytest

import actnet.tensor as at
from actnet import nn
from actnet.nn import Module, ModuleDict, ModuleList, Parameter, Sequential
from actnet.tensor import Tensor


class AddConst(Module):
    def __init__(self, c: float) -> None:
        super().__init__()
        self.c = Parameter(at.tensor([float(c)]))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.c

    def extra_repr(self) -> str:
        return f"c={self.c.item()}"


def _out(module: Module, x: float) -> float:
    with at.no_grad():
        return float(module(at.tensor([x])).item())


# ------------------------------------------------------------------ Sequential
def test_sequential_calls_in_order_and_names_keys_by_position() -> None:
    seq = Sequential(AddConst(1), nn.Identity(), AddConst(10))
    assert _out(seq, 0.0) == 11.0
    assert list(seq.state_dict()) == ["0.c", "2.c"]
    named = Sequential(OrderedDict([("a", AddConst(1)), ("b", AddConst(2))]))
    assert list(named.state_dict()) == ["a.c", "b.c"]
    assert _out(Sequential(), 4.0) == 4.0
    with pytest.raises(TypeError, match="Sequential holds Modules, got int"):
        Sequential(AddConst(1), 3)  # type: ignore[arg-type]  # the bad input


def test_sequential_indexing_slicing_and_editing() -> None:
    a, b, c = AddConst(1), AddConst(2), AddConst(3)
    seq = Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c
    sub = seq[1:]
    assert isinstance(sub, Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]  # slices keep the keys, as in PyTorch
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    d = AddConst(4)
    seq[1] = d
    assert list(seq) == [a, d, c]
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and list(seq) == [d, c]
    seq.append(b)
    seq.insert(0, a)
    seq.insert(-1, AddConst(9))
    assert [m.c.item() for m in seq] == [1, 4, 3, 9, 2]
    assert list(seq._modules) == ["0", "1", "2", "3", "4"]
    assert seq.pop(3).c.item() == 9 and len(seq) == 4
    seq.extend([AddConst(5)])
    assert len(seq) == 5
    del seq[1:3]
    assert [m.c.item() for m in seq] == [1, 2, 5]
    with pytest.raises(IndexError):
        seq.insert(7, a)


def test_sequential_arithmetic() -> None:
    a, b = AddConst(1), AddConst(2)
    both = Sequential(a) + Sequential(b)
    assert list(both) == [a, b] and list(both._modules) == ["0", "1"]
    twice = Sequential(a, b) * 2
    assert list(twice) == [a, b, a, b] and _out(twice, 0.0) == 6.0
    assert list(2 * Sequential(a)) == [a, a]
    seq = Sequential(a)
    seq += Sequential(b)
    assert list(seq) == [a, b]
    with pytest.raises(ValueError, match="Non-positive"):
        Sequential(a) * 0
    with pytest.raises(TypeError):
        _ = Sequential(a) + ModuleList([b])  # type: ignore[operator]  # the bad input


# ------------------------------------------------------------------ ModuleList
def test_module_list_registers_and_indexes() -> None:
    layers = ModuleList(AddConst(float(i)) for i in range(3))
    assert len(layers) == 3 and list(layers.state_dict()) == ["0.c", "1.c", "2.c"]
    assert layers[-1].c.item() == 2.0
    assert isinstance(layers[:2], ModuleList) and len(layers[:2]) == 2
    layers.append(AddConst(3))
    layers.extend([AddConst(4)])
    layers += [AddConst(5)]
    layers.insert(1, AddConst(9))
    assert [m.c.item() for m in layers] == [0, 9, 1, 2, 3, 4, 5]
    del layers[1]
    assert list(layers._modules) == [str(i) for i in range(6)]
    layers[0] = AddConst(7)
    assert layers.pop(0).c.item() == 7 and len(layers) == 5
    combined = layers + ModuleList([AddConst(8)])
    assert len(combined) == 6
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(AddConst(1))
    with pytest.raises(NotImplementedError, match="forward"):
        layers(at.ones(1))


def test_module_list_repr_compresses_repeats_like_pytorch() -> None:
    layers = ModuleList([AddConst(1), AddConst(1), AddConst(1), AddConst(2)])
    assert repr(layers) == (
        "ModuleList(\n  (0-2): 3 x AddConst(c=1.0)\n  (3): AddConst(c=2.0)\n)"
    )
    assert repr(ModuleList()) == "ModuleList()"
    nested = ModuleList([Sequential(AddConst(1))])
    assert repr(nested) == (
        "ModuleList(\n  (0): Sequential(\n    (0): AddConst(c=1.0)\n  )\n)"
    )


def test_a_model_iterating_its_module_list() -> None:
    class Stack(Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = ModuleList([AddConst(1), AddConst(2)])

        def forward(self, x: Tensor) -> Tensor:
            for layer in self.layers:
                x = layer(x)
            return x

    stack = Stack()
    assert _out(stack, 0.0) == 3.0
    assert [n for n, _ in stack.named_parameters()] == ["layers.0.c", "layers.1.c"]


# ------------------------------------------------------------------ ModuleDict
def test_module_dict_behaves_like_a_dict() -> None:
    heads = ModuleDict({"cls": AddConst(1), "box": AddConst(2)})
    assert list(heads) == ["cls", "box"] and "box" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["cls.c", "box.c"]
    assert list(heads.keys()) == ["cls", "box"]
    assert [m.c.item() for m in heads.values()] == [1, 2]
    assert [k for k, _ in heads.items()] == ["cls", "box"]
    heads["seg"] = AddConst(3)
    heads.update([("cls", AddConst(5))])
    assert heads["cls"].c.item() == 5 and list(heads) == ["cls", "box", "seg"]
    assert heads.pop("box").c.item() == 2
    del heads["seg"]
    assert list(heads) == ["cls"]
    heads.clear()
    assert len(heads) == 0
    with pytest.raises(KeyError):
        heads["missing"]
    with pytest.raises(ValueError, match="element #0"):
        heads.update([("a", AddConst(1), 3)])  # type: ignore[list-item]  # the bad input
    with pytest.raises(TypeError, match="key/value"):
        heads.update(AddConst(1))
    with pytest.raises(KeyError, match="contain"):
        heads["a.b"] = AddConst(1)
