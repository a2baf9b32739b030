"""Module bookkeeping against torch.nn.Module: the same structure built by hand in
both frameworks gives the same names, orders, load_state_dict messages and repr."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

import actnet.tensor as at
from actnet import nn

ACTNET = SimpleNamespace(
    Module=nn.Module,
    Parameter=nn.Parameter,
    Sequential=nn.Sequential,
    ModuleList=nn.ModuleList,
    ModuleDict=nn.ModuleDict,
    zeros=lambda *shape: at.zeros(shape),
)
TORCH = SimpleNamespace(
    Module=torch.nn.Module,
    Parameter=torch.nn.Parameter,
    Sequential=torch.nn.Sequential,
    ModuleList=torch.nn.ModuleList,
    ModuleDict=torch.nn.ModuleDict,
    zeros=lambda *shape: torch.zeros(shape),
)
LIBS = {"actnet": ACTNET, "torch": TORCH}


def build(lib: Any) -> Any:
    """A tree with parameters, None parameters, persistent and non-persistent
    buffers, all three containers, a shared submodule and a tied parameter."""

    class Leaf(lib.Module):  # type: ignore[misc]  # base class from the namespace
        def __init__(self, n: int, with_bias: bool = True) -> None:
            super().__init__()
            self.weight = lib.Parameter(lib.zeros(n, 2))
            if with_bias:
                self.bias = lib.Parameter(lib.zeros(n))
            else:
                self.register_parameter("bias", None)
            self.register_buffer("stat", lib.zeros(n))
            self.register_buffer("tmp", lib.zeros(1), persistent=False)

        def extra_repr(self) -> str:
            return f"n={self.weight.shape[0]}"

        def forward(self, x: Any) -> Any:
            return x

    class Tree(lib.Module):  # type: ignore[misc]  # base class from the namespace
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("step", lib.zeros(1))
            self.head = Leaf(3)
            self.scale = lib.Parameter(lib.zeros(1))
            shared = Leaf(2, with_bias=False)
            self.body = lib.Sequential(Leaf(4), shared, Leaf(4))
            self.blocks = lib.ModuleList([Leaf(5), Leaf(5), Leaf(5), shared])
            self.heads = lib.ModuleDict({"b": Leaf(1), "a": Leaf(6)})
            self.heads["a"].weight = self.head.weight  # tied
            self.empty = None

        def forward(self, x: Any) -> Any:
            return x

    return Tree()


def _shape(match: re.Match[str]) -> str:
    dims = [d.strip() for d in match.group(1).split(",") if d.strip()]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _as_actnet_text(message: str) -> str:
    """torch.Size([3, 4]) is written (3, 4) by actnet (its shapes are tuples)."""
    return re.sub(r"torch\.Size\(\[([^\]]*)\]\)", _shape, message)


def _names(lib: str, method: str, **kwargs: Any) -> list[str]:
    tree = build(LIBS[lib])
    return [name for name, _ in getattr(tree, method)(**kwargs)]


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("named_parameters", {}),
        ("named_parameters", {"remove_duplicate": False}),
        ("named_parameters", {"recurse": False, "prefix": "m"}),
        ("named_buffers", {}),
        ("named_buffers", {"remove_duplicate": False}),
        ("named_modules", {}),
        ("named_modules", {"remove_duplicate": False, "prefix": "root"}),
        ("named_children", {}),
    ],
)
def test_traversal_names_and_order(method: str, kwargs: dict[str, Any]) -> None:
    assert _names("actnet", method, **kwargs) == _names("torch", method, **kwargs)


def test_state_dict_keys_and_order() -> None:
    ours = list(build(ACTNET).state_dict())
    theirs = list(build(TORCH).state_dict())
    assert ours == theirs
    assert "heads.a.weight" in ours and "blocks.3.weight" in ours  # every path


def test_repr() -> None:
    assert repr(build(ACTNET)) == repr(build(TORCH))


def test_training_flags_after_partial_train() -> None:
    flags = []
    for lib in (ACTNET, TORCH):
        tree = build(lib).eval()
        tree.blocks.train()
        flags.append([m.training for m in tree.modules()])
    assert flags[0] == flags[1]


Edit = Callable[[dict[str, Any], Callable[..., Any]], None]


def _drop(*keys: str) -> Edit:
    def edit(sd: dict[str, Any], zeros: Callable[..., Any]) -> None:
        for key in keys:
            del sd[key]

    return edit


def _add(*items: tuple[str, tuple[int, ...]]) -> Edit:
    def edit(sd: dict[str, Any], zeros: Callable[..., Any]) -> None:
        for key, shape in items:
            sd[key] = zeros(*shape)

    return edit


def _both(*edits: Edit) -> Edit:
    def edit(sd: dict[str, Any], zeros: Callable[..., Any]) -> None:
        for e in edits:
            e(sd, zeros)

    return edit


EDITS: dict[str, Edit] = {
    "missing": _drop("head.bias", "blocks.1.stat", "step"),
    "unexpected": _add(
        ("zzz", (1,)),
        ("blocks.0.extra", (1,)),
        ("heads.b.weight.deeper", (1,)),
        ("body.7.weight", (1,)),
        ("head.tmp", (1,)),
        ("empty.weight", (1,)),
    ),
    "size mismatch": _add(("head.weight", (4, 2)), ("scale", ())),
    "all three": _both(
        _drop("heads.b.stat"),
        _add(("aaa", (2,)), ("body.0.weight", (2, 2, 1))),
    ),
}


def _load_error(lib: Any, edit: Edit, strict: bool) -> tuple[str, Any]:
    tree = build(lib)
    sd = dict(tree.state_dict())
    edit(sd, lib.zeros)
    try:
        result = tree.load_state_dict(sd, strict=strict)
    except RuntimeError as exc:
        return _as_actnet_text(str(exc)), None
    return "", (list(result.missing_keys), list(result.unexpected_keys))


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("case", list(EDITS))
def test_load_state_dict_messages_and_results(case: str, strict: bool) -> None:
    ours = _load_error(ACTNET, EDITS[case], strict)
    theirs = _load_error(TORCH, EDITS[case], strict)
    assert ours == theirs


def test_a_torch_state_dict_loads_with_its_values() -> None:
    theirs = build(TORCH)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
        for b in theirs.buffers():
            b.copy_(torch.randn(b.shape))
    ours = build(ACTNET)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for (k, a), (_, b) in zip(
        ours.state_dict().items(), theirs.state_dict().items(), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(a), b.numpy(), err_msg=k)
    # The tied weight is one Parameter in both: loading heads.a.weight last wins.
    assert ours.heads["a"].weight is ours.head.weight


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_see_torchs_gradients(input_requires_grad: bool) -> None:
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    )
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    seen: dict[str, list[Any]] = {"actnet": [], "torch": []}

    def recorder(lib: str, name: str) -> Callable[..., Any]:
        def hook(module: Any, grad_input: Any, grad_output: Any) -> Any:
            for kind, grads in (("in", grad_input), ("out", grad_output)):
                for g in grads:
                    host = None if g is None else np.asarray(g.detach())
                    seen[lib].append((name, kind, host))
            return (grad_input[0] * 2,) if grad_input[0] is not None else None

        return hook

    def pre(module: Any, grad_output: Any) -> Any:
        return (grad_output[0] * 0.5,)

    outputs = {}
    warned: dict[str, list[str]] = {}
    for lib, model, make in (
        ("actnet", ours, lambda a: at.tensor(a, requires_grad=input_requires_grad)),
        ("torch", theirs, lambda a: torch.tensor(a, requires_grad=input_requires_grad)),
    ):
        for i in (0, 2):
            model[i].register_full_backward_hook(recorder(lib, str(i)))
        model[2].register_full_backward_pre_hook(pre)
        inp = make(x)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            (model(inp) ** 2).sum().backward()
        # torch's message goes on with a link to its documentation
        warned[lib] = [str(w.message).split(" See ")[0] for w in caught]
        grads = [np.asarray(p.grad) for p in model.parameters()]
        if input_requires_grad:
            grads.append(np.asarray(inp.grad))
        outputs[lib] = grads
    assert warned["actnet"] == warned["torch"]
    assert len(warned["torch"]) == (0 if input_requires_grad else 1)
    assert [(n, k, g is None) for n, k, g in seen["actnet"]] == [
        (n, k, g is None) for n, k, g in seen["torch"]
    ]
    for (_, _, a), (_, _, b) in zip(seen["actnet"], seen["torch"], strict=True):
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(outputs["actnet"], outputs["torch"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
