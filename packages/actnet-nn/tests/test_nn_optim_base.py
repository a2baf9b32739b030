"""The Optimizer base: param groups, zero_grad, state_dict, in-place updates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.ndarray import buffer_of
from actnet.nn import Linear, Parameter, Sequential
from actnet.nn.optim import SGD, Adam, AdamW


def _params(seed: int = 0) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    return [
        Parameter(at.tensor(rng.standard_normal(s).astype(np.float32)))
        for s in [(8, 4), (4,), (3, 3), (70_000,)]  # the last one: several blocks
    ]


def _grads(params: list[Parameter], step: int) -> None:
    rng = np.random.default_rng(100 + step)
    for p in params:
        p.grad = at.tensor(rng.standard_normal(p.shape).astype(np.float32))


def _values(params: list[Parameter]) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in params]


OPTIMIZERS: list[tuple[type[Any], dict[str, Any]]] = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "maximize": True}),
    (Adam, {"lr": 0.01}),
    (Adam, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    (AdamW, {"lr": 0.01, "betas": (0.9, 0.95), "weight_decay": 0.1}),
    (AdamW, {"lr": 0.01, "amsgrad": True}),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(OPTIMIZERS)]


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=IDS)
def test_used_bytes_are_constant_after_the_first_step(
    cls: type[Any], options: dict[str, Any]
) -> None:
    params = _params()
    opt = cls(params, **options)
    device = params[0].device
    grads = []
    for step in range(5):
        _grads(params, step)
        grads.append([p.grad for p in params])
    used = []
    for step in range(5):
        for p, g in zip(params, grads[step], strict=True):
            p.grad = g
        opt.step()
        used.append(device.memory_stats().used_bytes)
    assert used[1:] == used[:-1]


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=IDS)
def test_parameters_and_state_are_updated_in_place(
    cls: type[Any], options: dict[str, Any]
) -> None:
    params = _params()
    opt = cls(params, **options)
    _grads(params, 0)
    opt.step()
    tensors = params + [
        v for p in params for v in opt.state[p].values() if isinstance(v, at.Tensor)
    ]
    # the ids of the device buffers (the arrays are not held: that would force copies)
    buffers = [id(buffer_of(t.array)) for t in tensors]
    _grads(params, 1)
    opt.step()
    assert [id(buffer_of(t.array)) for t in tensors] == buffers


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=IDS)
def test_an_array_held_elsewhere_never_changes(
    cls: type[Any], options: dict[str, Any]
) -> None:
    params = _params()
    opt = cls(params, **options)
    _grads(params, 0)
    opt.step()
    held = params[0].array  # copy-on-write: the optimizer must not write into it
    snapshot = np.asarray(held).copy()
    _grads(params, 1)
    opt.step()
    np.testing.assert_array_equal(np.asarray(held), snapshot)
    assert not np.array_equal(params[0].detach().numpy(), snapshot)


def test_param_groups_take_their_own_options() -> None:
    a, b = Parameter(at.tensor([1.0])), Parameter(at.tensor([1.0]))
    groups: list[dict[str, Any]] = [{"params": [a]}, {"params": b, "lr": 0.5}]
    opt = SGD(groups, lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b]
    a.grad = at.tensor([1.0])
    b.grad = at.tensor([1.0])
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [0.5], rtol=1e-6)
    opt.param_groups[0]["lr"] = 1.0  # as a scheduler does
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [-0.1], rtol=1e-6, atol=1e-7)


def test_add_param_group_and_named_parameters() -> None:
    model = Sequential(Linear(3, 2), Linear(2, 1))
    opt = AdamW(model[0].named_parameters(), lr=1e-3)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    opt.add_param_group(
        {"params": list(model[1].named_parameters()), "weight_decay": 0.0}
    )
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["weight_decay"] == 0.0
    assert opt.param_groups[1]["lr"] == 1e-3
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [("again", model[1].weight)]})
    with pytest.raises(ValueError, match="should be with/without names"):
        opt.add_param_group({"params": [Parameter(at.tensor([1.0]))]})


def test_bad_params_arguments() -> None:
    p = Parameter(at.tensor([1.0]))
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        SGD(p, lr=0.1)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(TypeError, match="ordered collections"):
        SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        SGD([np.zeros(2)], lr=0.1)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        SGD([p, p], lr=0.1)


def test_zero_grad() -> None:
    params = _params()
    opt = SGD(params, lr=0.1)
    _grads(params, 0)
    opt.zero_grad(set_to_none=False)
    for p in params:
        assert p.grad is not None
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(p.shape))
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_state_dict_layout() -> None:
    params = _params()
    groups: list[dict[str, Any]] = [
        {"params": params[:2]},
        {"params": params[2:], "lr": 0.5},
    ]
    opt = Adam(groups, lr=0.01)
    _grads(params, 0)
    params[1].grad = None
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 2, 3]  # parameter 1 had no gradient
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert float(sd["state"][2]["step"]) == 1.0


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS, ids=IDS)
def test_state_dict_round_trip_continues_identically(
    cls: type[Any], options: dict[str, Any]
) -> None:
    params = _params()
    opt = cls(params, **options)
    for step in range(4):
        _grads(params, step)
        opt.step()
    twins = [Parameter(at.tensor(v)) for v in _values(params)]
    twin_opt = cls(twins, lr=123.0)  # options come from the state dict
    twin_opt.load_state_dict(opt.state_dict())
    for step in range(4, 8):
        _grads(params, step)
        _grads(twins, step)
        opt.step()
        twin_opt.step()
    for p, q in zip(params, twins, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert twin_opt.param_groups[0]["lr"] == options["lr"]


def test_load_state_dict_copies_the_state() -> None:
    params = _params()
    opt = AdamW(params, lr=0.01)
    _grads(params, 0)
    opt.step()
    sd = opt.state_dict()
    twin = AdamW(_params(), lr=0.01)
    twin.load_state_dict(sd)
    first = twin.param_groups[0]["params"][0]
    assert twin.state[first]["exp_avg"] is not sd["state"][0]["exp_avg"]
    before = sd["state"][0]["exp_avg"].numpy().copy()
    for p in twin.param_groups[0]["params"]:
        p.grad = at.ones_like(p)
    twin.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), before)
    assert float(sd["state"][0]["step"]) == 1.0
    assert float(twin.state[first]["step"]) == 2.0


def test_load_state_dict_errors() -> None:
    params = _params()
    opt = SGD(params, lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    two_groups = SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two_groups.load_state_dict(sd)
    smaller = SGD(params[:2], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        smaller.load_state_dict(sd)


def test_repr_lists_the_groups() -> None:
    opt = SGD([Parameter(at.tensor([1.0]))], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (")
    assert "Parameter Group 0" in text
    assert "momentum: 0.9" in text


def test_a_refused_group_is_not_added() -> None:
    opt = AdamW([Parameter(at.tensor([1.0]))], lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        opt.add_param_group({"params": [at.tensor([1, 2])]})
    assert len(opt.param_groups) == 1
