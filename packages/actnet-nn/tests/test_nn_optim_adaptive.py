"""RMSprop, Adagrad, Adadelta, Adamax, NAdam and RAdam against NumPy
re-implementations of PyTorch's documented algorithms (the single-tensor
forms), and their state, options and state dicts."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actnet.tensor as at
from actnet.ndarray import buffer_of
from actnet.nn import Parameter
from actnet.nn.optim import (
    Adadelta,
    Adagrad,
    Adamax,
    NAdam,
    Optimizer,
    RAdam,
    RMSprop,
)

SHAPES = [(3, 4), (6,)]
STEPS = 15
Arrays = list[np.ndarray]
State = dict[str, Any]


def _data(dtype: Any, seed: int = 3) -> tuple[Arrays, list[Arrays]]:
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [
        [rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)
    ]
    return init, grads


# ------------------------------------------------ PyTorch's documented updates
def _grad(g: np.ndarray, p: np.ndarray, o: dict[str, Any], coupled: bool) -> Any:
    g = -g if o.get("maximize") else g
    if coupled and o.get("weight_decay", 0) != 0:
        g = g + o["weight_decay"] * p
    return g


def rmsprop_step(p: np.ndarray, g: np.ndarray, s: State, o: dict[str, Any]) -> Any:
    alpha, eps, lr = o["alpha"], o["eps"], o["lr"]
    g = _grad(g, p, o, coupled=True)
    s["square_avg"] = alpha * s["square_avg"] + (1 - alpha) * g * g
    if o["centered"]:
        s["grad_avg"] = alpha * s["grad_avg"] + (1 - alpha) * g
        avg = np.sqrt(s["square_avg"] - s["grad_avg"] ** 2) + eps
    else:
        avg = np.sqrt(s["square_avg"]) + eps
    if o["momentum"] > 0:
        s["momentum_buffer"] = o["momentum"] * s["momentum_buffer"] + g / avg
        return p - lr * s["momentum_buffer"]
    return p - lr * g / avg


def adagrad_step(p: np.ndarray, g: np.ndarray, s: State, o: dict[str, Any]) -> Any:
    g = _grad(g, p, o, coupled=True)
    clr = o["lr"] / (1 + (s["step"] - 1) * o["lr_decay"])
    s["sum"] = s["sum"] + g * g
    return p - clr * g / (np.sqrt(s["sum"]) + o["eps"])


def adadelta_step(p: np.ndarray, g: np.ndarray, s: State, o: dict[str, Any]) -> Any:
    rho, eps = o["rho"], o["eps"]
    g = _grad(g, p, o, coupled=True)
    s["square_avg"] = rho * s["square_avg"] + (1 - rho) * g * g
    delta = np.sqrt(s["acc_delta"] + eps) / np.sqrt(s["square_avg"] + eps) * g
    s["acc_delta"] = rho * s["acc_delta"] + (1 - rho) * delta * delta
    return p - o["lr"] * delta


def adamax_step(p: np.ndarray, g: np.ndarray, s: State, o: dict[str, Any]) -> Any:
    beta1, beta2 = o["betas"]
    g = _grad(g, p, o, coupled=True)
    s["exp_avg"] = beta1 * s["exp_avg"] + (1 - beta1) * g
    s["exp_inf"] = np.maximum(beta2 * s["exp_inf"], np.abs(g) + o["eps"])
    return p - o["lr"] / (1 - beta1 ** s["step"]) * s["exp_avg"] / s["exp_inf"]


def _decay(p: np.ndarray, o: dict[str, Any]) -> Any:
    if o["decoupled_weight_decay"]:
        return p * (1 - o["lr"] * o["weight_decay"])
    return p


def nadam_step(p: np.ndarray, g: np.ndarray, s: State, o: dict[str, Any]) -> Any:
    beta1, beta2 = o["betas"]
    lr, t, psi = o["lr"], s["step"], o["momentum_decay"]
    g = _grad(g, p, o, coupled=not o["decoupled_weight_decay"])
    p = _decay(p, o)
    mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
    # PyTorch keeps mu_product in a float32 tensor: rounded at each step
    s["mu_product"] = float(np.float32(s["mu_product"]) * np.float32(mu))
    s["exp_avg"] = beta1 * s["exp_avg"] + (1 - beta1) * g
    s["exp_avg_sq"] = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g
    denom = np.sqrt(s["exp_avg_sq"] / (1 - beta2**t)) + o["eps"]
    p = p - lr * (1 - mu) / (1 - s["mu_product"]) * g / denom
    return p - lr * mu_next / (1 - s["mu_product"] * mu_next) * s["exp_avg"] / denom


def radam_step(p: np.ndarray, g: np.ndarray, s: State, o: dict[str, Any]) -> Any:
    beta1, beta2 = o["betas"]
    t = s["step"]
    g = _grad(g, p, o, coupled=not o["decoupled_weight_decay"])
    p = _decay(p, o)
    s["exp_avg"] = beta1 * s["exp_avg"] + (1 - beta1) * g
    s["exp_avg_sq"] = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g
    m_hat = s["exp_avg"] / (1 - beta1**t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho_t <= 5:
        return p - o["lr"] * m_hat
    rect = math.sqrt(
        (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
    )
    adaptive = math.sqrt(1 - beta2**t) / (np.sqrt(s["exp_avg_sq"]) + o["eps"])
    return p - o["lr"] * m_hat * adaptive * rect


Step = Callable[[np.ndarray, np.ndarray, State, dict[str, Any]], Any]
# class, its reference step, the options of the test (every one PyTorch has),
# the state keys with their starting values
CASES: list[tuple[type[Any], Step, dict[str, Any], dict[str, float]]] = [
    (
        RMSprop,
        rmsprop_step,
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "momentum": m, "centered": c},
        {"square_avg": 0.0, "momentum_buffer": 0.0, "grad_avg": 0.0},
    )
    for m, c in itertools.product((0.0, 0.8), (False, True))
] + [
    (
        Adagrad,
        adagrad_step,
        {"lr": 0.05, "lr_decay": d, "eps": 1e-10, "initial_accumulator_value": i},
        {"sum": i},
    )
    for d, i in ((0.0, 0.0), (0.1, 0.5))
]
CASES += [
    (
        Adadelta,
        adadelta_step,
        {"lr": lr, "rho": rho, "eps": 1e-6},
        {"square_avg": 0.0, "acc_delta": 0.0},
    )
    for lr, rho in ((1.0, 0.9), (0.5, 0.7))
]
CASES += [
    (Adamax, adamax_step, {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-8}, {})
] + [
    (
        cls,
        step,
        {
            "lr": 0.02,
            "betas": (0.8, 0.95),
            "eps": 1e-8,
            "decoupled_weight_decay": dwd,
            **({"momentum_decay": 0.01} if cls is NAdam else {}),
        },
        {},
    )
    for (cls, step), dwd in itertools.product(
        ((NAdam, nadam_step), (RAdam, radam_step)), (False, True)
    )
]
IDS = [f"{c.__name__}-{sorted(o.items())}" for c, _, o, _ in CASES]


def _reference(
    step: Step, init: Arrays, grads: list[Arrays], starts: dict[str, float], **o: Any
) -> tuple[Arrays, list[State]]:
    params = [x.copy() for x in init]
    keys = {"exp_avg": 0.0, "exp_avg_sq": 0.0, "exp_inf": 0.0, **starts}
    states: list[State] = [
        {
            "step": 0,
            "mu_product": 1.0,
            **{k: np.full_like(x, v) for k, v in keys.items()},
        }
        for x in params
    ]
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            states[i]["step"] += 1
            params[i] = step(params[i], g, states[i], o)
    return params, states


def _run(
    cls: type[Any], init: Arrays, grads: list[Arrays], **o: Any
) -> tuple[list[Parameter], Optimizer]:
    params = [Parameter(at.tensor(x)) for x in init]
    opt = cls(params, **o)
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = at.tensor(g)
        opt.step()
    return params, opt


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize(("cls", "step", "options", "starts"), CASES, ids=IDS)
def test_matches_the_reference_in_float64(
    cls: type[Any],
    step: Step,
    options: dict[str, Any],
    starts: dict[str, float],
    weight_decay: float,
    maximize: bool,
) -> None:
    init, grads = _data(np.float64)
    o = {**options, "weight_decay": weight_decay, "maximize": maximize}
    params, opt = _run(cls, init, grads, **o)
    expected, states = _reference(step, init, grads, starts, **o)
    for p, e, s in zip(params, expected, states, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-10, atol=1e-12)
        state = opt.state[p]
        assert float(state["step"]) == STEPS
        for key, value in state.items():
            if key != "step":
                np.testing.assert_allclose(
                    np.asarray(value.numpy(), dtype=np.float64),
                    s[key],
                    rtol=1e-10,
                    atol=1e-13,
                )


@pytest.mark.parametrize(("cls", "step", "options", "starts"), CASES[::2], ids=IDS[::2])
def test_matches_the_reference_in_float32(
    cls: type[Any],
    step: Step,
    options: dict[str, Any],
    starts: dict[str, float],
) -> None:
    init, grads = _data(np.float32)
    params, _ = _run(cls, init, grads, **options, weight_decay=0.1)
    expected, _ = _reference(
        step,
        [x.astype(np.float64) for x in init],
        [[g.astype(np.float64) for g in gs] for gs in grads],
        starts,
        **options,
        weight_decay=0.1,
    )
    for p, e in zip(params, expected, strict=True):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-5, atol=1e-5)


STATE_KEYS: list[tuple[type[Any], dict[str, Any], list[str]]] = [
    (RMSprop, {}, ["step", "square_avg"]),
    (RMSprop, {"momentum": 0.9}, ["step", "square_avg", "momentum_buffer"]),
    (
        RMSprop,
        {"momentum": 0.9, "centered": True},
        ["step", "square_avg", "momentum_buffer", "grad_avg"],
    ),
    (Adagrad, {}, ["step", "sum"]),
    (Adadelta, {}, ["step", "square_avg", "acc_delta"]),
    (Adamax, {}, ["step", "exp_avg", "exp_inf"]),
    (NAdam, {}, ["step", "mu_product", "exp_avg", "exp_avg_sq"]),
    (RAdam, {}, ["step", "exp_avg", "exp_avg_sq"]),
]


@pytest.mark.parametrize(("cls", "options", "keys"), STATE_KEYS)
def test_state_keys_in_pytorch_order_and_float32_step(
    cls: type[Any], options: dict[str, Any], keys: list[str]
) -> None:
    init, grads = _data(np.float64)
    params, opt = _run(cls, init, grads[:3], **options)
    state = opt.state[params[0]]
    assert list(state) == keys
    for key in ("step", "mu_product"):
        if key in state:
            assert state[key].shape == ()
            assert state[key].dtype == np.float32
    assert float(state["step"]) == 3.0
    for key in keys[1:]:
        if key != "mu_product":
            assert state[key].dtype == np.float64
            assert state[key].shape == params[0].shape


def test_defaults_are_pytorchs() -> None:
    p = [Parameter(at.tensor([1.0]))]
    assert RMSprop(p).defaults == {
        "lr": 1e-2,
        "momentum": 0,
        "alpha": 0.99,
        "eps": 1e-8,
        "centered": False,
        "weight_decay": 0,
        "maximize": False,
    }
    assert Adagrad(p).defaults == {
        "lr": 1e-2,
        "lr_decay": 0,
        "eps": 1e-10,
        "weight_decay": 0,
        "initial_accumulator_value": 0,
        "maximize": False,
    }
    assert Adadelta(p).defaults == {
        "lr": 1.0,
        "rho": 0.9,
        "eps": 1e-6,
        "weight_decay": 0,
        "maximize": False,
    }
    assert Adamax(p).defaults == {
        "lr": 2e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0,
        "maximize": False,
    }
    assert NAdam(p).defaults == {
        "lr": 2e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0,
        "momentum_decay": 4e-3,
        "decoupled_weight_decay": False,
        "maximize": False,
    }
    assert RAdam(p).defaults == {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0,
        "maximize": False,
        "decoupled_weight_decay": False,
    }


def test_adagrad_makes_its_state_when_built() -> None:
    a, b = Parameter(at.tensor([1.0, 2.0])), Parameter(at.tensor([3.0]))
    opt = Adagrad([a, b], initial_accumulator_value=0.25)
    for p in (a, b):
        assert float(opt.state[p]["step"]) == 0.0
        np.testing.assert_array_equal(opt.state[p]["sum"].numpy(), 0.25)
    a.grad = at.tensor([1.0, 1.0])
    opt.step()  # b has no gradient: its state stays as it was
    assert float(opt.state[a]["step"]) == 1.0
    assert float(opt.state[b]["step"]) == 0.0
    assert sorted(opt.state_dict()["state"]) == [0, 1]
    # a group added later starts on its first step, from the constructor's value
    c = Parameter(at.tensor([0.0]))
    opt.add_param_group({"params": [c], "initial_accumulator_value": 9.0})
    assert c not in opt.state
    c.grad = at.tensor([2.0])
    opt.step()
    np.testing.assert_array_equal(opt.state[c]["sum"].numpy(), [0.25 + 4.0])


def test_nadam_mu_product_is_rounded_to_float32_each_step() -> None:
    init, grads = _data(np.float64)
    params, opt = _run(NAdam, init, grads, momentum_decay=0.01)
    expected = np.float32(1.0)
    for t in range(1, STEPS + 1):
        mu = 0.9 * (1.0 - 0.5 * (0.96 ** (t * 0.01)))
        expected = np.float32(expected * np.float32(mu))
    assert float(opt.state[params[0]]["mu_product"]) == float(expected)


def test_radam_takes_plain_momentum_steps_first() -> None:
    # with beta2 = 0.999, rho_t <= 5 for the first 5 steps: param -= lr * m_hat,
    # which for a constant gradient g is lr * g exactly
    p = Parameter(at.tensor([0.0], dtype="float64"))
    opt = RAdam([p], lr=0.1)
    for _ in range(5):
        p.grad = at.tensor([2.0], dtype="float64")
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [-1.0], rtol=1e-14)
    p.grad = at.tensor([2.0], dtype="float64")
    opt.step()  # the sixth step is rectified: no longer lr * g
    assert abs(float(p.detach().numpy()[0]) + 1.2) > 1e-3


INVALID: list[tuple[type[Any], dict[str, Any], str]] = [
    (RMSprop, {"lr": -1}, "Invalid learning rate: -1"),
    (RMSprop, {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    (RMSprop, {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    (RMSprop, {"weight_decay": -1.0}, "Invalid weight_decay value: -1.0"),
    (RMSprop, {"alpha": -0.1}, "Invalid alpha value: -0.1"),
    (Adagrad, {"lr_decay": -1.0}, "Invalid lr_decay value: -1.0"),
    (
        Adagrad,
        {"initial_accumulator_value": -1.0},
        "Invalid initial_accumulator_value value: -1.0",
    ),
    (Adagrad, {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    (Adadelta, {"lr": -1.0}, "Invalid learning rate: -1.0"),
    (Adadelta, {"rho": 1.5}, "Invalid rho value: 1.5"),
    (Adadelta, {"rho": -0.1}, "Invalid rho value: -0.1"),
    (Adadelta, {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    (Adamax, {"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0: 1.0"),
    (NAdam, {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    (NAdam, {"momentum_decay": -1.0}, "Invalid momentum_decay value: -1.0"),
    (RAdam, {"weight_decay": -1.0}, "Invalid weight_decay value: -1.0"),
]


@pytest.mark.parametrize(("cls", "kwargs", "message"), INVALID)
def test_invalid_options_raise_as_in_pytorch(
    cls: type[Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cls([Parameter(at.tensor([1.0]))], **kwargs)


@pytest.mark.parametrize("cls", [RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam])
def test_complex_and_integer_parameters_are_refused(cls: type[Any]) -> None:
    with pytest.raises(TypeError, match="floating-point"):
        cls([at.tensor([1, 2])])
    with pytest.raises(TypeError, match="floating-point"):
        cls([at.tensor([1 + 2j])])


ALL: list[tuple[type[Any], dict[str, Any]]] = [
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    (RMSprop, {"lr": 0.01, "maximize": True}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    (Adadelta, {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    (Adamax, {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    (NAdam, {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    (RAdam, {"lr": 0.01, "weight_decay": 0.1}),
]
ALL_IDS = [f"{c.__name__}-{i}" for i, (c, _) in enumerate(ALL)]


def _big_params() -> list[Parameter]:
    rng = np.random.default_rng(0)
    return [
        Parameter(at.tensor(rng.standard_normal(s).astype(np.float32)))
        for s in [(8, 4), (4,), (70_000,)]  # the last one: several blocks
    ]


def _grads(params: list[Parameter], step: int) -> None:
    rng = np.random.default_rng(100 + step)
    for p in params:
        p.grad = at.tensor(rng.standard_normal(p.shape).astype(np.float32))


@pytest.mark.parametrize(("cls", "options"), ALL, ids=ALL_IDS)
def test_state_dict_round_trip_continues_identically(
    cls: type[Any], options: dict[str, Any]
) -> None:
    params = _big_params()
    opt = cls(params, **options)
    for step in range(3):
        _grads(params, step)
        opt.step()
    twins = [Parameter(at.tensor(p.detach().numpy().copy())) for p in params]
    twin_opt = cls(twins, lr=123.0)  # options come from the state dict
    twin_opt.load_state_dict(opt.state_dict())
    assert twin_opt.param_groups[0]["lr"] == options["lr"]
    for step in range(3, 6):
        _grads(params, step)
        _grads(twins, step)
        opt.step()
        twin_opt.step()
    for p, q in zip(params, twins, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@pytest.mark.parametrize(("cls", "options"), ALL, ids=ALL_IDS)
def test_in_place_with_constant_memory(cls: type[Any], options: dict[str, Any]) -> None:
    params = _big_params()
    opt = cls(params, **options)
    device = params[0].device
    grads = []
    for step in range(4):
        _grads(params, step)
        grads.append([p.grad for p in params])
    used, ids = [], []
    for step in range(4):
        for p, g in zip(params, grads[step], strict=True):
            p.grad = g
        opt.step()
        used.append(device.memory_stats().used_bytes)
        tensors = params + [
            v for p in params for v in opt.state[p].values() if isinstance(v, at.Tensor)
        ]
        ids.append([id(buffer_of(t.array)) for t in tensors])
    assert used[1:] == used[:-1]
    assert ids[1:] == ids[:-1]


@pytest.mark.parametrize(("cls", "options"), ALL, ids=ALL_IDS)
def test_blocks_and_a_transposed_gradient_give_the_same_values(
    cls: type[Any], options: dict[str, Any]
) -> None:
    # 150,000 elements: updated block by block when every operand is contiguous,
    # whole with a transposed gradient; elementwise, so the values are the same
    rng = np.random.default_rng(5)
    init = rng.standard_normal((300, 500))
    grads = [rng.standard_normal((300, 500)) for _ in range(3)]
    results = []
    for transposed in (False, True):
        p = Parameter(at.tensor(init))
        opt = cls([p], **options)
        for g in grads:
            p.grad = at.tensor(g.T.copy()).T if transposed else at.tensor(g)
            opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_a_python_number_step_in_a_loaded_state_becomes_a_tensor() -> None:
    p = Parameter(at.tensor([1.0]))
    opt = NAdam([p])
    p.grad = at.tensor([1.0])
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = 1.0
    sd["state"][0]["mu_product"] = float(sd["state"][0]["mu_product"])
    del sd["param_groups"][0]["decoupled_weight_decay"]  # an older state dict
    twin = NAdam([Parameter(at.tensor([1.0]))])
    twin.load_state_dict(sd)
    state = twin.state[twin.param_groups[0]["params"][0]]
    assert isinstance(state["step"], at.Tensor)
    assert isinstance(state["mu_product"], at.Tensor)
    assert twin.param_groups[0]["decoupled_weight_decay"] is False
